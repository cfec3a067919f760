"""Mailboxes: creating, changing and removing them (audited), and the lookups channels need.

Every configuration write records an audit row in the caller's transaction. A mailbox's IMAP
account is an `imaps://user@host[:port]/FOLDER` (implicit TLS, RFC 8314) or `imap://...`
(STARTTLS) URL without a password; the password is named by `password_env` and looked up by
`mailboxes.secrets` when connecting. Changing the URL resets the IMAP checkpoint: UIDs of
another account or folder mean nothing here.

A new IMAP account takes only the mail delivered after it is added (`import_from`, set to
now); the mail already in the folder is imported only when asked (`import_existing`), as a
deliberate choice: a folder with years of mail would otherwise flood the queue.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hubdesk.audit import service as audit
from hubdesk.db.paging import Page, paginate
from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, NotFound, ValidationFailed
from hubdesk.mailboxes import secrets
from hubdesk.mailboxes.models import Mailbox, MailboxAddress
from hubdesk.users import teams
from hubdesk.users.models import Group
from hubdesk.users.permissions import MAILBOXES_MANAGE, Principal
from hubdesk.users.service import normalize_email

_NAME: Final = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
_FOLDER_MAX: Final = 200
PROCESSED_ACTIONS: Final = ("seen", "move", "delete")
OVERSIZED_ACTIONS: Final = ("leave", "move")


@dataclass(frozen=True)
class ImapTarget:
    """Where a mailbox's IMAP folder is: host, port, login, folder, and the kind of TLS."""

    host: str
    port: int
    user: str
    folder: str
    implicit_tls: bool

    def message_url(self, uidvalidity: int, uid: int) -> str:
        """The message's IMAP URL (RFC 5092): its identity on the server, used as the ledger
        row's `source`, so a crash between commit and acknowledgement is recognised."""
        scheme = "imaps" if self.implicit_tls else "imap"
        user = quote(self.user, safe="")
        folder = quote(self.folder, safe="/")
        return f"{scheme}://{user}@{self.host}:{self.port}/{folder};UIDVALIDITY={uidvalidity}/;UID={uid}"


