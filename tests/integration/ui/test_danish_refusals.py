"""A service's refusal on a page is in the reader's language (both databases): the form
comes back with the Danish sentence to a Danish admin and the English one to an English
one, while the API still answers in English."""

from __future__ import annotations

from hubdesk.runtime import Runtime
from hubdesk.users import service as users
from hubdesk.users.permissions import SYSTEM
from tests.integration.ui.client import PASSWORD, UiClient, text_of
from tests.integration.ui.test_uiforms_pages import form_token
from tests.support.api import Api


def _admin(runtime: Runtime, language: str) -> str:
    address = f"admin-{language}@agents.example.com"
    with runtime.db.transaction() as session:
        users.create_user(
            session,
            SYSTEM,
            email=address,
            name=f"Admin {language}",
            password=PASSWORD,
            groups=["admins"],
            language=language,
        )
    return address


def _free_mail_refusal(ui: UiClient, address: str) -> str:
    assert ui.log_in(address).status_code == 303
    token = form_token(ui.get("/customers/new").text)
    refused = ui.post(
        "/customers/new",
        {"name": "Acme A/S", "domains": "gmail.com", "active": "1", "form_token": token},
    )
    assert refused.status_code == 422
    return text_of(refused.text)


def test_a_refused_customer_form_speaks_the_readers_language(
    ui: UiClient, runtime: Runtime
) -> None:
    danish = _free_mail_refusal(ui, _admin(runtime, "da"))
    assert "gmail.com er et gratis maildomæne, som mange deler" in danish
    assert "free-mail" not in danish
    ui.forget_cookies()
    english = _free_mail_refusal(ui, _admin(runtime, "en"))
    assert "gmail.com is a free-mail domain shared by many people" in english


def test_a_refused_card_speaks_danish_and_the_api_english(ui: UiClient, api: Api) -> None:
    runtime = api.runtime
    customer = api.ok(api.post("/api/v1/customers", json={"name": "Acme A/S"}), 201)
    assert ui.log_in(_admin(runtime, "da")).status_code == 303
    url = f"/customers/{customer['id']}/cards/new"
    token = form_token(ui.get(url).text)
    refused = ui.post(
        url, {"hours_bought": "10", "price": "", "currency": "DK1", "form_token": token}
    )
    assert refused.status_code == 422
    assert "Valutaen skal være en ISO 4217-kode på tre bogstaver" in text_of(refused.text)
    by_api = api.post(
        "/api/v1/prepaid-cards",
        json={"customer_id": customer["id"], "hours_bought": "10", "currency": "DK1"},
    )
    assert by_api.status_code == 422
    assert "currency" in by_api.json()["detail"]
    assert "Valutaen" not in by_api.json()["detail"]
