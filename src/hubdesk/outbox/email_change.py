"""Changing one's own e-mail address, confirmed from the new address.

`request_change` checks the current password and that the new address is free, then mails
the new address (through the outbox) a link with a signed token: the user's id, the address
it replaces, the new address and an expiry, under an HMAC of the secret key. Nothing changes
until the link is followed by the same user (`confirm_change`): the address changes only if
it is still the one the token replaces (so a link works once, and an older link dies with
any later change) and the new one is still free.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from hubdesk.errors import Conflict, ValidationFailed
from hubdesk.outbox import service as outbox
from hubdesk.outbox.models import OutboxMessage
from hubdesk.runtime import Runtime
from hubdesk.users import service as users
from hubdesk.users.models import User
from hubdesk.users.permissions import Principal
from hubdesk.users.secrets import verify_password

VALID_FOR: Final = timedelta(hours=24)
_PURPOSE: Final = b"email-change:"


def make_token(secret_key: str, user: User, new_email: str, now: datetime) -> str:
    payload = json.dumps(
        {
            "u": user.id,
            "old": user.email,
            "new": new_email,
            "exp": int((now + VALID_FOR).timestamp()),
        },
        separators=(",", ":"),
    ).encode()
    data = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return data + "." + _sign(secret_key, payload)


def read_token(secret_key: str, token: str, now: datetime) -> tuple[int, str, str]:
    """(user id, old address, new address) of a genuine, unexpired token."""
    data, _sep, mac = token.strip().rpartition(".")
    try:
        payload = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        genuine = bool(data) and hmac.compare_digest(_sign(secret_key, payload), mac)
        fields = json.loads(payload) if genuine else None
    except (ValueError, UnicodeError):
        fields = None
    if not isinstance(fields, dict):
        raise ValidationFailed("the confirmation link is damaged; ask for a new one")
    if int(fields["exp"]) < now.timestamp():
        raise ValidationFailed("the confirmation link has expired; ask for a new one")
    return int(fields["u"]), str(fields["old"]), str(fields["new"])


def _sign(secret_key: str, payload: bytes) -> str:
    return hmac.new(secret_key.encode(), _PURPOSE + payload, hashlib.sha256).hexdigest()


def request_change(
    session: Session,
    runtime: Runtime,
    actor: Principal,
    user: User,
    *,
    new_email: str,
    current_password: str,
    link_base: str,
    now: datetime,
) -> OutboxMessage:
    """Mail the confirmation link for `new_email` to that address; changes nothing yet."""
    if actor.user_id != user.id:
        raise ValidationFailed("only the user may change their own address this way")
    if user.password_hash is not None and not verify_password(user.password_hash, current_password):
        raise ValidationFailed.saying("current_password is not your current password")
    email = users.normalize_email(new_email)
    if email == user.email:
        raise ValidationFailed(f"{email} is your address already")
    if users.find_user_by_email(session, email) is not None:
        raise Conflict(f"a user with e-mail {email} already exists")
    token = make_token(runtime.secret_key, user, email, now)
    link = f"{link_base}/account/email/confirm?token={token}"
    text = MAIL.get(user.language, MAIL["en"])
    return outbox.enqueue(
        session,
        runtime.settings,
        runtime.secret_key,
        actor,
        kind="notice",
        to=[email],
        subject=text["subject"],
        body=text["body"].format(name=user.name, old=user.email, new=email, link=link),
        auto_submitted="auto-generated",
        in_thread=False,
        now=now,
    )


def confirm_change(
    session: Session, actor: Principal, user: User, token: str, *, secret_key: str, now: datetime
) -> User:
    user_id, old, new = read_token(secret_key, token, now)
    if user_id != user.id:
        raise ValidationFailed("this confirmation link is for another user; sign in as them")
    if user.email != old:
        raise ValidationFailed("this confirmation link was used already or is out of date")
    return users.change_email(session, actor, user, new)


MAIL: Final = {
    "en": {
        "subject": "Confirm your new hubdesk e-mail address",
        "body": (
            "Hello {name},\n\nyou asked to change your hubdesk address from {old} to {new}.\n"
            "Open this link within 24 hours to confirm it:\n\n{link}\n\n"
            "If it was not you, ignore this mail: nothing changes.\n"
        ),
    },
    "da": {
        "subject": "Bekræft din nye e-mailadresse i hubdesk",
        "body": (
            "Hej {name}\n\ndu har bedt om at ændre din adresse i hubdesk fra {old} til {new}.\n"
            "Åbn dette link inden for 24 timer for at bekræfte:\n\n{link}\n\n"
            "Hvis det ikke var dig, så se bort fra denne mail: intet ændres.\n"
        ),
    },
}
"""The confirmation mail in each user language (English is the fallback)."""