def parse_imap_url(url: str) -> ImapTarget:
    """An `imaps://user@host[:port]/FOLDER` or `imap://...` URL; `ValidationFailed` otherwise."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # e.g. "Invalid IPv6 URL" for an unclosed `[`
        raise ValidationFailed(f"imap_url is not a valid URL: {exc}") from None
    if parts.scheme not in ("imap", "imaps"):
        raise ValidationFailed(
            "imap_url must start with imaps:// (implicit TLS) or imap:// (STARTTLS)"
        )
    if parts.password is not None:
        raise ValidationFailed(
            "imap_url must not contain a password; name the variable that holds it in password_env"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValidationFailed("imap_url has an invalid port") from None
    if not parts.hostname or not parts.username:
        raise ValidationFailed("imap_url needs a user and a host: imaps://user@host/INBOX")
    if parts.query or parts.fragment:
        raise ValidationFailed("imap_url takes no query or fragment")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    if len(folder) > _FOLDER_MAX or any(c in folder for c in "\r\n\x00"):
        raise ValidationFailed("the folder in imap_url is not a usable IMAP folder name")
    implicit = parts.scheme == "imaps"
    return ImapTarget(
        host=parts.hostname,
        port=port or (993 if implicit else 143),
        user=unquote(parts.username),
        folder=folder,
        implicit_tls=implicit,
    )


def check_name(name: str) -> str:
    cleaned = name.strip()
    if not _NAME.match(cleaned):
        raise ValidationFailed(
            f"{name!r} is not a usable mailbox name; use letters, digits, '.', '_' and '-'"
        )
    return cleaned


def normalize_address(value: str) -> str:
    return normalize_email(value)


def base_address(address: str) -> str:
    """`support+tag@x` -> `support@x`: sub-addresses (RFC 5233) reach the base mailbox."""
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local.split('+', 1)[0]}@{domain}"


def get_mailbox(session: Session, principal: Principal, mailbox_id: int) -> Mailbox:
    principal.require(MAILBOXES_MANAGE)
    mailbox = session.get(Mailbox, mailbox_id)
    if mailbox is None:
        raise NotFound(f"mailbox {mailbox_id} not found")
    return mailbox


def find_by_name(session: Session, name: str) -> Mailbox | None:
    return session.scalar(select(Mailbox).where(Mailbox.name == name))


def list_mailboxes(session: Session, principal: Principal, *, limit: int, offset: int) -> Page[Any]:
    principal.require(MAILBOXES_MANAGE)
    statement = select(Mailbox).order_by(Mailbox.name, Mailbox.id)
    return paginate(session, statement, limit=limit, offset=offset)


def create_mailbox(
    session: Session,
    actor: Principal,
    *,
    name: str,
    addresses: Sequence[str],
    imap_url: str | None = None,
    password_env: str | None = None,
    enabled: bool = True,
    processed_action: str = "seen",
    processed_folder: str | None = None,
    oversized_action: str = "leave",
    oversized_folder: str | None = None,
    import_existing: bool = False,
    team_id: int | None = None,
) -> Mailbox:
    """Add a mailbox. With an IMAP account, only mail delivered from now on is imported,
    unless `import_existing` asks for what the folder holds already too."""
    actor.require(MAILBOXES_MANAGE)
    cleaned = check_name(name)
    if find_by_name(session, cleaned) is not None:
        raise Conflict(f"a mailbox named {cleaned!r} exists already")
    teams.check_team(session, team_id)
    mailbox = Mailbox(
        name=cleaned,
        enabled=enabled,
        state="unknown" if enabled else "disabled",
        team_id=team_id,
    )
    mailbox.import_from = None if import_existing else utcnow()
    _apply_settings(
        mailbox,
        {
            "imap_url": imap_url,
            "password_env": password_env,
            "processed_action": processed_action,
            "processed_folder": processed_folder,
            "oversized_action": oversized_action,
            "oversized_folder": oversized_folder,
        },
    )
    session.add(mailbox)
    session.flush()
    _set_addresses(session, mailbox, addresses)
    audit.record(
        session,
        actor,
        entity_type="mailbox",
        entity_id=mailbox.id,
        action="created",
        changes=audit.created(_snapshot(mailbox)),
    )
    return mailbox


def update_mailbox(
    session: Session, actor: Principal, mailbox: Mailbox, changes: dict[str, Any]
) -> Mailbox:
    """Apply the given fields (absent keys are left alone); audit what changed."""
    actor.require(MAILBOXES_MANAGE)
    before = _snapshot(mailbox)
    if "name" in changes:
        cleaned = check_name(changes["name"] or "")
        other = find_by_name(session, cleaned)
        if other is not None and other.id != mailbox.id:
            raise Conflict(f"a mailbox named {cleaned!r} exists already")
        mailbox.name = cleaned
    if changes.get("imap_url", mailbox.imap_url) is None and "password_env" not in changes:
        changes = {**changes, "password_env": None}
    _apply_settings(mailbox, {k: v for k, v in changes.items() if k in _SETTING_KEYS})
    if "enabled" in changes and changes["enabled"] is not None:
        mailbox.enabled = bool(changes["enabled"])
    if "addresses" in changes:
        _set_addresses(session, mailbox, changes["addresses"] or [])
    if "team_id" in changes:
        teams.check_team(session, changes["team_id"])
        mailbox.team_id = changes["team_id"]
    url_changed = mailbox.imap_url != before["imap_url"]
    if url_changed or mailbox.uidvalidity is None:
        # Only before the first poll of an account is there a backlog to decide about.
        wanted = changes.get("import_existing")
        if wanted is not None:
            mailbox.import_from = None if wanted else (mailbox.import_from or utcnow())
        elif url_changed:
            mailbox.import_from = utcnow()
    elif changes.get("import_existing") not in (None, mailbox.import_from is None):
        raise ValidationFailed(
            "import_existing only applies before the first poll of an IMAP account; this "
            "mailbox has been polled already"
        )
    after = _snapshot(mailbox)
    diff = audit.changes_between(before, after)
    if diff.keys() & {"imap_url"}:
        # Another account or folder: its UIDs are not ours (RFC 3501 2.3.1.1).
        mailbox.uidvalidity, mailbox.last_uid = None, 0
        mailbox.last_error, mailbox.last_error_at = None, None
    if diff.keys() & {"imap_url", "password_env", "enabled"}:
        mailbox.state = "unknown" if mailbox.enabled else "disabled"
    if diff:
        mailbox.updated_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor,
            entity_type="mailbox",
            entity_id=mailbox.id,
            action="updated",
            changes=diff,
        )
    return mailbox


def delete_mailbox(session: Session, actor: Principal, mailbox: Mailbox) -> None:
    """Remove the mailbox; ledger rows keep their bytes and lose the link (SET NULL)."""
    actor.require(MAILBOXES_MANAGE)
    snapshot = _snapshot(mailbox)
    audit.record(
        session,
        actor,
        entity_type="mailbox",
        entity_id=mailbox.id,
        action="deleted",
        changes={key: [audit.jsonable(value), None] for key, value in snapshot.items()},
    )
    session.delete(mailbox)
    session.flush()


def mailbox_for_address(session: Session, address: str) -> Mailbox | None:
    """The mailbox that receives for `address`, exactly or as a `+tag` sub-address of it."""
    wanted = address.strip().lower()
    for candidate in dict.fromkeys((wanted, base_address(wanted))):
        row = session.get(MailboxAddress, candidate)
        if row is not None:
            return session.get(Mailbox, row.mailbox_id)
    return None


def address_teams(session: Session) -> dict[str, tuple[int, str]]:
    """Every mailbox address whose mailbox has a team: address -> (team id, team name)."""
    rows = session.execute(
        select(MailboxAddress.address, Group.id, Group.name)
        .join(Mailbox, Mailbox.id == MailboxAddress.mailbox_id)
        .join(Group, Group.id == Mailbox.team_id)
    )
    return {address: (team_id, name) for address, team_id, name in rows}


def has_addresses(session: Session) -> bool:
    """Whether any mailbox address is configured (without one, any @MAIL_DOMAIN is ours)."""
    return bool(session.scalar(select(func.count()).select_from(MailboxAddress)))


def pollable_ids(session: Session) -> list[int]:
    """Enabled mailboxes with an IMAP account, in id order."""
    return list(
        session.scalars(
            select(Mailbox.id)
            .where(Mailbox.enabled.is_(True), Mailbox.imap_url.is_not(None))
            .order_by(Mailbox.id)
        )
    )


_SETTING_KEYS: Final = frozenset(
    {
        "imap_url",
        "password_env",
        "processed_action",
        "processed_folder",
        "oversized_action",
        "oversized_folder",
    }
)


def _apply_settings(mailbox: Mailbox, values: dict[str, Any]) -> None:
    """Set the IMAP fields from `values` (only the keys given), then check them together."""
    for key, value in values.items():
        if key == "imap_url" and value is not None:
            parse_imap_url(value)
            value = value.strip()
        elif key == "password_env" and value is not None:
            value = secrets.check_name(value)
        elif key in ("processed_folder", "oversized_folder") and value is not None:
            value = _folder(key, value)
        elif key == "processed_action" and value not in PROCESSED_ACTIONS:
            raise ValidationFailed(
                f"processed_action must be one of {', '.join(PROCESSED_ACTIONS)}"
            )
        elif key == "oversized_action" and value not in OVERSIZED_ACTIONS:
            raise ValidationFailed(
                f"oversized_action must be one of {', '.join(OVERSIZED_ACTIONS)}"
            )
        setattr(mailbox, key, value)
    if mailbox.imap_url is not None and mailbox.password_env is None:
        raise ValidationFailed(
            "an IMAP mailbox needs password_env: the name of the environment variable (or "
            "HUBDESK_SECRETS_FILE entry) that holds its password"
        )
    if mailbox.imap_url is None and mailbox.password_env is not None:
        raise ValidationFailed("password_env is only used with imap_url")
    if mailbox.processed_action == "move" and not mailbox.processed_folder:
        raise ValidationFailed("processed_action 'move' needs processed_folder")
    if mailbox.oversized_action == "move" and not mailbox.oversized_folder:
        raise ValidationFailed("oversized_action 'move' needs oversized_folder")


def _folder(key: str, value: str) -> str:
    cleaned = value.strip()
    if not cleaned or len(cleaned) > _FOLDER_MAX or any(c in value for c in "\r\n\x00"):
        raise ValidationFailed(f"{key} is not a usable IMAP folder name")
    return cleaned


def _set_addresses(session: Session, mailbox: Mailbox, raw: Sequence[str]) -> None:
    wanted = sorted({normalize_address(value) for value in raw})
    if not wanted:
        raise ValidationFailed("a mailbox needs at least one address it receives for")
    for address in wanted:
        owner = session.get(MailboxAddress, address)
        if owner is not None and owner.mailbox_id != mailbox.id:
            other = session.get(Mailbox, owner.mailbox_id)
            raise Conflict(
                f"{address} is received by mailbox {other.name if other else owner.mailbox_id}"
            )
    current = {row.address: row for row in mailbox.address_rows}
    for address, row in current.items():
        if address not in wanted:
            mailbox.address_rows.remove(row)
    session.flush()
    for address in wanted:
        if address not in current:
            mailbox.address_rows.append(MailboxAddress(address=address, mailbox_id=mailbox.id))
    session.flush()
    mailbox.address_rows.sort(key=lambda row: row.address)


def _snapshot(mailbox: Mailbox) -> dict[str, Any]:
    """The configuration an admin sets (not the poller's state), as the audit shows it."""
    return {
        "name": mailbox.name,
        "enabled": mailbox.enabled,
        "addresses": list(mailbox.addresses),
        "imap_url": mailbox.imap_url,
        "password_env": mailbox.password_env,
        "processed_action": mailbox.processed_action,
        "processed_folder": mailbox.processed_folder,
        "oversized_action": mailbox.oversized_action,
        "oversized_folder": mailbox.oversized_folder,
        "import_existing": mailbox.import_from is None,
        "team_id": mailbox.team_id,
    }
