"""Line charts as inline SVG text, for report.html: no plotting library, nothing fetched.

A chart is one ``<svg class="curve">`` with its title, axes, tick labels, one ``<path
class="series">`` per series (a single point is a ``<circle class="series">``) and a legend when
there is more than one series. Values that are not finite break the line. A positive series that
spans three decades or more is drawn on a log axis; a long one whose few extremes would flatten the
rest is drawn over its 1st-99th percentile range, extremes at the edge. Long series are thinned to the lowest and
highest value of each of ``MAX_BINS`` bins, so a spike survives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 400, 230
LEFT, RIGHT, TOP, BOTTOM = 62, 12, 26, 40
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")
MAX_BINS = 400
LOG_SPAN = 1e3  # max/min of a positive series from which the y axis is logarithmic
ROBUST_FROM, CLIP_RATIO = 50, 4  # clip the y axis of 50+ values whose extremes span 4x the rest

Point = tuple[float, float]


def line_chart(
    title: str,
    series: dict[str, Sequence[Point]],
    *,
    x_label: str = "iteration",
    markers: Sequence[tuple[float, str]] = (),
) -> str:
    """An SVG chart of ``series`` (name → (x, y) points, x ascending); ``markers`` are (x, note)
    drawn as dashed vertical lines (e.g. rollbacks)."""
    finite = {
        name: [(x, y) for x, y in points if math.isfinite(x) and math.isfinite(y)]
        for name, points in series.items()
    }
    xs = [x for points in finite.values() for x, _ in points]
    ys = [y for points in finite.values() for _, y in points]
    head = (
        f'<svg class="curve" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'data-title="{escape(title)}"'
    )
    label = f'<text x="{LEFT}" y="16" class="title">{escape(title)}</text>'
    if not ys:
        return (
            f'{head} data-empty="1"><title>{escape(title)}</title>{label}'
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="note">'
            "no finite values</text></svg>"
        )
    log = min(ys) > 0 and max(ys) / min(ys) >= LOG_SPAN
    x_axis = _Axis(xs, LEFT, WIDTH - RIGHT, integer=True)
    y_axis = _Axis(ys, HEIGHT - BOTTOM, TOP, log=log, robust=True)
    parts = [f"{head}><title>{escape(title)}</title>", label]
    parts += _frame(x_axis, y_axis, x_label)
    for x, note in markers:
        if x_axis.low <= x <= x_axis.high:
            position = x_axis.place(x)
            parts.append(
                f'<line class="marker" x1="{position:.1f}" x2="{position:.1f}" y1="{TOP}" '
                f'y2="{HEIGHT - BOTTOM}"><title>{escape(note)}</title></line>'
            )
    for number, (name, points) in enumerate(series.items()):
        if finite[name]:
            color = COLORS[number % len(COLORS)]
            parts.append(_series(name, thin(list(points)), x_axis, y_axis, color))
    if len(series) > 1 or not all(finite.values()):
        parts += _legend([name if finite[name] else f"{name}: no finite values" for name in series])
    parts.append("</svg>")
    return "".join(parts)


def thin(points: list[Point], bins: int = MAX_BINS) -> list[Point]:
    """At most about ``2 * bins`` points: per bin of consecutive points, its lowest and highest
    (in their order); a non-finite point is kept wherever it falls, so gaps stay gaps."""
    if len(points) <= 2 * bins:
        return points
    size = math.ceil(len(points) / bins)
    kept: list[Point] = []
    for start in range(0, len(points), size):
        chunk = points[start : start + size]
        good = [p for p in chunk if math.isfinite(p[1])]
        if len(good) < len(chunk):  # a gap: keep the chunk's first break
            kept.append(next(p for p in chunk if not math.isfinite(p[1])))
        if good:
            low, high = min(good, key=lambda p: p[1]), max(good, key=lambda p: p[1])
            kept += sorted({low, high}, key=lambda p: p[0])
    return kept


class _Axis:
    """Maps values to pixels in [start, end] and chooses round tick values. With ``robust``, a
    long series whose few extremes would flatten the rest is drawn over its 1st-99th percentile
    range (padded), and the extremes are drawn at the edge (``clipped`` says so)."""

    def __init__(
        self,
        values: list[float],
        start: float,
        end: float,
        *,
        log: bool = False,
        integer: bool = False,
        robust: bool = False,
    ):
        ordered = sorted(math.log10(v) for v in values) if log else sorted(values)
        low, high = ordered[0], ordered[-1]
        self.clipped = False
        if robust and len(ordered) >= ROBUST_FROM:
            bottom = ordered[int(0.01 * (len(ordered) - 1))]
            top = ordered[math.ceil(0.99 * (len(ordered) - 1))]
            if 0 < top - bottom < (high - low) / CLIP_RATIO:
                pad = (top - bottom) * 0.15
                low, high = max(low, bottom - pad), min(high, top + pad)
                self.clipped = True
        if high == low:  # one value: a band around it
            pad = abs(low) * 0.1 or 1.0
            low, high = low - pad, high + pad
        self.low_raw, self.high_raw = low, high
        self.log, self.start, self.end = log, start, end
        self.low, self.high = (10**low, 10**high) if log else (low, high)
        self.ticks = _log_ticks(low, high) if log else _round_ticks(low, high, integer)

    def place(self, value: float) -> float:
        v = math.log10(value) if self.log else value
        share = min(1.0, max(0.0, (v - self.low_raw) / (self.high_raw - self.low_raw)))
        return self.start + share * (self.end - self.start)


def _round_ticks(low: float, high: float, integer: bool, count: int = 5) -> list[float]:
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    if integer:
        step = max(1.0, round(step))
    first = math.ceil(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(0.0 if abs(value) < step * 1e-9 else value)
        value += step
    return ticks


def _log_ticks(low: float, high: float) -> list[float]:
    powers = list(range(math.ceil(low), math.floor(high) + 1))
    stride = max(1, math.ceil(len(powers) / 6))
    return [10.0**p for p in powers[::stride]]


def _frame(x_axis: _Axis, y_axis: _Axis, x_label: str) -> list[str]:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    parts = [
        f'<rect class="plot" x="{LEFT}" y="{TOP}" width="{right - LEFT}" height="{bottom - TOP}"/>'
    ]
    for tick in y_axis.ticks:
        y = y_axis.place(tick)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{_number(tick)}</text>'
        )
    for tick in x_axis.ticks:
        x = x_axis.place(tick)
        parts.append(
            f'<line class="tick" x1="{x:.1f}" x2="{x:.1f}" y1="{bottom}" y2="{bottom + 4}"/>'
            f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{_number(tick)}</text>'
        )
    parts.append(
        f'<text x="{(LEFT + right) / 2}" y="{HEIGHT - 6}" text-anchor="middle" '
        f'class="axis-label">{escape(x_label)}{_y_note(y_axis)}</text>'
    )
    return parts


def _y_note(axis: _Axis) -> str:
    notes = ["log y"] * axis.log + ["y clipped to the 1st-99th percentile"] * axis.clipped
    return f" ({'; '.join(notes)})" if notes else ""


def _series(name: str, points: list[Point], x_axis: _Axis, y_axis: _Axis, color: str) -> str:
    finite = [(x, y) for x, y in points if math.isfinite(x) and math.isfinite(y)]
    title = f"<title>{escape(name)}</title>"
    if len(finite) == 1:
        x, y = finite[0]
        return (
            f'<circle class="series" cx="{x_axis.place(x):.1f}" cy="{y_axis.place(y):.1f}" '
            f'r="3" fill="{color}">{title}</circle>'
        )
    segments: list[list[str]] = [[]]
    for x, y in points:
        if not (math.isfinite(x) and math.isfinite(y)):
            segments.append([])
            continue
        segments[-1].append(f"{x_axis.place(x):.1f},{y_axis.place(y):.1f}")
    commands = [
        f"M{segment[0]} " + (" ".join(f"L{p}" for p in segment[1:]) or "h1")  # a dot if alone
        for segment in segments
        if segment
    ]
    return (
        f'<path class="series" d="{" ".join(commands)}" stroke="{color}" '
        f'data-points="{len(finite)}">{title}</path>'
    )


def _legend(names: list[str]) -> list[str]:
    width = 6 * max(len(name) for name in names) + 30
    left = WIDTH - RIGHT - width - 4
    parts = [
        f'<rect class="legend" x="{left}" y="{TOP + 2}" width="{width}" '
        f'height="{14 * len(names) + 4}"/>'
    ]
    for number, name in enumerate(names):
        y = TOP + 14 + 14 * number
        color = COLORS[number % len(COLORS)]
        parts.append(
            f'<line x1="{left + 4}" x2="{left + 18}" y1="{y - 4}" y2="{y - 4}" '
            f'stroke="{color}" stroke-width="2"/>'
            f'<text x="{left + 22}" y="{y}" class="legend">{escape(name)}</text>'
        )
    return parts


def _number(value: float) -> str:
    if value == int(value) and abs(value) < 1e5:
        return str(int(value))
    return f"{value:.3g}"
