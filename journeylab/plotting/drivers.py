"""The forest plot of :func:`journeylab.drivers` (matplotlib only).

- :func:`plot_drivers` - the top candidates that raise the outcome and the top that lower it, ranked as
  the result ranks them: the +1-smoothed odds ratio with its interval on a log axis (1 = no effect),
  the adjusted odds ratio beside it when computed, non-significant candidates muted, confounded ones
  marked.

Numbers come from the result; nothing is computed here beyond layout.
"""

from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ._style import FONT, INK, LIGHT, MUTED, interval_bars, new_axes, title, wrap

__all__ = ["plot_drivers"]

RAISE, LOWER, ADJUSTED = "#2f9e62", "#c2413b", "#4e79a7"


def _ratio(x, _pos=None) -> str:
    return f"{x:g}" if x >= 0.01 else f"{x:.0e}"


def plot_drivers(result, *, ax=None, n: int = 8, adjusted: bool | None = None, figsize=None):
    """Draw a :class:`~journeylab.drivers.Drivers` as a ranked forest plot.

    Parameters
    ----------
    result : Drivers
        From :func:`journeylab.drivers`.
    ax : Axes, optional
        Where to draw (default: a new figure sized to the rows).
    n : int, default 8
        Candidates per direction (the top ``n`` that raise and the top ``n`` that lower the outcome).
    adjusted : bool, optional
        Also draw the adjusted odds ratios and their bootstrap intervals (default: when computed).
    figsize : tuple, optional
        Size of the new figure.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import journeylab as jl
    >>> s = jl.datasets.make_journeys(300, random_state=1)
    >>> ax = plot_drivers(jl.drivers(s.log, s.journey, at="checkout", adjust=False), n=5)
    >>> ax.get_xscale()
    'log'
    """
    up = result.top(n, direction="positive")
    down = result.top(n, direction="negative")
    rows = list(up.itertuples()) + list(down.itertuples())
    show_adj = bool(result.params.get("adjust")) if adjusted is None else bool(adjusted)
    if show_adj and not any(np.isfinite(getattr(r, "adjusted_or")) for r in rows):
        show_adj = False
    k = len(rows)
    _fig, ax = new_axes(ax, figsize or (8.6, max(2.8, 0.36 * k + 1.9)))
    ys = np.arange(k)[::-1].astype(float)
    if len(up) and len(down):
        ys[len(up):] -= 0.6  # a gap between the two groups
    off = 0.17 if show_adj else 0.0
    for y, r in zip(ys, rows):
        colour = RAISE if r.odds_ratio > 1 else LOWER
        alpha = 1.0 if r.significant else 0.45
        interval_bars(ax, [y + off], [r.or_low], [r.or_high], color=colour, alpha=alpha, elinewidth=1.6, capsize=2.5)
        ax.plot([r.odds_ratio], [y + off], "o", color=colour, alpha=alpha, markersize=6, zorder=3)
        if show_adj and np.isfinite(r.adjusted_or):
            if np.isfinite(r.adjusted_low):
                interval_bars(ax, [y - off], [r.adjusted_low], [r.adjusted_high], color=ADJUSTED, elinewidth=1.2,
                              capsize=2)
            ax.plot([r.adjusted_or], [y - off], "D", color=ADJUSTED, markersize=4.5, zorder=3)
    ax.set_xscale("log")
    ax.axvline(1.0, color=MUTED, linewidth=1, linestyle="--", zorder=1)
    labels = [wrap(r.candidate + ("  (confounded)" if r.confounded else ""), 44, 2) for r in rows]
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontsize=8.5, color=INK, fontfamily=FONT)
    for tick, r in zip(ax.get_yticklabels(), rows):
        if not r.significant:
            tick.set_color(MUTED)
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(_ratio))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.tick_params(axis="x", labelsize=8.5, colors=INK)
    ax.grid(axis="x", color=LIGHT, linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("odds ratio of reaching the outcome (log scale; 1 = no effect)", fontsize=9, color=INK)
    if len(ys):
        ax.set_ylim(ys.min() - 0.8, ys.max() + 0.8)
    sub = (f"{result.n_cases:,} cases, {result.rate:.1%} reach it; top {n} raising and lowering, ranked; "
           f"faded: not significant after Benjamini-Hochberg")
    title(ax, f"Drivers of {result.outcome!r}", sub)
    handles = [Line2D([], [], color=RAISE, marker="o", label="raises (odds ratio, +1 smoothed)"),
               Line2D([], [], color=LOWER, marker="o", label="lowers")]
    if show_adj:
        handles.append(Line2D([], [], color=ADJUSTED, marker="D", label="adjusted (others held constant)"))
    ax.legend(handles=handles, frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    if k == 0:
        ax.text(0.5, 0.5, "no candidate was tested", transform=ax.transAxes, ha="center", color=MUTED, fontsize=9)
    return ax
