"""Console pages for quality: the dashboard (plots, drift alerts, judge-human agreement) and the
review of sampled conversations, where agents give their own scores to calibrate the judge."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from assistant.api.deps import get_app_settings, get_services
from assistant.console.routes import (
    CsrfField,
    acting_agent,
    current_agent,
    see_other,
    templates,
    to_login,
)
from assistant.escalations.models import QueueFilter, Status
from assistant.monitoring import dashboard
from assistant.monitoring.kb_gaps import accept_article, suggestions
from assistant.monitoring.quality import METRICS
from assistant.storage.keys import Role
from assistant.storage.tables import utcnow
from core.errors import ConfigurationError, ConflictError, NotFoundError

router = APIRouter(prefix="/console", include_in_schema=False)
Days = Annotated[int, Query(ge=1, le=3650)]


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(request: Request, days: Days = 14) -> Response:
    agent = current_agent(request)
    if agent is None:
        return to_login()
    services = get_services(request)
    now = utcnow()
    since = now - timedelta(days=max(1, min(days, 90)))
    waiting = services.database.escalations.page(
        QueueFilter(status=[Status.OPEN, Status.RETURNED]), limit=200, now=now
    )
    data = dashboard.build(
        services.database.quality.replies(since=since),
        services.database.quality.reviews(since=since),
        [c.age_minutes(now) for c in waiting.items],
        recent_since=now - timedelta(hours=get_app_settings(request).drift_recent_hours),
        feedback=services.database.feedback.recent(since=since),
        drafts=services.database.escalations.draft_counts(since=since),
    )
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "agent": agent,
            "data": data,
            "plots": dashboard.plots(data),
            "alerts": services.database.quality.alerts(limit=10),
            "days": days,
            "notice": "",
            "error": "",
        },
    )


@router.get("/reviews", response_class=HTMLResponse)
def reviews_page(request: Request, notice: str = "", error: str = "") -> Response:
    agent = current_agent(request)
    if agent is None:
        return to_login()
    reviews = get_services(request).database.quality.reviews()
    pending = [r for r in reviews if r.human_scores is None]
    return templates.TemplateResponse(
        request,
        "reviews.html",
        {
            "agent": agent,
            "pending": pending[:50],
            "done": len(reviews) - len(pending),
            "notice": notice,
            "error": error,
        },
    )


@router.get("/reviews/{conversation_id}", response_class=HTMLResponse)
def review_page(request: Request, conversation_id: str) -> Response:
    agent = current_agent(request)
    if agent is None:
        return to_login()
    services = get_services(request)
    try:
        conversation = services.database.conversations.get(conversation_id)
    except NotFoundError as exc:
        return see_other("/console/reviews", error=str(exc))
    return templates.TemplateResponse(
        request,
        "review.html",
        {
            "agent": agent,
            "conversation": conversation,
            "metrics": METRICS,
            "notice": "",
            "error": "",
        },
    )


@router.post("/reviews/{conversation_id}")
def submit_review(
    request: Request,
    conversation_id: str,
    retrieval: Annotated[int, Form(ge=1, le=5)],
    accuracy: Annotated[int, Form(ge=1, le=5)],
    language: Annotated[int, Form(ge=1, le=5)],
    coherence: Annotated[int, Form(ge=1, le=5)],
    relevance: Annotated[int, Form(ge=1, le=5)],
    submitted: CsrfField = "",
) -> Response:
    agent = acting_agent(request, submitted)
    if isinstance(agent, Response):
        return agent
    scores = {
        "retrieval": retrieval,
        "accuracy": accuracy,
        "language": language,
        "coherence": coherence,
        "relevance": relevance,
    }
    try:
        get_services(request).database.quality.save_human(conversation_id, agent.name, scores)
    except (NotFoundError, ConflictError) as exc:
        return see_other("/console/reviews", error=str(exc))
    return see_other("/console/reviews", notice="Thanks: your scores are saved.")


@router.get("/kb", response_class=HTMLResponse)
def kb_page(request: Request, days: Days = 30, notice: str = "", error: str = "") -> Response:
    """Admins: topics the knowledge base fails on, as suggested articles to accept."""
    agent = current_agent(request)
    if agent is None:
        return to_login()
    if agent.role != Role.ADMIN:
        return see_other("/console", error="The knowledge-base page is for admins.")
    services = get_services(request)
    settings = get_app_settings(request)
    clusters = suggestions(
        services.database,
        services.embedder,
        since=utcnow() - timedelta(days=max(1, min(days, 365))),
        retrieval_below=settings.gap_retrieval_below,
    )
    return templates.TemplateResponse(
        request,
        "kb.html",
        {"agent": agent, "clusters": clusters, "days": days, "notice": notice, "error": error},
    )


@router.post("/kb/accept")
def kb_accept(
    request: Request,
    title: Annotated[str, Form()] = "",
    issue_type: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    item_ids: Annotated[str, Form()] = "",
    submitted: CsrfField = "",
) -> Response:
    agent = acting_agent(request, submitted)
    if isinstance(agent, Response):
        return agent
    if agent.role != Role.ADMIN:
        return see_other("/console", error="The knowledge-base page is for admins.")
    if len(title.strip()) < 3 or len(text.strip()) < 20 or not issue_type.strip():
        return see_other("/console/kb", error="An article needs a title, an issue type and text.")
    services = get_services(request)
    settings = get_app_settings(request)
    try:
        accepted = accept_article(
            services.database,
            services.vector_store,
            services.embedder,
            settings.kb_path,
            title=title,
            issue_type=issue_type.strip(),
            text=text,
            item_ids=item_ids.split(),
        )
    except (ConfigurationError, ConflictError) as exc:  # not a folder; another ingest running
        return see_other("/console/kb", error=str(exc))
    return see_other("/console/kb", notice=f"Article {accepted.article_id} added and ingested.")
