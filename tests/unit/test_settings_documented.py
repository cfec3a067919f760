"""Every setting is documented where users look: .env.example and docs/configuration.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubdesk.config import Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted(env_name(field) for field in Settings.model_fields)


@pytest.mark.parametrize("name", NAMES)
def test_setting_in_env_example(name: str) -> None:
    """.env.example names the setting (commented out when it has no default)."""
    assert name in (ROOT / ".env.example").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_setting_in_configuration_doc(name: str) -> None:
    """docs/configuration.md explains the setting."""
    assert f"`{name}`" in (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
