"""The UI's markup rules, checked on the templates and on every rendered page: autoescape
everywhere, raw markup only in the mail frame, no inline script, a label for every field, and
a Danish translation for every message."""

from __future__ import annotations

import ast
import json
import re
import string
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

from hubdesk.canned import service as canned
from hubdesk.runtime import Runtime
from hubdesk.users.permissions import SYSTEM
from hubdesk.web.ui import labels
from hubdesk.web.ui.templating import build_environment
from tests.integration.ui.client import UiClient
from tests.integration.ui.routes import fill, protected
from tests.integration.ui.scenario import mail_world, printer_ticket
from tests.support.sla import policy as sla_policy

UI = Path(str(resources.files("hubdesk.web.ui")))
TEMPLATES = sorted((UI / "templates").glob("*.html"))
_MESSAGE = re.compile(r"""\b_\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_PLURAL = re.compile(r"""\b_n\(\s*("(?:[^"\\]|\\.)*")\s*,\s*("(?:[^"\\]|\\.)*")""")


def test_templates_escape_everything_and_only_the_frame_outputs_markup() -> None:
    """Autoescape is on for every template; `|safe` appears once, in the mail frame; no
    template has an inline event handler, a `javascript:` URL or an inline script."""
    assert build_environment().autoescape is True
    safe_uses = {
        t.name: t.read_text().count("|safe") for t in TEMPLATES if "|safe" in t.read_text()
    }
    assert safe_uses == {"mail_frame.html": 1}
    for template in TEMPLATES:
        text = template.read_text()
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert "javascript:" not in text.lower(), template.name
        for script in re.findall(r"<script\b[^>]*>", text):
            assert 'src="/static/' in script, template.name
    python = "\n".join(p.read_text() for p in UI.glob("*.py"))
    assert "Markup(" not in python
    assert "|safe" not in python


def _messages() -> set[str]:
    found: set[str] = set()
    for path in [*TEMPLATES, *UI.glob("*.py")]:
        found.update(ast.literal_eval(m.group(1)) for m in _MESSAGE.finditer(path.read_text()))
        for m in _PLURAL.finditer(path.read_text()):
            found.update((ast.literal_eval(m.group(1)), ast.literal_eval(m.group(2))))
    for name in dir(labels):
        table = getattr(labels, name)
        if name.isupper() and isinstance(table, dict):
            found.update(table.values())
    return found | _refusals()


def _refusals() -> set[str]:
    """The templates of `ValidationFailed.saying(...)` anywhere in the code: pages show them
    in the reader's language (`i18n.said`)."""
    found: set[str] = set()
    for path in UI.parent.parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "saying"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_has_a_danish_translation_with_the_same_fields() -> None:
    """Each English message of the templates, the code and the label tables is in da.json,
    with the same {placeholders}; the catalog holds nothing that is no longer used."""
    catalog = json.loads((UI / "locale" / "da.json").read_text(encoding="utf-8"))
    messages = _messages()
    assert len(messages) > 200
    assert sorted(messages - set(catalog)) == []
    assert sorted(set(catalog) - messages) == []
    assert [m for m in messages if _fields(m) != _fields(catalog[m])] == []


class _Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.labelled: set[str] = set()
        self.fields: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "label" and values.get("for"):
            self.labelled.add(values["for"] or "")
        kind = values.get("type") or ""
        if tag in ("select", "textarea") or (
            tag == "input" and kind not in ("hidden", "submit", "button")
        ):
            self.fields.append((f"{tag} {values.get('name')}", values.get("id")))


def _canned_response(runtime: Runtime) -> int:
    with runtime.db.transaction() as session:
        row = canned.create_response(session, SYSTEM, title="Hi", body="Hello", shared=True)
        return row.id


def test_every_field_on_every_page_has_a_label(ui: UiClient, runtime: Runtime) -> None:
    """On every page an admin can open (the richest forms), each input, select and textarea
    has an id that a `<label for>` names; the login page too. The mail pages have something
    to list: held mail in triage and as spam, a failed run, a held reply, a mailbox."""
    made = printer_ticket(runtime)
    world = mail_world(runtime, made)
    with runtime.db.transaction() as session:
        policy_id = sla_policy(session).id
    ids = {
        "policy_id": policy_id,
        "ticket_id": made.ticket_id,
        "customer_id": made.customer_id,
        "user_id": 1,
        "inbound_id": 1,
        "response_id": _canned_response(runtime),
        **world.ids(),
    }
    pages = ["/login"]
    ui_pages = [r.split(" ", 1)[1] for r in protected(ui.client.app) if r.startswith("GET ")]  # type: ignore[arg-type]
    skipped = ("{email_id}", "{attachment_id}", "/raw", "/canned/", "/events")
    pages += [fill(p, **ids) for p in ui_pages if not any(s in p for s in skipped)]
    pages.append(f"/tickets/{made.ticket_id}?html=1")
    pages += ["/triage?kind=spam", f"/admin/inbound/{world.triage_id}"]
    for path in pages:
        if path == "/login":
            text = ui.client.get(path).text
            ui.log_in_as(["admins"])
        else:
            response = ui.get(path)
            assert response.status_code == 200, path
            text = response.text
        parser = _Fields()
        parser.feed(text)
        unlabelled = [name for name, field_id in parser.fields if field_id not in parser.labelled]
        assert unlabelled == [], path
        assert '<a class="skip-link" href="#main">' in text, path
        assert 'id="main"' in text, path
