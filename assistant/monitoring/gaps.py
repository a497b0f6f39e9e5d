"""Knowledge-base gaps grouped by topic.

Questions the assistant could not handle well (escalated, scored low by the judge, or answered
from weak retrieval) are clustered by meaning, so the team sees "customers keep asking about
paying with crypto" rather than a flat list. Each cluster carries a short label (its most common
words), a few example questions, and the answers human agents gave, which are the raw material
for a new knowledge-base article.

Clustering is agglomerative with average linkage on cosine distance, cut at
``distance_threshold``: two groups merge while the mean cosine distance between their members is
below the threshold, so the number of topics is not fixed in advance. Clusters with fewer than
``min_size`` items are one-off questions rather than gaps, and are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel
from sklearn.cluster import AgglomerativeClustering

GapSource = Literal["escalation", "low_judge_score", "low_retrieval"]

LABEL_WORDS = 3
MAX_EXAMPLES = 5

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")

_STOPWORDS_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does
    doesn't doing don't down during each few for from further get got had hadn't has hasn't have
    haven't having he her here hers herself him himself his how i i'd i'll i'm i've if in into is
    isn't it it's its itself just let's me more most much my myself need no nor not now of off on
    once only or other our ours ourselves out over own please same she should shouldn't so some
    still such than thank thanks that that's the their theirs them themselves then there there's
    these they they're this those through to too under until up us use very want was wasn't we
    we're were weren't what what's when where which while who why will with won't would wouldn't
    yes yet you you'd you'll you're you've your yours yourself yourselves hi hello hey ok okay
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


class GapItem(BaseModel):
    id: str
    text: str
    source: GapSource
    answer: str | None = None
    """The answer a human agent gave, when there is one."""


class GapCluster(BaseModel):
    label: str
    """The most frequent non-stopword words of the cluster's texts, most frequent first."""
    size: int
    items: list[GapItem]
    examples: list[str]
    """Up to five distinct texts, in input order."""
    answers: list[str]
    """Distinct non-empty agent answers, in input order."""
    sources: dict[str, int]
    """How many items came from each source."""


def words(text: str) -> list[str]:
    """Lower-cased words of ``text`` without stopwords, bare numbers or single letters."""
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        if word in STOPWORDS:
            continue
        word = word.removesuffix("'s")  # possessive: "order's" counts as "order"
        if len(word) > 1 and not word.isdigit() and word not in STOPWORDS:
            out.append(word)
    return out


def cluster_label(texts: Sequence[str], size: int = LABEL_WORDS) -> str:
    """The ``size`` words found in the most texts, joined by spaces.

    Ties go to the word used more often in all, then to the word seen first, so a label reads
    in the order the words usually appear ("gift wrapping", not "wrapping gift").
    """
    in_texts: Counter[str] = Counter()
    occurrences: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    for text in texts:
        found = words(text)
        for word in found:
            first_seen.setdefault(word, len(first_seen))
        occurrences.update(found)
        in_texts.update(set(found))
    ranked = sorted(in_texts, key=lambda w: (-in_texts[w], -occurrences[w], first_seen[w]))
    return " ".join(ranked[:size])


def _check_vectors(
    vectors: npt.NDArray[np.floating] | Sequence[Sequence[float]], n: int
) -> npt.NDArray[np.float64]:
    arr = np.asarray(vectors, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"vectors must be a 2-d array (n, d), got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"got {n} items but {arr.shape[0]} vectors: need one vector per item")
    if n and arr.shape[1] == 0:
        raise ValueError("vectors must have at least one dimension")
    if not np.all(np.isfinite(arr)):
        raise ValueError("vectors must be finite (no NaN or infinity)")
    norms = np.linalg.norm(arr, axis=1)
    zero = np.flatnonzero(norms < 1e-12)
    if zero.size:
        raise ValueError(f"vectors must be non-zero (L2-normalised); rows {zero.tolist()} are zero")
    return arr


def _assign(vectors: npt.NDArray[np.float64], distance_threshold: float) -> list[int]:
    if len(vectors) < 2:
        return list(range(len(vectors)))
    model = AgglomerativeClustering(
        n_clusters=None,
        metric="cosine",
        linkage="average",
        distance_threshold=distance_threshold,
    )
    return [int(label) for label in model.fit_predict(vectors)]


def _cluster(members: list[GapItem]) -> GapCluster:
    texts = [item.text for item in members]
    examples = list(dict.fromkeys(texts))[:MAX_EXAMPLES]
    answers = list(
        dict.fromkeys(
            item.answer.strip() for item in members if item.answer and item.answer.strip()
        )
    )
    sources = dict(Counter(item.source for item in members))
    return GapCluster(
        label=cluster_label(texts),
        size=len(members),
        items=members,
        examples=examples,
        answers=answers,
        sources=sources,
    )


def cluster_gaps(
    items: Sequence[GapItem],
    vectors: npt.NDArray[np.floating] | Sequence[Sequence[float]],
    *,
    distance_threshold: float = 0.5,
    min_size: int = 2,
) -> list[GapCluster]:
    """Group gap items by topic; ``vectors[i]`` is the embedding of ``items[i].text``.

    Returns the clusters of at least ``min_size`` items, largest first (ties: the cluster whose
    first item comes first in ``items``); items keep their input order within a cluster.
    """
    if not 0.0 < distance_threshold <= 2.0:
        raise ValueError(
            f"distance_threshold must be a cosine distance in (0, 2], got {distance_threshold!r}"
        )
    if isinstance(min_size, bool) or not isinstance(min_size, int) or min_size < 1:
        raise ValueError(f"min_size must be a positive integer, got {min_size!r}")
    arr = _check_vectors(vectors, len(items))
    groups: dict[int, list[int]] = {}
    for index, label in enumerate(_assign(arr, distance_threshold)):
        groups.setdefault(label, []).append(index)
    kept = [members for members in groups.values() if len(members) >= min_size]
    kept.sort(key=lambda members: (-len(members), members[0]))
    return [_cluster([items[i] for i in members]) for members in kept]
