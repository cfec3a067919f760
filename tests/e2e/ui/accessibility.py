"""axe-core (shipped inside the `axe-playwright-python` wheel) run on a live page.

`assert_accessible(page)` fails with each WCAG 2.1 A/AA violation's rule, impact and the
first offending elements, so a test names what to fix.
"""

from __future__ import annotations

from typing import Any, Final

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

WCAG_21_AA: Final = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page: Page) -> list[dict[str, Any]]:
    options = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
    results = Axe().run(page, options=options)
    found: list[dict[str, Any]] = results.response["violations"]
    return found


def assert_accessible(page: Page) -> None:
    found = violations(page)
    described = [
        f"{v['id']} ({v.get('impact')}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in found
    ]
    assert described == [], f"{page.url}: {described}"
