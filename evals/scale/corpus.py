"""A large knowledge base from the public one: the e-manual and the sample help center, repeated
with deterministic variation until it holds the number of chunks asked for.

Repetition 0 is the articles as written. Repetition ``r >= 1`` of an article has its id suffixed
``~r``, ``(edition r)`` after its title (so no chunk of one repetition is a copy of another's:
exact search has no ties to hide misses behind), about one word in seven of a synonym list
swapped for its synonym and about one number in three shifted, each drawn from a generator
seeded by (seed, r, article id). Articles are chunked by the product's own chunker; an article
that would overshoot the target is skipped for a later, shorter one, so the corpus holds exactly
the number of chunks asked for (the e-manual has one-chunk articles).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from assistant.settings import SAMPLE_KB
from evals.retrieval import load_questions
from knowledge_base.articles import Article, load_articles
from knowledge_base.chunking import chunk_article

EMANUAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "emanual"

# Words common in both sources, each with a synonym the reverse swap would give back.
_PAIRS = (
    ("press", "push"),
    ("select", "choose"),
    ("turn", "switch"),
    ("screen", "display"),
    ("remote", "controller"),
    ("app", "application"),
    ("use", "utilise"),
    ("change", "modify"),
    ("open", "launch"),
    ("order", "purchase"),
    ("customer", "client"),
    ("courier", "rider"),
    ("fee", "charge"),
    ("account", "profile"),
    ("button", "key"),
    ("menu", "list"),
    ("settings", "options"),
    ("connect", "link"),
    ("device", "unit"),
    ("help", "assist"),
    ("check", "verify"),
    ("show", "display"),
    ("get", "receive"),
    ("need", "require"),
    ("delivery", "drop-off"),
    ("quickly", "rapidly"),
    ("available", "offered"),
    ("feature", "function"),
)
SYNONYMS = {a: b for a, b in _PAIRS} | {b: a for a, b in _PAIRS}
SWAP_SHARE = 1 / 7
NUMBER_SHARE = 1 / 3
_TOKEN = re.compile(r"[A-Za-z][A-Za-z-]*|\d+")


def perturb(text: str, rng: random.Random) -> str:
    """``text`` with some synonym-list words swapped (case kept) and some numbers shifted."""

    def swap(match: re.Match[str]) -> str:
        word = match[0]
        if word.isdigit():
            if rng.random() >= NUMBER_SHARE:
                return word
            return str(max(0, int(word) + rng.choice((-2, -1, 1, 2, 3))))
        other = SYNONYMS.get(word.lower())
        if other is None or rng.random() >= SWAP_SHARE:
            return word
        return other.capitalize() if word[0].isupper() else other

    return _TOKEN.sub(swap, text)


def variant(article: Article, repetition: int, *, seed: int) -> Article:
    """Repetition ``repetition`` of ``article`` (0: the article itself)."""
    if repetition == 0:
        return article
    rng = random.Random(f"{seed}:{repetition}:{article.id}")
    return article.model_copy(
        update={
            "id": f"{article.id}~{repetition}",
            "title": f"{perturb(article.title, rng)} (edition {repetition})",
            "text": perturb(article.text, rng),
        }
    )


def base_articles(emanual: Path = EMANUAL, sample: Path = SAMPLE_KB) -> list[Article]:
    """The e-manual's sections, then the sample help center's articles."""
    return [*load_articles(emanual / "articles.jsonl"), *load_articles(sample / "articles")]


class Corpus(BaseModel):
    articles: list[Article]
    sizes: list[int]  # chunks per article, in order
    repetitions: int

    @property
    def chunks(self) -> int:
        return sum(self.sizes)

    def chunk_ids(self) -> list[str]:
        """The ids ingest gives the chunks, in the order it embeds them."""
        return [
            f"{a.id}#{n}"
            for a, size in zip(self.articles, self.sizes, strict=True)
            for n in range(size)
        ]


def build_corpus(base: Sequence[Article], chunks: int, *, seed: int = 0) -> Corpus:
    """Repetitions of ``base`` with variation, holding exactly ``chunks`` chunks (or as close
    from below as the base's article sizes allow)."""
    articles: list[Article] = []
    sizes: list[int] = []
    total, repetition = 0, 0
    while total < chunks:
        added = 0
        for article in base:
            candidate = variant(article, repetition, seed=seed)
            size = len(chunk_article(candidate))
            if total + size <= chunks:
                articles.append(candidate)
                sizes.append(size)
                total += size
                added += 1
            if total == chunks:
                break
        if added == 0:
            break
        repetition += 1
    return Corpus(articles=articles, sizes=sizes, repetitions=repetition)


def sample_texts(corpus: Corpus, n: int, *, seed: int = 0) -> list[str]:
    """The embedding texts of about ``n`` chunks, from articles drawn at random (seeded)."""
    order = list(range(len(corpus.articles)))
    random.Random(f"{seed}:sample").shuffle(order)
    texts: list[str] = []
    for index in order:
        texts.extend(c.embedding_text for c in chunk_article(corpus.articles[index]))
        if len(texts) >= n:
            break
    return texts[:n]


def queries(
    n: int, *, seed: int = 0, emanual: Path = EMANUAL, sample: Path = SAMPLE_KB
) -> list[str]:
    """``n`` questions: the e-manual's and the sample's in a seeded order, as written on the
    first pass through them and perturbed like the articles after that."""
    found = [
        *load_questions(emanual / "questions.jsonl"),
        *load_questions(sample / "questions.jsonl"),
    ]
    texts = [q.query for q in found]
    random.Random(f"{seed}:questions").shuffle(texts)
    out = []
    for i in range(n):
        text = texts[i % len(texts)]
        rounds = i // len(texts)
        out.append(text if rounds == 0 else perturb(text, random.Random(f"{seed}:q:{i}")))
    return out
