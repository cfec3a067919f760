"""A new sender's contact, made by the mail pipeline (`customers.ensure_contact`; on SQLite
without a savepoint, as writers are serialised there): the customer of its domain, one
`created` audit row, the same contact again for the same address in any case; and two
transactions making the same new sender's contact at once (PostgreSQL, in a savepoint) end
with one contact, made and audited once; a PostgreSQL bulk batch makes it in a short
transaction of its own."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text

from hubdesk.audit.models import AuditEntry
from hubdesk.auth import ALL_PERMISSIONS, Principal
from hubdesk.customers import service as customers
from hubdesk.customers.models import Contact, Customer
from hubdesk.db import deferred
from hubdesk.runtime import Runtime

MAIL = Principal(user_id=None, email="email:x", permissions=frozenset(ALL_PERMISSIONS))


def _created_audits(runtime: Runtime) -> int:
    with runtime.db.transaction(write=False) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.entity_type == "contact", AuditEntry.action == "created")
            )
            or 0
        )


def test_a_new_sender_gets_one_contact_with_the_customer_of_its_domain(
    runtime: Runtime,
) -> None:
    with runtime.db.transaction() as session:
        customer = customers.create_customer(session, MAIL, name="Acme", domains=["acme.dk"])
        customer_id = customer.id
    with runtime.db.transaction() as session:
        made = customers.ensure_contact(session, MAIL, email="Ann@Acme.dk", name="Ann\r\nX")
        again = customers.ensure_contact(session, MAIL, email="ann@acme.dk")
        assert again is made
        made_id = made.id
        assert (made.email, made.name, made.customer_id) == ("ann@acme.dk", "Ann X", customer_id)
    with runtime.db.transaction() as session:  # a later transaction finds it
        assert customers.ensure_contact(session, MAIL, email="ANN@acme.dk").id == made_id
        assert customers.ensure_contact(session, MAIL, email="bo@other.dk").customer_id is None
    assert _created_audits(runtime) == 2


def test_two_transactions_making_one_new_sender_end_with_one_contact(
    runtime: Runtime, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("SQLite serialises writers: two transactions cannot make it at once")
    holding, release = threading.Event(), threading.Event()
    made_by_other: list[int] = []

    def other_worker_for(address: str) -> Callable[[], None]:
        def other_worker() -> None:
            with runtime.db.transaction() as session:
                made_by_other.append(customers.ensure_contact(session, MAIL, email=address).id)
                holding.set()
                release.wait(30)  # commits while the other transaction waits on the address

        return other_worker

    worker = threading.Thread(target=other_worker_for("new@x.dk"))
    worker.start()
    assert holding.wait(30)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    with runtime.db.transaction() as session:
        found = customers.ensure_contact(session, MAIL, email="new@x.dk").id
    waited = time.monotonic() - started
    worker.join(30)
    assert waited >= 0.4  # it did meet the other transaction's uncommitted contact
    assert found == made_by_other[0]
    with runtime.db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 1
    assert _created_audits(runtime) == 1

    # The same met by a bulk batch (the address read ahead as absent, its contact made by a
    # statement of its own): looking up the other transaction's contact writes none of the
    # batch's unwritten rows (an autoflush wrote them one by one, not with the batch's
    # set-wise writes).
    holding.clear()
    release.clear()
    made_by_other.clear()
    worker = threading.Thread(target=other_worker_for("late@x.dk"))
    worker.start()
    assert holding.wait(30)
    threading.Timer(0.5, release.set).start()
    with runtime.db.transaction() as session:
        deferred.enable(session)
        customers.prefetch_contacts(session, ["late@x.dk"])
        unwritten = Customer(name="Unwritten Ltd")
        session.add(unwritten)
        found = customers.ensure_contact(session, MAIL, email="late@x.dk").id
        assert unwritten in session.new
        session.expunge(unwritten)
    worker.join(30)
    assert found == made_by_other[0]


def test_a_bulk_batch_on_postgresql_makes_a_new_contact_without_holding_it(
    runtime: Runtime,
) -> None:
    """A bulk batch (deferred writes on) makes a new sender's contact: on PostgreSQL with a
    statement of its own committed at once, so another transaction finds it while the batch is
    still open, audited once, and it stays when the batch rolls back; on SQLite in the
    batch itself, so it goes with the batch's rollback."""
    from hubdesk.db import deferred

    postgres = runtime.db.engine.dialect.name == "postgresql"
    made: list[int] = []

    def batch_that_fails() -> None:
        with runtime.db.transaction() as session:
            deferred.enable(session)
            contact = customers.ensure_contact(session, MAIL, email="Batch@x.dk", name="B")
            made.append(contact.id)
            assert customers.ensure_contact(session, MAIL, email="batch@x.dk") is contact
            if postgres:  # seen by another transaction while this batch is open
                with runtime.db.transaction() as other:
                    other.execute(text("SET LOCAL lock_timeout = '5s'"))
                    found = customers.ensure_contact(other, MAIL, email="batch@x.dk")
                    assert found.id == contact.id
            raise RuntimeError("the batch fails")

    with pytest.raises(RuntimeError, match="the batch fails"):
        batch_that_fails()
    with runtime.db.transaction(write=False) as session:
        kept = session.scalars(select(Contact.id).where(Contact.email == "batch@x.dk")).all()
    assert kept == (made if postgres else [])
    assert _created_audits(runtime) == (1 if postgres else 0)


def test_a_bulk_batch_makes_the_contact_itself_when_the_address_is_held_long(
    runtime: Runtime,
) -> None:
    """Another transaction holds a new address for longer than a batch's short transaction
    waits (`db.quick.OWN_LOCK_WAIT`, PostgreSQL), then rolls back: the batch made the
    contact in its own transaction (where a real deadlock would be seen), so the contact
    goes with the batch's rollback. On SQLite the batch waits for the holder all the same."""
    from hubdesk.db import deferred

    holding = threading.Event()

    class _Undo(Exception):
        pass

    def hold_then_roll_back() -> None:
        with runtime.db.transaction() as session:
            customers.ensure_contact(session, MAIL, email="held@x.dk")
            holding.set()
            time.sleep(3)  # longer than OWN_LOCK_WAIT (2 s)
            raise _Undo

    def holder() -> None:
        with contextlib.suppress(_Undo):
            hold_then_roll_back()

    def batch_that_fails() -> None:
        with runtime.db.transaction() as session:
            deferred.enable(session)
            customers.ensure_contact(session, MAIL, email="held@x.dk")
            raise RuntimeError("the batch fails")

    worker = threading.Thread(target=holder)
    worker.start()
    try:
        assert holding.wait(30)
        with pytest.raises(RuntimeError, match="the batch fails"):
            batch_that_fails()
    finally:
        worker.join(30)
    with runtime.db.transaction(write=False) as session:
        assert session.scalar(select(func.count()).select_from(Contact)) == 0
    assert _created_audits(runtime) == 0
