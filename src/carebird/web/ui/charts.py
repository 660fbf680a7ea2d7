"""Charts drawn on the server as SVG (no script, no chart library): the geometry is computed
here, the `charts.html` macro writes it out, every text escaped by the template. Each bar or
cell is a link to the cases behind it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    cls: str
    href: str
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "start"
    cls: str = ""


@dataclass(slots=True)
class Chart:
    width: int
    height: int
    title: str
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Item:
    label: str
    value: float
    text: str  # the value as shown
    href: str


def hbars(items: Sequence[Item], *, title: str, width: int = 560, row: int = 24) -> Chart:
    """One horizontal bar a row: the label left, the value right of its bar."""
    label_w, value_w = 170.0, 70.0
    chart = Chart(width, max(row, row * len(items)) + 4, title)
    top = max((i.value for i in items), default=0) or 1
    span = width - label_w - value_w
    for n, it in enumerate(items):
        y = n * row + 2
        w = max(1.0, span * it.value / top) if it.value else 0.0
        chart.bars.append(Bar(label_w, y + 3, round(w, 1), row - 8, "bar", it.href,
                              f"{it.label}: {it.text}"))  # fmt: skip
        chart.labels.append(Label(label_w - 6, y + row / 2 + 3, it.label[:28], "end"))
        chart.labels.append(Label(label_w + w + 6, y + row / 2 + 3, it.text, cls="value"))
    return chart


@dataclass(frozen=True, slots=True)
class Column:
    label: str  # under the column (may be empty)
    parts: tuple[tuple[float, str], ...]  # stacked (value, css class), bottom first
    title: str
    href: str


def columns(cols: Sequence[Column], *, title: str, width: int = 640, height: int = 200) -> Chart:
    """Vertical (stacked) columns with their labels below, thinned to fit."""
    bottom, top_pad = height - 22, 8
    chart = Chart(width, height, title)
    peak = max((sum(v for v, _ in c.parts) for c in cols), default=0) or 1
    step = (width - 40) / max(1, len(cols))
    every = max(1, int(len(cols) / max(1, (width - 40) / 56)) + 1) if len(cols) > 1 else 1
    chart.labels.append(Label(34, top_pad + 4, _short(peak), "end", "axis"))
    chart.labels.append(Label(34, bottom, "0", "end", "axis"))
    for n, col in enumerate(cols):
        x, y = 40 + n * step, float(bottom)
        for value, cls in col.parts:
            h = (bottom - top_pad) * value / peak
            if h > 0:
                y -= h
                chart.bars.append(Bar(round(x + step * 0.1, 1), round(y, 1),
                                      round(step * 0.8, 1), round(h, 1), cls, col.href,
                                      col.title))  # fmt: skip
        if n % every == 0 and col.label:
            chart.labels.append(Label(x + step / 2, height - 6, col.label, "middle", "axis"))
    return chart


def heat(
    cells: Sequence[tuple[int, int, int, str, str]],
    *,
    title: str,
    days: Sequence[str],
    width: int = 640,
) -> Chart:
    """A 7 × 24 grid (weekday, hour, count, title, link), darker with more."""
    left, top, cell_w = 44.0, 16.0, (width - 44) / 24
    cell_h = 18.0
    chart = Chart(width, int(top + 7 * cell_h + 4), title)
    peak = max((c[2] for c in cells), default=0) or 1
    for h in range(0, 24, 3):
        chart.labels.append(Label(left + h * cell_w + cell_w / 2, 11, f"{h:02d}", "middle", "axis"))
    for d, name in enumerate(days):
        chart.labels.append(Label(left - 6, top + d * cell_h + 13, name, "end", "axis"))
    for weekday, hour, count, tip, href in cells:
        level = 0 if not count else 1 + min(4, int(4 * count / peak))
        chart.bars.append(Bar(round(left + hour * cell_w, 1), top + weekday * cell_h,
                              round(cell_w - 1, 1), cell_h - 1, f"heat heat-{level}", href,
                              tip))  # fmt: skip
    return chart


def _short(value: float) -> str:
    return f"{value:.0f}" if value < 10_000 else f"{value / 1000:.0f}k"
