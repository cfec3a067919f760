"""The ticket status state machine, checked on all 36 (from, to) pairs."""

from __future__ import annotations

import itertools

import pytest

from hubdesk.errors import InvalidTransition, ValidationFailed
from hubdesk.tickets.states import (
    OPEN_STATES,
    STATUSES,
    allowed_transitions,
    check_transition,
    higher_priority,
)

# open <-> in_progress <-> waiting_customer | waiting_internal (each also to and from open),
# any open state -> resolved -> closed, resolved | closed -> open. Nothing else.
ALLOWED: dict[str, set[str]] = {
    "open": {"in_progress", "waiting_customer", "waiting_internal", "resolved"},
    "in_progress": {"open", "waiting_customer", "waiting_internal", "resolved"},
    "waiting_customer": {"open", "in_progress", "resolved"},
    "waiting_internal": {"open", "in_progress", "resolved"},
    "resolved": {"closed", "open"},
    "closed": {"open"},
}
PAIRS = list(itertools.product(STATUSES, STATUSES))


def test_the_statuses_are_the_six_of_the_contract() -> None:
    """Six statuses, four of them open."""
    assert set(STATUSES) == set(ALLOWED)
    assert len(PAIRS) == 36
    assert {"open", "in_progress", "waiting_customer", "waiting_internal"} == OPEN_STATES


@pytest.mark.parametrize(("current", "new"), PAIRS)
def test_transition(current: str, new: str) -> None:
    """An allowed move (or staying put) passes; any other raises InvalidTransition, a
    ValidationFailed (422), whose message names every status allowed from `current`."""
    assert allowed_transitions(current) == ALLOWED[current]
    if new == current or new in ALLOWED[current]:
        check_transition(current, new)
        return
    with pytest.raises(InvalidTransition) as raised:
        check_transition(current, new)
    assert isinstance(raised.value, ValidationFailed)
    message = str(raised.value)
    assert repr(current) in message
    assert repr(new) in message
    for allowed in ALLOWED[current]:
        assert allowed in message


def test_every_open_state_can_be_resolved_and_only_resolved_can_close() -> None:
    """Closing goes through resolved; every open state can be resolved; both resolved and
    closed can be reopened."""
    for state in OPEN_STATES:
        assert "resolved" in allowed_transitions(state)
        assert "closed" not in allowed_transitions(state)
    assert "open" in allowed_transitions("resolved")
    assert "open" in allowed_transitions("closed")


def test_unknown_status_is_refused_naming_the_statuses() -> None:
    """A status that does not exist is refused with the list of real ones; an unknown current
    status allows nothing."""
    with pytest.raises(InvalidTransition) as raised:
        check_transition("open", "done")
    assert all(status in str(raised.value) for status in STATUSES)
    assert allowed_transitions("done") == frozenset()


def test_higher_priority() -> None:
    """Priorities rank low < normal < high < critical."""
    assert higher_priority("low", "critical") == "critical"
    assert higher_priority("high", "normal") == "high"
    assert higher_priority("normal", "normal") == "normal"
