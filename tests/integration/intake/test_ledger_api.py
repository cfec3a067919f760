"""The inbound ledger over HTTP: raw submission, listing by status, raw bytes, reprocess;
and the retention purge."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hubdesk.audit.models import AuditEntry
from hubdesk.db.types import utcnow
from hubdesk.inbound import group_commit
from hubdesk.inbound import service as inbound
from hubdesk.inbound.models import InboundMessage
from hubdesk.intake import pipeline
from hubdesk.runtime import Runtime
from tests.support.api import Api
from tests.support.mail import deeply_nested, raw_mail


def _submit(api: Api, raw: bytes, role: str = "admins") -> dict[str, object]:
    response = api.post(
        "/api/v1/inbound/raw", role, content=raw, headers={"Content-Type": "message/rfc822"}
    )
    return api.ok(response)  # type: ignore[no-any-return]


def test_raw_submission_creates_a_ticket(api: Api) -> None:
    """POST /inbound/raw with message/rfc822 runs the pipeline and says what happened."""
    result = _submit(api, raw_mail(subject="Raw over HTTP"))
    assert result["status"] == "created"
    assert result["created"] is True
    assert str(result["ticket_number"]).startswith("TKT-")


def test_raw_submission_refuses_other_content_and_oversize(api: Api) -> None:
    """Another content type is 415, an empty body 422, and an oversized one 413."""
    wrong = api.post("/api/v1/inbound/raw", content=b"x", headers={"Content-Type": "text/plain"})
    assert wrong.status_code == 415
    assert "message/rfc822" in wrong.json()["detail"]
    empty = api.post("/api/v1/inbound/raw", content=b"", headers={"Content-Type": "message/rfc822"})
    assert empty.status_code == 422
    limit = api.runtime.settings.mail_max_message_bytes
    big = b"Subject: big\r\n\r\n" + b"x" * (limit + 1)
    too_big = api.post(
        "/api/v1/inbound/raw", content=big, headers={"Content-Type": "message/rfc822"}
    )
    assert too_big.status_code == 413
    assert "MAIL_MAX_MESSAGE_BYTES" in too_big.json()["detail"]


def test_ledger_lists_by_status_and_serves_raw_bytes_safely(api: Api) -> None:
    """The quarantined filter shows the poison message; its raw bytes come back unchanged
    as a download that browsers may not render or sniff."""
    poison = deeply_nested(60)
    quarantined = _submit(api, poison)
    _submit(api, raw_mail())
    listed = api.ok(api.get("/api/v1/inbound?status=quarantined"))
    assert [row["id"] for row in listed["items"]] == [quarantined["inbound_id"]]
    assert listed["items"][0]["reason"].startswith("mime_depth")
    everything = api.ok(api.get("/api/v1/inbound"))
    assert everything["total"] == 2
    detail = api.ok(api.get(f"/api/v1/inbound/{quarantined['inbound_id']}"))
    assert detail["status"] == "quarantined"
    raw = api.get(f"/api/v1/inbound/{quarantined['inbound_id']}/raw")
    assert raw.status_code == 200
    assert raw.content == poison
    assert raw.headers["content-disposition"].startswith("attachment;")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert raw.headers["content-security-policy"] == "sandbox"
    bad_status = api.get("/api/v1/inbound?status=lost")
    assert bad_status.status_code == 422


def test_reprocess_over_http(api: Api) -> None:
    """Reprocessing a quarantined message runs it again; a processed one is a 409."""
    quarantined = _submit(api, deeply_nested(60))
    again = api.ok(api.post(f"/api/v1/inbound/{quarantined['inbound_id']}/reprocess"))
    assert again["status"] == "quarantined"
    done = _submit(api, raw_mail())
    conflict = api.post(f"/api/v1/inbound/{done['inbound_id']}/reprocess")
    assert conflict.status_code == 409
    assert "processed" in conflict.json()["detail"]


def test_email_attachments_are_downloadable_with_safe_headers(api: Api) -> None:
    """An HTML attachment from mail is stored byte for byte and only ever downloaded."""
    page = b"<html><script>window.__pwned=1</script></html>"
    result = _submit(
        api,
        raw_mail(attachments=[("../../evil.html", "text/html", page)]),
    )
    listed = api.ok(api.get(f"/api/v1/tickets/{result['ticket_id']}/attachments"))
    [attachment] = listed["items"]
    assert "/" not in attachment["filename"]
    assert attachment["filename"].endswith(".html")
    download = api.get(f"/api/v1/attachments/{attachment['id']}/download")
    assert download.content == page
    assert download.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in download.headers["content-disposition"]
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-security-policy"] == "sandbox"


def test_purge_forgets_old_raw_bytes_but_keeps_quarantined_mail(runtime: Runtime) -> None:
    """Raw bytes of mail processed before the retention window go, whether its ledger row
    held them (a small message) or the blob store did (one above
    HUBDESK_INLINE_MAX_BYTES); quarantined mail stays."""
    big_body = "large " * (runtime.settings.inline_max_bytes // 5)
    old = pipeline.ingest(runtime, raw_mail(subject="old"), source="t")
    old_large = pipeline.ingest(runtime, raw_mail(subject="old, large", body=big_body), source="t")
    poison = pipeline.ingest(runtime, deeply_nested(60), source="t")
    fresh = pipeline.ingest(runtime, raw_mail(subject="fresh"), source="t")
    long_ago = utcnow() - timedelta(days=runtime.settings.raw_retention_days + 1)
    with runtime.db.transaction() as session:
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.id.in_([old.inbound_id, old_large.inbound_id, poison.inbound_id]))
            .values(processed_at=long_ago)
        )
        large_digest = session.get(InboundMessage, old_large.inbound_id).raw_sha256
    assert runtime.blobs.exists(large_digest), "a large message's bytes are in the blob store"
    with runtime.db.transaction() as session:
        purged = inbound.purge_raw(
            session, runtime.blobs, older_than_days=runtime.settings.raw_retention_days
        )
    assert purged == 2
    with runtime.db.transaction(write=False) as session:
        rows = {r.id: r for r in session.scalars(select(InboundMessage))}
        for gone in (old.inbound_id, old_large.inbound_id):
            assert rows[gone].raw_purged_at is not None
            assert rows[gone].raw_inline is None
            assert not inbound.raw_kept(runtime.blobs, rows[gone])
        assert not runtime.blobs.exists(large_digest)
        assert inbound.raw_kept(runtime.blobs, rows[poison.inbound_id])
        assert inbound.raw_kept(runtime.blobs, rows[fresh.inbound_id])
        assert rows[fresh.inbound_id].raw_inline is not None, "a small message is in its row"


def test_concurrent_raw_submissions_share_one_ledger_commit(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 9, live paths: POST /inbound/raw goes through the process's group committer.
    The first submission's commit is held until five more are queued behind it; those five
    then go in one commit together, each answered 2xx after it, with its `submitted` audit
    row in it."""
    committer = group_commit.for_runtime(api.runtime)
    held, queued = threading.Event(), threading.Event()
    real = committer._commit

    def hold_first(batch: list[Any]) -> None:
        if not held.is_set():
            held.set()
            assert queued.wait(120)
        real(batch)

    monkeypatch.setattr(committer, "_commit", hold_first)
    results: dict[int, dict[str, object]] = {}

    def post(n: int) -> None:
        results[n] = _submit(api, raw_mail(subject=f"shared {n}", message_id=f"<shared{n}@x>"))

    threads = [threading.Thread(target=post, args=(n,)) for n in range(6)]
    threads[0].start()
    assert held.wait(120)
    before = committer.commits
    for thread in threads[1:]:
        thread.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with committer._cond:
            if len(committer._queue) == 5:
                break
        time.sleep(0.005)
    queued.set()
    for thread in threads:
        thread.join(120)
    assert committer.commits == before + 2
    assert {result["status"] for result in results.values()} == {"created"}, results
    inbound_ids = {result["inbound_id"] for result in results.values()}
    assert len(inbound_ids) == 6
    with api.runtime.db.transaction(write=False) as session:
        submitted = set(
            session.scalars(
                select(AuditEntry.entity_id).where(
                    AuditEntry.entity_type == "inbound_message", AuditEntry.action == "submitted"
                )
            )
        )
    assert inbound_ids <= submitted
