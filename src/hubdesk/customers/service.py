"""Customers (with the e-mail domains that identify them) and contacts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

from sqlalchemy import bindparam, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state

from hubdesk.api.limits import DOMAIN_PATTERN
from hubdesk.audit import service as audit
from hubdesk.customers.models import Contact, Customer, CustomerDomain
from hubdesk.db import deferred, ids, quick, reads
from hubdesk.db.memo import memo
from hubdesk.db.paging import Page, paginate
from hubdesk.db.reads import touching
from hubdesk.db.types import utcnow
from hubdesk.errors import Conflict, NotFound, ValidationFailed
from hubdesk.text import multi_line, single_line
from hubdesk.users.permissions import CUSTOMERS_MANAGE, TICKETS_VIEW, Principal
from hubdesk.users.service import normalize_email

_DECLARED: Final = re.compile(DOMAIN_PATTERN)
_DOMAIN: Final = re.compile(
    r"\A(?=.{1,253}\Z)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}\Z"
)
# Free-mail domains identify nobody's company; mapping one to a customer would hand that
# customer every stranger who writes from it.
FREEMAIL_DOMAINS: Final = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.dk",
        "outlook.com",
        "outlook.dk",
        "live.com",
        "live.dk",
        "yahoo.com",
        "yahoo.dk",
        "icloud.com",
        "me.com",
        "mail.dk",
        "jubii.dk",
        "gmx.com",
        "gmx.net",
        "proton.me",
        "protonmail.com",
        "aol.com",
    }
)


def normalize_domain(value: str) -> str:
    """`@Example.COM.` -> `example.com`; a name beyond ASCII becomes its IDNA form.

    What `DOMAIN_PATTERN` (the OpenAPI document's format) matches, in ASCII, is accepted
    here, free-mail domains aside; a name beyond ASCII may still break IDNA's rules (which
    JSON Schema cannot say) and is refused as "not a valid internationalised domain name".
    """
    if not _DECLARED.match(value):
        raise ValidationFailed(f"{value!r} is not a valid domain name")
    domain = value.strip().lower().lstrip("@").rstrip(".")
    idn = not domain.isascii()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        domain = ""
    if not _DOMAIN.match(domain):
        kind = "internationalised domain name (IDNA)" if idn else "domain name"
        raise ValidationFailed(f"{value!r} is not a valid {kind}")
    if domain in FREEMAIL_DOMAINS:
        raise ValidationFailed.saying(
            "{domain} is a free-mail domain shared by many people; add its users as "
            "contacts of the customer instead",
            domain=domain,
        )
    return domain


def get_customer(session: Session, principal: Principal, customer_id: int) -> Customer:
    principal.require(TICKETS_VIEW)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} not found")
    return customer


def list_customers(
    session: Session, principal: Principal, *, q: str | None, limit: int, offset: int
) -> Page[Any]:
    principal.require(TICKETS_VIEW)
    statement = select(Customer)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        statement = statement.where(Customer.name.ilike(pattern, escape="\\"))
    return paginate(
        session, statement.order_by(Customer.name, Customer.id), limit=limit, offset=offset
    )


def create_customer(
    session: Session,
    actor: Principal,
    *,
    name: str,
    domains: Sequence[str] = (),
    notes: str = "",
    active: bool = True,
) -> Customer:
    actor.require(CUSTOMERS_MANAGE)
    customer = Customer(name=_clean_name(name), notes=multi_line(notes), active=active)
    session.add(customer)
    session.flush()
    _set_domains(session, customer, domains)
    audit.record(
        session,
        actor,
        entity_type="customer",
        entity_id=customer.id,
        action="created",
        changes=audit.created(_snapshot(customer)),
    )
    return customer


def update_customer(
    session: Session, actor: Principal, customer: Customer, changes: dict[str, Any]
) -> Customer:
    actor.require(CUSTOMERS_MANAGE)
    before = _snapshot(customer)
    if "name" in changes:
        customer.name = _clean_name(changes["name"] or "")
    if "notes" in changes:
        customer.notes = multi_line(changes["notes"] or "")
    if "active" in changes and changes["active"] is not None:
        customer.active = bool(changes["active"])
    if "domains" in changes:
        _set_domains(session, customer, changes["domains"] or [])
    diff = audit.changes_between(before, _snapshot(customer))
    if diff:
        session.flush()
        audit.record(
            session,
            actor,
            entity_type="customer",
            entity_id=customer.id,
            action="updated",
            changes=diff,
        )
    return customer


def _set_domains(session: Session, customer: Customer, raw: Sequence[str]) -> None:
    # Sorted, as the relationship loads them: the same set given in another order is then
    # no change (no audit row), and the answer matches a later read.
    domains = sorted({normalize_domain(d) for d in raw})
    for domain in domains:
        owner = session.get(CustomerDomain, domain)
        if owner is not None and owner.customer_id != customer.id:
            raise Conflict(f"domain {domain} already belongs to customer {owner.customer_id}")
    existing = {row.domain: row for row in customer.domain_rows}
    customer.domain_rows = [existing.get(d) or CustomerDomain(domain=d) for d in domains]
    session.flush()


def _snapshot(customer: Customer) -> dict[str, Any]:
    return {
        "name": customer.name,
        "notes": customer.notes,
        "active": customer.active,
        "domains": customer.domains,
    }


def _clean_name(value: str) -> str:
    name = single_line(value, 300)
    if not name:
        raise ValidationFailed("name must not be empty")
    return name


def customer_for_domain(session: Session, domain: str) -> Customer | None:
    row = reads.get(session, CustomerDomain, domain.lower())
    if row is None:
        return None
    customer = reads.get(session, Customer, row.customer_id)
    return customer if customer is not None and customer.active else None


def get_contact(session: Session, principal: Principal, contact_id: int) -> Contact:
    principal.require(TICKETS_VIEW)
    contact = session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    return contact


def find_contact(session: Session, email: str) -> Contact | None:
    return session.scalars(_CONTACT_BY_EMAIL, {"email": email.lower()}).first()


_CONTACT_BY_EMAIL: Final = select(Contact).where(Contact.email == bindparam("email"))
"""Built once (the mail pipeline looks up every sender)."""


def list_contacts(
    session: Session,
    principal: Principal,
    *,
    customer_id: int | None,
    email: str | None,
    limit: int,
    offset: int,
) -> Page[Any]:
    principal.require(TICKETS_VIEW)
    statement = select(Contact)
    if customer_id is not None:
        statement = statement.where(Contact.customer_id == customer_id)
    if email:
        statement = statement.where(Contact.email == email.strip().lower())
    return paginate(session, statement.order_by(Contact.email), limit=limit, offset=offset)


def create_contact(
    session: Session,
    actor: Principal,
    *,
    email: str,
    name: str = "",
    customer_id: int | None = None,
) -> Contact:
    actor.require(CUSTOMERS_MANAGE)
    address = normalize_email(email)
    if find_contact(session, address) is not None:
        raise Conflict(f"a contact with e-mail {address} already exists")
    return _insert_contact(session, actor, address, name, customer_id)


def ensure_contact(session: Session, actor: Principal, *, email: str, name: str = "") -> Contact:
    """The contact for `email`, created (with the customer of its domain) when new.

    Used by the mail pipeline; the sender's display name is kept only as display text.
    """
    address = email.lower()
    known: dict[str, Contact] = session.info.setdefault(_CONTACTS_SEEN, {})
    contact = known.get(address)
    if contact is not None and _in_session(contact) and contact.email == address:
        return contact  # found or made earlier in this transaction (a bulk batch)
    absent: set[str] = session.info.get(_CONTACTS_ABSENT, set())
    contact = None if address in absent else find_contact(session, address)
    if contact is not None:
        known[address] = contact
        return contact
    absent.discard(address)  # made below, or looked up again should its savepoint roll back
    domain = address.rpartition("@")[2]
    customer_id = memo(
        session,
        ("customer_for_domain", domain),
        lambda: getattr(customer_for_domain(session, domain), "id", None),
        depends_on=(CustomerDomain, Customer),
    )
    if ids.sole_writer(session):
        contact = _add_numbered(session, actor, address, name, customer_id)
        known[address] = contact
        return contact
    contact = _insert_contact_unless_taken(session, actor, address, name, customer_id)
    if contact is None:
        # Another worker's transaction made this sender's contact first (two first mails
        # from one new address processed at once, RELIABILITY T42): use that one. It is
        # that transaction's row, so nothing this session holds unwritten is flushed for
        # the look-up (in a bulk batch an autoflush wrote the batch's pending rows one by
        # one through the unit of work: a seventh of a worker's time with two, 2026-12-06).
        with session.no_autoflush:
            contact = find_contact(session, address)
        if contact is None:  # pragma: no cover - the conflicting row is committed
            raise Conflict(f"the contact {address} was made and removed at once; try again")
    known[address] = contact
    return contact


def _in_session(contact: Contact) -> bool:
    """Whether a kept contact is still the session's: written, or added and not yet written
    (a savepoint that rolled back takes an added one out, and its row never existed)."""
    state = instance_state(contact)  # what `inspect` answers, without its look-up by type
    return state.persistent or state.pending


def _add_numbered(
    session: Session, actor: Principal, email: str, name: str, customer_id: int | None
) -> Contact:
    """A SQLite bulk batch's new contact: numbered now and written with the batch's next
    flush (a chunk's new senders with one statement), not one INSERT a sender. Every contact
    such a batch makes is made here: one made by an INSERT of its own would take an id the
    batch's counter hands out later."""
    if customer_id is not None and reads.get(session, Customer, customer_id) is None:
        raise ValidationFailed(f"customer {customer_id} does not exist")
    contact = Contact(email=email, name=single_line(name, 300), customer_id=customer_id)
    ids.assign(session, contact)
    session.add(contact)
    _audit_created(session, actor, contact)
    return contact


def _insert_contact_unless_taken(
    session: Session, actor: Principal, email: str, name: str, customer_id: int | None
) -> Contact | None:
    """`_insert_contact` with one `INSERT ... ON CONFLICT (email) DO NOTHING RETURNING`: the
    new contact, or None when another transaction holds that address (on PostgreSQL the
    statement waits for it to commit). No savepoint and no flush of its own, so a new
    sender costs one statement on both databases; in a PostgreSQL bulk batch the statement
    runs in a transaction of its own (`_insert_on_its_own`)."""
    if customer_id is not None and reads.get(session, Customer, customer_id) is None:
        raise ValidationFailed(f"customer {customer_id} does not exist")
    postgres = session.get_bind().dialect.name == "postgresql"
    values = {"email": email, "name": single_line(name, 300), "customer_id": customer_id}
    if postgres and deferred.active(session):
        return _insert_on_its_own(session, actor, values)
    return _insert_in_session(session, actor, _insert_statement(postgres, values))


def _insert_statement(postgres: bool, values: dict[str, Any]) -> Any:
    insert = pg_insert if postgres else sqlite_insert
    return (
        insert(Contact)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(Contact)
    )


def _insert_in_session(session: Session, actor: Principal, statement: Any) -> Contact | None:
    with touching(session, Contact):
        contact: Contact | None = session.scalars(statement).first()
    if contact is None:
        return None
    _forget_if_rolled_back(session, contact.email)
    _audit_created(session, actor, contact)
    return contact


def _insert_on_its_own(
    session: Session, actor: Principal, values: dict[str, Any]
) -> Contact | None:
    """A PostgreSQL bulk batch's new contact, made with its audit row by one statement of
    its own, committed at once, then taken into the batch: another worker's batch that
    meets the same new sender waits for that statement only, not for this whole batch (it
    waited for the batch's commit: `bench/README.md`, two workers). The contact stays should
    the batch roll back (a re-run finds it). When the statement waits too long for the
    address (`hubdesk.db.quick`), the batch makes the contact itself."""
    params = {
        **values,
        "created_at": utcnow(),
        **audit.recorded_params(actor, audit.created(values)),
    }
    try:
        found = quick.rows(session.get_bind().engine, _MADE_WITH_AUDIT, params)
    except OperationalError as exc:
        if not quick.lock_wait_timed_out(exc):
            raise
        # another transaction has held the address for long: it may be waiting for this
        # batch (a cycle PostgreSQL cannot see), so make the contact in the batch itself
        return _insert_in_session(session, actor, _insert_statement(True, values))
    if not found:
        return None
    contact = Contact(**found[0]._asdict())
    make_transient_to_detached(contact)  # the committed row, as if read from the database
    with touching(session, Contact):
        return session.merge(contact, load=False)  # the row as committed, not read again


def _made_with_audit() -> Any:
    made = (
        pg_insert(Contact)
        .values(
            email=bindparam("email"),
            name=bindparam("name"),
            customer_id=bindparam("customer_id"),
            created_at=bindparam("created_at"),
        )
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(Contact)
        .cte("contact")
    )
    logged = audit.recorded_with(made, entity_type="contact", action="created")
    return select(made).add_cte(logged)


_MADE_WITH_AUDIT: Final = _made_with_audit()
"""A new contact and its audit row, one statement (built once: each contact binds its
values)."""


def _audit_created(session: Session, actor: Principal, contact: Contact) -> None:
    audit.record(
        session,
        actor,
        entity_type="contact",
        entity_id=contact.id,
        action="created",
        changes=audit.created(
            {"email": contact.email, "name": contact.name, "customer_id": contact.customer_id}
        ),
    )


_CONTACTS_SEEN: Final = "hubdesk_contacts_by_email"
"""Per session (transaction): the contacts `ensure_contact` found or made, by address. One
that a rolled-back savepoint took away is no longer persistent and is looked up again."""
_CONTACTS_MADE: Final = "hubdesk_contacts_made"
"""Per session: addresses whose contact this session inserted, until a rollback."""


def _forget_if_rolled_back(session: Session, address: str) -> None:
    """A contact the INSERT ... RETURNING made is loaded, not added: a savepoint that rolls
    back does not take it out of the session as it would an added one, so `ensure_contact`
    would go on using a row that no longer exists. Any rollback (a failed message's or a
    workflow's savepoint) therefore drops every contact this session made from the kept
    ones; they are looked up again when next needed (the made ones that survived are
    found)."""
    made: set[str] | None = session.info.get(_CONTACTS_MADE)
    if made is None:
        made = session.info[_CONTACTS_MADE] = set()
        event.listen(session, "after_soft_rollback", _forget_made)
    made.add(address)


def _forget_made(session: Session, _previous: object) -> None:
    made: set[str] = session.info.get(_CONTACTS_MADE, set())
    known: dict[str, Contact] = session.info.get(_CONTACTS_SEEN, {})
    for address in made:
        known.pop(address, None)
    made.clear()


_CONTACTS_ABSENT: Final = "hubdesk_contacts_absent"
"""Per session (transaction): addresses `prefetch_contacts` found no contact for."""


def prefetch_contacts(session: Session, emails: Iterable[str]) -> None:
    """Read the contacts of `emails` with one statement for `ensure_contact` (a bulk batch's
    chunk of senders): the ones found are kept for the transaction like those it found
    itself, and an address without one is known to have none, so that `ensure_contact`
    makes it without asking again. (A contact another transaction commits meanwhile is
    caught by `ensure_contact`'s INSERT ... ON CONFLICT DO NOTHING, which then reads it.)"""
    known: dict[str, Contact] = session.info.setdefault(_CONTACTS_SEEN, {})
    absent: set[str] = session.info.setdefault(_CONTACTS_ABSENT, set())
    # the chunk's addresses not kept yet (asking of each kept contact of the batch whether
    # it still is the session's, every chunk, was 0.5 % of a bulk batch)
    wanted = {
        address
        for address in {email.lower() for email in emails}
        if (kept := known.get(address)) is None or not _in_session(kept)
    }
    if not wanted:
        return
    found = {c.email: c for c in session.scalars(_CONTACTS_BY_EMAIL, {"emails": list(wanted)})}
    known.update(found)
    absent.update(wanted - set(found))


_CONTACTS_BY_EMAIL: Final = select(Contact).where(
    Contact.email.in_(bindparam("emails", expanding=True))
)


def _insert_contact(
    session: Session, actor: Principal, email: str, name: str, customer_id: int | None
) -> Contact:
    if customer_id is not None and session.get(Customer, customer_id) is None:
        raise ValidationFailed(f"customer {customer_id} does not exist")
    contact = Contact(email=email, name=single_line(name, 300), customer_id=customer_id)
    session.add(contact)
    session.flush()
    _audit_created(session, actor, contact)
    return contact


def update_contact(
    session: Session, actor: Principal, contact: Contact, changes: dict[str, Any]
) -> Contact:
    actor.require(CUSTOMERS_MANAGE)
    before = {"name": contact.name, "customer_id": contact.customer_id}
    if "name" in changes:
        contact.name = single_line(changes["name"] or "", 300)
    if "customer_id" in changes:
        customer_id = changes["customer_id"]
        if customer_id is not None and session.get(Customer, customer_id) is None:
            raise ValidationFailed(f"customer {customer_id} does not exist")
        contact.customer_id = customer_id
    diff = audit.changes_between(before, {"name": contact.name, "customer_id": contact.customer_id})
    if diff:
        session.flush()
        audit.record(
            session,
            actor,
            entity_type="contact",
            entity_id=contact.id,
            action="updated",
            changes=diff,
        )
    return contact
