"""A report as CSV, safe to open in a spreadsheet (pure).

Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and
some read a leading tab or carriage return the same way). Every text cell that starts with
one of them gets a leading apostrophe, which makes it plain text; numbers are written as
numbers.
"""

from __future__ import annotations

import csv
import io
from typing import Final

from hubdesk.reports.service import Cell, Report

DANGEROUS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(DANGEROUS) else text


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(report.columns)
    for row in report.rows:
        writer.writerow([neutralise(row.get(c)) for c in report.columns])
    if report.totals is not None:
        writer.writerow([neutralise(report.totals.get(c)) for c in report.columns])
    return out.getvalue()


def filename(report: Report) -> str:
    p = report.params
    return f"hubdesk-{report.name}-{p.start_date.isoformat()}-{p.end_date.isoformat()}.csv"
