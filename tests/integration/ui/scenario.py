"""The tickets the browser tests work on, made the way production makes them: customers and
cards through the services, tickets by ingesting raw mail through the real pipeline.

`mail_world` adds what the mail admin pages show: a workflow that fails (its mail waits in
triage), a mail held as spam, a reply held for a bouncing address, and a mailbox."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import select

from hubdesk.customers import service as customers
from hubdesk.db.types import utcnow
from hubdesk.intake.pipeline import ingest
from hubdesk.mailboxes import service as mailboxes
from hubdesk.outbox.models import AddressFlag
from hubdesk.outbox.replies import send_reply
from hubdesk.prepaid import service as prepaid
from hubdesk.runtime import Runtime
from hubdesk.tickets.models import Ticket
from hubdesk.users.permissions import SYSTEM
from hubdesk.workflows import service as workflows
from hubdesk.workflows.catalog import WorkflowIn
from hubdesk.workflows.models import WorkflowExecution
from tests.integration.ui.mails import PNG, SUPPORT, File, message

FIRST_MAIL_TEXT = (
    "Hello support,\n\nthe printer on floor 3 prints only blank pages since the update.\n\n"
    "Best regards\nAlice\n\n-- \nAlice Customer, Acme A/S, +45 12 34 56 78\n\n"
    "> On Monday you wrote:\n> Please describe the problem.\n"
)
FIRST_MAIL_HTML = (
    "<p>Hello support,</p><p>the <b>printer on floor 3</b> prints only blank pages.</p>"
    '<p><img src="cid:logo@acme.example" alt="Acme logo"></p>'
    '<p><img src="http://127.0.0.1:9/tracking.png" alt="tracker"></p>'
)


@dataclass(frozen=True)
class Scenario:
    customer_id: int
    card_id: int
    ticket_id: int
    ticket_number: str


def printer_ticket(runtime: Runtime) -> Scenario:
    """Acme A/S with a 2-hour prepaid card, and a ticket opened by Alice's mail."""
    with runtime.db.transaction() as session:
        customer = customers.create_customer(
            session, SYSTEM, name="Acme A/S", domains=["acme.example"]
        )
        card = prepaid.create_card(
            session,
            SYSTEM,
            prepaid.NewCard(customer_id=customer.id, hours_bought=Decimal("2")),
            today=runtime.today(),
        )
        customer_id, card_id = customer.id, card.id
    raw = message(
        subject="Printer prints blank pages",
        text=FIRST_MAIL_TEXT,
        html=FIRST_MAIL_HTML,
        files=[
            File("logo.png", "image/png", PNG, content_id="logo@acme.example"),
            File("printer-log.txt", "text/plain", b"E42 toner sensor\n"),
        ],
    )
    outcome = ingest(runtime, raw, source="test")
    assert outcome.status == "created", outcome
    assert outcome.ticket_id is not None
    assert outcome.ticket_number is not None
    return Scenario(customer_id, card_id, outcome.ticket_id, outcome.ticket_number)


FUTURE_TICKET = "TKT-20990101-001"
"""The ticket the failing workflow links to; it does not exist until a test makes it."""


@dataclass(frozen=True)
class MailWorld:
    workflow_id: int
    execution_id: int
    triage_id: int
    spam_id: int
    outbox_id: int
    mailbox_id: int

    def ids(self) -> dict[str, int]:
        """The ids the UI's routes name (`{workflow_id}` ...)."""
        return {
            "workflow_id": self.workflow_id,
            "execution_id": self.execution_id,
            "outbox_id": self.outbox_id,
            "mailbox_id": self.mailbox_id,
        }


def engine_on(runtime: Runtime) -> Runtime:
    """The same database and blobs with EMAIL_WORKFLOWS_ENABLED=true."""
    return replace(
        runtime, settings=runtime.settings.model_copy(update={"email_workflows_enabled": True})
    )


def failing_workflow(
    runtime: Runtime, *, subject: str = "The scanner needs help"
) -> tuple[int, int]:
    """A workflow linking support mail to a ticket that does not exist yet, and one mail it
    failed on (which waits in triage); returns (workflow id, inbound id)."""
    with runtime.db.transaction() as session:
        workflow = workflows.create(
            session,
            SYSTEM,
            WorkflowIn.model_validate(
                {
                    "name": "Link to the future",
                    "classification_trigger": "support_request",
                    "workflow_steps": [
                        {
                            "action": "link_email_to_ticket",
                            "params": {"ticket_number": FUTURE_TICKET},
                        }
                    ],
                }
            ),
        )
        workflow_id = workflow.id
    outcome = ingest(
        engine_on(runtime),
        message(subject=subject, sender="bob@bobs.example", sender_name="Bob"),
        source="test",
    )
    assert outcome.reason.startswith("triage: workflow"), outcome
    assert outcome.inbound_id is not None
    return workflow_id, outcome.inbound_id


def spam_mail(runtime: Runtime, *, subject: str = "Cheap watches") -> int:
    """A mail a spam filter flagged (the classifier's rules hold it as spam); its id."""
    outcome = ingest(
        runtime,
        message(subject=subject, sender="seller@spam.example", headers={"X-Spam-Flag": "YES"}),
        source="test",
    )
    assert outcome.status == "ignored", outcome
    assert outcome.reason.startswith("spam:"), outcome
    assert outcome.inbound_id is not None
    return outcome.inbound_id


def mail_world(runtime: Runtime, made: Scenario) -> MailWorld:
    """Everything the mail admin pages list, next to the printer ticket."""
    workflow_id, triage_id = failing_workflow(runtime)
    spam_id = spam_mail(runtime)
    with runtime.db.transaction() as session:
        execution_id = session.scalars(
            select(WorkflowExecution.id).where(WorkflowExecution.status == "failed")
        ).one()
        session.add(AddressFlag(email="alice@acme.example", bouncing=True, bounce_count=1))
        session.flush()
        ticket = session.get(Ticket, made.ticket_id)
        assert ticket is not None
        _comment, held = send_reply(
            session, runtime, SYSTEM, ticket, body="We are looking into it.", now=utcnow()
        )
        assert held.status == "held"
        mailbox = mailboxes.create_mailbox(session, SYSTEM, name="support", addresses=[SUPPORT])
        return MailWorld(workflow_id, execution_id, triage_id, spam_id, held.id, mailbox.id)
