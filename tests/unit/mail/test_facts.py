"""Facts kept apart: auto_reply (RFC 3834), bulk, bounce (DSN and MTA notices) with the
bounced addresses and the original Message-ID, and Authentication-Results of a trusted MTA."""

from __future__ import annotations

import pytest

from hubdesk.mail.authres import parse_authentication_results
from hubdesk.mail.types import AuthVerdict
from tests.unit.mail.builders import message, multipart_message, part
from tests.unit.mail.conftest import parsed

BASE = [("From", "Customer <c@customer-a.example>"), ("To", "support@hubdesk.example")]


def _facts(
    extra: list[tuple[str, str]], subject: str = "Printer"
) -> tuple[bool, bool, dict[str, str]]:
    p = parsed(message(headers=[*BASE, ("Subject", subject), *extra]))
    return p.auto_reply, p.bulk, p.facts


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ([("Auto-Submitted", "auto-replied")], "Auto-Submitted: auto-replied"),
        ([("Auto-Submitted", "auto-generated; comment")], "Auto-Submitted: auto-generated"),
        ([("Auto-Submitted", "auto-notified")], "Auto-Submitted: auto-notified"),
        ([("Precedence", "auto_reply")], "Precedence: auto_reply"),
        ([("X-Autoreply", "yes")], "X-Autoreply"),
        ([("X-Autorespond", "Out of office")], "X-Autorespond"),
    ],
)
def test_auto_reply_headers(extra: list[tuple[str, str]], reason: str) -> None:
    """RFC 3834 and the common vendor headers make a message an auto-reply."""
    auto, _bulk, facts = _facts(extra)
    assert auto
    assert facts["auto_reply"] == reason


@pytest.mark.parametrize(
    "subject",
    [
        "Automatisk svar: Printer",
        "Autosvar: Printer",
        "Fraværende: Printer",
        "Out of Office: Printer",
        "Automatic reply: Printer",
        "Auto-reply: Printer",
        "Abwesenheitsnotiz: Printer",
        "Autoreply: Printer",
        "SV: Automatisk svar: Printer",
    ],
)
def test_out_of_office_subjects(subject: str) -> None:
    """Out-of-office subjects in Danish, English and German are auto-replies."""
    auto, _bulk, facts = _facts([], subject)
    assert auto
    assert facts["auto_reply"].startswith("subject:")


def test_not_auto_reply() -> None:
    """`Auto-Submitted: no`, a normal subject, and X-Auto-Response-Suppress alone are not
    auto-replies (the last makes the message bulk)."""
    assert _facts([("Auto-Submitted", "no")])[0] is False
    assert _facts([], "Out of paper in the office printer")[0] is False
    auto, bulk, facts = _facts([("X-Auto-Response-Suppress", "All")])
    assert not auto
    assert bulk
    assert facts == {"bulk": "X-Auto-Response-Suppress"}


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ([("Precedence", "bulk")], "Precedence: bulk"),
        ([("Precedence", "junk")], "Precedence: junk"),
        ([("Precedence", "list")], "Precedence: list"),
        ([("List-Id", "<news.example.com>")], "List-Id"),
        ([("List-Unsubscribe", "<mailto:u@x>")], "List-Unsubscribe"),
    ],
)
def test_bulk(extra: list[tuple[str, str]], reason: str) -> None:
    """Lists and newsletters are bulk, and not auto-replies."""
    auto, bulk, facts = _facts(extra)
    assert bulk
    assert not auto
    assert facts["bulk"] == reason


DSN_STATUS = b"""Reporting-MTA: dns; mx.hubdesk.example

Original-Recipient: rfc822;Gone@Customer-B.example
Final-Recipient: rfc822; gone@mailstore.customer-b.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

Final-Recipient: rfc822; slow@customer-c.example
Action: delayed
Status: 4.4.1

Final-Recipient: rfc822; fine@customer-d.example
Action: delivered
Status: 2.0.0
"""


def _dsn(status: bytes = DSN_STATUS) -> bytes:
    original = (
        b"From: support@hubdesk.example\nMessage-ID: <out-1@hubdesk.example>\nSubject: Re: x\n"
    )
    return multipart_message(
        "report",
        [
            part("text/plain", b"Your message could not be delivered."),
            part("message/delivery-status", status),
            part("text/rfc822-headers", original),
        ],
        params="; report-type=delivery-status",
        headers=[
            ("From", "Mail Delivery System <MAILER-DAEMON@mx.hubdesk.example>"),
            ("To", "support@hubdesk.example"),
            ("Subject", "Undelivered Mail Returned to Sender"),
        ],
    )


def test_dsn_bounce() -> None:
    """RFC 3464: failed recipients (Original-Recipient preferred) are permanent bounces;
    the original Message-ID comes from the returned headers."""
    p = parsed(_dsn())
    assert p.bounce
    assert p.bounce_kind == "permanent"
    assert p.bounce_recipients == ("gone@customer-b.example",)
    assert p.bounce_original_message_id == "<out-1@hubdesk.example>"
    assert p.facts["bounce"] == "delivery-status"
    assert not p.auto_reply


def test_dsn_delay_is_a_temporary_bounce() -> None:
    """Only delayed recipients: still a bounce (never answered), kind `temporary`."""
    status = DSN_STATUS.split(b"\n\n", 2)
    p = parsed(_dsn(status[0] + b"\n\n" + status[2]))
    assert p.bounce
    assert p.bounce_kind == "temporary"
    assert p.bounce_recipients == ("slow@customer-c.example",)


