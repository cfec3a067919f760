"""Priority keywords: seeded with the spec's, edited through `/api/v1/priority-keywords`,
used by ingest from the next ticket on (the cache follows the keyword version), and the
reason recorded on the ticket (on SQLite and PostgreSQL)."""

from __future__ import annotations

from hubdesk.intake.extract import SPEC_KEYWORDS
from hubdesk.intake.pipeline import ingest
from hubdesk.priority import service
from hubdesk.tickets.models import Ticket
from tests.integration.ui.mails import message
from tests.support.api import Api

URL = "/api/v1/priority-keywords"


def _ticket(api: Api, subject: str, text: str = "Hello.") -> Ticket:
    outcome = ingest(api.runtime, message(subject=subject, text=text), source="test")
    with api.runtime.db.transaction(write=False) as session:
        ticket = session.get(Ticket, outcome.ticket_id)
        assert ticket is not None
        session.expunge(ticket)
        return ticket


def test_seeded_with_the_spec_defaults(api: Api) -> None:
    rows = api.ok(api.get(URL))["items"]
    seeded = {(k["word"], k["level"]) for k in rows}
    assert seeded == {(w, lvl) for lvl, words in SPEC_KEYWORDS.items() for w in words}
    assert {k["scope"] for k in rows} == {"subject"}
    assert {k["language"] for k in rows if k["word"] in ("haster", "spørgsmål")} == {"da"}
    assert api.get(URL, "agents").status_code == 403


def test_an_admins_keyword_reaches_ingest_and_the_reason_is_kept(api: Api) -> None:
    """Ingest sees an added word on its next ticket and stops seeing a removed one (the
    per-process cache is keyed by the keyword version); a body keyword matches the text."""
    before = _ticket(api, "Kaffemaskinen brænder")
    assert before.priority == "normal"
    assert before.custom_fields["priority_reason"] == "no priority keyword; default"
    added = api.ok(
        api.post(URL, json={"word": " Brænder ", "level": "critical", "language": "da"}), 201
    )
    assert added["word"] == "brænder"
    hot = _ticket(api, "Kaffemaskinen brænder")
    assert hot.priority == "critical"
    assert hot.custom_fields["priority_reason"] == "keyword 'brænder' in subject"
    body_word = {"word": "asap", "level": "high", "language": "en", "scope": "body"}
    api.ok(api.post(URL, json=body_word), 201)
    assert _ticket(api, "Printer", "Please fix it asap.").custom_fields["priority_reason"] == (
        "keyword 'asap' in body"
    )
    assert _ticket(api, "asap printer").priority == "normal"  # a body word, not a subject one
    api.ok(api.delete(f"{URL}/{added['id']}"), 204)
    assert _ticket(api, "Kaffemaskinen brænder").priority == "normal"
    with api.runtime.db.transaction(write=False) as session:
        version = service.keywords(session)
        assert service.keywords(session) is version  # unchanged version: the cached set


def test_bad_keywords_are_refused(api: Api) -> None:
    for body, status, words in (
        ({"word": "  ", "level": "high", "language": "en"}, 422, "word"),
        ({"word": "!!", "level": "high", "language": "en"}, 422, "letter or digit"),
        ({"word": "x", "level": "huge", "language": "en"}, 422, "level"),
        ({"word": "x", "level": "high", "language": "de"}, 422, "language"),
        ({"word": "URGENT", "level": "high", "language": "en"}, 409, "already a critical"),
    ):
        answer = api.post(URL, json=body)
        assert answer.status_code == status, (body, answer.text)
        assert words in answer.json()["detail"]
    assert api.delete(f"{URL}/999999").status_code == 404
