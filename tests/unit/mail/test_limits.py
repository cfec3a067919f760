"""Budgets (RELIABILITY design rule 5, tests T03, T04, T05, T07): every limit rejects with
its stable reason code, in bounded CPU time, without RecursionError.

`make test` checks the shape of the cost (linear growth, tests/support/timing.py); the
absolute CPU budget is asserted only by the tests marked `long` (make test-long)."""

from __future__ import annotations

import dataclasses
import resource

import pytest

from hubdesk.mail.limits import DEFAULT_LIMITS, MailLimits
from hubdesk.mail.parse import parse_email
from hubdesk.mail.types import ParsedEmail, ParseRejection
from tests.support.timing import assert_linear
from tests.unit.mail.builders import DEFAULT_HEADERS, message, multipart_message, part
from tests.unit.mail.conftest import CPU_BUDGET_SECONDS, cpu_seconds, parsed, rejected


def test_defaults_match_the_design_rule() -> None:
    """25 MB message, 64 KB field, 256 KB header block, 1,000 parts, 50 levels."""
    assert DEFAULT_LIMITS.max_message_bytes == 25 * 1024 * 1024
    assert DEFAULT_LIMITS.max_header_field_bytes == 64 * 1024
    assert DEFAULT_LIMITS.max_header_block_bytes == 256 * 1024
    assert DEFAULT_LIMITS.max_mime_parts == 1_000
    assert DEFAULT_LIMITS.max_mime_depth == 50


