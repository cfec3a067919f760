"""Text cleaning for values that come from outside: titles stay on one line, bodies keep
their lines but lose control characters."""

from __future__ import annotations

from hubdesk.text import multi_line, single_line


def test_single_line_removes_line_breaks_and_controls() -> None:
    """CR, LF, NUL and other controls become spaces, runs of spaces collapse, ends are trimmed:
    nothing that could start a new mail header survives."""
    assert single_line("Hello\r\nBcc: victim@example.com", 100) == "Hello Bcc: victim@example.com"
    assert single_line("  a\x00b\tc\x1b[31m  d \x7f", 100) == "a b c [31m d"
    assert single_line("\u2028line\u2029sep\x85", 100) == "line sep"
    assert single_line("\r\n\t ", 100) == ""


def test_single_line_is_bounded() -> None:
    """The result is at most `max_length` characters."""
    assert single_line("å" * 50, 10) == "å" * 10
    assert len(single_line("word " * 100, 42)) <= 42


def test_multi_line_keeps_lines_and_tabs() -> None:
    """CRLF and lone CR become LF, tabs and newlines stay, other controls go, text is kept."""
    assert multi_line("a\r\nb\rc\nd") == "a\nb\nc\nd"
    assert multi_line("col1\tcol2\n") == "col1\tcol2\n"
    assert multi_line("bell\x07 nul\x00 esc\x1b del\x7f") == "bell nul esc del"
    assert multi_line("Blåbærgrød 🔥") == "Blåbærgrød 🔥"
