"""Console pages: login with an agent key, the queue with filters and counts, and a case page
with claim, reply-and-resolve, return and note actions. Plain HTML forms; no build step.

Logging in opens a session (assistant/storage/console_sessions.py): the cookie holds its random
token, never the key, and it works for the console only. Every form carries the session's CSRF
token (assistant/console/csrf.py), checked before any action.

Actions answer with a redirect (303) back to the page, carrying a notice or the error in the
query string, so a reload never repeats an action.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from assistant.api.auth import Principal, authenticate
from assistant.api.deps import get_app_settings, get_services
from assistant.api.limits import TextProblem, check_text
from assistant.api.ratelimit import RateLimitedError
from assistant.desk import RegressionRequest
from assistant.escalations.models import CLAIMABLE, QueueFilter, SortKey, Status
from assistant.storage.keys import Role
from assistant.storage.tables import utcnow
from core.errors import AuthenticationError, ConflictError, ForbiddenError, NotFoundError

from .cookies import SessionCookie
from .csrf import FIELD, csrf_matches, csrf_token
from .views import (
    age_label,
    answer_segments,
    draft_citations,
    drafted,
    due_label,
    judge_rows,
    withheld_note,
)

HERE = Path(__file__).resolve().parent
COOKIE = "tether_console_session"
SESSION = SessionCookie(COOKIE, "/console")
PAGE_SIZE = 25
MAX_PAGE = 40_000  # a million cases deep; beyond it, 422
SORTS: tuple[SortKey, ...] = ("priority", "oldest", "newest", "due")


def _page_context(request: Request) -> dict[str, Any]:
    return {"csrf_token": getattr(request.state, "csrf_token", "")}


templates = Jinja2Templates(directory=HERE / "templates", context_processors=[_page_context])
templates.env.globals["age_label"] = age_label
templates.env.globals["due_label"] = due_label
router = APIRouter(prefix="/console", include_in_schema=False)

CsrfField = Annotated[str, Form(alias=FIELD)]


def current_agent(request: Request) -> Principal | None:
    """The staff member whose live session the cookie holds, or None."""
    if hasattr(request.state, "agent"):
        agent: Principal | None = request.state.agent
        return agent
    token = request.cookies.get(COOKIE, "")
    found = get_services(request).database.console_sessions.authenticate(token) if token else None
    agent = None
    if found is not None and found.key.role in (Role.AGENT, Role.ADMIN):
        agent = Principal(name=found.key.name, role=found.key.role, key_id=found.key.id)
        request.state.csrf_token = csrf_token(token)
    request.state.agent = agent
    return agent


def forbidden(request: Request, agent: Principal | None, message: str) -> Response:
    return templates.TemplateResponse(
        request,
        "forbidden.html",
        {"agent": agent, "error": message, "notice": ""},
        status_code=403,
    )


def acting_agent(request: Request, submitted: str) -> Principal | Response:
    """The agent behind a form, or the response that refuses it: to the login page without a
    session, 403 when the form's CSRF token is not this session's."""
    agent = current_agent(request)
    if agent is None:
        return to_login()
    if not csrf_matches(request.cookies.get(COOKIE, ""), submitted):
        return forbidden(
            request, agent, "This form is out of date or came from another site: reload the page."
        )
    return agent


def see_other(url: str, **params: str) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{url}?{query}" if query else url, status_code=303)


def to_login() -> RedirectResponse:
    return see_other("/console/login")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, error: str = "") -> Response:
    return templates.TemplateResponse(request, "login.html", {"error": error})


@router.post("/login")
def login(request: Request, key: Annotated[str, Form()] = "") -> Response:
    """Open a session for a staff key. Failed attempts count against the same limits as the
    API's (per address and per key prefix). No CSRF token here: there is no session yet, and
    the Origin check refuses a login posted from another site."""
    try:
        principal = authenticate(request, key.strip())
    except AuthenticationError as exc:
        return templates.TemplateResponse(
            request, "login.html", {"error": str(exc)}, status_code=401
        )
    except RateLimitedError as exc:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"error": str(exc)},
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    if not principal.is_staff:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"error": "the console is for agents: this is a customer key"},
            status_code=403,
        )
    response = see_other("/console")
    SESSION.open(request, principal.key_id, response)
    return response


@router.post("/logout")
def logout(request: Request, submitted: CsrfField = "") -> Response:
    """End the session (in the database, not just the cookie)."""
    if current_agent(request) is not None:
        acting = acting_agent(request, submitted)
        if isinstance(acting, Response):
            return acting
    response = to_login()
    SESSION.close(request, response)
    return response


@router.get("", response_class=HTMLResponse)
def queue(
    request: Request,
    status: str = "waiting",
    reason: str = "",
    issue_type: str = "",
    priority: str = "",
    mine: bool = False,
    sort: str = "priority",
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    notice: str = "",
    error: str = "",
) -> Response:
    agent = current_agent(request)
    if agent is None:
        return to_login()
    services = get_services(request)
    statuses = {
        "waiting": list(CLAIMABLE),
        "all": [],
        **{s.value: [s] for s in Status},
    }.get(status, list(CLAIMABLE))
    query = QueueFilter(
        status=statuses,
        reason=reason or None,
        issue_type=issue_type or None,
        priority=priority or None,
        assignee=agent.name if mine else None,
    )
    now = utcnow()
    listing = services.database.escalations.page(
        query,
        sort=sort if sort in SORTS else "priority",
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
        now=now,
    )
    counts = services.database.escalations.counts(now)
    filters = {
        "status": status,
        "reason": reason,
        "issue_type": issue_type,
        "priority": priority,
        "mine": mine,
        "sort": sort,
    }
    return templates.TemplateResponse(
        request,
        "queue.html",
        {
            "agent": agent,
            "cases": listing.items,
            "total": listing.total,
            "page": page,
            "pages": max(1, -(-listing.total // PAGE_SIZE)),
            "counts": counts,
            "filters": filters,
            "page_query": urlencode({k: v for k, v in filters.items() if v}),
            "statuses": ["waiting", "all", *[s.value for s in Status]],
            "reasons": sorted(counts.by_reason),
            "priorities": [level.name for level in services.desk.rules.levels],
            "issue_types": sorted(
                set(counts.by_issue_type) | ({issue_type} if issue_type else set())
            ),
            "sorts": SORTS,
            "now": now,
            "notice": notice,
            "error": error,
        },
    )


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, notice: str = "", error: str = "") -> Response:
    agent = current_agent(request)
    if agent is None:
        return to_login()
    services = get_services(request)
    try:
        record = services.database.escalations.get(case_id)
    except NotFoundError as exc:
        return see_other("/console", error=str(exc))
    conversation = services.database.conversations.get(record.conversation_id)
    flagged = record.verdict.flagged
    now = utcnow()
    return templates.TemplateResponse(
        request,
        "case.html",
        {
            "agent": agent,
            "case": record,
            "now": now,
            "overdue": record.overdue(now),
            "conversation": conversation.messages,
            "flagged": flagged,
            "segments": answer_segments(drafted(record.evidence.withheld_answer), flagged),
            # The reply editor starts from the withheld draft (empty when there is none).
            "draft": drafted(record.evidence.withheld_answer),
            "draft_citations": draft_citations(record.verdict, record.evidence.passages),
            "no_draft": withheld_note(record.evidence.withheld_answer, record.verdict),
            "judge": judge_rows(record.verdict),
            "passages": record.evidence.passages,
            "claimable": record.status in CLAIMABLE,
            "mine": record.status == Status.CLAIMED and record.assignee == agent.name,
            "max_reply": get_app_settings(request).max_reply_chars,
            "notice": notice,
            "error": error,
        },
    )


def _act(request: Request, case_id: str, action: str, submitted: str, **form: Any) -> Response:
    agent = acting_agent(request, submitted)
    if isinstance(agent, Response):
        return agent
    desk = get_services(request).desk
    settings = get_app_settings(request)
    url = f"/console/cases/{case_id}"
    try:
        if action == "claim":
            desk.claim(case_id, agent.name)
            return see_other(url, notice="You claimed this case.")
        if action == "return":
            desk.give_back(case_id, agent.name, form.get("note", "").strip())
            return see_other("/console", notice="Case returned to the queue.")
        if action == "note":
            note = check_text(form.get("text", ""), settings.max_note_chars, "the note")
            if isinstance(note, TextProblem):
                return see_other(url, error=note.message)
            desk.note(case_id, agent.name, note)
            return see_other(url, notice="Note added (internal).")
        reply = check_text(form.get("reply", ""), settings.max_reply_chars, "the reply")
        if isinstance(reply, TextProblem):
            return see_other(url, error=reply.message)
        regression = None
        if form.get("regression"):
            regression = RegressionRequest(
                expect=form.get("expect") or "answer",
                gold_article_ids=[
                    a.strip() for a in form.get("articles", "").split(",") if a.strip()
                ],
            )
        desk.resolve(
            case_id, agent.name, reply=reply, kb_gap=bool(form.get("kb_gap")), regression=regression
        )
        return see_other(url, notice="Reply sent to the customer; case resolved.")
    except (ConflictError, ForbiddenError, NotFoundError) as exc:
        return see_other(url, error=str(exc))


@router.post("/cases/{case_id}/claim")
def claim(request: Request, case_id: str, submitted: CsrfField = "") -> Response:
    return _act(request, case_id, "claim", submitted)


@router.post("/cases/{case_id}/return")
def give_back(
    request: Request, case_id: str, submitted: CsrfField = "", note: Annotated[str, Form()] = ""
) -> Response:
    return _act(request, case_id, "return", submitted, note=note)


@router.post("/cases/{case_id}/notes")
def add_note(
    request: Request, case_id: str, submitted: CsrfField = "", text: Annotated[str, Form()] = ""
) -> Response:
    return _act(request, case_id, "note", submitted, text=text)


@router.post("/cases/{case_id}/resolve")
def resolve(
    request: Request,
    case_id: str,
    submitted: CsrfField = "",
    reply: Annotated[str, Form()] = "",
    kb_gap: Annotated[str, Form()] = "",
    regression: Annotated[str, Form()] = "",
    expect: Annotated[str, Form()] = "answer",
    articles: Annotated[str, Form()] = "",
) -> Response:
    if expect not in ("answer", "escalate", "not_escalate"):
        expect = "answer"
    return _act(
        request,
        case_id,
        "resolve",
        submitted,
        reply=reply,
        kb_gap=kb_gap,
        regression=regression,
        expect=expect,
        articles=articles,
    )