def test_limits_are_frozen_and_validated() -> None:
    """A limit cannot be changed after creation, and nonsense values are refused."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_LIMITS.max_mime_parts = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="max_mime_depth"):
        MailLimits(max_mime_depth=0)
    with pytest.raises(ValueError, match="max_message_bytes"):
        MailLimits(max_message_bytes=True)
    with pytest.raises(ValueError, match="max_mime_depth"):
        MailLimits(max_mime_depth=10_000)


def test_message_size() -> None:
    """A message over max_message_bytes is rejected before anything is read."""
    raw = message(b"x" * 2000)
    result = parse_email(raw, MailLimits(max_message_bytes=1000))
    assert isinstance(result, ParseRejection)
    assert result.reason == "message_size"
    assert isinstance(parse_email(raw, MailLimits(max_message_bytes=len(raw))), ParsedEmail)


def _huge_line(size: int) -> bytes:
    return message(extra=[("X-Big", "a" * size)])


def test_header_size_one_huge_line() -> None:
    """T07: one 1 MB header line -> `header_size` (or the block budget), in linear time."""
    assert rejected(_huge_line(1_000_000)).reason in ("header_size", "headers_total")
    assert_linear(parse_email, _huge_line(100_000), _huge_line(1_000_000))


def test_header_size_folded_field() -> None:
    """A field over 64 KB made of many folded continuation lines is `header_size`."""
    folded = "\n ".join(["word"] * 20_000)
    assert rejected(message(extra=[("X-Folded", folded)])).reason == "header_size"


def test_headers_total() -> None:
    """Many fields, each small, over 256 KB in total -> `headers_total`."""
    extra = [(f"X-Field-{i}", "v" * 500) for i in range(600)]
    limits = MailLimits(max_header_fields=10_000)
    result = parse_email(message(extra=extra), limits)
    assert isinstance(result, ParseRejection)
    assert result.reason == "headers_total"


def _many_fields(count: int) -> bytes:
    return message(extra=[("X-A", "1")] * count)


def test_header_count() -> None:
    """T07: 50,000 header fields -> rejected (`header_count` or `headers_total`) in linear
    time."""
    assert rejected(_many_fields(50_000)).reason in ("header_count", "headers_total")
    assert_linear(parse_email, _many_fields(5_000), _many_fields(50_000))
    small = message(extra=[("X-A", "1")] * 1_200)
    assert rejected(small).reason == "header_count"


# Inputs that make the stdlib header registry quadratic (9-13 s on 3.11): a field name and a
# builder of its value at a size `n` (the listed size is the full one).
QUADRATIC_HEADER_INPUTS: list[tuple[str, str, object, int]] = [
    ("To with a. x 20,000", "To", lambda n: "a." * n, 20_000),
    (
        "Content-Type with a=b; x 20,000 (80 KB)",
        "Content-Type",
        lambda n: "text/plain;" + "a=b;" * n,
        20_000,
    ),
    (
        "Content-Type with a=b; x 15,000 (60 KB, under the field limit)",
        "Content-Type",
        lambda n: "text/plain;" + "a=b;" * n,
        15_000,
    ),
    ("From with 20,000 '(a'", "From", lambda n: "(a" * n, 20_000),
    ("long encoded-word run", "Subject", lambda n: "=?utf-8?q?" + "a" * n + "?=", 60_000),
    ("many encoded words", "Subject", lambda n: "=?utf-8?b?YQ==?= " * n, 3_500),
    (
        "References with 5,000 ids",
        "References",
        lambda n: " ".join(f"<{i}@x.example>" for i in range(n)),
        5_000,
    ),
    (
        "To with 3,000 addresses",
        "To",
        lambda n: ", ".join(f"u{i}@x.example" for i in range(n)),
        3_000,
    ),
    (
        "To with 2,000 quoted names",
        "To",
        lambda n: ", ".join(f'"N, {i}" <u{i}@x>' for i in range(n)),
        2_000,
    ),
    ("Date of 60 KB", "Date", lambda n: "Mon, " + "1 " * n, 30_000),
]


def _with_field(field: str, value: str) -> bytes:
    headers = [(n, v) for n, v in DEFAULT_HEADERS if n.lower() != field.lower()]
    return message(headers=[*headers, (field, value)])


@pytest.mark.parametrize(("name", "field", "value", "size"), QUADRATIC_HEADER_INPUTS)
def test_quadratic_header_inputs_stay_linear(
    name: str, field: str, value: object, size: int
) -> None:
    """T03: inputs that make the stdlib header registry quadratic are rejected by the header
    pre-check or parsed, and the cost grows linearly with their size."""
    build = value  # type: ignore[assignment]
    raw = _with_field(field, build(size))  # type: ignore[operator]
    result = parse_email(raw)
    assert isinstance(result, ParsedEmail) or result.reason in ("header_size", "headers_total")
    small = _with_field(field, build(size // 10))  # type: ignore[operator]
    assert_linear(parse_email, small, raw)


@pytest.mark.long
@pytest.mark.parametrize(("name", "field", "value", "size"), QUADRATIC_HEADER_INPUTS)
def test_quadratic_header_inputs_stay_in_budget(
    name: str, field: str, value: object, size: int
) -> None:
    """T03 (absolute figure, make test-long): each input costs under the CPU budget."""
    raw = _with_field(field, value(size))  # type: ignore[operator]
    assert cpu_seconds(lambda: parse_email(raw)) < CPU_BUDGET_SECONDS, name


def _received(count: int) -> bytes:
    return message(extra=[("Received", "from a.example by b.example; Mon, 1 Jan 2024")] * count)


def test_received_times_10000_is_rejected_linearly() -> None:
    """T03: `Received` x 10,000 exceeds the header budgets and is rejected in linear time."""
    assert rejected(_received(10_000)).reason in ("header_count", "headers_total")
    assert_linear(parse_email, _received(1_000), _received(10_000))


@pytest.mark.long
def test_header_bombs_are_rejected_in_budget() -> None:
    """T03/T07 (absolute figure, make test-long): the header bombs above each cost under the
    CPU budget."""
    for raw in (_huge_line(1_000_000), _many_fields(50_000), _received(10_000)):
        assert cpu_seconds(lambda raw=raw: parse_email(raw)) < CPU_BUDGET_SECONDS  # type: ignore[misc]


def _nested_multipart(levels: int) -> bytes:
    """`levels` multipart/mixed entities, each holding the next (and a text part)."""
    opening = []
    closing = []
    for level in range(levels):
        opening.append(
            f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n'.encode()
        )
        closing.append(f"\n--b{level}--\n".encode())
    inner = b"Content-Type: text/plain\n\ndeep\n"
    return b"Subject: deep\n" + b"".join(opening) + inner + b"".join(reversed(closing))


def _nested_rfc822(levels: int) -> bytes:
    header = b"Subject: wrapped\nContent-Type: message/rfc822\n\n"
    return header * levels + b"Subject: core\n\ncore\n"


@pytest.mark.parametrize("builder", [_nested_multipart, _nested_rfc822])
@pytest.mark.parametrize("levels", [60, 1_000, 100_000])
def test_deep_nesting_is_rejected(builder: object, levels: int) -> None:
    """T04: 60, 1,000 and 100,000 nested levels -> `mime_depth`, no RecursionError."""
    result = parse_email(builder(levels))  # type: ignore[operator]
    assert isinstance(result, ParseRejection)
    assert result.reason == "mime_depth"


@pytest.mark.parametrize("builder", [_nested_multipart, _nested_rfc822])
def test_deep_nesting_costs_linear_time(builder: object) -> None:
    """T04: rejecting 100,000 levels costs at most linearly more than 10,000 levels."""
    assert_linear(parse_email, builder(10_000), builder(100_000))  # type: ignore[operator]


@pytest.mark.long
@pytest.mark.parametrize("builder", [_nested_multipart, _nested_rfc822])
def test_deep_nesting_is_rejected_within_a_second(builder: object) -> None:
    """T04 (absolute figure, make test-long): 100,000 levels are rejected in < 1 s of CPU."""
    raw = builder(100_000)  # type: ignore[operator]
    assert cpu_seconds(lambda: parse_email(raw)) < 1.0


@pytest.mark.parametrize("builder", [_nested_multipart, _nested_rfc822])
def test_nesting_within_the_limit_is_accepted(builder: object) -> None:
    """T04: up to 50 levels parse normally."""
    raw = builder(49)  # type: ignore[operator]
    assert isinstance(parse_email(raw), ParsedEmail)


def _part_bomb(parts: int) -> bytes:
    body = b"--x\n\n" * parts + b"--x--\n"
    return b'Subject: bomb\nContent-Type: multipart/mixed; boundary="x"\n\n' + body


@pytest.mark.parametrize("parts", [100_000, 300_000])
def test_part_count_bomb(parts: int) -> None:
    """T05: 1 MB with 100,000 empty parts (3 MB with 300,000) -> `mime_parts` by the
    boundary pre-scan, in linear time and well under 100 MB of extra memory."""
    raw = _part_bomb(parts)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = parse_email(raw)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert isinstance(result, ParseRejection)
    assert result.reason == "mime_parts"
    assert grown_kib < 100 * 1024
    assert_linear(parse_email, _part_bomb(parts // 10), raw)


@pytest.mark.long
def test_part_count_bomb_within_a_second() -> None:
    """T05 (absolute figure, make test-long): 300,000 parts are rejected in < 1 s of CPU."""
    raw = _part_bomb(300_000)
    assert cpu_seconds(lambda: parse_email(raw)) < 1.0


def test_part_count_limit_is_exact() -> None:
    """1,000 parts are accepted; 1,001 are not."""
    assert isinstance(parse_email(_part_bomb(999)), ParsedEmail)
    assert rejected(_part_bomb(1_001)).reason == "mime_parts"


def _big_message(scale: int) -> bytes:
    """A legal message of about `scale` MB: a base64 attachment, a long text and a large
    HTML part, in the proportions of a real 20 MB mail."""
    attachment = bytes(range(256)) * (scale * 600 * 1024 // 256)
    html = "<div><p>Hello <b>there</b></p><a href='https://x.example'>l</a></div>\n"
    return multipart_message(
        "mixed",
        [
            part("text/plain; charset=utf-8", ("Line of text\n" * 10_000 * scale).encode()),
            part(
                "text/html; charset=utf-8", (html * 1_500 * scale).encode(), cte="quoted-printable"
            ),
            part("application/octet-stream", attachment, cte="base64"),
        ],
    )


def test_big_but_legal_message_parses_in_linear_time() -> None:
    """A legal message ten times bigger costs at most linearly more CPU (the 20 MB figure is
    the `long` test below and bench/)."""
    result = parsed(_big_message(2))
    assert result.attachments[0].payload == bytes(range(256)) * (2 * 600 * 1024 // 256)
    assert_linear(parse_email, _big_message(1), _big_message(10), repeat=2)


@pytest.mark.long
def test_big_but_legal_message_stays_in_budget() -> None:
    """A 20 MB message (a base64 attachment, a long text, a large HTML part) parses within
    the CPU budget (absolute figure, make test-long)."""
    raw = _big_message(20)
    assert len(raw) > 18 * 1024 * 1024
    seconds = cpu_seconds(lambda: parsed(raw))
    assert seconds < CPU_BUDGET_SECONDS
    assert parsed(raw).attachments[0].payload == bytes(range(256)) * (20 * 600 * 1024 // 256)
