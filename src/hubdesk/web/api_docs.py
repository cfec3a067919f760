"""`/docs`: the OpenAPI page, Swagger UI 5 served from the installed `swagger-ui-py` package.

Nothing is loaded from another host (the page works offline and behind a firewall): the
bundle's script and stylesheet come from `/docs/assets/`, our start-up script from
`/docs/init.js` (no inline script), and the page has its own Content-Security-Policy that
allows only this site (`data:` images for Swagger UI's icons; inline styles because Swagger UI
sets them). The online validator badge and deep links (links nested in buttons) are switched
off, and `/docs/hubdesk.css` gives Swagger UI's badges and links AA contrast. `/redoc`, which
could only load from a CDN, now leads to `/docs`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Final

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse, RedirectResponse, Response

DOCS_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
_PAGE: Final = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="stylesheet" href="/docs/hubdesk.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
<main id="swagger-ui" data-openapi-url="{openapi_url}"></main>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
"""
_INIT: Final = """window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: false,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
    layout: "BaseLayout"
  });
});
"""
_CSS: Final = """/* WCAG 2.1 AA contrast for Swagger UI's badges and links. */
.swagger-ui .info .title small, .swagger-ui .info .title small pre.version {
  background: #3b4151; color: #fff;
}
.swagger-ui .info .title small.version-stamp,
.swagger-ui .info .title small.version-stamp pre.version { background: #2f5d00; color: #fff; }
.swagger-ui .info a, .swagger-ui .info .url, .swagger-ui .info .link { color: #1a4f9c; }
.swagger-ui .parameter__in, .swagger-ui .parameter__type, .swagger-ui .parameter__deprecated,
.swagger-ui .prop-format, .swagger-ui .json-schema-2020-12-expand-deep-button,
.swagger-ui .json-schema-2020-12-keyword__value--secondary,
.swagger-ui .json-schema-2020-12__attribute--muted { color: #4b5563 !important; }
.swagger-ui .parameter__name.required span, .swagger-ui .parameter__name.required::after,
.swagger-ui .json-schema-2020-12__attribute--warning { color: #b42318 !important; }
.swagger-ui .opblock .opblock-summary-method { color: #fff !important; }
.swagger-ui .opblock.opblock-get .opblock-summary-method { background: #1f5f9e !important; }
.swagger-ui .opblock.opblock-post .opblock-summary-method { background: #1e6e48 !important; }
.swagger-ui .opblock.opblock-put .opblock-summary-method { background: #8a4f00 !important; }
.swagger-ui .opblock.opblock-delete .opblock-summary-method { background: #b42318 !important; }
.swagger-ui .opblock.opblock-patch .opblock-summary-method { background: #135f53 !important; }
.swagger-ui .opblock.opblock-head .opblock-summary-method { background: #6b3fa0 !important; }
.swagger-ui .opblock.opblock-options .opblock-summary-method { background: #1d4f7a !important; }
"""


def swagger_ui_dir() -> Path:
    """The Swagger UI files of the installed `swagger-ui-py` (Swagger UI 5, which reads the
    OpenAPI 3.1 that FastAPI writes; `swagger-ui-bundle` ships 4.x, which cannot)."""
    static = Path(str(resources.files("swagger_ui"))) / "static"
    if not (static / "swagger-ui-bundle.js").is_file():
        raise RuntimeError(f"swagger-ui-py has no swagger-ui-bundle.js under {static}")
    return static


def install(app: FastAPI) -> None:
    """Add `/docs`, its assets and `/redoc` (the app is built with docs_url=None)."""
    page = _PAGE.format(title=app.title, openapi_url=app.openapi_url or "/openapi.json")

    def docs() -> Response:
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_POLICY})

    def init() -> Response:
        return Response(_INIT, media_type="text/javascript")

    def css() -> Response:
        return Response(_CSS, media_type="text/css")

    def redoc() -> Response:
        return RedirectResponse("/docs", status_code=308)

    app.mount("/docs/assets", StaticFiles(directory=str(swagger_ui_dir())), name="docs-assets")
    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs/init.js", init, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs/hubdesk.css", css, methods=["GET"], include_in_schema=False)
    app.add_api_route("/redoc", redoc, methods=["GET"], include_in_schema=False)
