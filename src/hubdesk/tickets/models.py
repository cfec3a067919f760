"""The ticket module's tables (`tticket_*`): tickets, tags, participants, comments,
attachments, the per-day number counters, and the email log of the spec."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hubdesk.db import ids
from hubdesk.db.base import Base
from hubdesk.db.types import utcnow
from hubdesk.tickets.states import PRIORITIES, PRIORITY_RANK_SQL, SOURCES, STATUSES


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Ticket(Base):
    __tablename__ = "tticket_tickets"
    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("priority", PRIORITIES), name="priority"),
        CheckConstraint(_in("source", SOURCES), name="source"),
        # Counts by status and priority that stop at a bound (the dashboard's per priority,
        # db/paging.py) read only this index: the merged and deleted marks are in it
        # (0017_list_scale; it replaces the (status, priority) index of 0001).
        Index(
            "ix_tticket_tickets_status_priority_live",
            "status",
            "priority",
            "merged_into_id",
            "deleted_at",
        ),
        # Lists sorted by the newest change or creation, ties by id (0015_scale).
        Index("ix_tticket_tickets_updated_id", "updated_at", "id"),
        Index("ix_tticket_tickets_created_id", "created_at", "id"),
        Index("ix_tticket_tickets_status_updated", "status", "updated_at", "id"),
        # Unassigned tickets, the most urgent first, the oldest first within a level (the
        # dashboard's box, `-priority,created_at`): read in order, stopped after a page
        # (0017_list_scale).
        Index(
            "ix_tticket_tickets_unassigned_rank",
            text("priority_rank DESC"),
            "created_at",
            "id",
            sqlite_where=text("assigned_to_user_id IS NULL"),
            postgresql_where=text("assigned_to_user_id IS NULL"),
        ),
        # One agent's tickets by the newest change (the dashboard's "My open tickets"): without
        # it the planners walk every ticket by `updated_at` looking for the agent's few.
        Index("ix_tticket_tickets_assignee_updated", "assigned_to_user_id", "updated_at", "id"),
        # The tickets merged into one (its page lists them); few tickets are merged.
        Index(
            "ix_tticket_tickets_merged_into",
            "merged_into_id",
            sqlite_where=text("merged_into_id IS NOT NULL"),
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
        # The reports' period scans read only these columns (covering indexes, 0009_reports;
        # the team and the per-ticket report facts added by 0016_report_rollups).
        Index(
            "ix_tticket_tickets_report_created",
            "created_at",
            "deleted_at",
            "merged_into_id",
            "customer_id",
            "priority",
            "assigned_to_user_id",
            "first_response_at",
            "resolved_at",
            "team_id",
            "report_stamp",
            "report_created_at",
            "report_first_at",
            "report_resolved_at",
            "report_first_s",
            "report_resolution_s",
        ),
        Index(
            "ix_tticket_tickets_report_resolved",
            "resolved_at",
            "deleted_at",
            "merged_into_id",
            "customer_id",
            "priority",
            "assigned_to_user_id",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_number: Mapped[str] = mapped_column(String(32), unique=True)
    subject: Mapped[str] = mapped_column(String(1000))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32), default="open")
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    priority_rank: Mapped[int] = mapped_column(Integer, Computed(PRIORITY_RANK_SQL, persisted=True))
    """`PRIORITY_RANK[priority]`, computed by the database on every write, so lists sort by
    priority through an index (0017_list_scale makes it a virtual column on SQLite, where
    ALTER TABLE cannot add a stored one; the index stores its values either way)."""
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    assigned_to_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )  # looked up by `ix_tticket_tickets_assignee_updated`, which it leads
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(String(16), default="api")
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)  # `..._created_id` leads
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="SET NULL")
    )
    deleted_at: Mapped[datetime | None]
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("groups.id", ondelete="SET NULL"), index=True
    )
    """The team (a user group) whose queues show the ticket (docs/teams.md); None: everyone's."""
    # The reports' per-ticket facts and the inputs they were computed from (written by the
    # SLA hooks without bumping `version`: sla/report_facts.py; the reports use them only
    # while the inputs still hold).
    report_created_at: Mapped[datetime | None]
    report_first_at: Mapped[datetime | None]
    report_resolved_at: Mapped[datetime | None]
    report_stamp: Mapped[str | None] = mapped_column(String(64))
    report_first_s: Mapped[int | None] = mapped_column(BigInteger)
    report_resolution_s: Mapped[int | None] = mapped_column(BigInteger)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    """Bumped by every UPDATE of the row (optimistic concurrency: `version_id_col`)."""

    __mapper_args__ = {"version_id_col": version, "eager_defaults": False}  # noqa: RUF012

    tag_rows: Mapped[list[TicketTag]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        order_by="TicketTag.position",
    )

    link_rows: Mapped[list[TicketLink]] = relationship(
        lazy="selectin",
        cascade="all, delete-orphan",
        foreign_keys="TicketLink.ticket_id",
        order_by="TicketLink.linked_ticket_id",
    )

    @property
    def tags(self) -> list[str]:
        return [row.tag for row in self.tag_rows]


