"""A shared, quiet look for journeylab figures (no global rcParams are changed)."""

from __future__ import annotations

import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors

INK = "#1f2933"        # titles, labels
MUTED = "#616e7c"      # secondary text
LIGHT = "#cbd2d9"      # grid, neutral strokes
EDGE = "#52606d"       # neutral edges
BACKGROUND = "white"
START_COLOR = "#2f9e62"
END_COLOR = "#c2413b"
FONT = "DejaVu Sans"

#: 20 distinct, print-friendly colours for activities (Tableau 10 then its light tints, reordered)
PALETTE = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#2f4b7c", "#a05195", "#d45087", "#665191", "#003f5c", "#ffa600",
    "#7aa6c2", "#8cd17d", "#b6992d", "#499894",
]


def activity_colors(activities) -> dict:
    """A colour per activity, stable for a given order (most frequent first)."""
    out = {}
    for i, a in enumerate(activities):
        if i < len(PALETTE):
            out[a] = PALETTE[i]
        else:  # beyond 20: cycle through the palette with a lighter tint
            base = mcolors.to_rgb(PALETTE[i % len(PALETTE)])
            k = 0.35 + 0.25 * ((i // len(PALETTE)) % 2)
            out[a] = mcolors.to_hex(tuple(c + (1 - c) * k for c in base))
    return out


def text_color_on(fill) -> str:
    """Black or white, whichever reads better on ``fill``."""
    r, g, b = mcolors.to_rgb(fill)
    return INK if (0.299 * r + 0.587 * g + 0.114 * b) > 0.55 else "white"


def wrap(text: str, width: int = 22, max_lines: int = 3) -> str:
    """Wrap a label on word boundaries; long words are cut; at most ``max_lines`` lines."""
    lines = textwrap.wrap(str(text), width=width, break_long_words=True, break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, width - 1)] + "\u2026"
    return "\n".join(lines)


_SIZE_CACHE: dict = {}


def text_size(text: str, fontsize: float, *, bold: bool = False) -> tuple[float, float]:
    """(width, height) in inches of a block of text in the house font (measured, cached)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextPath

    key = (text, fontsize, bold)
    if key not in _SIZE_CACHE:
        lines = str(text).split("\n")
        prop = FontProperties(family=FONT, weight="bold" if bold else "normal")
        width = max((TextPath((0, 0), line or " ", size=fontsize, prop=prop).get_extents().width for line in lines),
                    default=0.0)
        _SIZE_CACHE[key] = (width / 72, len(lines) * fontsize * 1.22 / 72)
        if len(_SIZE_CACHE) > 5000:
            _SIZE_CACHE.clear()
    return _SIZE_CACHE[key]


def new_axes(ax, figsize):
    """The given Axes, or a new figure of ``figsize`` inches (never touches global state)."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize)  # sized and margined by size_to_content
    fig.patch.set_facecolor(BACKGROUND)
    return fig, ax


def size_to_content(fig, ax, *, extra_w: float = 0.3, extra_h: float = 0.0, top: float = 0.62,
                    bottom: float = 0.08, max_w: float = 30.0, max_h: float = 24.0) -> None:
    """Size a figure we created so that one data unit is one inch (equal-aspect canvases).

    ``top`` / ``bottom`` are margins in inches (title above, legend below).
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    w = min(max(x1 - x0 + extra_w, 5.0), max_w)
    content_h = y1 - y0 + extra_h
    h = min(max(content_h + top + bottom, 2.6), max_h)
    fig.set_size_inches(w, h)
    side = extra_w / 2 / w
    fig.subplots_adjust(left=side, right=1 - side, top=1 - top / h, bottom=bottom / h)


def blank(ax) -> None:
    """An Axes used as a canvas: no ticks, no spines."""
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_facecolor(BACKGROUND)


def title(ax, main: str, sub: str | None = None) -> None:
    """A left-aligned title with an optional muted subtitle."""
    ax.set_title(main + (f"\n{sub}" if sub else ""), loc="left", fontsize=11, color=INK, fontfamily=FONT,
                 fontweight="bold" if not sub else "normal")


def ramp(cmap_name: str, value: float, lo: float = 0.15, hi: float = 0.85):
    """A colour from a matplotlib colormap, restricted to its readable middle range."""
    cmap = plt.get_cmap(cmap_name)
    v = min(max(float(value), 0.0), 1.0)
    return cmap(lo + (hi - lo) * v)


def close(fig) -> None:
    """Release a figure that was displayed by a widget (pyplot keeps a reference otherwise)."""
    plt.close(fig)


def interval_bars(ax, pos, lo, hi, *, horizontal: bool = True, **kw):
    """Draw confidence intervals ``lo .. hi`` as error bars at ``pos`` (y for horizontal bars, x for vertical).

    The bars are drawn from the interval itself, not as distances from an estimate: an
    interval need not contain the estimate (an adjusted Wald or bootstrap interval) and may
    touch it within rounding, and matplotlib refuses negative error lengths.

    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = interval_bars(ax, [0, 1], [-98.5, 0.2], [48.5, 0.4])  # the first excludes its estimate of -100
    >>> plt.close(fig)
    """
    lo = np.asarray(lo, dtype=float)
    hi = np.asarray(hi, dtype=float)
    mid, half = (lo + hi) / 2, np.abs(hi - lo) / 2
    kw.setdefault("fmt", "none")
    if horizontal:
        return ax.errorbar(mid, np.asarray(pos, dtype=float), xerr=half, **kw)
    return ax.errorbar(np.asarray(pos, dtype=float), mid, yerr=half, **kw)
