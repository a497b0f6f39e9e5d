"""Split an article into chunks: first by markdown headers, then by size."""

from __future__ import annotations

from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter

from knowledge_base.articles import Article, Chunk

# Chosen on the emanual dev split (see evals/RETRIEVAL_NOTES.md): 200-400 characters did
# about equally well; larger chunks lost recall@1 and MRR (800 and more also recall@5).
MAX_CHARS = 300
OVERLAP = 50

_HEADERS = [("#", "h1"), ("##", "h2"), ("###", "h3")]


def _sections(article: Article) -> list[tuple[str, str]]:
    """(section name, body) pairs in order; the section is the header path below the title."""
    splitter = MarkdownHeaderTextSplitter(_HEADERS, strip_headers=True)
    sections = []
    for doc in splitter.split_text(article.text):
        path = [doc.metadata[key] for _, key in _HEADERS if key in doc.metadata]
        if path and path[0] == article.title:
            path = path[1:]
        # The splitter joins paragraphs with a markdown hard break; restore the blank line.
        sections.append((" > ".join(path), doc.page_content.replace("  \n", "\n\n")))
    return sections


def chunk_article(
    article: Article, *, max_chars: int = MAX_CHARS, overlap: int = OVERLAP
) -> list[Chunk]:
    """Chunks of at most ``max_chars`` characters, each keeping its article's title and section.

    An article without body text still yields one chunk, so its title stays retrievable.
    """
    splitter = RecursiveCharacterTextSplitter(chunk_size=max_chars, chunk_overlap=overlap)
    pieces = [
        (section, piece)
        for section, body in _sections(article)
        for piece in splitter.split_text(body)
    ] or [("", "")]
    return [
        Chunk(
            id=f"{article.id}#{n}",
            article_id=article.id,
            title=article.title,
            section=section,
            text=text,
            issue_type=article.issue_type,
            updated=article.updated,
            content_hash=article.content_hash,
        )
        for n, (section, text) in enumerate(pieces)
    ]
