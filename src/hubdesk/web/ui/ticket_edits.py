"""What the ticket page's details form changed, and what a colleague changed meanwhile (pure).

The form posts every field it shows, the same fields as the page showed them (`was_<field>`,
hidden) and the ticket `version` it was rendered from. An empty value is a value: "Nobody",
"No customer", "No contact" and an empty tag box clear the field (`None` / `[]`). The
agent's edit is the fields whose posted value differs from what the page showed; only those
are written. When the ticket's version moved on since the page was read, `Conflict` lists,
field by field, what the page showed, what the ticket holds now and what the agent wanted,
so the page can show both sides and offer to re-apply the agent's edit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from hubdesk.tickets.models import Ticket
from hubdesk.tickets.tags import normalize_tags
from hubdesk.web.ui import forms

FIELDS: Final = (
    "subject",
    "status",
    "priority",
    "customer_id",
    "contact_id",
    "assigned_to_user_id",
    "team_id",
    "tags",
)
SHOWN_PREFIX: Final = "was_"
_ID_NAMES: Final = {
    "customer_id": "customer",
    "contact_id": "contact",
    "assigned_to_user_id": "assignee",
    "team_id": "team",
}


def read(form: Mapping[str, str], prefix: str = "") -> dict[str, Any]:
    """The fields present in `form` (under `prefix`), as the service takes them."""
    found: dict[str, Any] = {}
    for name in FIELDS:
        raw = form.get(prefix + name)
        if raw is None:
            continue
        if name in _ID_NAMES:
            found[name] = forms.optional_id(raw, _ID_NAMES[name])
        elif name == "tags":
            found[name] = normalize_tags(forms.tag_list(raw))
        else:
            found[name] = raw.strip()
    return found


def current(ticket: Ticket) -> dict[str, Any]:
    """The ticket's values of the form's fields now."""
    return {name: getattr(ticket, name) for name in FIELDS}


def shown_value(name: str, value: Any) -> str:
    """A field's value as the form writes it into an input (`was_*`, the re-apply form)."""
    if value is None:
        return ""
    if name == "tags":
        return ", ".join(value)
    return str(value)


def edited(form: Mapping[str, str], now: Mapping[str, Any]) -> dict[str, Any]:
    """The agent's edit: posted fields that differ from what the page showed them (from
    `now` when the form did not say what it showed)."""
    posted = read(form)
    shown = read(form, SHOWN_PREFIX)
    return {
        name: value for name, value in posted.items() if value != shown.get(name, now.get(name))
    }


def read_version(form: Mapping[str, str]) -> int | None:
    raw = (form.get("version") or "").strip()
    return int(raw) if raw.isdigit() else None


@dataclass(frozen=True, slots=True)
class FieldConflict:
    field: str
    shown: Any
    now: Any
    yours: Any | None
    edited_by_you: bool

    @property
    def theirs_changed(self) -> bool:
        return bool(self.shown != self.now)


@dataclass(frozen=True, slots=True)
class Conflict:
    """A save from a page older than the ticket: the fields either side changed."""

    version_read: int
    version_now: int
    fields: tuple[FieldConflict, ...]
    yours: Mapping[str, Any]

    def reapply_values(self, now: Mapping[str, Any]) -> dict[str, Any]:
        """The form that re-applies the agent's edit on top of the ticket as it is now."""
        return {name: self.yours.get(name, now[name]) for name in FIELDS}


def conflict(
    form: Mapping[str, str], now: Mapping[str, Any], version_read: int, version_now: int
) -> Conflict:
    yours = edited(form, now)
    shown = {**now, **read(form, SHOWN_PREFIX)}
    rows = tuple(
        FieldConflict(
            field=name,
            shown=shown[name],
            now=now[name],
            yours=yours.get(name),
            edited_by_you=name in yours,
        )
        for name in FIELDS
        if name in yours or shown[name] != now[name]
    )
    return Conflict(version_read, version_now, rows, yours)
