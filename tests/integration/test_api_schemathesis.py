"""RELIABILITY T25: schemathesis over /openapi.json, with every check, as every seeded group.

Each operation of the document gets cases generated from its schema, valid ones (positive)
and invalid ones (negative), sent through the real application to a real database, and every
answer goes through all of schemathesis's checks: no 5xx, the status code and the body are
the ones the document declares, valid input is accepted, invalid input is refused.

`make test` runs a short bounded pass (`HUBDESK_SCHEMATHESIS_EXAMPLES`, 2 cases per mode and
operation for the admin by default, one valid case for the other groups); `make test-long`
runs the `long` variant with 60 per mode and group.

JSON Schema cannot say that an id in a body names a row that exists, that a token's expiry
lies in the future, that a string is an IANA time zone, that a workflow's trigger is one of the
classifications trained so far, or that a workflow step's parameters fit its action (each
action's parameter schema is served by `GET /api/v1/workflows/actions`). A positive case that
the server refuses for one of those reasons is expected; `SEMANTIC_REFUSALS` names each such answer,
and any other refusal of schema-valid input fails the test.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config._checks import (
    NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES,
    NegativeDataRejectionConfig,
)
from schemathesis.core.failures import FailureGroup
from schemathesis.openapi.checks import RejectedPositiveData

from tests.support.api import Api

SHORT_EXAMPLES = int(os.environ.get("HUBDESK_SCHEMATHESIS_EXAMPLES", "2"))
LONG_EXAMPLES = int(os.environ.get("HUBDESK_SCHEMATHESIS_LONG_EXAMPLES", "60"))
ROLES = ("admins", "agents", "readonly")
# The raw-mail body is any bytes at all (what is not mail is quarantined, never refused), and
# schemathesis cannot generate a binary body with a minimum length: T01 fuzzes this endpoint's
# body (`make fuzz FUZZ_TARGET=ingest`) and tests/integration covers its 413/415/422 answers.
FUZZED_ELSEWHERE = frozenset({"POST /api/v1/inbound/raw"})

# What the server may refuse in schema-valid input, because JSON Schema cannot express it.
# Each entry is a refusal that is the right answer, with why the document cannot say it.
SEMANTIC_REFUSALS = re.compile(
    "|".join(
        (
            # An id or a name in the body names no row (or an inactive one).
            r"\w+ \d+ does not exist",
            r"unknown group",
            # Time: "in the future" and "within a year" depend on the clock.
            r"(?:expires_at|until) must be in the future",
            r"until must be within a year from now",
            # Lists the IANA database and the trained classifier define.
            r"is not a known IANA time zone",
            r"is not a known classification",
            # A workflow step's parameters fit its action (served per action by
            # GET /api/v1/workflows/actions, not in this document).
            r"step \d+: ",
            # NUL (U+0000) in any text, free-form JSON included (workflow steps, custom
            # fields), which a JSON schema cannot exclude there: PostgreSQL cannot store it,
            # so every path, query and body refuses it alike (web/nul_guard.py; the long pass
            # on PostgreSQL found it as a 500).
            r"holds the NUL character",
            # Protecting the caller from locking themselves out.
            r"cannot (?:deactivate|remove) (?:yourself|your own)",
            # The ticket's state machine: which status may follow the stored one.
            r"a ticket cannot go from '\w+' to '\w+'",
            # A reply needs the stored ticket to have a contact to write to.
            r"has no contact to reply to",
            # Rows that must agree with each other: a contact of the ticket's customer, a
            # prepaid card of the ticket's customer, still active and with minutes left.
            r"contact \d+ belongs to customer",
            r"comment \d+ is not a comment of this ticket",
            r"attachments \[[\d, ]*\] are not files of this ticket",
            # A split names received messages of the ticket it splits (found by the long
            # pass on PostgreSQL: ids of no message of that ticket).
            r"email_ids: [\d, ]+ is not a message of ticket",
            r"email \d+ is an outgoing message",
            r"prepaid card \d+ (?:belongs to another customer|is \w+; choose an active"
            r"|has \d+ minutes left)",
            # Fields that depend on each other, on a PATCH together with the stored row:
            # prepaid billing without a card, an invoice without a reference, IMAP without
            # the name of its password, a move without a folder.
            r"billing '\w+' needs an? \w+",
            r"prepaid_card_id is only used with billing 'prepaid'",
            r"an IMAP mailbox needs password_env",
            r"password_env is only used with imap_url",
            r"\w+_action 'move' needs \w+_folder",
            # A card's expiry after its purchase (bought_on empty: today, so it also
            # depends on the clock; found once hours_bought was declared as whole minutes
            # and schema-valid cards got that far).
            r"expires_on must not be before bought_on",
            # Merging: a ticket into itself, or one already merged.
            r"cannot be merged into itself|is already merged|was itself merged",
            r"was merged into another ticket",
            # An IMAP URL's grammar beyond the declared `imap[s]://user@` (urlsplit's rules:
            # the port's range, no password, a host, no query, a usable folder).
            r"imap_url (?:has an invalid port|needs a user and a host|takes no query"
            r"|must not contain a password|is not a valid URL)|the folder in imap_url is not",
            # A domain beyond ASCII must pass IDNA (RFC 5891), and free-mail domains are a
            # policy list: neither is a regular expression.
            r"is not a valid internationalised domain name",
            r"is a free-mail domain",
            # A saved view's values follow the ticket list's own filter rules (the document
            # names the keys; values may be numbers or strings with spaces around them).
            r"query\.\w+: |sort key '[^']*' is not allowed",
        )
    )
)


@schemathesis.serializer("message/rfc822")
def _rfc822(context: Any, value: Any) -> bytes:
    """The raw-mail endpoint takes bytes: what was generated is sent as bytes."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogateescape")


