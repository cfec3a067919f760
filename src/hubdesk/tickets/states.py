"""Ticket statuses, priorities and the status state machine (pure).

open <-> in_progress <-> waiting_customer | waiting_internal
any open state -> resolved -> closed
resolved | closed -> open   (a customer reply, or a user with tickets.edit)
"""

from __future__ import annotations

from typing import Final

from hubdesk.errors import InvalidTransition

STATUSES: Final = (
    "open",
    "in_progress",
    "waiting_customer",
    "waiting_internal",
    "resolved",
    "closed",
)
OPEN_STATES: Final = frozenset({"open", "in_progress", "waiting_customer", "waiting_internal"})
PRIORITIES: Final = ("low", "normal", "high", "critical")
PRIORITY_RANK: Final = {name: rank for rank, name in enumerate(PRIORITIES)}
PRIORITY_RANK_SQL: Final = (
    "CASE priority "
    + " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in PRIORITY_RANK.items())
    + " ELSE -1 END"
)
"""`PRIORITY_RANK` in SQL: the stored `tticket_tickets.priority_rank` column's expression."""
SOURCES: Final = ("email", "api", "web")

_ALLOWED: Final[dict[str, frozenset[str]]] = {
    "open": frozenset({"in_progress", "waiting_customer", "waiting_internal", "resolved"}),
    "in_progress": frozenset({"open", "waiting_customer", "waiting_internal", "resolved"}),
    "waiting_customer": frozenset({"open", "in_progress", "resolved"}),
    "waiting_internal": frozenset({"open", "in_progress", "resolved"}),
    "resolved": frozenset({"closed", "open"}),
    "closed": frozenset({"open"}),
}


def allowed_transitions(current: str) -> frozenset[str]:
    return _ALLOWED.get(current, frozenset())


def check_transition(current: str, new: str) -> None:
    """Raise `InvalidTransition`, naming the allowed statuses, unless current -> new is valid."""
    if new not in STATUSES:
        raise InvalidTransition(
            f"status {new!r} is not a ticket status; use one of: {', '.join(STATUSES)}"
        )
    if new == current:
        return
    allowed = allowed_transitions(current)
    if new not in allowed:
        listed = ", ".join(sorted(allowed)) or "none"
        raise InvalidTransition(
            f"a ticket cannot go from {current!r} to {new!r}; from {current!r} it may go to: "
            f"{listed}"
        )


def higher_priority(a: str, b: str) -> str:
    return a if PRIORITY_RANK[a] >= PRIORITY_RANK[b] else b
