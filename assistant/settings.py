"""The one settings object, read from ``TETHER_*`` environment variables (and ``.env``) at start."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_KB = PACKAGE_ROOT / "knowledge_base" / "sample"
CACHE_DIR = Path.home() / ".cache" / "tether"
DEFAULT_MODEL = CACHE_DIR / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TETHER_", env_file=".env", extra="ignore")

    # Where embedded state lives (Chroma directory, SQLite file).
    data_dir: Path = Path(".tether")
    kb_path: Path = SAMPLE_KB / "articles"
    taxonomy_path: Path = SAMPLE_KB / "taxonomy.yaml"

    # Language model: the embedded GGUF by default, or any OpenAI-compatible endpoint.
    llm_backend: Literal["llama_cpp", "openai"] = "llama_cpp"
    llm_model_path: Path = DEFAULT_MODEL
    llm_n_ctx: int = 4096
    llm_threads: int = 2
    llm_seed: int = 0
    llm_timeout_s: float = 180.0
    openai_base_url: str | None = None
    openai_api_key: SecretStr = SecretStr("not-needed")
    openai_model: str = "qwen2.5-coder-1.5b-instruct"

    # Vector store: embedded Chroma on disk, or a Chroma server.
    chroma_mode: Literal["embedded", "http"] = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8001
    collection: str = "tether_kb"

    # Conversation database (SQLAlchemy URL); empty means a SQLite file in data_dir.
    database_url: str = ""

    # Retrieval.
    retrieval_k: int = Field(default=6, ge=1, le=20)
    max_sections: int = Field(default=4, ge=1, le=10)
    min_retrieval_score: float = 0.30
    classifier_threshold: float = Field(default=0.25, ge=0.0, le=1.0)
    # Search only the predicted issue type's articles when the classifier is at least this sure.
    filter_confidence: float = Field(default=0.6, ge=0.0, le=1.0)

    # The core issue of a multi-turn conversation: a rule with no model call (measured in the
    # README), or an LLM rewrite with the condense prompt (one more model call per message).
    condense: Literal["heuristic", "llm"] = "heuristic"
    condense_prompt: str = "condense@1"

    # Prompts, as "id@version" of files under assistant/prompts/.
    answer_prompt: str = "answer@2"
    judge_prompt: str = "judge@1"
    # A folder of your own prompt versions (<id>/v<N>.yaml), looked up before the bundled ones.
    prompts_dir: Path | None = None

    # Guardrails: the tier-1 and judge thresholds, with the data and date they were calibrated
    # on (None: the bundled guardrails/calibration.yaml, written by `tether eval calibrate`).
    guardrails_calibration: Path | None = None
    # The one-word grounding judge asked when tier 1 flags an answer and no compliance rule fired.
    grounding_prompt: str = "grounding@2"

    # Inputs, before generation: PII redacted before any model or log sees it; a message that
    # tries to instruct the assistant (prompt injection) goes to a person instead of the model.
    redact_pii: bool = True
    screen_injection: bool = True
    # The compliance policy: rules with reason codes and the judge's rubric (None: the bundled
    # guardrails/compliance.yaml).
    compliance_policy: Path | None = None
    # Out of scope: an unknown issue type whose best passage is less similar than this has
    # nothing to do with the business; decline it politely or hand it over. 0 turns it off.
    # 0.31 was chosen on 2026-11-22 on the dev split of XSTest prompts (out of scope) and the
    # golden questions (in scope) by `python -m evals.scope`; on the test split it catches 59%
    # of the XSTest prompts and flags none of the 44 in-scope questions.
    out_of_scope: Literal["escalate", "decline"] = "escalate"
    scope_threshold: float = Field(default=0.31, ge=0.0, le=1.0)

    # Escalation queue: priority rules and service-level targets (see the file for the format).
    priority_rules_path: Path = PACKAGE_ROOT / "assistant" / "escalations" / "priority.yaml"

    # Quality monitor on live traffic (`tether monitor run`): the share of finished
    # conversations (no message for `monitor_finished_minutes`) that the judge scores, and the
    # windows compared for drift.
    monitor_share: float = Field(default=0.1, ge=0.0, le=1.0)
    monitor_finished_minutes: float = Field(default=30.0, ge=0.0)
    monitor_prompt: str = "monitor@1"
    drift_recent_hours: float = Field(default=24.0, gt=0)
    drift_reference_days: float = Field(default=7.0, gt=0)
    # Knowledge-base gaps: answers whose best passage is below this similarity count as gaps.
    gap_retrieval_below: float = Field(default=0.45, ge=0.0, le=1.0)

    # Online experiments (YAML, see assistant/experiments/config.py); none when unset.
    experiments_path: Path | None = None

    # API limits.
    max_message_chars: int = Field(default=4000, ge=1)
    max_reply_chars: int = Field(default=4000, ge=1)
    max_note_chars: int = Field(default=2000, ge=1)

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def llm_cache_path(self) -> Path:
        """The response cache of benchmark and evaluation runs (never of live traffic)."""
        return self.data_dir / "cache" / "llm.sqlite"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'tether.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
