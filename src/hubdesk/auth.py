"""Who is calling and what they may do: the permission codes and the `Principal` (a small
low-level module: audit and every domain read it; it imports nothing but `errors`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from hubdesk.errors import PermissionDenied

TICKETS_VIEW: Final = "tickets.view"
TICKETS_CREATE: Final = "tickets.create"
TICKETS_EDIT: Final = "tickets.edit"
TICKETS_DELETE: Final = "tickets.delete"
TICKETS_ASSIGN: Final = "tickets.assign"
COMMENTS_CREATE: Final = "comments.create"
WORKLOGS_CREATE: Final = "worklogs.create"
PREPAID_VIEW: Final = "prepaid.view"
PREPAID_MANAGE: Final = "prepaid.manage"
CUSTOMERS_MANAGE: Final = "customers.manage"
WORKFLOWS_MANAGE: Final = "workflows.manage"
USERS_MANAGE: Final = "users.manage"
INBOUND_VIEW: Final = "inbound.view"
INBOUND_REPROCESS: Final = "inbound.reprocess"
EMAILS_INJECT: Final = "emails.inject"
EMAILS_CLASSIFY: Final = "emails.classify"
MAILBOXES_MANAGE: Final = "mailboxes.manage"
REPLIES_SEND: Final = "replies.send"
SLA_MANAGE: Final = "sla.manage"
VIEWS_SHARE: Final = "views.share"
PRIORITY_MANAGE: Final = "priority.manage"
REPORTS_VIEW: Final = "reports.view"
CANNED_MANAGE: Final = "canned.manage"
TICKETS_ALL_TEAMS: Final = "tickets.all_teams"

ALL_PERMISSIONS: Final = (
    TICKETS_VIEW,
    TICKETS_CREATE,
    TICKETS_EDIT,
    TICKETS_DELETE,
    TICKETS_ASSIGN,
    COMMENTS_CREATE,
    WORKLOGS_CREATE,
    PREPAID_VIEW,
    PREPAID_MANAGE,
    CUSTOMERS_MANAGE,
    WORKFLOWS_MANAGE,
    USERS_MANAGE,
    INBOUND_VIEW,
    INBOUND_REPROCESS,
    EMAILS_INJECT,
    EMAILS_CLASSIFY,
    MAILBOXES_MANAGE,
    REPLIES_SEND,
    SLA_MANAGE,
    VIEWS_SHARE,
    PRIORITY_MANAGE,
    REPORTS_VIEW,
    CANNED_MANAGE,
    TICKETS_ALL_TEAMS,
)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user and the union of their groups' permissions."""

    user_id: int | None
    email: str
    permissions: frozenset[str]

    @property
    def actor(self) -> str:
        return f"user:{self.email}" if self.user_id is not None else self.email

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        if permission not in self.permissions:
            raise PermissionDenied(permission)


SYSTEM: Final = Principal(user_id=None, email="system", permissions=frozenset(ALL_PERMISSIONS))
"""The pipeline and CLI maintenance commands act as the system, with every permission."""
