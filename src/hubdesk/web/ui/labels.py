"""Human names for stored codes (statuses, priorities, decisions, audit fields), pure.

The codes come from the domain modules; this module only names them, in English, for the
translator to look up.
"""

from __future__ import annotations

from typing import Final

from hubdesk.automation import reasons as automation_reasons

STATUS: Final = {
    "open": "Open",
    "in_progress": "In progress",
    "waiting_customer": "Waiting for customer",
    "waiting_internal": "Waiting internally",
    "resolved": "Resolved",
    "closed": "Closed",
}
PRIORITY: Final = {"low": "Low", "normal": "Normal", "high": "High", "critical": "Critical"}
SORT: Final = {
    "-updated_at": "Recently updated",
    "-created_at": "Newest",
    "-priority": "Highest priority",
    "-priority,created_at": "Highest priority, oldest first",
    "ticket_number": "Number",
    "subject": "Subject",
    "status": "Status",
    "updated_at": "Least recently updated",
    "created_at": "Oldest",
    "priority": "Lowest priority",
    "-ticket_number": "Number, descending",
    "-subject": "Subject, descending",
    "-status": "Status, descending",
    "sla_due": "SLA due soonest",
}
SLA_STATE: Final = {
    "ok": "On track",
    "warning": "Due soon",
    "breached": "Breached",
    "met": "Met",
    "paused": "Paused",
}
PRIORITY_WHY: Final = {
    "subject": "Keyword “{word}” in the subject",
    "tag": "Keyword “{word}” in a tag",
    "body": "Keyword “{word}” in the mail's text",
}
KEYWORD_SCOPE: Final = {"subject": "Subject and tags", "body": "Mail text"}
SLA_FILTER: Final = {"breached": "Breached", "warning": "Due soon", "paused": "Paused"}
SLA_TARGET: Final = {
    "first_response": "First response due",
    "next_response": "Next response due",
    "resolution": "Resolution due",
}
WEEKDAY: Final = {
    "mon": "Monday",
    "tue": "Tuesday",
    "wed": "Wednesday",
    "thu": "Thursday",
    "fri": "Friday",
    "sat": "Saturday",
    "sun": "Sunday",
}
BILLING: Final = {"none": "Not billed", "invoice": "Invoice", "prepaid": "Prepaid card"}
CARD_STATUS: Final = {
    "active": "Active",
    "depleted": "Depleted",
    "expired": "Expired",
    "cancelled": "Cancelled",
}
NOTIFY_EVENT: Final = {
    "notify_on_assigned": "A ticket is assigned to me",
    "notify_on_customer_reply": "A customer replies on my ticket",
    "notify_on_mention": "Someone mentions me in a note",
    "notify_on_sla": "My ticket nears or breaches its SLA",
}
"""The notification choices of "My account", by their `users` column."""
TOKEN_STATE: Final = {"active": "Active", "expired": "Expired", "revoked": "Revoked"}
INBOUND_STATUS: Final = {
    "received": "Received",
    "processed": "Processed",
    "duplicate": "Duplicate",
    "ignored": "Ignored",
    "quarantined": "Quarantined",
    "failed": "Failed",
}
OUTCOME: Final = {
    "created": "a new ticket",
    "linked": "added to its ticket",
    "duplicate": "a duplicate",
    "ignored": "ignored",
    "quarantined": "quarantined",
    "failed": "failed",
}
DECISION: Final = {
    "message_id": "Reply to a message of this ticket",
    "ticket_in_message_id": "Ticket number in a Message-ID",
    "subject_token": "Ticket number in the subject",
    "new": "New conversation",
    "hint_refused": "Ticket number named, but the sender may not add to it",
}
REASON: Final = {
    "stored": "{header} {id} is a message stored on the ticket",
    "signed": "{header} {id} is one of our signed Message-IDs for {number}",
    "any": "{where} names {number} (TICKET_THREADING_POLICY=any)",
    "participant": "{where} names {number} and the sender {why}",
    "refused": (
        "{where} names {number}, but the sender {sender} takes no part in that ticket; "
        "a new ticket was opened instead"
    ),
    "missing": "it names {numbers}, which does not exist",
    "nothing": "no In-Reply-To, References or subject token matched a ticket",
}
"""Why a mail landed where it did: the threading decision's sentences (`intake.threading`),
recognised by `hubdesk.web.ui.reasons` and shown translated."""
REASON_WHERE: Final = {
    "a Message-ID it refers to": "a Message-ID it refers to",
    "its subject": "its subject",
}
REASON_WHY: Final = {
    "is the ticket's contact": "is the ticket's contact",
    "wrote to the ticket before": "wrote to the ticket before",
    "is an agent": "is an agent",
    "domain": "is of the ticket customer's domain {domain}",
}
FLAG: Final = {
    "from_problem": "The sender's address could not be read",
    "message_id_collision": "Another mail has the same Message-ID",
    "bulk": "Bulk or list mail",
    "message_id_synthetic": "The mail had no Message-ID",
}
LINK_KIND: Final = {
    "same_email": "the same email to another team",
    "split": "split",
}
FIELD: Final = {
    "subject": "Subject",
    "description": "Description",
    "status": "Status",
    "priority": "Priority",
    "customer_id": "Customer",
    "contact_id": "Contact",
    "assigned_to_user_id": "Assignee",
    "team_id": "Team",
    "tags": "Tags",
    "custom_fields": "Custom fields",
    "merged_into_id": "Merged into",
    "merge": "Merge",
    "ticket_number": "Number",
    "deleted_at": "Deleted",
    "filename": "File",
    "target": "SLA target",
    "due_at": "Due",
    "actions": "Escalation",
    "reason": "Reason",
    "snoozed_until": "Snoozed until",
    "split_from": "Split from",
    "split_to": "Split off to",
}
ACTION: Final = {
    "created": "created the ticket",
    "updated": "changed the ticket",
    "merged_into": "merged this ticket into another",
    "merged_from": "merged another ticket into this one",
    "reopened": "reopened the ticket by replying",
    "customer_replied": "replied; the ticket is open again",
    "deleted": "deleted the ticket",
    "attached": "attached a file",
    "sla_warning": "SLA warning: a due time is near",
    "sla_breached": "SLA breached",
    "auto_assigned": "assigned the ticket automatically",
    "auto_closed": "closed the ticket automatically",
    "auto_resolved": "resolved the ticket automatically",
    "pending_reminder": "reminded the customer",
    "snoozed": "snoozed the ticket",
    "unsnoozed": "ended the snooze",
    "snooze_ended": "the snooze ended; the ticket is back",
    "split_off": "split a message off into a new ticket",
    "split_from": "created the ticket from a message split off another",
}