class TicketLink(Base):
    """Two tickets that belong together, stored once from each side: the tickets one email to
    several teams' mailboxes made (`same_email`, with that email's ledger row), or a ticket and
    the one messages were split off into (`split`)."""

    __tablename__ = "tticket_ticket_links"
    __table_args__ = (CheckConstraint(_in("kind", ("same_email", "split")), name="kind"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="CASCADE"), primary_key=True
    )
    linked_ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    linked_ticket: Mapped[Ticket] = ids.parent("Ticket", foreign_keys="TicketLink.linked_ticket_id")
    linked_ticket_number: Mapped[str] = mapped_column(String(32))
    """Ticket numbers never change; kept here so that showing a link reads no other ticket."""
    kind: Mapped[str] = mapped_column(String(16))
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketTag(Base):
    __tablename__ = "tticket_ticket_tags"

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class TicketParticipant(Base):
    """An address that takes part in a ticket: its contact, senders of replies, CC'd people."""

    __tablename__ = "tticket_participants"
    __table_args__ = (CheckConstraint(_in("role", ("contact", "sender", "cc")), name="role"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="CASCADE"), primary_key=True
    )
    ticket: Mapped[Ticket] = ids.parent("Ticket")
    email: Mapped[str] = mapped_column(String(320), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default="cc")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketNumberCounter(Base):
    """The per-day sequence behind `TKT-YYYYMMDD-NNN`, advanced atomically by an upsert."""

    __tablename__ = "tticket_number_counters"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


class Comment(Base):
    __tablename__ = "tticket_comments"
    __table_args__ = (CheckConstraint(_in("source", (*SOURCES, "system")), name="source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author_contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(16), default="api")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    email_log_id: Mapped[int | None] = mapped_column(
        ForeignKey("tticket_email_log.id", ondelete="SET NULL")
    )
    ticket: Mapped[Ticket] = ids.parent("Ticket")
    email_log: Mapped[EmailLog | None] = ids.parent("EmailLog")


class Attachment(Base):
    """Metadata of a stored file; the bytes live in the content-addressed blob store, or for a
    small attachment of received mail in the row itself (`data_inline`)."""

    __tablename__ = "tticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tticket_tickets.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("tticket_comments.id", ondelete="SET NULL")
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    content_id: Mapped[str | None] = mapped_column(String(500))
    uploaded_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    email_log_id: Mapped[int | None] = mapped_column(
        ForeignKey("tticket_email_log.id", ondelete="SET NULL"), index=True
    )
    data_inline: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    """The file itself, for a small attachment of received mail (`HUBDESK_INLINE_MAX_BYTES`);
    NULL: it is in the blob store under `sha256`. Loaded only when read
    (`tickets.attachments.stored_bytes`)."""


class EmailLog(Base):
    """The spec's `tticket_email_log`: one row for every email that lands on a ticket."""

    __tablename__ = "tticket_email_log"
    __table_args__ = (
        CheckConstraint(_in("direction", ("inbound", "outbound")), name="direction"),
        Index("ix_tticket_email_log_ticket_created", "ticket_id", "created_at"),
        # One email lands on a ticket once (one email to several teams: once on each ticket).
        Index("uq_tticket_email_log_inbound_ticket", "inbound_id", "ticket_id", unique=True),
        # The newest mail first (dashboard): walked backwards, stops after a page (0015_scale).
        Index("ix_tticket_email_log_direction_created", "direction", "created_at", "id"),
        # The tickets a sender opened since a moment (the new-ticket throttle; 0021, 0022).
        Index(
            "ix_tticket_email_log_sender_opened",
            "email_from",
            "direction",
            "is_reply",
            "created_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tticket_tickets.id"))
    ticket: Mapped[Ticket] = ids.parent("Ticket")
    email_message_id: Mapped[str] = mapped_column(Text, index=True)
    email_subject: Mapped[str | None] = mapped_column(Text)
    email_from: Mapped[str] = mapped_column(Text)
    email_received_at: Mapped[datetime | None]
    is_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    thread_data: Mapped[dict[str, Any] | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    decision: Mapped[str] = mapped_column(String(64), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    # Added by the pipeline (migration 0002): the ledger row, who else it went to, the bodies
    # (full text, the visible new text, sanitised HTML) and facts such as from_problem.
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_messages.id", ondelete="SET NULL")
    )  # looked up by `uq_tticket_email_log_inbound_ticket`, which it leads
    email_to: Mapped[list[str]] = mapped_column(default=list)
    email_cc: Mapped[list[str]] = mapped_column(default=list)
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_visible: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    flags: Mapped[dict[str, Any]] = mapped_column(default=dict)


ids.register(Ticket, Comment, EmailLog)
