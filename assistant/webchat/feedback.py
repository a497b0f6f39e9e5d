"""Thumbs up or down on one of the assistant's replies, from the chat page:
``POST /chat/conversations/{id}/messages/{message_id}/feedback``, a form with the session's CSRF
token. The same body rules as the API's (schemas.FeedbackCreate) and the same service
(assistant/feedback.py): a thumbs-down on an answer opens a case for a person, a new rating
replaces the last. Answers with a redirect back to the conversation, which shows the rating."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import ValidationError

from assistant.api.deps import get_services
from assistant.api.schemas import MAX_FEEDBACK_COMMENT_CHARS, FeedbackCreate
from assistant.console.routes import CsrfField, see_other
from assistant.feedback import NotAReplyError
from core.errors import NotFoundError

from .routes import OUT_OF_DATE, not_found, owned_conversation, refused, to_sign_in
from .session import current_customer, genuine_form

router = APIRouter(prefix="/chat/conversations", include_in_schema=False)


def _body(rating: str, comment: str) -> FeedbackCreate | str:
    """The feedback as the API would take it, or what is wrong with it."""
    if len(comment) > MAX_FEEDBACK_COMMENT_CHARS:
        return f"a comment is at most {MAX_FEEDBACK_COMMENT_CHARS} characters"
    try:
        return FeedbackCreate.model_validate({"rating": rating, "comment": comment or None})
    except ValidationError:
        return "choose thumbs up or thumbs down"


@router.post("/{conversation_id}/messages/{message_id}/feedback")
def rate(
    request: Request,
    conversation_id: str,
    message_id: str,
    rating: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    submitted: CsrfField = "",
) -> Response:
    customer = current_customer(request)
    if customer is None:
        return to_sign_in()
    if not genuine_form(request, submitted):
        return refused(request, customer, OUT_OF_DATE)
    conversation = owned_conversation(request, customer, conversation_id)
    if conversation is None:
        return not_found(request, customer, "This conversation")
    page = f"/chat/conversations/{conversation_id}"
    body = _body(rating, comment)
    if isinstance(body, str):
        return see_other(page, error=f"Not rated: {body}.")
    try:
        get_services(request).feedback.give(
            conversation, message_id, rating=body.rating, comment=body.comment
        )
    except (NotFoundError, NotAReplyError) as exc:
        return see_other(page, error=f"Not rated: {exc}.")
    return see_other(page, notice="Thank you: your feedback was saved.")
