"""FastAPI dependencies: the runtime, the request's transaction, and the caller.

The transaction dependency has `scope="function"`: it commits when the route function
returns and before the response is sent, so a client never sees 2xx for work that failed to
commit. Authentication reads in its own short transaction; a token's last use is written at
most once a minute, in another.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hubdesk.access import sessions
from hubdesk.api.problems import Unauthenticated
from hubdesk.errors import DatabaseUnavailable
from hubdesk.runtime import Runtime
from hubdesk.users import service as users
from hubdesk.users.permissions import Principal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    """The caller, from a bearer token, else from the agent UI's session cookie.

    A cookie alone never authorises a write: unsafe methods must also send the session's
    CSRF token in `X-CSRF-Token`, which another site cannot read.
    """
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    token = bearer_token(request)
    if token is None:
        return _cookie_principal(request, runtime)
    with runtime.db.transaction(write=False) as session:
        found = users.authenticate_token(session, token)
        if found is None:
            raise Unauthenticated("the token is invalid, expired or revoked")
        user, due_token_id = found
        principal = users.principal_for(user)
    if due_token_id is not None:
        with runtime.db.transaction() as session:
            users.record_token_use(session, due_token_id)
    request.state.principal = principal
    return principal


def _cookie_principal(request: Request, runtime: Runtime) -> Principal:
    found = sessions.browser_session(request, runtime)
    if found is None:
        raise Unauthenticated("authentication required: send 'Authorization: Bearer <token>'")
    if request.method not in SAFE_METHODS and not sessions.tokens_match(
        found.csrf_token, request.headers.get(sessions.CSRF_HEADER)
    ):
        raise sessions.CsrfRejected(
            "a request authenticated by the session cookie must send its CSRF token in the "
            "X-CSRF-Token header"
        )
    request.state.principal = found.principal
    return found.principal


def optional_principal(request: Request, runtime: RuntimeDep) -> Principal | None:
    """The caller when the request carries valid credentials, else None: for a public route
    that shows more to those allowed to see it (and answers for itself when the database,
    needed to check the credentials, is down)."""
    try:
        return get_principal(request, runtime)
    except (Unauthenticated, DatabaseUnavailable):
        return None


PrincipalDep = Annotated[Principal, Depends(get_principal)]
