"""Who is calling: an API key (``Authorization: Bearer <key>``) and its role. Customer keys
reach only the conversations they opened (by key id, not by name); agent endpoints take agent
or admin keys; admin endpoints take admin keys only. Failed authentications are rate limited
per client address and per key prefix (assistant/api/ratelimit.py). (The console logs in with
the same keys, and then holds a session of its own, which is no API key.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from assistant.api.ratelimit import RateLimits
from assistant.storage import StoredConversation
from assistant.storage.keys import Role
from assistant.wiring import Services
from core.errors import AuthenticationError, ForbiddenError, NotFoundError

_bearer = HTTPBearer(auto_error=False, description="An API key made with `tether keys create`.")


class Principal(BaseModel):
    name: str
    role: Role
    key_id: str

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.AGENT, Role.ADMIN)


def principal_for(services: Services, secret: str | None) -> Principal:
    if not secret:
        raise AuthenticationError("an API key is required (Authorization: Bearer <key>)")
    key = services.database.keys.authenticate(secret)
    if key is None:
        raise AuthenticationError("the API key is unknown or revoked")
    return Principal(name=key.name, role=key.role, key_id=key.id)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticate(request: Request, secret: str | None) -> Principal:
    """The principal of ``secret``, with failed attempts counted (and refused, 429, beyond the
    limits). A request without a key is no attempt: it is refused but not counted."""
    services: Services = request.app.state.services
    if not secret:
        return principal_for(services, secret)
    limits: RateLimits = request.app.state.rate_limits
    address = client_address(request)
    limits.before_authentication(address, secret)
    try:
        return principal_for(services, secret)
    except AuthenticationError:
        limits.authentication_failed(address, secret)
        raise


def require(*roles: Role) -> Callable[..., Principal]:
    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        principal = authenticate(request, credentials.credentials if credentials else None)
        if principal.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise ForbiddenError(f"this needs an {allowed} key; yours is a {principal.role} key")
        return principal

    return dependency


def check_owner(principal: Principal, conversation: StoredConversation) -> None:
    """A customer key sees only the conversations it opened (others look like they don't exist):
    checked by key id, so another key given the same name reads none of them."""
    if principal.role == Role.CUSTOMER and conversation.owner_key_id != principal.key_id:
        raise NotFoundError(f"conversation {conversation.id} not found")


AnyKey = Annotated[Principal, Depends(require(Role.CUSTOMER, Role.AGENT, Role.ADMIN))]
AgentKey = Annotated[Principal, Depends(require(Role.AGENT, Role.ADMIN))]
AdminKey = Annotated[Principal, Depends(require(Role.ADMIN))]
