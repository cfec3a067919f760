"""The placeholders of canned responses (pure): `{{customer.name}}`, `{{ticket.number}}` ...

`check` names every unknown placeholder (a response is refused when saved with one);
`expand` fills them from a `Facts` of the ticket and the agent, an unknown value as "".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

PLACEHOLDER: Final = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
KNOWN: Final = (
    "customer.name",
    "contact.name",
    "contact.first_name",
    "contact.email",
    "ticket.number",
    "ticket.subject",
    "agent.name",
    "agent.email",
)


@dataclass(frozen=True)
class Facts:
    """What the placeholders can name, for one ticket and one agent."""

    customer_name: str = ""
    contact_name: str = ""
    contact_email: str = ""
    ticket_number: str = ""
    ticket_subject: str = ""
    agent_name: str = ""
    agent_email: str = ""

    def value(self, name: str) -> str:
        if name == "contact.first_name":
            return self.contact_name.split()[0] if self.contact_name.split() else ""
        return str(getattr(self, name.replace(".", "_"), ""))


def unknown(text: str) -> list[str]:
    """The placeholders of `text` that are not in `KNOWN`, in order, each once."""
    found: list[str] = []
    for match in PLACEHOLDER.finditer(text):
        name = match.group(1)
        if name not in KNOWN and name not in found:
            found.append(name)
    return found


def expand(text: str, facts: Facts) -> str:
    return PLACEHOLDER.sub(
        lambda m: facts.value(m.group(1)) if m.group(1) in KNOWN else m.group(0), text
    )