def _semantic_refusal(response: Any) -> bool:
    """A 422 whose sentence names one of `SEMANTIC_REFUSALS`."""
    if response.status_code != 422:
        return False
    try:
        detail = str(response.json().get("detail", ""))
    except ValueError:
        return False
    return bool(SEMANTIC_REFUSALS.search(detail))


SENT: list[int] = [0]  # cases sent in this process (the long run prints it)


def _validated(case: Any, headers: dict[str, str]) -> None:
    SENT[0] += 1
    response = case.call(headers=headers)
    try:
        case.validate_response(response, headers=headers)
    except FailureGroup as group:
        semantic = _semantic_refusal(response)
        left = [
            failure
            for failure in group.exceptions
            if not (semantic and isinstance(failure, RejectedPositiveData))
        ]
        if left:
            raise FailureGroup(left, group.message) from None


def _run(
    api: Api,
    role: str,
    examples: int,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
) -> list[str]:
    """Every operation in `modes` as `role`; returns what failed, one entry each."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.client.app)
    # A body over its size limit is refused with 413 before it is read (the document declares
    # 413 on every operation that takes a body): for invalid input that is a refusal too.
    schema.config.checks.negative_data_rejection = NegativeDataRejectionConfig(
        expected_statuses=[*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413"]
    )
    headers = api.headers(role)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label in FUZZED_ELSEWHERE:
            continue
        for mode in modes:
            check = _property(operation.as_strategy(generation_mode=mode), headers, examples)
            try:
                check()
            except Unsatisfiable:
                continue  # nothing about this operation can be made invalid (no parameters)
            except (Exception, BaseExceptionGroup) as exc:  # every failure is reported
                failures.append(f"{role} {mode.value} {operation.label}: {exc}")
                if examples > SHORT_EXAMPLES:  # a long run shows each failure as it is found
                    print(f"FAILURE {failures[-1]}", flush=True)
    return failures


def _property(strategy: Any, headers: dict[str, str], examples: int) -> Callable[[], None]:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=examples <= SHORT_EXAMPLES,  # the short pass is the same every run
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        _validated(case, headers)

    return check


def _seed(api: Api) -> None:
    """Rows for the generated ids to find: customers, contacts, tickets with comments."""
    customer = api.ok(api.post("/api/v1/customers", json={"name": "Acme", "domains": []}), 201)
    for n in range(3):
        api.ok(
            api.post(
                "/api/v1/tickets",
                json={"subject": f"Seeded {n}", "description": "x", "customer_id": customer["id"]},
            ),
            201,
        )


def test_every_operation_keeps_its_schema(api: Api) -> None:
    """The short pass: the admin (who reaches every operation's body) with SHORT_EXAMPLES
    cases per mode, the other groups with one valid case (their answers are mostly 403)."""
    _seed(api)
    failures = _run(api, "admins", SHORT_EXAMPLES)
    for role in ROLES[1:]:
        failures += _run(api, role, 1, (GenerationMode.POSITIVE,))
    assert not failures, "\n\n".join(failures)


@pytest.mark.long
@pytest.mark.parametrize("role", ROLES)
def test_every_operation_keeps_its_schema_long(api: Api, role: str) -> None:
    _seed(api)
    before = SENT[0]
    failures = _run(api, role, LONG_EXAMPLES)
    print(f"schemathesis long run as {role}: {SENT[0] - before} cases sent")
    assert not failures, "\n\n".join(failures)


def test_a_split_naming_no_message_of_the_ticket_is_a_listed_refusal(api: Api) -> None:
    """The long pass on PostgreSQL sent a split with schema-valid ids that name no message of
    the ticket: the answer is a 422 that names them, and it is a semantic refusal."""
    ticket = api.ok(api.post("/api/v1/tickets", json={"subject": "Split", "description": "x"}), 201)
    response = api.post(f"/api/v1/tickets/{ticket['id']}/split", json={"email_ids": [148, 2887]})
    assert response.status_code == 422
    assert "email_ids: 148, 2887 is not a message of ticket" in response.json()["detail"]
    assert _semantic_refusal(response)


def test_a_card_expiring_before_its_purchase_is_a_listed_refusal(api: Api) -> None:
    """The long pass on SQLite sent a schema-valid card whose expiry (year 233) is before its
    purchase (empty: today): a 422 that says so, and a semantic refusal."""
    customer = api.ok(api.post("/api/v1/customers", json={"name": "Acme"}), 201)
    body = {"customer_id": customer["id"], "hours_bought": 378.25, "expires_on": "0233-02-13"}
    response = api.post("/api/v1/prepaid-cards", json=body)
    assert response.status_code == 422
    assert response.json()["detail"] == "expires_on must not be before bought_on"
    assert _semantic_refusal(response)


def test_a_snooze_beyond_a_year_is_a_listed_refusal(api: Api) -> None:
    """The long pass on SQLite snoozed a ticket until 2409: refused (a snooze ends within a
    year of now, which depends on the clock), and a semantic refusal."""
    ticket = api.ok(api.post("/api/v1/tickets", json={"subject": "Later", "description": "x"}), 201)
    response = api.put(
        f"/api/v1/tickets/{ticket['id']}/snooze", json={"until": "2409-08-23T10:09:17Z"}
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "until must be within a year from now"
    assert _semantic_refusal(response)
