"""Focused evidence: the passages cut to the sentences nearest the question.

A small model answers better from a few sentences than from whole sections (fewer distractors),
and every prompt token it is not sent is time saved before the first word. The sentences keep
their order inside each passage; an ellipsis marks where sentences were left out.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from core.embeddings import Embedder
from guardrails.sentences import runs, split_sentences
from knowledge_base.articles import Passage

GAP = " … "
_WARM_BATCH = 256


def focus(
    passages: Sequence[Passage], question: str, embedder: Embedder, *, sentences: int
) -> list[Passage]:
    """The ``sentences`` passage sentences most similar to ``question``, in their passages."""
    split = [split_sentences(p.text) for p in passages]
    where = [(i, j) for i, ours in enumerate(split) for j in range(len(ours))]
    if not where:
        return list(passages)
    vectors = embedder.embed_batch([question, *(split[i][j] for i, j in where)])
    scores = vectors[1:] @ vectors[0]
    chosen = sorted(where[k] for k in np.argsort(-scores, kind="stable")[:sentences])
    kept: dict[int, list[int]] = {}
    for i, j in chosen:
        kept.setdefault(i, []).append(j)
    return [_cut(passages[i], split[i], kept[i]) for i in sorted(kept)]


def _cut(passage: Passage, sentences: list[str], keep: list[int]) -> Passage:
    text = sentences[keep[0]]
    for previous, current in itertools.pairwise(keep):
        text += (" " if current == previous + 1 else GAP) + sentences[current]
    chunk = passage.chunk.model_copy(update={"text": text})
    return passage.model_copy(update={"chunk": chunk})


def warm(passages: Sequence[Passage], embedder: Embedder, *, window: int) -> int:
    """Embed every sentence of ``passages`` and every run of up to ``window`` of them (what focus
    and tier 1 embed), so that a caching embedder has them before the first customer asks;
    returns how many texts that was."""
    texts = list(
        dict.fromkeys(text for p in passages for text in runs(split_sentences(p.text), window))
    )
    for start in range(0, len(texts), _WARM_BATCH):
        embedder.embed_batch(texts[start : start + _WARM_BATCH])
    return len(texts)
