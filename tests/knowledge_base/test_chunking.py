from knowledge_base.articles import Article
from knowledge_base.chunking import chunk_article

MARKDOWN = """# Refunds

Refunds go back to the original payment method.

## Deadlines

Request a refund within 7 days.

Late requests are declined.

### Exceptions

Damaged items can be reported for 14 days.

## How to request

Open Orders and tap Get Help.
"""


def article(text: str, **fields: str) -> Article:
    return Article(id="ref-001", title="Refunds", text=text, issue_type="refunds", **fields)


def test_markdown_is_split_by_headers_and_keeps_the_section_path() -> None:
    chunks = chunk_article(article(MARKDOWN, updated="2026-08-01"))

    assert [c.section for c in chunks] == [
        "",
        "Deadlines",
        "Deadlines > Exceptions",
        "How to request",
    ]
    assert [c.id for c in chunks] == [f"ref-001#{n}" for n in range(4)]
    assert chunks[1].text == "Request a refund within 7 days.\n\nLate requests are declined."
    assert chunks[3].embedding_text == "Refunds > How to request\nOpen Orders and tap Get Help."


def test_chunks_carry_the_article_fields() -> None:
    source = article(MARKDOWN, updated="2026-08-01")
    for chunk in chunk_article(source):
        assert (chunk.article_id, chunk.title, chunk.issue_type) == (
            "ref-001",
            "Refunds",
            "refunds",
        )
        assert chunk.updated == "2026-08-01"
        assert chunk.content_hash == source.content_hash


def test_plain_text_is_split_by_size_with_overlap() -> None:
    sentences = [f"Sentence number {n} talks about the remote control." for n in range(40)]
    chunks = chunk_article(article(" ".join(sentences)), max_chars=200, overlap=60)

    assert len(chunks) > 5
    assert all(len(c.text) <= 200 and c.section == "" for c in chunks)
    for sentence in sentences:
        assert any(sentence in c.text for c in chunks)
    first_words = chunks[1].text.split()[:3]
    assert " ".join(first_words) in chunks[0].text  # the overlap


def test_an_article_without_text_keeps_one_chunk_for_its_title() -> None:
    chunks = chunk_article(article(""))

    assert [(c.id, c.text) for c in chunks] == [("ref-001#0", "")]
    assert chunks[0].embedding_text.strip() == "Refunds"