@pytest.mark.parametrize(
    ("notice", "recipients"),
    [
        (  # Postfix
            b"This is the mail system at host mx.example.\n\nI'm sorry to have to inform you "
            b"that your message could not\nbe delivered to one or more recipients.\n\n"
            b"<gone@customer-b.example>: host mx.customer-b.example said: 550 5.1.1 unknown\n"
            b"    <gone@customer-b.example>... User unknown\n"
            b"\nFor further assistance, please contact <postmaster@mx.example>\n",
            ("gone@customer-b.example",),
        ),
        (  # qmail
            b"Hi. This is the qmail-send program at mx.example.\nI'm afraid I wasn't able to "
            b"deliver your message to the following addresses.\n\n<a@b.example>:\n"
            b"Sorry, no mailbox here by that name.\n\n--- Below this line is a copy of the "
            b"message.\n\nReturn-Path: <support@hubdesk.example>\nTo: other@x.example\n",
            ("a@b.example",),
        ),
        (  # Exim
            b"This message was created automatically by mail delivery software.\n\nA message "
            b"that you sent could not be delivered to one or more of its\nrecipients. The "
            b"following address(es) failed:\n\n  x@y.example\n    SMTP error from remote "
            b"mailer after RCPT TO:<x@y.example>:\n\n------ This is a copy of the message\n"
            b"To: someone@else.example\n",
            ("x@y.example",),
        ),
        (  # Exchange / GroupWise summary lines above the failed recipient
            b"Your message\n\n  To:      list@lists.example\n  Subject: News\n\ndid not reach "
            b"the following recipient(s):\n\nuserx@example.com on Fri, 18 Oct 2002 09:13:24\n"
            b"    The recipient name is not recognized\n",
            ("userx@example.com",),
        ),
    ],
)
def test_mta_text_bounces(notice: bytes, recipients: tuple[str, ...]) -> None:
    """Non-DSN notices from common MTAs: the reported addresses, not the notice's own."""
    p = parsed(
        message(
            notice,
            headers=[
                ("From", "MAILER-DAEMON@mx.example"),
                ("To", "support@hubdesk.example"),
                ("Subject", "failure notice"),
            ],
        )
    )
    assert p.bounce
    assert p.bounce_kind == "permanent"
    assert p.bounce_recipients == recipients


def test_delay_warning_notice_is_temporary() -> None:
    """An MTA's "not yet delivered" warning is a temporary bounce."""
    p = parsed(
        message(
            b"The message has not yet been delivered to the following addresses:\n\n"
            b"  <slow@customer-c.example>\n\nDelivery attempts will continue.\n",
            headers=[
                ("From", "Mail Delivery System <Mailer-Daemon@mx.example>"),
                ("Subject", "Warning: message delayed 2 days"),
            ],
        )
    )
    assert p.bounce
    assert p.bounce_kind == "temporary"
    assert p.bounce_recipients == ("slow@customer-c.example",)


def test_customer_mail_mentioning_delivery_is_not_a_bounce() -> None:
    """A customer writing about an undelivered mail is not a bounce (no bounce sender, no
    bounce subject, no report)."""
    p = parsed(
        message(
            b"My mail to bob@x.example could not be delivered, can you help?\n",
            headers=[*BASE, ("Subject", "Help with my mail")],
        )
    )
    assert not p.bounce
    assert p.bounce_recipients == ()
    assert p.bounce_kind is None


AR_HEADERS = [
    (
        "Authentication-Results",
        "mx.hubdesk.example; spf=pass smtp.mailfrom=customer-a.example; "
        "dkim=pass (good signature) header.d=customer-a.example; "
        "dmarc=pass header.from=customer-a.example",
    ),
    ("Authentication-Results", "mx.hubdesk.example; dmarc=fail (forged, further down)"),
    ("Authentication-Results", "evil.example; spf=pass; dkim=pass; dmarc=pass"),
]


def test_authentication_results_only_from_the_trusted_mta() -> None:
    """Only the topmost field of the trusted authserv-id is recorded; none without one."""
    p = parsed(message(extra=AR_HEADERS), trusted_authserv_id="MX.hubdesk.example")
    assert [(v.method, v.result) for v in p.authentication_results] == [
        ("spf", "pass"),
        ("dkim", "pass"),
        ("dmarc", "pass"),
    ]
    assert all(v.authserv_id == "mx.hubdesk.example" for v in p.authentication_results)
    assert p.authentication_results[1].detail == "header.d=customer-a.example"
    assert parsed(message(extra=AR_HEADERS)).authentication_results == ()
    assert (
        parsed(
            message(extra=AR_HEADERS), trusted_authserv_id="other.example"
        ).authentication_results
        == ()
    )


def test_authentication_results_edge_cases() -> None:
    """`none`, versions, comments and quoted values are handled."""
    assert parse_authentication_results(["mx 1; none"], "mx") == ()
    assert parse_authentication_results(
        ['mx (comment; with semicolon) ; arc/1=pass (x) smtp.remote-ip="1;2"'], "mx"
    ) == (AuthVerdict("arc", "pass", "mx", 'smtp.remote-ip="1;2"'),)


@pytest.mark.parametrize(
    ("sender", "subject", "body"),
    [
        ("postmaster@customer-a.example", "Our mail server moves on Friday", b"Dear all, ..."),
        ("mailer@news.example", "Weekly headlines", b"Headlines: ..."),
        ("deals@spam.example", "Undeliverable JPTJ", b"Buy now!"),
    ],
)
def test_weak_bounce_signs_alone_are_not_a_bounce(sender: str, subject: str, body: bytes) -> None:
    """Mail from postmaster, or with a bounce-like subject, is a bounce only when it names
    failed recipients (a postmaster's announcement, a newsletter or spam is not)."""
    p = parsed(message(body, headers=[("From", sender), ("Subject", subject)]))
    assert not p.bounce
    assert p.bounce_kind is None
