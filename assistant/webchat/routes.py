"""The chat page's sign-in and pages: ``/chat`` (sign in, then start a conversation) and
``/chat/conversations/{id}`` (the conversation, with the form that sends a message).

Only customer keys sign in here (an agent or admin key is refused with 403 and pointed to the
console's Live page): a conversation started here belongs to the key that started it, by key id,
exactly as one opened through the API with that key (``check_owner``), and any other key's
conversation is a 404. Actions answer with a redirect (303), so a reload never repeats one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from assistant.api.auth import Principal, authenticate, check_owner
from assistant.api.deps import get_app_settings, get_services
from assistant.api.ratelimit import RateLimitedError
from assistant.api.schemas import MAX_FEEDBACK_COMMENT_CHARS
from assistant.console.routes import CsrfField, see_other
from assistant.storage import StoredConversation
from assistant.storage.keys import Role
from core.errors import AuthenticationError, NotFoundError

from .session import close_session, current_customer, genuine_form, open_session
from .views import chat_lines

HERE = Path(__file__).resolve().parent
# How often the page asks for messages it has not shown (an agent's reply), in milliseconds.
POLL_MS = 4000
STAFF_REFUSED = (
    "The chat page is for customers: this is {role} key. Agents try the assistant on the "
    "console's Live page (/console/live)."
)
OUT_OF_DATE = "This form is out of date or came from another site: reload the page."


def _page_context(request: Request) -> dict[str, Any]:
    return {
        "csrf_token": getattr(request.state, "csrf_token", ""),
        "business": get_services(request).assistant.profile.name,  # the business profile's
    }


templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_page_context])
router = APIRouter(prefix="/chat", include_in_schema=False)


def to_sign_in() -> Response:
    return see_other("/chat")


def refused(
    request: Request, customer: Principal | None, message: str, status_code: int = 403
) -> Response:
    return templates.TemplateResponse(
        request,
        "refused.html",
        {"customer": customer, "error": message, "notice": ""},
        status_code=status_code,
    )


def not_found(request: Request, customer: Principal | None, what: str) -> Response:
    return refused(request, customer, f"{what} was not found.", status_code=404)


def owned_conversation(
    request: Request, customer: Principal, conversation_id: str
) -> StoredConversation | None:
    """The customer's conversation, or None when there is no such conversation or it is another
    key's (the two look the same)."""
    try:
        conversation = get_services(request).database.conversations.get(conversation_id)
        check_owner(customer, conversation)
    except NotFoundError:
        return None
    return conversation


def _sign_in_page(request: Request, error: str, status_code: int = 200) -> Response:
    return templates.TemplateResponse(
        request,
        "signin.html",
        {"customer": None, "error": error, "notice": ""},
        status_code=status_code,
    )


@router.get("", response_class=HTMLResponse)
def home(request: Request, notice: str = "", error: str = "") -> Response:
    customer = current_customer(request)
    if customer is None:
        return _sign_in_page(request, error)
    return templates.TemplateResponse(
        request, "home.html", {"customer": customer, "notice": notice, "error": error}
    )


@router.post("/signin")
def sign_in(request: Request, key: Annotated[str, Form()] = "") -> Response:
    """Open a chat session for a customer key. Failed attempts count against the API's limits;
    no CSRF token (no session yet), and the Origin check refuses a sign-in from another site."""
    try:
        principal = authenticate(request, key.strip())
    except AuthenticationError as exc:
        return _sign_in_page(request, str(exc), status_code=401)
    except RateLimitedError as exc:
        response = _sign_in_page(request, str(exc), status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if principal.role != Role.CUSTOMER:
        article = "an admin" if principal.role == Role.ADMIN else "an agent"
        return _sign_in_page(request, STAFF_REFUSED.format(role=article), status_code=403)
    response = see_other("/chat")
    open_session(request, principal, response)
    return response


@router.post("/signout")
def sign_out(request: Request, submitted: CsrfField = "") -> Response:
    customer = current_customer(request)
    if customer is not None and not genuine_form(request, submitted):
        return refused(request, customer, OUT_OF_DATE)
    response = to_sign_in()
    close_session(request, response)
    return response


@router.post("/conversations")
def start_conversation(request: Request, submitted: CsrfField = "") -> Response:
    customer = current_customer(request)
    if customer is None:
        return to_sign_in()
    if not genuine_form(request, submitted):
        return refused(request, customer, OUT_OF_DATE)
    created = get_services(request).database.conversations.create(
        owner=customer.name, owner_key_id=customer.key_id
    )
    return see_other(f"/chat/conversations/{created.id}")


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
def conversation_page(
    request: Request, conversation_id: str, notice: str = "", error: str = ""
) -> Response:
    customer = current_customer(request)
    if customer is None:
        return to_sign_in()
    conversation = owned_conversation(request, customer, conversation_id)
    if conversation is None:
        return not_found(request, customer, "This conversation")
    return templates.TemplateResponse(
        request,
        "conversation.html",
        {
            "customer": customer,
            "conversation": conversation,
            "lines": chat_lines(conversation.messages),
            "max_message": get_app_settings(request).max_message_chars,
            "max_comment": MAX_FEEDBACK_COMMENT_CHARS,
            "poll_ms": POLL_MS,
            "notice": notice,
            "error": error,
        },
    )
