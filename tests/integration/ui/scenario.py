"""The tickets the browser tests work on, made the way production makes them: customers and
cards through the services, tickets by ingesting raw mail through the real pipeline."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hubdesk.customers import service as customers
from hubdesk.intake.pipeline import ingest
from hubdesk.prepaid import service as prepaid
from hubdesk.runtime import Runtime
from hubdesk.users.permissions import SYSTEM
from tests.integration.ui.mails import PNG, File, message

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
