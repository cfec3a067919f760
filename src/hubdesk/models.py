"""Every model of every domain, imported so that `Base.metadata` is complete (Alembic, tests,
reflection). It sits above the domains (it imports them all); nothing in a domain imports it.
`configure` readies them all as a process starts."""

from sqlalchemy.orm import configure_mappers

from hubdesk.audit.models import AuditEntry
from hubdesk.automation.models import AssignmentCursor, AutomationEvent, TicketSnooze
from hubdesk.canned.models import CannedResponse
from hubdesk.classifier.models import Classification, ClassifierModel
from hubdesk.customers.models import Contact, Customer, CustomerDomain
from hubdesk.db.base import Base
from hubdesk.inbound.models import DedupeKey, InboundMessage, QuarantineDismissal
from hubdesk.mailboxes.models import Mailbox, MailboxAddress
from hubdesk.outbox.models import AddressFlag, MailTemplate, OutboxAttempt, OutboxMessage
from hubdesk.prepaid.models import PrepaidCard, PrepaidDrawdown
from hubdesk.priority.models import PriorityKeyword, PriorityKeywordState
from hubdesk.savedviews.models import SavedView
from hubdesk.sla.models import SlaClock, SlaEscalation, SlaPolicy, SlaPolicyCustomer
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
from hubdesk.users.session_models import FormPost, LoginAttempt, LoginLockReset, UserSession
from hubdesk.workflows.models import Workflow, WorkflowExecution
from hubdesk.worklogs.models import Worklog

__all__ = [
    "AddressFlag",
    "ApiToken",
    "AssignmentCursor",
    "Attachment",
    "AuditEntry",
    "AutomationEvent",
    "Base",
    "CannedResponse",
    "Classification",
    "ClassifierModel",
    "Comment",
    "Contact",
    "Customer",
    "CustomerDomain",
    "DedupeKey",
    "EmailLog",
    "FormPost",
    "Group",
    "GroupPermission",
    "InboundMessage",
    "LoginAttempt",
    "LoginLockReset",
    "MailTemplate",
    "Mailbox",
    "MailboxAddress",
    "OutboxAttempt",
    "OutboxMessage",
    "Permission",
    "PrepaidCard",
    "PrepaidDrawdown",
    "PriorityKeyword",
    "PriorityKeywordState",
    "QuarantineDismissal",
    "SavedView",
    "SlaClock",
    "SlaEscalation",
    "SlaPolicy",
    "SlaPolicyCustomer",
    "Ticket",
    "TicketNumberCounter",
    "TicketParticipant",
    "TicketSnooze",
    "TicketTag",
    "User",
    "UserGroup",
    "UserSession",
    "Workflow",
    "WorkflowExecution",
    "Worklog",
]


def configure() -> None:
    """Resolve every model's columns and relationships now (SQLAlchemy's `configure_mappers`,
    about 50 ms), as the web application starts (`create_app`), rather than inside its first
    request."""
    configure_mappers()
