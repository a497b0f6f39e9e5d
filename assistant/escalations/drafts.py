"""What an agent did with the withheld draft: sent it unchanged, edited it, or replaced it.

Unchanged sends are escalations that did not need a person (the draft was right); the share is
a direct measure of needless escalations. Pure functions, no I/O.

- **unchanged**: the reply equals the draft once white space is normalised (runs of white space
  read as one space, none at either end);
- **replaced**: little of the draft is left: the share of the draft's words the reply kept, in
  order (difflib's matching blocks over the two texts' words), is below ``REPLACED_BELOW``;
- **edited**: anything in between.

The share kept, not difflib's symmetric ratio: an agent who keeps the whole draft and adds a
paragraph of their own edited it, whereas the ratio (2 * matches / all words) would call that
replaced.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from enum import StrEnum

from pydantic import BaseModel

# Keeping less than this share of the draft's words, the reply is the agent's own, not an edit.
REPLACED_BELOW = 0.5

# What a small model writes for "no answer" when it still claims to have one.
_NON_ANSWERS = {"none", "null", "n/a", "na", "nil", "-"}
_SPACE = re.compile(r"\s+")


class DraftUse(StrEnum):
    UNCHANGED = "unchanged"
    EDITED = "edited"
    REPLACED = "replaced"


class DraftComparison(BaseModel):
    """The agent's reply held against the draft it was offered."""

    use: DraftUse
    kept: float  # the share of the draft's words the reply kept, 0-1


def draft_text(withheld_answer: str | None) -> str:
    """The withheld draft worth offering: "" when there is none (missing, blank, or a bare
    "None" that a model or an old row wrote in its place)."""
    text = (withheld_answer or "").strip()
    return "" if text.strip(".").lower() in _NON_ANSWERS else text


def normalise(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def kept_share(draft: str, reply: str) -> float:
    """The share of the draft's words that the reply kept in the same order, 0 (none) to 1."""
    a, b = normalise(draft).split(" "), normalise(reply).split(" ")
    blocks = SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks()
    return sum(block.size for block in blocks) / len(a)


def compare(withheld_answer: str | None, reply: str) -> DraftComparison | None:
    """How ``reply`` used the withheld draft; None when there was no draft to use."""
    draft = draft_text(withheld_answer)
    if not draft:
        return None
    if normalise(draft) == normalise(reply):
        return DraftComparison(use=DraftUse.UNCHANGED, kept=1.0)
    kept = round(kept_share(draft, reply), 4)
    use = DraftUse.REPLACED if kept < REPLACED_BELOW else DraftUse.EDITED
    return DraftComparison(use=use, kept=kept)
