"""`/api/v1/users/{id}/login-lock`: see and lift a user's failed-login lock (`users.manage`).

The rules are in `hubdesk.users.login_locks`. `GET` answers the lock as it is now; `DELETE`
lifts it (audited as `login_unlocked` on the user) and answers 204.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Response

from hubdesk.access.deps import PrincipalDep, SessionDep
from hubdesk.api.limits import Id
from hubdesk.api.schemas import Out
from hubdesk.db.types import utcnow
from hubdesk.users import login_locks
from hubdesk.users import service as users
from hubdesk.users.permissions import USERS_MANAGE

router = APIRouter(tags=["users"])


class LoginLockOut(Out):
    locked: bool
    locked_until: datetime | None
    addresses: list[str]
    """Client addresses the account is locked from."""
    slowed_down: bool
    """Too many failures from everywhere: unknown addresses may try once a minute."""
    failures: int
    """Failed sign-ins counted in the current window."""


@router.get("/users/{user_id}/login-lock", response_model=LoginLockOut)
def get_login_lock(user_id: Id, session: SessionDep, principal: PrincipalDep) -> LoginLockOut:
    principal.require(USERS_MANAGE)
    user = users.get_user(session, user_id)
    return _out(login_locks.lock_status(session, user.email, utcnow()))


@router.delete("/users/{user_id}/login-lock", status_code=204)
def delete_login_lock(user_id: Id, session: SessionDep, principal: PrincipalDep) -> Response:
    principal.require(USERS_MANAGE)
    user = users.get_user(session, user_id)
    login_locks.unlock(session, principal, user, now=utcnow())
    return Response(status_code=204)


def _out(status: login_locks.LockStatus) -> LoginLockOut:
    return LoginLockOut(
        locked=status.locked,
        locked_until=status.locked_until,
        addresses=list(status.addresses),
        slowed_down=status.slowed_down,
        failures=status.failures,
    )
