"""The guardrail thresholds, with the data and date they were calibrated on.

They live in one YAML file (``guardrails/calibration.yaml`` unless ``TETHER_GUARDRAILS_CALIBRATION``
points elsewhere), written by ``tether eval calibrate``, which tunes them on one labelled file and
records where they came from; a team re-runs it on its own labelled answers.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from core import yaml_loader

BUNDLED = Path(__file__).resolve().parent / "calibration.yaml"


class Calibration(BaseModel):
    """Tier 1 passes a sentence whose best evidence window is at least ``similarity`` similar and
    which shares at least ``coverage`` of its content words with the evidence. A flagged
    sentence sharing less than ``coverage_floor`` fails at tier 1; the others go to the grounding
    judge, which passes the answer when its probability of "supported" is at least ``judge``.
    """

    similarity: float = Field(ge=-1.0, le=1.0)
    coverage: float = Field(ge=0.0, le=1.0)
    coverage_floor: float = Field(ge=0.0, le=1.0)
    judge: float = Field(ge=0.0, le=1.0)
    window: int = Field(default=2, ge=1)
    # Relevance (guardrails/relevance.py): an answer sharing less than this of the question's
    # content words with its evidence is about something else (0: off); ``relevance_action``
    # also fails one that names only the opposite of the action asked for.
    relevance_coverage: float = Field(default=0.0, ge=0.0, le=1.0)
    relevance_action: bool = False
    # The cosine-only baseline's threshold, tuned on the same data (for the evaluation only).
    baseline_similarity: float = Field(default=0.688, ge=-1.0, le=1.0)
    calibrated_on: str = ""
    date: str = ""
    command: str = ""
    dev_figures: dict[str, float] = Field(default_factory=dict)


def load_calibration(path: Path | None = None) -> Calibration:
    return yaml_loader.load_model(path or BUNDLED, Calibration, "guardrail calibration")


def save_calibration(calibration: Calibration, path: Path) -> None:
    header = "Written by `tether eval calibrate`; the thresholds and where they came from."
    yaml_loader.save_model(calibration, path, header)
