"""A help-center article as customers read it, where the chat page's citations link:
``/chat/articles/{id}``, read-only, its text escaped, from the knowledge base the answers come
from (its sections, as the search keeps them)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from assistant.api.deps import get_services

from .routes import not_found, templates, to_sign_in
from .session import current_customer
from .views import article_view

router = APIRouter(prefix="/chat/articles", include_in_schema=False)


@router.get("/{article_id}", response_class=HTMLResponse)
def article_page(request: Request, article_id: str) -> Response:
    customer = current_customer(request)
    if customer is None:
        return to_sign_in()
    view = article_view(article_id, get_services(request).assistant.searcher.sections([article_id]))
    if view is None:
        return not_found(request, customer, "This article")
    return templates.TemplateResponse(
        request, "article.html", {"customer": customer, "article": view, "notice": "", "error": ""}
    )
