"""Knowledge-base records: articles as written, chunks as stored, passages as retrieved."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ValidationError

from core import yaml_loader
from core.errors import ConfigurationError


class Article(BaseModel):
    id: str
    title: str
    text: str
    issue_type: str = "general"
    updated: str = ""
    source: str = ""

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that ends up in the store changes."""
        payload = json.dumps([self.title, self.text, self.issue_type, self.updated])
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


class Chunk(BaseModel):
    """A piece of an article small enough to embed; keeps its article's title and section."""

    id: str
    article_id: str
    title: str
    section: str
    text: str
    issue_type: str
    updated: str = ""
    content_hash: str = ""

    @property
    def heading(self) -> str:
        """``Title > Section``, or the title alone for an article's opening chunk."""
        return f"{self.title} > {self.section}" if self.section else self.title

    @property
    def embedding_text(self) -> str:
        return f"{self.heading}\n{self.text}"


class Passage(BaseModel):
    """A retrieved chunk with the score that put it there (higher is better)."""

    chunk: Chunk
    score: float
    dense_score: float = 0.0

    @property
    def article_id(self) -> str:
        return self.chunk.article_id

    @property
    def text(self) -> str:
        return self.chunk.text


def format_passages(passages: Sequence[Passage]) -> str:
    """Passages as a model reads them: ``[article-id] Title > Section`` then the text."""
    blocks = []
    for passage in passages:
        chunk = passage.chunk
        blocks.append(f"[{chunk.article_id}] {chunk.heading}\n{chunk.text.strip()}")
    return "\n\n".join(blocks)


def _front_matter(raw: str, path: Path) -> tuple[dict[str, object], str]:
    if not raw.startswith("---"):
        raise ConfigurationError(f"{path}: missing YAML front matter (--- id/title/issue_type ---)")
    try:
        _, head, body = raw.split("---", 2)
        meta = yaml_loader.safe_load(head) or {}
    except (ValueError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path}: unreadable front matter: {exc}") from exc
    if not isinstance(meta, dict):
        raise ConfigurationError(f"{path}: front matter must be a mapping")
    return meta, body.strip()


def _stamp(value: object) -> str:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value) if value is not None else ""


def load_markdown(path: Path) -> Article:
    meta, body = _front_matter(path.read_text(encoding="utf-8"), path)
    try:
        return Article(
            id=str(meta.get("id") or path.stem),
            title=str(meta["title"]),
            text=body,
            issue_type=str(meta.get("issue_type", "general")),
            updated=_stamp(meta.get("updated")),
            source=str(path),
        )
    except (KeyError, ValidationError) as exc:
        raise ConfigurationError(f"{path}: front matter needs at least a title ({exc})") from exc


def load_jsonl(path: Path) -> Iterator[Article]:
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                row["updated"] = _stamp(row.get("updated"))
                yield Article.model_validate({**row, "source": f"{path}:{line_no}"})
            except (json.JSONDecodeError, ValidationError, TypeError) as exc:
                raise ConfigurationError(f"{path}:{line_no}: not an article ({exc})") from exc


def load_articles(path: Path) -> list[Article]:
    """Articles from a markdown file, a JSONL file, or a folder of either (recursively)."""
    if not path.exists():
        raise ConfigurationError(f"knowledge base path {path} does not exist")
    files = sorted(path.rglob("*")) if path.is_dir() else [path]
    articles: list[Article] = []
    for file in files:
        if file.suffix == ".md" and file.name.lower() != "readme.md":
            articles.append(load_markdown(file))
        elif file.suffix == ".jsonl":
            articles.extend(load_jsonl(file))
    seen: set[str] = set()
    for article in articles:
        if article.id in seen:
            raise ConfigurationError(f"duplicate article id {article.id!r} under {path}")
        seen.add(article.id)
    return articles
