"""Small server-side SVG bar charts: the geometry here (pure), the markup in the template
macro `charts.html` (autoescaped like every page). No script, no chart library, no CDN.

`bar_chart` lays out grouped vertical bars, one group per label and one bar per series,
with a value axis (0 to a rounded maximum, four grid lines), at most MAX_LABELS labels
under the axis and a legend above. The macro draws an `<svg role="img">` named by its
`<title>` and described by its `<desc>`; the page shows the same numbers in a table (the
accessible fallback).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count

WIDTH = 720
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 30, 70
MAX_LABELS = 16
_ids = count(1)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | int | None]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: int


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass
class Chart:
    id: str
    title: str
    description: str
    width: int = WIDTH
    height: int = HEIGHT
    grid: list[Tick] = field(default_factory=list)
    """y of each grid line (x is the axis) and its value."""
    bars: list[Bar] = field(default_factory=list)
    labels: list[Tick] = field(default_factory=list)
    legend: list[Tick] = field(default_factory=list)
    left: int = LEFT
    right: int = WIDTH - RIGHT


def nice_max(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 x 10^k that is >= value (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)  # pragma: no cover - 10 * power always fits


def bar_chart(
    title: str, description: str, labels: Sequence[str], series: Sequence[Series]
) -> Chart:
    chart = Chart(f"chart-{next(_ids)}", title, description)
    values = [v for s in series for v in s.values if v is not None]
    top = nice_max(max(values, default=0))
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(len(labels), 1)
    bar_w = max(group_w * 0.8 / max(len(series), 1), 0.5)
    for i in range(5):
        chart.grid.append(Tick(LEFT, round(TOP + plot_h - plot_h * i / 4, 1), f"{top * i / 4:g}"))
    for g in range(len(labels)):
        x0 = LEFT + g * group_w + group_w * 0.1
        for s_index, s in enumerate(series):
            value = s.values[g] if g < len(s.values) else None
            if value is None or value <= 0:
                continue
            h = plot_h * value / top
            chart.bars.append(
                Bar(
                    round(x0 + s_index * bar_w, 1),
                    round(TOP + plot_h - h, 1),
                    round(bar_w, 1),
                    round(h, 1),
                    s_index,
                )
            )
    step = max(1, math.ceil(len(labels) / MAX_LABELS))
    for g in range(0, len(labels), step):
        text = str(labels[g])
        chart.labels.append(
            Tick(
                round(LEFT + g * group_w + group_w / 2, 1),
                TOP + plot_h + 14,
                text if len(text) <= 14 else text[:13] + "…",
            )
        )
    for s_index, s in enumerate(series):
        chart.legend.append(Tick(LEFT + s_index * 170, 14, s.name))
    return chart
