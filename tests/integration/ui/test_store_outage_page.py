"""An object-store outage on a page is the 503 "try again" page, not "something went wrong"
(a 500), as the API answers 503 (both databases)."""

from __future__ import annotations

import pytest

from hubdesk.errors import StorageUnavailable
from hubdesk.intake.pipeline import ingest
from hubdesk.runtime import Runtime
from tests.integration.ui.client import UiClient, text_of
from tests.support.mail import raw_mail


def test_the_raw_mail_page_during_an_outage_is_try_later(
    ui: UiClient, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # larger than a ledger row keeps itself (HUBDESK_INLINE_MAX_BYTES): in the store
    large = "x" * (runtime.settings.inline_max_bytes + 1)
    made = ingest(runtime, raw_mail(subject="Kept in the bucket", body=large), source="test")
    ui.log_in_as(["admins"])

    def unreachable(_digest: str) -> bytes:
        raise StorageUnavailable("the object store s3://secret-bucket cannot read it now")

    monkeypatch.setattr(runtime.blobs, "read", unreachable)
    page = ui.get(f"/admin/inbound/{made.inbound_id}/raw")
    assert page.status_code == 503
    shown = text_of(page.text)
    assert "Stored mail and attachments cannot be reached right now." in shown
    assert "secret-bucket" not in page.text
