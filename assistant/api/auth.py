"""Who is calling: an API key (``Authorization: Bearer <key>``) and its role. Customer keys
reach only their own conversations; agent endpoints take agent or admin keys; admin endpoints
take admin keys only. (The console logs in with the same keys, kept in a cookie of its own.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

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


def require(*roles: Role) -> Callable[..., Principal]:
    def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        services: Services = request.app.state.services
        principal = principal_for(services, credentials.credentials if credentials else None)
        if principal.role not in roles:
            allowed = " or ".join(r.value for r in roles)
            raise ForbiddenError(f"this needs an {allowed} key; yours is a {principal.role} key")
        return principal

    return dependency


def check_owner(principal: Principal, conversation: StoredConversation) -> None:
    """A customer key sees only the conversations it opened (others look like they don't exist)."""
    if principal.role == Role.CUSTOMER and conversation.owner != principal.name:
        raise NotFoundError(f"conversation {conversation.id} not found")


AnyKey = Annotated[Principal, Depends(require(Role.CUSTOMER, Role.AGENT, Role.ADMIN))]
AgentKey = Annotated[Principal, Depends(require(Role.AGENT, Role.ADMIN))]
AdminKey = Annotated[Principal, Depends(require(Role.ADMIN))]
