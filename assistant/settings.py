"""The one settings object, read from ``TETHER_*`` environment variables (and ``.env``) at start."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.pipeline.settings import PipelineSettings
from core.profile import SAMPLE_PROFILE_DIR, load_profile

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_KB = PACKAGE_ROOT / "knowledge_base" / "sample"
CACHE_DIR = Path.home() / ".cache" / "tether"
DEFAULT_MODEL = CACHE_DIR / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


class Settings(PipelineSettings, BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TETHER_", env_file=".env", extra="ignore")

    # Where embedded state lives (Chroma directory, SQLite file).
    data_dir: Path = Path(".tether")
    # The business profile (a folder with profile.yaml: core/profile.py); by default the
    # bundled sample. Its knowledge base, taxonomy, priorities, compliance policy and prompts
    # folder are the defaults of the settings below (TETHER_KB_PATH and the others still win).
    profile: Path = SAMPLE_PROFILE_DIR
    kb_path: Path = SAMPLE_KB / "articles"
    taxonomy_path: Path = SAMPLE_KB / "taxonomy.yaml"

    # Language model: the embedded GGUF by default, or any OpenAI-compatible endpoint.
    llm_backend: Literal["llama_cpp", "openai"] = "llama_cpp"
    llm_model_path: Path = DEFAULT_MODEL
    llm_n_ctx: int = 4096
    llm_threads: int = 2
    llm_seed: int = 0
    # An endpoint that does not answer within this is a failure (one retry), and the message is
    # handed to a person: seconds, not minutes, for a customer waiting in a chat window.
    llm_timeout_s: float = Field(default=20.0, gt=0)
    # Embedded model: keep its state after each call and resume from the longest shared prompt
    # prefix (the constant system prompts); the prompt batch; prompt-lookup decoding's draft
    # length (0: off). Measured in `tether eval latency`.
    llm_prefix_cache: bool = True
    llm_n_batch: int = Field(default=512, ge=8)
    llm_prompt_lookup: int = Field(default=0, ge=0, le=16)
    # llama.cpp's flash attention (measured with `tether eval latency --lever llm_flash_attn=true`).
    llm_flash_attn: bool = False
    openai_base_url: str | None = None
    openai_api_key: SecretStr = SecretStr("not-needed")
    openai_model: str = "qwen2.5-coder-1.5b-instruct"

    # Vector store: embedded Chroma on disk, or a Chroma server.
    chroma_mode: Literal["embedded", "http"] = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8001
    collection: str = "tether_kb"
    # The HNSW search breadth (Chroma's ef_search, set on the collection when it opens; None:
    # Chroma's 100). Recall against latency at a million chunks: `python -m evals.scale
    # --search-ef 100,200,400,800`.
    chroma_search_ef: int | None = Field(default=None, ge=1, le=10_000)
    # The lexical (BM25) leg: an index in each process, rebuilt from the store after any write,
    # or tables in the conversation database, written with the store and shared by every replica
    # (knowledge_base/lexical.py; measured in `tether eval scale --lexical database`).
    lexical_index: Literal["memory", "database"] = "memory"

    # Conversation database (SQLAlchemy URL); empty means a SQLite file in data_dir.
    database_url: str = ""

    # Issue classification: "unknown" below this confidence.
    classifier_threshold: float = Field(default=0.25, ge=0.0, le=1.0)

    # The message path's settings (retrieval, prompts, guardrails, input screens, scope) are
    # inherited from PipelineSettings (assistant/pipeline/settings.py), under the same names.

    # Serving: messages answered at once (each waits for the model in turn), calls that may wait
    # for the model, and how often a streamed reply sends a keep-alive comment.
    message_workers: int = Field(default=4, ge=1, le=64)
    # Messages answered or waiting for a worker at once; one more is refused with 503 and
    # Retry-After before anything is stored (assistant/workers.py). Default: 2 per worker, so an
    # accepted message waits for at most one ahead of it per worker.
    message_capacity: int | None = Field(default=None, ge=1)
    model_queue_depth: int = Field(default=32, ge=1)
    # The model's line: "message" keeps each message's calls at the place of its first, so the
    # first customer to ask is answered first; "call" serves calls in the order made
    # (core/llm/queue.py; `tether eval latency --lever model_queue_order=call` compares them).
    model_queue_order: Literal["message", "call"] = "message"
    # Calls sent to an OpenAI-compatible endpoint at once (the embedded model runs one at a time).
    model_concurrency: int = Field(default=4, ge=1, le=256)
    # How long a model call may wait for its turn before the message is handed to a person.
    model_wait_s: float = Field(default=60.0, gt=0)
    stream_ping_s: float = Field(default=10.0, gt=0)

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
    # The largest request body on any route, checked before the body is read (413 beyond it).
    max_body_bytes: int = Field(default=262_144, ge=1024)
    # Rate limits, each a sliding window (0 turns one off; 429 with Retry-After beyond it):
    # failed authentications per client address and per key prefix (the first 10 characters
    # of the presented key), and messages per conversation.
    auth_failures_per_address: int = Field(default=20, ge=0)
    auth_failures_per_prefix: int = Field(default=10, ge=0)
    auth_failure_window_s: float = Field(default=300.0, gt=0)
    messages_per_conversation: int = Field(default=20, ge=0)
    message_window_s: float = Field(default=60.0, gt=0)

    # Console sessions: lifetime, and the Secure cookie flag even for requests that arrive over
    # plain HTTP (behind a proxy that terminates TLS); it is always set for HTTPS requests.
    console_session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    console_secure_cookie: bool = False

    @model_validator(mode="after")
    def _profile_paths(self) -> Self:
        """The profile's files, for each path setting that was not given (a broken profile
        fails here, at start)."""
        profile = load_profile(self.profile)
        given = self.model_fields_set
        if "kb_path" not in given:
            self.kb_path = profile.knowledge_base
        if "taxonomy_path" not in given:
            self.taxonomy_path = profile.taxonomy
        if "priority_rules_path" not in given:
            self.priority_rules_path = profile.priorities
        if "compliance_policy" not in given:
            self.compliance_policy = profile.compliance_policy
        if "prompts_dir" not in given and profile.prompts is not None:
            self.prompts_dir = profile.prompts
        return self

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
