"""Pure view models of the chat page: what a customer sees of a conversation and of an article.
No HTTP, no database. The page's template and its script (static/chat.js, through the JSON of
``GET /chat/conversations/{id}/messages``) render the same models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel

from assistant.pipeline.reply import Citation
from assistant.storage import StoredMessage
from knowledge_base.articles import Passage

Role = Literal["customer", "assistant", "agent"]
ROLES: dict[str, Role] = {"customer": "customer", "assistant": "assistant", "agent": "agent"}
WHO: dict[Role, str] = {"customer": "You", "assistant": "Assistant", "agent": "Support team"}


def article_href(article_id: str) -> str:
    return f"/chat/articles/{quote(article_id, safe='')}"


class CitationLink(BaseModel):
    article_id: str
    title: str
    href: str

    @classmethod
    def of(cls, citation: Citation) -> CitationLink:
        return cls(
            article_id=citation.article_id,
            title=citation.title or citation.article_id,
            href=article_href(citation.article_id),
        )


class ChatLine(BaseModel):
    """One message as the customer sees it. ``handoff`` is the hand-off note of a reply a person
    took over (after the sentences already shown, if any)."""

    id: str
    role: Role
    who: str
    paragraphs: list[str]
    citations: list[CitationLink]
    handoff: str = ""
    # An assistant reply can be rated; ``rating`` is the customer's latest, if any.
    rateable: bool = False
    rating: Literal["up", "down"] | None = None


def paragraphs(text: str) -> list[str]:
    return [part.strip() for part in text.split("\n\n") if part.strip()]


def chat_line(message: StoredMessage) -> ChatLine | None:
    """The message as a line of the chat, or None for what customers never see."""
    role = ROLES.get(message.role)
    if role is None:
        return None
    parts = paragraphs(message.text)
    trace = message.trace
    citations = [CitationLink.of(c) for c in trace.citations] if trace else []
    handoff = ""
    if trace is not None and trace.escalation_id is not None and parts:
        handoff = parts.pop()
    return ChatLine(
        id=message.id,
        role=role,
        who=WHO[role],
        paragraphs=parts,
        citations=citations,
        handoff=handoff,
        rateable=role == "assistant",
        rating=message.feedback.rating if message.feedback is not None else None,
    )


def chat_lines(messages: Sequence[StoredMessage]) -> list[ChatLine]:
    return [line for line in map(chat_line, messages) if line is not None]


class ArticleSection(BaseModel):
    heading: str
    paragraphs: list[str]


class ArticleView(BaseModel):
    id: str
    title: str
    sections: list[ArticleSection]


def article_view(article_id: str, sections: Sequence[Passage]) -> ArticleView | None:
    """The article of ``article_id`` from the knowledge base's sections (each one passage, in
    order), or None when the knowledge base holds no such article."""
    mine = [p for p in sections if p.article_id == article_id]
    if not mine:
        return None
    return ArticleView(
        id=article_id,
        title=mine[0].chunk.title,
        sections=[
            ArticleSection(heading=p.chunk.section, paragraphs=paragraphs(p.text)) for p in mine
        ],
    )
