"""The trusted server's verdict on a From domain (pure; hubdesk.mail.sender_auth)."""

from __future__ import annotations

import pytest

from hubdesk.mail.sender_auth import aligned, judge
from hubdesk.mail.types import AuthVerdict


def _v(method: str, result: str, detail: str = "") -> AuthVerdict:
    return AuthVerdict(method, result, "mx.example.net", detail)


@pytest.mark.parametrize(
    ("verdicts", "status"),
    [
        ((_v("dmarc", "pass", "header.from=example.com"),), "verified"),
        ((_v("dmarc", "fail", "header.from=example.com"),), "failed"),
        ((_v("dmarc", "fail", "header.from=other.example"),), "unknown"),
        ((_v("dkim", "pass", "header.d=example.com header.s=s1"),), "verified"),
        ((_v("dkim", "pass", "header.d=mail.example.com"),), "verified"),
        ((_v("dkim", "pass", "header.d=evil.example"),), "unknown"),
        ((_v("dkim", "pass", "header.i=@example.com"),), "verified"),
        ((_v("spf", "pass", "smtp.mailfrom=bounce@example.com"),), "verified"),
        ((_v("spf", "pass", "smtp.mailfrom=bounce@lists.other.example"),), "unknown"),
        ((_v("spf", "fail", "smtp.mailfrom=x@example.com"),), "failed"),
        ((_v("spf", "softfail", "smtp.mailfrom=x@example.com"),), "unknown"),
        (
            (
                _v("spf", "fail", "smtp.mailfrom=x@example.com"),
                _v("dkim", "pass", "header.d=example.com"),
            ),
            "verified",
        ),
        (
            (
                _v("spf", "fail", "smtp.mailfrom=x@example.com"),
                _v("dkim", "fail", "header.d=example.com"),
            ),
            "failed",
        ),
        (
            (
                _v("dmarc", "fail", "header.from=example.com"),
                _v("dkim", "pass", "header.d=example.com"),
            ),
            "failed",
        ),
        ((), "unknown"),
    ],
)
def test_judge(verdicts: tuple[AuthVerdict, ...], status: str) -> None:
    assert judge("Example.COM", verdicts).status == status


def test_alignment_never_joins_unrelated_domains() -> None:
    assert aligned("example.com", "EXAMPLE.com.")
    assert aligned("a.example.com", "example.com")
    assert not aligned("badexample.com", "example.com")
    assert not aligned("example.com.evil", "example.com")
