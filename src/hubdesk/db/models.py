"""Imports every model so that `Base.metadata` is complete (Alembic, tests, reflection)."""

from hubdesk.audit.models import AuditEntry
from hubdesk.customers.models import Contact, Customer, CustomerDomain
from hubdesk.db.base import Base
from hubdesk.prepaid.models import PrepaidCard, PrepaidDrawdown
from hubdesk.tickets.models import (
    Attachment,
    Comment,
    EmailLog,
    Ticket,
    TicketNumberCounter,
    TicketParticipant,
    TicketTag,
)
from hubdesk.users.models import ApiToken, Group, GroupPermission, Permission, User, UserGroup
from hubdesk.worklogs.models import Worklog

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditEntry",
    "Base",
    "Comment",
    "Contact",
    "Customer",
    "CustomerDomain",
    "EmailLog",
    "Group",
    "GroupPermission",
    "Permission",
    "PrepaidCard",
    "PrepaidDrawdown",
    "Ticket",
    "TicketNumberCounter",
    "TicketParticipant",
    "TicketTag",
    "User",
    "UserGroup",
    "Worklog",
]