OUTBOX_STATUS: Final = {
    "pending": "Waiting to be sent",
    "sending": "Sending",
    "sent": "Sent",
    "failed": "Failed",
    "bounced": "Bounced",
    "held": "Held",
    "suppressed": "Not sent",
}
OUTBOX_KIND: Final = {
    "auto_reply": "Automatic reply",
    "agent_reply": "Reply",
    "notification": "Notification",
    "notice": "Notice",
}
EXECUTION_STATUS: Final = {
    "pending": "Pending",
    "running": "Running",
    "completed": "Completed",
    "failed": "Failed",
    "skipped": "Skipped",
}
MAILBOX_STATE: Final = {
    "ok": "OK",
    "error": "Error",
    "unknown": "Not checked yet",
    "disabled": "Disabled",
}
PROCESSED_ACTION: Final = {
    "seen": "Mark as read",
    "move": "Move to a folder",
    "delete": "Delete",
}
OVERSIZED_ACTION: Final = {"leave": "Leave in the inbox", "move": "Move to a folder"}
CLASSIFICATION_SOURCE: Final = {"rules": "Rules", "model": "Trained model", "agent": "Agent"}
TRIAGE_KIND: Final = {"triage": "Waiting", "spam": "Spam"}
LANGUAGE: Final = {"da": "Danish", "en": "English"}
REPLY_SENT: Final = {
    "held": (
        "Reply saved, but the mail to {recipients} is held: mail to that address bounced "
        "before. Clear the address under Outgoing mail to send it."
    ),
    "no_smtp": (
        "Reply queued for {recipients}. No mail server is set up (SMTP_HOST), so it waits in "
        "the outbox until one is."
    ),
    "queued": "Reply queued for {recipients}; it is sent in a moment.",
}
"""What the reply composer says about the mail it queued."""

