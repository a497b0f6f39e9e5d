"""Tier 1 alone against human groundedness labels: the BEGIN benchmark's dev splits.

Each BEGIN row has a knowledge snippet, the previous dialogue turn and a response labelled
"Fully attributable", "Not fully attributable" or "Generic". A response counts as grounded only
when fully attributable; tier 1 calls it ungrounded when it flags any sentence. Catching
ungrounded responses is the positive class.

With ``with_message`` the previous turn is passed as the customer's words, as the product does.
BEGIN labels a response that echoes that turn as not attributable while the product means to
accept a restatement of the customer, so the threshold is calibrated without it (see
GROUNDEDNESS_NOTES.md) and both settings are reported.

    python -m evals.groundedness            # calibrate on wow, report wow, cmu and tc
"""

from __future__ import annotations

import csv
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm import tqdm

from assistant.embeddings import Embedder, MiniLMEmbedder, Vectors
from assistant.errors import ConfigurationError, LLMError
from assistant.llm.base import ChatModel
from guardrails.cascade import check_answer
from guardrails.judge import judge_answer
from guardrails.tier1 import check_support
from knowledge_base.articles import Chunk, Passage

BEGIN_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "begin"
GROUNDED_LABEL = "Fully attributable"
THRESHOLDS = tuple(float(t) for t in np.round(np.arange(0.30, 0.90, 0.005), 3))


@dataclass(frozen=True)
class Case:
    knowledge: str
    message: str
    response: str
    grounded: bool


def load_cases(path: Path) -> list[Case]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        Case(
            row["knowledge"], row["message"], row["response"], row["begin_label"] == GROUNDED_LABEL
        )
        for row in rows
    ]


class CachedEmbedder(Embedder):
    """Remembers every text's vector, so that sweeping thresholds embeds each text once."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner
        self._cache: dict[str, Vectors] = {}
        self.dim = inner.dim
        self.name = inner.name

    def embed_batch(self, texts: Sequence[str]) -> Vectors:
        new = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if new:
            self._cache.update(zip(new, self._inner.embed_batch(new), strict=True))
        return np.stack([self._cache[t] for t in texts]) if texts else self._inner.embed_batch([])


def _passage(knowledge: str) -> Passage:
    chunk = Chunk(
        id="begin#0", article_id="begin", title="", section="", text=knowledge, issue_type=""
    )
    return Passage(chunk=chunk, score=1.0)


def _metrics(truth: Sequence[bool], flagged: Sequence[bool]) -> dict[str, float]:
    """``truth[i]``: the response is ungrounded; ``flagged[i]``: tier 1 said so."""
    tp = sum(t and f for t, f in zip(truth, flagged, strict=True))
    fp = sum(f and not t for t, f in zip(truth, flagged, strict=True))
    positives, negatives = sum(truth), len(truth) - sum(truth)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / positives if positives else 0.0
    specificity = (negatives - fp) / negatives if negatives else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "balanced_accuracy": (recall + specificity) / 2,
        "grounded_blocked": 1 - specificity,
        "n": float(len(truth)),
    }


def run(
    path: Path, *, embedder: Embedder, threshold: float, window: int, with_message: bool = True
) -> dict[str, float]:
    """Precision, recall and F1 at catching ungrounded responses, balanced accuracy, n."""
    cases = load_cases(path)
    flagged = [
        not check_support(
            case.response,
            [_passage(case.knowledge)],
            embedder=embedder,
            threshold=threshold,
            window=window,
            conversation=[case.message] if with_message else [],
        ).passed
        for case in cases
    ]
    return _metrics([not case.grounded for case in cases], flagged)


def calibrate(
    path: Path,
    embedder: Embedder,
    *,
    window: int = 2,
    with_message: bool = False,
    thresholds: Sequence[float] = THRESHOLDS,
) -> float:
    """The threshold with the best balanced accuracy on ``path`` (the lowest one, on ties)."""
    cached = CachedEmbedder(embedder)
    results = {
        t: run(path, embedder=cached, threshold=t, window=window, with_message=with_message)[
            "balanced_accuracy"
        ]
        for t in thresholds
    }
    return max(results, key=lambda t: (results[t], -t))


Mode = Literal["cosine", "judge", "cascade"]


def evaluate(
    path: Path,
    *,
    mode: Mode,
    embedder: Embedder,
    model: ChatModel | None,
    threshold: float,
    window: int,
    judge_prompt: str = "judge@1",
    limit: int | None = None,
    progress: bool = True,
) -> dict[str, float]:
    """The product's checks on a BEGIN-format file, as the message path runs them.

    cosine: tier 1 alone. judge: the LLM judge on every response (grounding criterion; a judge
    failure counts as a flag, as in the product). cascade: tier 1, and the judge only on what
    tier 1 flags. The previous turn is passed as the customer's words, as in the product.
    """
    cases = load_cases(path)[:limit]
    if mode != "cosine" and model is None:
        raise ConfigurationError(f"mode {mode} needs a model")
    flagged: list[bool] = []
    tier2: list[bool] = []
    latencies: list[float] = []
    for case in tqdm(cases, desc=f"{path.stem} {mode}", disable=not progress):
        started = time.perf_counter()
        passages = [_passage(case.knowledge)]
        if mode == "cosine":
            result = check_support(
                case.response,
                passages,
                embedder=embedder,
                threshold=threshold,
                window=window,
                conversation=[case.message],
            )
            flagged.append(not result.passed)
            tier2.append(False)
        elif mode == "judge":
            assert model is not None
            try:
                verdict = judge_answer(
                    model,
                    conversation=f"user: {case.message}",
                    passages=passages,
                    answer=case.response,
                    prompt_ref=judge_prompt,
                )
                flagged.append(not verdict.grounding.ok)
            except LLMError:
                flagged.append(True)
            tier2.append(True)
        else:
            assert model is not None
            outcome = check_answer(
                case.response,
                passages,
                embedder=embedder,
                judge_model=model,
                conversation_turns=[("user", case.message)],
                threshold=threshold,
                window=window,
                judge_prompt=judge_prompt,
            )
            flagged.append(not outcome.passed)
            tier2.append(outcome.tier == 2)
        latencies.append((time.perf_counter() - started) * 1000)
    figures = _metrics([not case.grounded for case in cases], flagged)
    figures["tier2_share"] = sum(tier2) / max(len(cases), 1)
    figures["latency_p50_ms"] = float(np.percentile(latencies, 50)) if latencies else 0.0
    figures["latency_p95_ms"] = float(np.percentile(latencies, 95)) if latencies else 0.0
    return {k: round(v, 4) for k, v in figures.items()}


def main() -> None:
    embedder = CachedEmbedder(MiniLMEmbedder())
    window = 2
    threshold = calibrate(BEGIN_DIR / "begin_dev_wow.tsv", embedder, window=window)
    print(f"threshold {threshold:.3f} (window {window}, calibrated on wow)")
    for with_message in (False, True):
        for split in ("wow", "cmu", "tc"):
            figures = run(
                BEGIN_DIR / f"begin_dev_{split}.tsv",
                embedder=embedder,
                threshold=threshold,
                window=window,
                with_message=with_message,
            )
            shown = " ".join(f"{name} {value:.3f}" for name, value in figures.items())
            print(f"{split} with_message={with_message} {shown}")


if __name__ == "__main__":
    main()
