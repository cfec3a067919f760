"""Customers with the e-mail domains that identify them, and their contacts."""

from __future__ import annotations

from tests.support.api import Api

CUSTOMER_KEYS = {"id", "name", "domains", "notes", "active"}


def test_customer_shape_and_domain_normalisation(api: Api) -> None:
    """POST /customers answers 201 with exactly id, name, domains, notes and active; domains
    are lowercased, de-duplicated, sorted, and IDN names stored in their ASCII form."""
    response = api.post(
        "/api/v1/customers",
        json={"name": "Acme A/S", "domains": ["Acme.DK", "@acme.com", "acme.dk.", "Blåbær.dk"]},
    )
    assert response.status_code == 201
    customer = response.json()
    assert set(customer) == CUSTOMER_KEYS
    assert customer["domains"] == ["acme.com", "acme.dk", "xn--blbr-roah.dk"]
    assert (customer["notes"], customer["active"]) == ("", True)
    assert api.ok(api.get(f"/api/v1/customers/{customer['id']}", "readonly")) == customer
    listed = api.ok(api.get("/api/v1/customers", params={"q": "acme"}))
    assert listed["items"] == [customer]
    assert api.ok(api.get("/api/v1/customers", params={"q": "%"}))["total"] == 0


def test_a_domain_belongs_to_one_customer(api: Api) -> None:
    """A domain already used by another customer answers 409, on create and on update, and
    nothing changes; giving a customer its own domains back in another order is no change."""
    first = api.ok(
        api.post("/api/v1/customers", json={"name": "A", "domains": ["a.dk", "b.dk"]}), 201
    )
    clash = api.post("/api/v1/customers", json={"name": "B", "domains": ["x.dk", "A.DK"]})
    assert clash.status_code == 409
    assert "a.dk" in clash.json()["detail"]
    assert api.ok(api.get("/api/v1/customers"))["total"] == 1
    second = api.ok(api.post("/api/v1/customers", json={"name": "B", "domains": ["x.dk"]}), 201)
    clash = api.patch(f"/api/v1/customers/{second['id']}", json={"domains": ["x.dk", "b.dk"]})
    assert clash.status_code == 409
    assert api.ok(api.get(f"/api/v1/customers/{second['id']}"))["domains"] == ["x.dk"]
    same = api.ok(api.patch(f"/api/v1/customers/{first['id']}", json={"domains": ["b.dk", "a.dk"]}))
    assert same["domains"] == ["a.dk", "b.dk"]
    moved = api.ok(api.patch(f"/api/v1/customers/{first['id']}", json={"domains": ["a.dk"]}))
    assert moved["domains"] == ["a.dk"]
    taken = api.ok(api.patch(f"/api/v1/customers/{second['id']}", json={"domains": ["b.dk"]}))
    assert taken["domains"] == ["b.dk"]


def test_free_mail_and_malformed_domains_are_refused(api: Api) -> None:
    """Free-mail domains identify nobody's company (422 saying so); malformed names are 422."""
    for domain in ("gmail.com", "HOTMAIL.DK", "@outlook.com"):
        response = api.post("/api/v1/customers", json={"name": "X", "domains": [domain]})
        assert response.status_code == 422, domain
        assert "free-mail" in response.json()["detail"]
    for domain in ("localhost", "a..b", "-x.dk", "exa mple.dk", "x" * 64 + ".dk"):
        response = api.post("/api/v1/customers", json={"name": "X", "domains": [domain]})
        assert response.status_code == 422, domain
    assert api.post("/api/v1/customers", json={"name": " \t "}).status_code == 422


def test_contact_email_is_unique_case_insensitively(api: Api) -> None:
    """A contact's e-mail is stored lowercased; `Bob@X.com` after `bob@x.com` answers 409.
    Contacts can be looked up by e-mail in any case and moved between customers."""
    customer = api.ok(api.post("/api/v1/customers", json={"name": "X"}), 201)
    bob = api.ok(
        api.post(
            "/api/v1/contacts",
            json={"email": "bob@x.com", "name": "Bob", "customer_id": customer["id"]},
        ),
        201,
    )
    assert set(bob) == {"id", "email", "name", "customer_id", "created_at"}
    again = api.post("/api/v1/contacts", json={"email": "Bob@X.com"})
    assert again.status_code == 409
    found = api.ok(api.get("/api/v1/contacts", "readonly", params={"email": "BOB@x.COM"}))
    assert [c["id"] for c in found["items"]] == [bob["id"]]
    by_customer = api.ok(api.get("/api/v1/contacts", params={"customer_id": customer["id"]}))
    assert by_customer["total"] == 1
    moved = api.ok(api.patch(f"/api/v1/contacts/{bob['id']}", json={"customer_id": None}))
    assert moved["customer_id"] is None
    missing = api.patch(f"/api/v1/contacts/{bob['id']}", json={"customer_id": 999_999})
    assert missing.status_code == 422
    assert api.post("/api/v1/contacts", json={"email": "no-at-sign"}).status_code == 422
    renamed = api.patch(f"/api/v1/contacts/{bob['id']}", json={"email": "new@x.com"})
    assert renamed.status_code == 422


def test_a_customer_name_is_kept_or_changed_never_nulled(api: Api) -> None:
    """PATCH without `name` keeps it; `"name": null` or a blank name is a 422 naming the field
    (the document declares the name as a non-blank string, not null)."""
    customer = api.ok(api.post("/api/v1/customers", json={"name": "Acme"}), 201)
    url = f"/api/v1/customers/{customer['id']}"
    assert api.ok(api.patch(url, json={"notes": "VIP"}))["name"] == "Acme"
    for body in ({"name": None}, {"name": "   "}):
        response = api.patch(url, json=body)
        assert response.status_code == 422, (body, response.text)
        assert "name" in response.json()["detail"]
    assert api.ok(api.get(url))["name"] == "Acme"
