"""`HUBDESK_TRUSTED_PROXIES`: empty by default (no forwarded header is believed), a list of
addresses and networks, and a broken value stops start-up with one sentence naming it."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path

import pytest

from hubdesk.config import load_settings
from hubdesk.errors import ConfigError
from tests.unit.test_config import clean_env

__all__ = ["clean_env"]


def test_no_proxy_is_trusted_by_default(clean_env: Path) -> None:
    assert load_settings().trusted_proxy_networks == ()


def test_addresses_and_networks_are_read(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUBDESK_TRUSTED_PROXIES", " 127.0.0.1, 10.0.0.0/8,::1 ,")
    assert load_settings().trusted_proxy_networks == (
        ip_network("127.0.0.1/32"),
        ip_network("10.0.0.0/8"),
        ip_network("::1/128"),
    )


@pytest.mark.parametrize("value", ["localhost", "10.0.0.0/33", "1.2.3.4 5.6.7.8"])
def test_a_broken_list_is_one_sentence_naming_the_setting(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("HUBDESK_TRUSTED_PROXIES", value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    message = str(raised.value)
    assert message.startswith("Setting HUBDESK_TRUSTED_PROXIES is invalid")
    assert "comma-separated list of IP addresses or networks" in message
    assert message.count("Setting ") == 1
