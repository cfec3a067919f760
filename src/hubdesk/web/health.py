"""`GET /api/v1/health`: no authentication; 503 with the reason when something is down."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hubdesk.errors import DatabaseUnavailable
from hubdesk.web.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/health")
def health(runtime: RuntimeDep) -> JSONResponse:
    body: dict[str, Any] = {"status": "ok", "database": "ok"}
    try:
        runtime.db.ping()
    except DatabaseUnavailable as exc:
        body.update(status="error", database="unavailable", reason=str(exc))
        return JSONResponse(body, status_code=503)
    return JSONResponse(body)
