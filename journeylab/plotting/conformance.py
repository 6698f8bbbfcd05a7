"""Plots of the happy-path comparison, funnels and milestone progression.

Every function draws on the given Axes (a new figure when ``ax`` is None), returns the
Axes, never calls ``plt.show()`` and never changes global settings. The numbers come from
the result objects (:class:`~journeylab.conformance.Conformance`,
:class:`~journeylab.funnel.Funnel`, :class:`~journeylab.milestones.Milestones`).

>>> import journeylab as jl
>>> from journeylab.journey import Journey
>>> from journeylab.funnel import funnel
>>> f = funnel(jl.datasets.load_example(), ["register request", "decide", "pay compensation"], window="30d")
>>> ax = plot_funnel(f)
>>> ax.get_title(loc="left")
'Funnel: 6 entered, 50.0% converted within 30d'
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.patches import Polygon
from matplotlib.ticker import FuncFormatter, PercentFormatter

from .._core.formatting import duration_spec, format_duration
from .._core.vocabulary import DEVIATION_LABELS, PATH_STATUS_LABELS
from ..exceptions import InvalidParameterError
from ._style import INK, MUTED, interval_bars

__all__ = ["plot_conformance", "plot_funnel", "plot_milestones", "STATUS_COLORS"]

#: Colours of the per-milestone statuses (colour-blind friendly, ordered good -> bad).
STATUS_COLORS = {
    "in_order": "#2a9d8f",
    "repeated": "#e9c46a",
    "out_of_order": "#f4a261",
    "skipped": "#e76f51",
    "incomplete": "#b8bec6",
}
_INK = INK
_MUTED = MUTED
_PATH = "#264653"
_SERIES = ["#264653", "#2a9d8f", "#e76f51", "#e9c46a", "#6d597a", "#8d99ae", "#f4a261", "#b5838d"]


def _axes(ax, size):
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _clean(ax, *, grid_axis="y"):
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#adb5bd")
    ax.tick_params(colors=_INK, labelsize=9)
    if grid_axis:
        ax.grid(axis=grid_axis, color="#e9ecef", linewidth=0.8)
        ax.set_axisbelow(True)


def _chevron(ax, x0, x1, y0, y1, *, first: bool, color: str, text: str, sub: str = ""):
    tip = min(0.12, (x1 - x0) * 0.18)
    ym = (y0 + y1) / 2
    pts = [(x0, y0), (x1 - tip, y0), (x1, ym), (x1 - tip, y1), (x0, y1)]
    if not first:
        pts.append((x0 + tip, ym))
    ax.add_patch(Polygon(pts, closed=True, facecolor=color, edgecolor="white", linewidth=1.5, zorder=3,
                         clip_on=False))
    ax.text((x0 + x1) / 2 + (0 if first else tip / 2), ym + (0.012 if sub else 0), text, ha="center",
            va="center" if not sub else "bottom", color="white", fontsize=9.5, fontweight="bold", zorder=4,
            clip_on=False)
    if sub:
        ax.text((x0 + x1) / 2 + (0 if first else tip / 2), ym - 0.008, sub, ha="center", va="top", color="white",
                fontsize=8, zorder=4, clip_on=False)


def _short(label: str, n: int = 16) -> str:
    label = str(label)
    return label if len(label) <= n else label[: n - 1] + "…"


# --------------------------------------------------------------------------- conformance


def plot_conformance(result, *, ax=None, kind: str = "path", metric: str = "duration", **kw):
    """Plot a :class:`~journeylab.conformance.Conformance`.

    ``kind="path"``: the happy path as a swimlane of milestones with, under each, the share of
    cases that matched it in order, came back to it (repeated), reached it out of order,
    skipped it, or never got there. ``kind="deviations"``: a heat map of the share of cases
    with each deviation type at each milestone. ``kind="effects"``: the difference with
    conforming cases in mean journey duration (``metric="duration"``) or goal attainment
    (``metric="goal"``), with confidence intervals.
    """
    kinds = ("path", "deviations", "effects")
    if kind not in kinds:
        raise InvalidParameterError(f"kind={kind!r} is not a conformance plot; use one of {list(kinds)}.")
    if kind == "path":
        return _plot_path(result, ax=ax, **kw)
    if kind == "deviations":
        return _plot_deviation_matrix(result, ax=ax, **kw)
    if metric not in ("duration", "goal"):
        raise InvalidParameterError(f"metric={metric!r} is not allowed; use 'duration' or 'goal'.")
    return _plot_effects(result, ax=ax, metric=metric, **kw)


def _plot_path(result, *, ax=None, title: str | None = None):
    table = result.path
    n = len(table)
    ax = _axes(ax, (max(6.5, 1.7 * n + 1.5), 4.6))
    statuses = list(STATUS_COLORS)
    x = np.arange(n)
    width = 0.62
    bottoms = np.zeros(n)
    for s in statuses:
        vals = table[f"share_{s}"].to_numpy(dtype=float)
        ax.bar(x, vals, width=width, bottom=bottoms, color=STATUS_COLORS[s], edgecolor="white", linewidth=0.8,
               label=PATH_STATUS_LABELS[s], zorder=2)
        for xi, v, b in zip(x, vals, bottoms):
            if v >= 0.06:
                dark = s in ("repeated", "incomplete", "out_of_order")
                ax.text(xi, b + v / 2, f"{v:.0%}", ha="center", va="center", fontsize=8.5,
                        color=_INK if dark else "white", zorder=3)
        bottoms += vals
    reached = table[["in_order", "repeated", "out_of_order"]].sum(axis=1).to_numpy()
    for i, m in enumerate(table.index):
        _chevron(ax, i - 0.5, i + 0.5, 1.04, 1.2, first=(i == 0), color=_PATH, text=_short(m, 14),
                 sub=f"{reached[i]:,} reached")
    ax.set_xlim(-0.55, n - 0.45)
    ax.set_ylim(0, 1.22)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xticks([])
    ax.set_ylabel("share of cases", color=_INK, fontsize=9)
    _clean(ax)
    ax.spines["bottom"].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=len(statuses), frameon=False, fontsize=8.5,
              handlelength=1.2, columnspacing=1.2)
    if title is None:
        title = (f"Happy path '{result.journey.name}': {result.conformance_rate:.1%} of {result.n_cases:,} cases "
                 f"conform (mean fitness {result.mean_fitness:.2f})")
    ax.set_title(title, loc="left", fontsize=11, color=_INK, pad=12)
    return ax


def _plot_deviation_matrix(result, *, ax=None, cmap: str = "OrRd", title: str | None = None):
    mat = result.deviation_matrix()
    ax = _axes(ax, (max(6.0, 1.05 * mat.shape[1] + 2.5), 3.4))
    vals = mat.to_numpy(dtype=float)
    from matplotlib.colors import PowerNorm

    vmax = max(float(np.nanmax(vals)) if vals.size else 0.0, 0.05)
    ax.imshow(vals, cmap=cmap, norm=PowerNorm(0.5, vmin=0, vmax=vmax), aspect="auto")
    for (r, c), v in np.ndenumerate(vals):
        if v > 0:
            ax.text(c, r, "<0.1%" if v < 0.001 else f"{v:.1%}" if v < 0.1 else f"{v:.0%}", ha="center", va="center",
                    fontsize=8.5,
                    color="white" if v > 0.45 * vmax else _INK)
    ax.set_xticks(range(mat.shape[1]), [_short(c) for c in mat.columns], rotation=30, ha="right", fontsize=9)
    ax.set_yticks(range(mat.shape[0]), [DEVIATION_LABELS[t] for t in mat.index], fontsize=9)
    ax.axvline(mat.shape[1] - 1.5, color="white", linewidth=3)
    ax.tick_params(length=0, colors=_INK)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.set_title(title or "Share of cases with each deviation, by milestone", loc="left", fontsize=11, color=_INK)
    return ax


def _duration_unit(values_s: np.ndarray) -> tuple[float, str]:
    finite = np.abs(values_s[np.isfinite(values_s)])
    big = float(finite.max()) if finite.size else 0.0
    if big >= 2 * 86400:
        return 86400.0, "days"
    if big >= 2 * 3600:
        return 3600.0, "hours"
    return 60.0, "minutes"


def _plot_effects(result, *, ax=None, metric: str = "duration", title: str | None = None):
    e = result.effects
    lvl = result.params.get("confidence", 0.95)
    if metric == "duration":
        cols = ["duration_diff", "duration_diff_low", "duration_diff_high"]
        secs = np.column_stack([e[c].dt.total_seconds().to_numpy(dtype=float) for c in cols])
        scale, unit = _duration_unit(secs.ravel())
        vals = secs / scale
        xlabel = f"difference in mean journey duration vs conforming cases ({unit}; completed cases)"
    else:
        vals = np.column_stack([e[c].to_numpy(dtype=float) for c in ("goal_diff", "goal_diff_low", "goal_diff_high")])
        vals = vals * 100
        xlabel = "difference in goal attainment vs conforming cases (percentage points)"
    ax = _axes(ax, (7.0, 3.4))
    y = np.arange(len(e))[::-1]
    ok = np.isfinite(vals[:, 0])
    has_ci = ok & np.isfinite(vals[:, 1])
    ax.axvline(0, color=_MUTED, linewidth=1, zorder=1)
    interval_bars(ax, y[has_ci], vals[has_ci, 1], vals[has_ci, 2], ecolor="#8d99ae", elinewidth=2, capsize=3, zorder=2)
    colors = np.where(vals[:, 0] > 0, "#e76f51", "#2a9d8f") if metric == "duration" else \
        np.where(vals[:, 0] < 0, "#e76f51", "#2a9d8f")
    ax.scatter(vals[ok, 0], y[ok], s=46, color=colors[ok], zorder=3, edgecolor="white", linewidth=0.8)
    labels = [f"{DEVIATION_LABELS[t]}  (n={int(n):,})" for t, n in zip(e.index, e["cases"])]
    ax.set_yticks(y, labels, fontsize=9)
    for yi, good in zip(y, ok):
        if not good:
            ax.text(0, yi, "  not defined" if metric == "duration" else "  no cases", va="center", fontsize=8,
                    color=_MUTED)
    ax.set_xlabel(xlabel, fontsize=9, color=_INK)
    _clean(ax, grid_axis="x")
    ax.set_ylim(-0.6, len(e) - 0.4)
    if title is None:
        title = f"What deviations cost: {'duration' if metric == 'duration' else 'goal attainment'} ({lvl:.0%} CI)"
    ax.set_title(title, loc="left", fontsize=11, color=_INK)
    return ax


# --------------------------------------------------------------------------- funnel


def plot_funnel(result, *, ax=None, relative: bool = False, max_segments: int = 6, title: str | None = None):
    """Bars of the units reaching each step of a :class:`~journeylab.funnel.Funnel`.

    ``relative=True`` shows shares of those who entered. Without a breakdown, a pale bar
    behind each step shows the previous step (the drop-off) and the label between bars the
    step-to-step conversion; with a breakdown (``by=``), one bar per segment (the largest
    ``max_segments``) at each step.
    """
    steps = list(result.steps)
    n = len(steps)
    x = np.arange(n)
    ax = _axes(ax, (max(6.5, 1.6 * n + 1.5), 4.2))
    entered = max(result.entered, 1)
    fmt = PercentFormatter(1.0, decimals=0) if relative else FuncFormatter(lambda v, _: f"{v:,.0f}")
    if result.breakdown is None:
        reached = result.table["reached"].to_numpy(dtype=float)
        vals = reached / entered if relative else reached
        prev = np.r_[vals[0], vals[:-1]]
        ax.bar(x, prev, width=0.66, color="#dde5e8", zorder=1, label="previous step")
        ax.bar(x, vals, width=0.66, color=_PATH, zorder=2, label="reached")
        top = float(vals.max()) if len(vals) else 1.0
        for i in range(n):
            share = reached[i] / entered
            ax.text(x[i], vals[i] + top * 0.015, f"{int(reached[i]):,}\n{share:.1%}", ha="center", va="bottom",
                    fontsize=8.5, color=_INK)
            if i:
                sc = result.table["step_conversion"].iloc[i]
                if not pd.isna(sc):
                    ax.annotate(f"{sc:.0%}", xy=(x[i] - 0.5, top * 1.1), ha="center", va="center", fontsize=8,
                                color=_MUTED, bbox={"boxstyle": "rarrow,pad=0.25", "fc": "white", "ec": "#adb5bd", "lw": 0.8})
        ax.set_ylim(0, top * 1.2 if top else 1)
    else:
        b = result.breakdown
        segs = list(b.index.get_level_values(0).unique())[:max_segments]
        k = len(segs)
        w = 0.8 / max(k, 1)
        for j, s in enumerate(segs):
            part = b.loc[s]
            reached = part["reached"].to_numpy(dtype=float)
            base = max(reached[0], 1)
            vals = reached / base if relative else reached
            ax.bar(x - 0.4 + w * (j + 0.5), vals, width=w * 0.92, color=_SERIES[j % len(_SERIES)], zorder=2,
                   label=f"{s} ({int(reached[0]):,})")
        ax.legend(title=result.params.get("by"), frameon=False, fontsize=8, title_fontsize=8.5, ncol=1,
                  loc="upper right")
    ax.set_xticks(x, [_short(s, 18) for s in steps], fontsize=9)
    ax.yaxis.set_major_formatter(fmt)
    ax.set_ylabel(("share of entered" if relative else result.params.get("count", "uniques")), fontsize=9, color=_INK)
    _clean(ax)
    if title is None:
        conv = f"{result.conversion:.1%}" if result.entered else "-"
        title = f"Funnel: {result.entered:,} entered, {conv} converted within {duration_spec(result.params['window'])}"
    ax.set_title(title, loc="left", fontsize=11, color=_INK)
    return ax


# --------------------------------------------------------------------------- milestones


def plot_milestones(result, *, ax=None, kind: str = "health", **kw):
    """Plot a :class:`~journeylab.milestones.Milestones`.

    ``kind="health"``: per happy-path milestone, the share of the cases that reached it that
    are stalled there, fell out of the happy path there, or were lost there (attrition).
    ``kind="times"``: Kaplan-Meier curves of the time from each milestone to the next (share
    that has reached the next one), with confidence bands and the median; ``scale="log"``
    (default, journeys mix minutes and days) or ``"linear"``, ``max_time`` to cut the axis.
    """
    if kind == "health":
        return _plot_health(result, ax=ax, **kw)
    if kind == "times":
        return _plot_times(result, ax=ax, **kw)
    raise InvalidParameterError(f"kind={kind!r} is not a milestones plot; use 'health' or 'times'.")


def _plot_health(result, *, ax=None, title: str | None = None):
    t = result.table[result.table["on_path"].notna()].sort_values("on_path")
    n = len(t)
    ax = _axes(ax, (max(6.5, 1.6 * n + 1.5), 4.0))
    x = np.arange(n)
    series = [("stalled", "#e9c46a"), ("fallout", "#f4a261"), ("attrition", "#e76f51")]
    w = 0.26
    top = 0.0
    for j, (k, color) in enumerate(series):
        vals = t[f"{k}_share"].fillna(0).to_numpy(dtype=float)
        counts = t[k].to_numpy()
        ax.bar(x + (j - 1) * w, vals, width=w * 0.92, color=color, label=k, zorder=2)
        for xi, v, c in zip(x + (j - 1) * w, vals, counts):
            if c:
                ax.text(xi, v, f"{v:.0%}", ha="center", va="bottom", fontsize=8, color=_INK)
        top = max(top, float(vals.max()) if len(vals) else 0.0)
    labels = [f"{m}\n{int(r):,} reached" for m, r in zip(t.index, t["reached"])]
    ax.set_xticks(x, labels, fontsize=9)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylim(0, max(top * 1.18, 0.05))
    ax.set_ylabel("share of cases that reached the milestone", fontsize=9, color=_INK)
    _clean(ax)
    ax.legend(frameon=False, fontsize=8.5, ncol=3, loc="upper right")
    ax.set_title(title or f"Where customers stall, fall out and leave (as of {result.as_of:%Y-%m-%d})", loc="left",
                 fontsize=11, color=_INK)
    return ax


def _plot_times(result, *, ax=None, title: str | None = None, max_time=None, scale: str = "log"):
    if scale not in ("log", "linear"):
        raise InvalidParameterError(f"scale={scale!r} is not allowed; use 'log' (default) or 'linear'.")
    curves = result.curves
    ax = _axes(ax, (7.4, 4.2))
    if not len(curves):
        ax.text(0.5, 0.5, "no transition to show", ha="center", va="center", transform=ax.transAxes, color=_MUTED)
        return ax
    med = result.transitions["median"].dt.total_seconds().to_numpy(dtype=float)
    # the range: from the first to a little beyond the last observed arrival (censoring times can run for months)
    jumps = []
    for _, part in curves.groupby("transition", sort=False):
        r = part["reached"].to_numpy(dtype=float)
        t = part["time"].dt.total_seconds().to_numpy(dtype=float)
        moved = np.r_[False, np.diff(r) > 0]
        jumps.append(t[moved])
    jumps = np.concatenate(jumps) if jumps else np.zeros(0)
    positive = jumps[jumps > 0]
    hi = pd.Timedelta(max_time).total_seconds() if max_time is not None else (
        float(np.quantile(positive, 0.995)) * 1.5 if positive.size else 86400.0)
    if scale == "log":
        lo = max(1.0, float(positive.min()) / 1.5) if positive.size else 1.0
        unit_scale, unit = 1.0, None
    else:
        lo = 0.0
        unit_scale, unit = _duration_unit(np.array([hi]))
    for j, (label, part) in enumerate(curves.groupby("transition", sort=False)):
        color = _SERIES[j % len(_SERIES)]
        tt = part["time"].dt.total_seconds().to_numpy(dtype=float)
        if scale == "log":
            tt = np.maximum(tt, lo)
        tt = np.r_[tt, hi] / unit_scale
        y, ylo, yhi = (np.r_[part[c].to_numpy(dtype=float), part[c].iloc[-1]] for c in ("reached", "low", "high"))
        ax.step(tt, y, where="post", color=color, linewidth=1.8, zorder=3,
                label=f"{label}  (median {format_duration(med[j], missing='not reached by half')})"
                if j < len(med) else label)
        ax.fill_between(tt, ylo, yhi, step="post", color=color, alpha=0.15, linewidth=0, zorder=2)
        if j < len(med) and math.isfinite(med[j]):
            ax.plot([max(med[j], lo) / unit_scale], [0.5], marker="o", color=color, markersize=5, zorder=4)
    ax.axhline(0.5, color="#adb5bd", linewidth=0.8, linestyle="--", zorder=1)
    if scale == "log":
        ax.set_xscale("log")
        ticks = [(1, "1 s"), (60, "1 min"), (600, "10 min"), (3600, "1 h"), (6 * 3600, "6 h"), (86400, "1 d"),
                 (7 * 86400, "1 w"), (30 * 86400, "30 d"), (90 * 86400, "90 d"), (365 * 86400, "1 y")]
        shown = [(v, t) for v, t in ticks if lo <= v <= hi]
        ax.set_xticks([v for v, _ in shown], [t for _, t in shown])
        ax.minorticks_off()
        ax.set_xlabel("time since reaching the milestone (log scale)", fontsize=9, color=_INK)
    else:
        ax.set_xlabel(f"time since reaching the milestone ({unit})", fontsize=9, color=_INK)
    ax.set_xlim(lo / unit_scale, hi / unit_scale)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("share that reached the next milestone", fontsize=9, color=_INK)
    _clean(ax, grid_axis="both")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    lvl = result.params.get("confidence", 0.95)
    ax.set_title(title or f"Time to the next milestone (Kaplan-Meier, {lvl:.0%} bands; in progress censored)",
                 loc="left", fontsize=11, color=_INK)
    return ax
