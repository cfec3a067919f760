"""API size limits: what the probe's oversized requests cost now, and how large the largest
list page can be, on SQLite, in one run.

- a 20 MB `description` and a 10 MB `custom_fields` body (the probe's): answered 413 before
  parsing; wall time and CPU of the request;
- 100,000 `tags` (the probe's 60-second request; under the body cap): answered 422 at once;
- the largest page of tickets: 200 tickets each at every cap (100,000-character
  description, 64 KiB of custom fields, 1,000-character subject, 10 tags), listed with
  `limit=200`: bytes of the answer.

    .venv/bin/python -m bench.api_limits
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from bench.ingest import runtime_for
from hubdesk.users import service as users
from hubdesk.users.permissions import SYSTEM
from hubdesk.web.app import create_app
from hubdesk.web.limits import (
    MAX_CUSTOM_FIELDS_BYTES,
    MAX_DESCRIPTION_CHARS,
    MAX_PAGE_LIMIT,
    MAX_SUBJECT_CHARS,
)


def timed(send: Any) -> dict[str, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    response = send()
    return {
        "status": response.status_code,
        "wall_s": round(time.perf_counter() - wall, 3),
        "cpu_s": round(time.process_time() - cpu, 3),
        "answer_bytes": len(response.content),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as work:
        runtime = runtime_for(f"sqlite:///{Path(work) / 'bench.db'}", Path(work))
        with runtime.db.transaction() as session:
            admin = users.create_user(
                session, SYSTEM, email="a@x.dk", name="A", password=None, groups=["admins"]
            )
            _token, secret = users.create_token(session, SYSTEM, admin, name="bench")
        headers = {"Authorization": f"Bearer {secret}"}
        results: dict[str, Any] = {}
        with TestClient(create_app(runtime.settings, runtime=runtime)) as client:
            results["description_20MB"] = timed(
                lambda: client.post(
                    "/api/v1/tickets",
                    json={"subject": "x", "description": "d" * 20_000_000},
                    headers=headers,
                )
            )
            results["custom_fields_10MB"] = timed(
                lambda: client.post(
                    "/api/v1/tickets",
                    json={"subject": "x", "custom_fields": {"k": "v" * 10_000_000}},
                    headers=headers,
                )
            )
            results["tags_100000"] = timed(
                lambda: client.post(
                    "/api/v1/tickets",
                    json={"subject": "x", "tags": [str(i) for i in range(100_000)]},
                    headers=headers,
                )
            )
            filler = MAX_CUSTOM_FIELDS_BYTES - len(json.dumps({"k": ""}, separators=(",", ":")))
            biggest = {
                "subject": "s" * MAX_SUBJECT_CHARS,
                "description": "d" * MAX_DESCRIPTION_CHARS,
                "custom_fields": {"k": "x" * filler},
                "tags": [f"tag{i}" for i in range(10)],
            }
            for _ in range(MAX_PAGE_LIMIT):
                assert client.post("/api/v1/tickets", json=biggest, headers=headers).is_success
            results["largest_page"] = timed(
                lambda: client.get(
                    "/api/v1/tickets", params={"limit": MAX_PAGE_LIMIT}, headers=headers
                )
            )
        runtime.close()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
