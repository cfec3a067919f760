"""FastAPI dependencies: the runtime, the request's transaction, and the caller.

The transaction dependency has `scope="function"`: it commits when the route function
returns and before the response is sent, so a client never sees 2xx for work that failed to
commit. Authentication runs in its own short transaction (it may record a token's last use).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hubdesk.runtime import Runtime
from hubdesk.users import service as users
from hubdesk.users.permissions import Principal
from hubdesk.web.problems import Unauthenticated


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(request: Request, runtime: RuntimeDep) -> Iterator[Session]:
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    with runtime.db.transaction(write=write) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    """The caller, from a bearer token (or the UI's session, once set by its middleware)."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    token = bearer_token(request)
    if token is None:
        raise Unauthenticated("authentication required: send 'Authorization: Bearer <token>'")
    with runtime.db.transaction(write=True) as session:
        user = users.authenticate_token(session, token)
        if user is None:
            raise Unauthenticated("the token is invalid, expired or revoked")
        principal = users.principal_for(user)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]
