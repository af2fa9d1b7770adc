"""Small inline SVG charts (no JavaScript, no external files) for the HTML report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from rcflow.reports.i18n import Formatter

PALETTE = ("#2f7ebc", "#e08a2e", "#3a9d5d", "#c44e52", "#8c6bb1", "#17a2b8", "#b5a11f",
           "#7f7f7f")  # fmt: skip
EMPHASIS = "#1f3b5b"
GRID = "#e3e8ee"
INK = "#44505c"
FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"


@dataclass(frozen=True)
class Series:
    """One line: a value per label (``None`` leaves a gap)."""

    name: str
    values: Sequence[float | None]
    emphasis: bool = False


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values covering ``low..high`` (steps of 1, 2, 2.5 or 5 × 10^k)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _t(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11,
       fill: str = INK, weight: str = "normal") -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}" font-weight="{weight}">{escape(text)}</text>'
    )


def line_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    threshold: float | None = 30.0,
    threshold_label: str = "30-day limit",
    breaks: Sequence[int] = (),
    unit: str = "days",
    break_label: str = "method change",
    title: str = "PMP trend",
    fmt: Formatter | None = None,
    width: int = 760,
    height: int = 250,
) -> str:
    """A multi-line chart over ``labels``, a dashed threshold, and method-break markers; the
    words are the caller's (already translated), numbers written by ``fmt`` (default English)."""
    number = (fmt or Formatter("en")).number
    left, right, top, bottom = 52, 16, 14, 34
    legend_rows = math.ceil((len(series) + (threshold is not None)) / 3)
    total_height = height + 8 + legend_rows * 18
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for s in series for v in s.values if v is not None]
    low = min([0.0, *values])
    high = max([*values, threshold or 0.0, 1.0])
    ticks = nice_ticks(low, high * 1.05)
    y_min, y_max = ticks[0], ticks[-1]

    def x_at(i: int) -> float:
        return left + (plot_w * (i + 0.5) / max(len(labels), 1))

    def y_at(v: float) -> float:
        return top + plot_h * (1 - (v - y_min) / (y_max - y_min))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {total_height}" '
        f'width="100%" role="img" style="{FONT}" aria-label="{escape(title)}">'
    ]
    for tick in ticks:
        y = y_at(tick)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{GRID}" stroke-width="1"/>')  # fmt: skip
        parts.append(_t(left - 6, y + 4, number(tick, 0 if tick == int(tick) else 1),
                        anchor="end", size=10))  # fmt: skip
    parts.append(_t(10, top + plot_h / 2, unit, anchor="middle", size=10).replace(
        "<text ", f'<text transform="rotate(-90 10 {top + plot_h / 2:.1f})" ', 1))
    step = max(1, math.ceil(len(labels) / 12))
    for i, label in enumerate(labels):
        if i % step == 0 or i == len(labels) - 1:
            parts.append(_t(x_at(i), height - bottom + 16, label, anchor="middle", size=10))
    if threshold is not None and y_min <= threshold <= y_max:
        y = y_at(threshold)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
                     'stroke="#c44e52" stroke-width="1.2" stroke-dasharray="5 4"/>')
    for i in breaks:
        x = (x_at(i - 1) + x_at(i)) / 2
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" '
                     'stroke="#8c6bb1" stroke-width="1.5" stroke-dasharray="2 3"/>')
        parts.append(_t(x + 4, top + 10, break_label, size=10, fill="#8c6bb1"))
    colours = iter(PALETTE * (len(series) // len(PALETTE) + 1))
    legend = []
    for s in series:
        colour = EMPHASIS if s.emphasis else next(colours)
        stroke = 3 if s.emphasis else 1.8
        run: list[str] = []
        segments = []
        for i, v in enumerate(s.values):
            if v is None:
                if run:
                    segments.append(run)
                run = []
                continue
            run.append(f"{x_at(i):.1f},{y_at(v):.1f}")
            parts.append(
                f'<circle cx="{x_at(i):.1f}" cy="{y_at(v):.1f}" r="{3.2 if s.emphasis else 2.6}" '
                f'fill="{colour}"><title>{escape(s.name)} · {escape(labels[i])}: '
                f"{number(v)} {escape(unit)}</title></circle>"
            )
        if run:
            segments.append(run)
        for points in (seg for seg in segments if len(seg) > 1):
            parts.append(f'<polyline points="{" ".join(points)}" fill="none" '
                         f'stroke="{colour}" stroke-width="{stroke}" stroke-linejoin="round"/>')  # fmt: skip
        legend.append((s.name, colour, stroke, ""))
    if threshold is not None:
        legend.append((threshold_label, "#c44e52", 1.2, ' stroke-dasharray="5 4"'))
    for n, (name, colour, stroke, dash) in enumerate(legend):
        x = left + (n % 3) * (plot_w / 3)
        y = height + 4 + (n // 3) * 18
        parts.append(f'<line x1="{x:.1f}" x2="{x + 18:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="{colour}" stroke-width="{stroke}"{dash}/>')  # fmt: skip
        label = name if len(name) <= 36 else name[:35] + "…"
        parts.append(_t(x + 24, y + 4, label, size=11))
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    items: Sequence[tuple[str, float, str]],
    *,
    colour: str = "#2f7ebc",
    colours: Sequence[str] | None = None,
    width: int = 460,
    label_width: int = 120,
    bar_height: int = 20,
    empty_label: str = "nothing to show",
) -> str:
    """Horizontal bars: ``(label, value, printed value)`` per row."""
    gap = 8
    height = max(1, len(items)) * (bar_height + gap) + gap
    peak = max([v for _, v, _ in items] + [1e-9])
    bar_space = width - label_width - 130
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" style="{FONT}">'
    ]
    for n, (label, value, printed) in enumerate(items):
        y = gap + n * (bar_height + gap)
        length = max(0.0, bar_space * value / peak)
        fill = colours[n % len(colours)] if colours else colour
        parts.append(_t(label_width - 8, y + bar_height * 0.7, label, anchor="end", size=12))
        parts.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" '
                     f'height="{bar_height}" rx="3" fill="{fill}"/>')  # fmt: skip
        parts.append(_t(label_width + length + 6, y + bar_height * 0.7, printed, size=12))
    if not items:
        parts.append(_t(width / 2, height / 2 + 4, empty_label, anchor="middle"))
    parts.append("</svg>")
    return "".join(parts)
