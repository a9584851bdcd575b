"""The progress page's small charts as inline SVG: drawn once on the server, so they need no script and no network.

Two bar charts are all the dashboard holds; a charting library would add more bytes (and, for the Python ones,
their own scripts linked from a CDN by default) than these few lines of SVG cost, and SVG prints and scales.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from maps._common import esc

FONT = "font-family='WenQuanYi Zen Hei, Microsoft YaHei, sans-serif'"


def _nice_max(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above ``value`` (axis top)."""
    if value <= 0:
        return 1.0
    power = 10 ** np.floor(np.log10(value))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value))


def _legend(names: Sequence[str], colours: Sequence[str], *, y: float, width: float) -> tuple[str, float]:
    """Swatches and names in rows across ``width``; returns the SVG and the height used."""
    parts, x, row = [], 0.0, 0
    for name, colour in zip(names, colours, strict=True):
        w = 16 + 12 * len(name) + 10
        if x + w > width and x > 0:
            x, row = 0.0, row + 1
        yy = y + row * 16
        parts.append(
            f"<rect x='{x:.0f}' y='{yy:.0f}' width='10' height='10' fill='{colour}' stroke='#666' stroke-width='.5'/>"
            f"<text x='{x + 14:.0f}' y='{yy + 9:.0f}' font-size='11' {FONT}>{esc(name)}</text>"
        )
        x += w
    return "".join(parts), (row + 1) * 16 + 4


def stacked_bars(
    *,
    title: str,
    rows: Sequence[str],
    series: Sequence[str],
    colours: Sequence[str],
    counts: np.ndarray,
    width: int = 410,
) -> str:
    """Horizontal bars, one per row (street), split into ``series`` (stages); ``counts`` is rows × series."""
    counts = np.asarray(counts, dtype=float)
    label_w, bar_h, gap = 92, 16, 6
    legend, legend_h = _legend(series, colours, y=22, width=width)
    top = 22 + legend_h
    total = counts.sum(axis=1) if counts.size else np.zeros(len(rows))
    peak = float(total.max()) if len(total) else 0.0
    span = width - label_w - 40
    parts = [f"<text x='0' y='14' font-size='13' font-weight='bold' {FONT}>{esc(title)}</text>", legend]
    for r, name in enumerate(rows):
        y = top + r * (bar_h + gap)
        parts.append(f"<text x='0' y='{y + 12}' font-size='11' {FONT}>{esc(name)}</text>")
        x = float(label_w)
        for s, colour in enumerate(colours):
            w = span * counts[r, s] / peak if peak else 0.0
            if w > 0:
                parts.append(
                    f"<rect x='{x:.1f}' y='{y}' width='{w:.1f}' height='{bar_h}' fill='{colour}'>"
                    f"<title>{esc(name)} · {esc(series[s])}: {int(counts[r, s])}</title></rect>"
                )
            x += w
        parts.append(f"<text x='{x + 4:.1f}' y='{y + 12}' font-size='11' {FONT}>{int(total[r])}</text>")
    height = top + len(rows) * (bar_h + gap) + 4
    return (
        f"<svg class='rn-chart' role='img' xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' "
        f"width='{width}' height='{height}'><title>{esc(title)}</title>{''.join(parts)}</svg>"
    )


def grouped_bars(
    *,
    title: str,
    groups: Sequence[str],
    series: Sequence[str],
    colours: Sequence[str],
    values: np.ndarray,
    unit: str,
    width: int = 410,
    height: int = 190,
) -> str:
    """Vertical bars per group (year), one bar per series side by side; ``values`` is groups × series."""
    values = np.asarray(values, dtype=float)
    legend, legend_h = _legend(series, colours, y=22, width=width)
    top, left, bottom = 22 + legend_h + 6, 44, 20
    plot_h = height - top - bottom
    axis = _nice_max(float(values.max()) if values.size else 0.0)
    parts = [f"<text x='0' y='14' font-size='13' font-weight='bold' {FONT}>{esc(title)}</text>", legend]
    for k in range(5):
        v = axis * k / 4
        y = top + plot_h - plot_h * k / 4
        parts.append(
            f"<line x1='{left}' x2='{width}' y1='{y:.1f}' y2='{y:.1f}' stroke='#e5e5e5'/>"
            f"<text x='{left - 4}' y='{y + 4:.1f}' font-size='10' text-anchor='end' {FONT}>{v:,.0f}</text>"
        )
    parts.append(f"<text x='0' y='{top - 4}' font-size='10' {FONT}>{esc(unit)}</text>")
    slot = (width - left) / max(len(groups), 1)
    bar_w = min(22.0, slot * 0.8 / max(len(series), 1))
    for g, name in enumerate(groups):
        x0 = left + g * slot + (slot - bar_w * len(series)) / 2
        for s, colour in enumerate(colours):
            h = plot_h * values[g, s] / axis
            parts.append(
                f"<rect x='{x0 + s * bar_w:.1f}' y='{top + plot_h - h:.1f}' width='{bar_w - 1:.1f}' height='{h:.1f}' "
                f"fill='{colour}'><title>{esc(name)} · {esc(series[s])}: {values[g, s]:,.1f} {esc(unit)}"
                "</title></rect>"
            )
        parts.append(
            f"<text x='{left + g * slot + slot / 2:.1f}' y='{height - 6}' font-size='10' text-anchor='middle' "
            f"{FONT}>{esc(name)}</text>"
        )
    return (
        f"<svg class='rn-chart' role='img' xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' "
        f"width='{width}' height='{height}'><title>{esc(title)}</title>{''.join(parts)}</svg>"
    )