REPLY_REFUSED: Final = {
    "status_changed": (
        "Someone changed the status of this ticket to {status} after you opened it, so your "
        "reply was not sent. Check the status to set and send it again."
    ),
    "permission": "You may not do this (permission {code}); nothing was sent.",
    "files_dropped": "The files you chose to upload were not kept; choose them again.",
    "cc": "Cc: {address} is not a plain e-mail address; write it as name@example.com.",
}
"""What the ticket page says when it refuses a reply (the text as typed is kept)."""


REPORT_TITLE: Final = {
    "volume": "Tickets created and resolved",
    "response-times": "Response and resolution times",
    "sla": "SLA attainment",
    "customers": "Customers",
    "agents": "Agents",
    "prepaid": "Prepaid hours",
}
REPORT_COLUMN: Final = {
    "period": "Period",
    "created": "Created",
    "resolved": "Resolved",
    "backlog": "Backlog",
    "first_response_count": "First responses",
    "first_response_median_hours": "First response, median (h)",
    "first_response_p90_hours": "First response, 90th percentile (h)",
    "resolution_count": "Resolutions",
    "resolution_median_hours": "Resolution, median (h)",
    "resolution_p90_hours": "Resolution, 90th percentile (h)",
    "dimension": "By",
    "id": "Id",
    "name": "Name",
    "tickets": "Tickets",
    "met": "Met",
    "breached": "Breached",
    "attainment_percent": "Attained (%)",
    "customer_id": "Customer id",
    "customer": "Customer",
    "worklog_hours": "Hours logged",
    "billable_hours": "Billable hours",
    "prepaid_hours": "Prepaid hours",
    "user_id": "User id",
    "agent": "Agent",
    "assigned": "Assigned",
    "cards": "Cards",
    "active_cards": "Active cards",
    "hours_bought": "Hours bought",
    "used_in_period_hours": "Used in period (h)",
    "used_total_hours": "Used in total (h)",
    "remaining_hours": "Remaining (h)",
}
REPORT_DIMENSION: Final = {
    "policy": "Policy",
    "customer": "Customer",
    "agent": "Agent",
    "team": "Team",
}
PAGE: Final = {
    "csrf": "The form was out of date or came from another site. Reload the page and try again.",
    "login_expired": "The sign-in form had expired. Reload the page and try again.",
    "not_found": "There is nothing here, or you may not see it.",
    "forbidden": "You do not have permission to do this.",
    "unavailable": "The database is unavailable right now. Try again in a moment.",
    "store_unavailable": (
        "Stored mail and attachments cannot be reached right now. Try again in a moment."
    ),
    "error": "Something went wrong on our side.",
    "locked": "Too many failed sign-ins for this address. Try again in {minutes} minutes.",
    "bad_login": "The e-mail address or password is not right.",
}
"""Whole sentences the UI shows on its own pages (translated like every other message)."""


def minutes_text(minutes: int) -> str:
    """`95` -> `1:35` (hours and minutes, as on a time sheet)."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}:{rest:02d}"


AUTOMATION_REASON: Final = automation_reasons.MESSAGES
"""Why the automation changed a ticket (`hubdesk.automation.reasons`), translated on the
ticket's timeline."""
