"""The signal families, the scoring constants and the shape of one rule.

Each family's score is the sum of its distinct rules' weights, capped at ``FAMILY_CAP``; the
message is flagged at ``score >= DEFAULT_THRESHOLD`` unless told otherwise. The weights, the cap
and the threshold were tuned on the dev split of the evaluation data only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_THRESHOLD = 1.0

# Families of rules (see ``rules.py``).
OVERRIDE = "override"
EXTRACTION = "extraction"
AUTHORITY = "authority"
OUTPUT_FORCING = "output_forcing"
DELIMITER = "delimiter"
# Families given by where a rule fired rather than by a rule.
ENCODED = "encoded"
OBFUSCATED = "obfuscated"
SIGNALS: tuple[str, ...] = (
    OVERRIDE,
    EXTRACTION,
    AUTHORITY,
    OUTPUT_FORCING,
    DELIMITER,
    ENCODED,
    OBFUSCATED,
)

FAMILY_CAP = 1.5
ENCODED_BONUS = 0.5  # hiding an instruction in an encoding is itself a sign of intent
OBFUSCATED_BONUS = 0.3
DECODE_REQUEST_WEIGHT = 0.5

# Repetition (a unit of 1 to 20 characters repeated at least ten times in a row): the characters
# covered by the longest run. Runs of ``REPEAT_SHORT`` or more are also cut from the views.
REPEAT_LONG = 200  # padding typical of injection attacks
REPEAT_SHORT = 60
REPEAT_LONG_WEIGHT = 1.0
REPEAT_SHORT_WEIGHT = 0.5


@dataclass(frozen=True)
class Rule:
    family: str
    name: str
    weight: float
    pattern: re.Pattern[str]


def rule(family: str, name: str, weight: float, pattern: str) -> Rule:
    return Rule(family, name, weight, re.compile(pattern))
