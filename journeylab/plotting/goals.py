"""Plots of goal attainment, A/B tests of journeys and rule actions.

Every function draws on the given Axes (or a new figure), returns what it drew on, never
calls ``plt.show()`` and never changes global rcParams. Numbers come from the result
objects; nothing is computed here beyond layout.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from .._core.formatting import duration_spec
from ..exceptions import InvalidParameterError
from ._style import INK, interval_bars

__all__ = ["plot_goal_attainment", "plot_ab_test", "plot_rule_actions"]

CREDITED = "#2f855a"
OPEN = "#9ae6b4"
TARGET = "#c53030"
NEUTRAL = "#a0aec0"
NO_CREDIT = "#dd6b20"
ACCENT = "#2b6cb0"

_GOAL_KINDS = ("all", "progress", "over_time", "reasons", "time_to_goal")


def _clean(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=INK, labelsize=9)
    ax.title.set_color(INK)


def _nobody(ax):
    ax.text(0.5, 0.5, "nobody entered", ha="center", va="center", transform=ax.transAxes, color=INK)
    _clean(ax)
    return ax


def _new_ax(ax, size=(6.4, 3.6)):
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


# --------------------------------------------------------------------------- goal attainment


def _progress(res, ax):
    g = res.goal
    n_in, n_ok, n_open = res.n_entered, res.n_attained, res.n_open
    if g.target is not None:
        unit = "people"
        done, pending, target = n_ok, n_open, float(g.target)
        fmt = FuncFormatter(lambda v, _: f"{v:,.0f}")
    else:
        unit = "%"
        done = 100.0 * n_ok / n_in if n_in else 0.0
        pending = 100.0 * n_open / n_in if n_in else 0.0
        target = g.target_pct
        fmt = PercentFormatter(100)
    ax.barh([0], [done], color=CREDITED, height=0.5, label="credited")
    ax.barh([0], [pending], left=[done], color=OPEN, height=0.5, label="still open")
    top = max(done + pending, target or 0.0, 1e-9)
    if target is not None:
        ax.axvline(target, color=TARGET, lw=2, ls="--", label="target")
        prog = res.progress
        status = "target met" if res.target_met else f"{prog:.0%} of target"
        title = f"Progress: {status}"
    else:
        title = "Attainment (no target set)"
    hi = top * 1.3
    ax.set_xlim(0, min(hi, 110.0) if unit == "%" else hi)
    text = f"{n_ok:,} of {n_in:,} ({res.rate:.1%})" if n_in else "nobody entered"
    ax.text(done + pending, 0, f"  {text}", va="center", ha="left", fontsize=9, color=INK)
    ax.xaxis.set_major_formatter(fmt)
    ax.set_yticks([])
    ax.set_ylim(-0.6, 0.9)
    ax.set_xlabel("people credited" if unit == "people" else "share of the people in the journey", color=INK)
    ax.set_title(title, loc="left", fontsize=11)
    ax.legend(loc="upper right", fontsize=8, frameon=False, ncols=3)
    _clean(ax)
    ax.spines["left"].set_visible(False)
    return ax


def _over_time(res, ax):
    w = res.by_week
    if not len(w):
        return _nobody(ax)
    x = np.arange(len(w))
    rate = w["rate"].to_numpy() * 100
    open_share = (w["open"] / w["entered"]).to_numpy() * 100
    ax.bar(x, rate, color=CREDITED, width=0.8, label="credited")
    ax.bar(x, open_share, bottom=rate, color=OPEN, width=0.8, label="still open")
    if res.goal.target_pct is not None:
        ax.axhline(res.goal.target_pct, color=TARGET, lw=1.5, ls="--", label="target")
    step = max(1, math.ceil(len(w) / 7))
    ax.set_xticks(x[::step])
    ax.set_xticklabels([f"{d:%d %b}" for d in w.index[::step]], rotation=0, fontsize=8)
    ax.yaxis.set_major_formatter(PercentFormatter(100))
    # head room above the bars for the legend, so that it never covers them
    ax.set_ylim(0, max(100.0, float(np.nanmax(rate + open_share))) * 1.15 if len(w) else 115)
    ax.set_yticks([0, 20, 40, 60, 80, 100])
    ax.set_ylabel("attainment rate", color=INK)
    ax.set_xlabel("week of entry (Monday)", color=INK)
    ax.set_title("Attainment by week of entry", loc="left", fontsize=11)
    ax.legend(loc="upper right", fontsize=8, frameon=False, ncols=3)
    _clean(ax)
    return ax


def _reasons(res, ax):
    r = res.reasons[res.reasons["customers"] > 0].iloc[::-1]
    colors = [CREDITED if k == "credited" else OPEN if k == "pending" else
              NEUTRAL if k in ("not_reached", "never_entered", "excluded") else NO_CREDIT for k in r.index]
    y = np.arange(len(r))
    ax.barh(y, r["customers"].to_numpy(), color=colors, height=0.65)
    ax.set_yticks(y)
    ax.set_yticklabels(r["label"].tolist(), fontsize=9)
    top = float(r["customers"].max()) if len(r) else 1.0
    for yi, (k, row) in zip(y, r.iterrows()):
        share = row["share_of_entered"]
        extra = "" if pd.isna(share) else f" ({share:.0%} of entered)" if share >= 0.01 else f" ({share:.1%} of entered)"
        ax.text(row["customers"] + top * 0.01, yi, f"{int(row['customers']):,}{extra}", va="center", fontsize=8,
                color=INK)
    ax.set_xlim(0, top * 1.35)
    ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel("customers", color=INK)
    ax.set_title("Credited, or why not", loc="left", fontsize=11)
    _clean(ax)
    return ax


def _time_to_goal(res, ax):
    km = res.time_to_goal
    if not len(km):
        return _nobody(ax)
    days = km["time"].dt.total_seconds().to_numpy() / 86400
    ax.step(days, km["attained"].to_numpy() * 100, where="post", color=ACCENT, lw=2, label="Kaplan-Meier")
    ax.fill_between(days, km["low"].to_numpy() * 100, km["high"].to_numpy() * 100, step="post", color=ACCENT,
                    alpha=0.15, lw=0, label="95% interval")
    med = res.km_median_time_to_goal
    if not pd.isna(med):
        d = med.total_seconds() / 86400
        ax.axvline(d, color=INK, lw=1, ls=":")
        ax.text(d, 2, f" median {d:.1f} d", fontsize=8, color=INK, va="bottom")
    ax.yaxis.set_major_formatter(PercentFormatter(100))
    ax.set_ylim(0, 100)
    ax.set_xlim(left=0)
    ax.set_xlabel("days since entering the journey", color=INK)
    ax.set_ylabel("share attaining the goal", color=INK)
    ax.set_title("Time to goal since entry (Kaplan-Meier)", loc="left", fontsize=11)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    _clean(ax)
    return ax


_GOAL_PANELS = {"progress": _progress, "over_time": _over_time, "reasons": _reasons, "time_to_goal": _time_to_goal}


def plot_goal_attainment(result, *, ax=None, kind: str = "all", **kw):
    """Plot a :class:`~journeylab.goals.GoalAttainment` (what :meth:`GoalAttainment.plot` draws).

    Parameters
    ----------
    result : GoalAttainment
        The attainment to draw (its goal, headline numbers, ``by_week``, ``reasons`` and
        ``time_to_goal``).
    ax : Axes or sequence of four Axes, optional
        Where to draw (default: a new figure).
    kind : {"all", "progress", "over_time", "reasons", "time_to_goal"}, default "all"
        ``"progress"``: attained against the target; ``"over_time"``: attainment rate by
        week of entry; ``"reasons"``: customers per reason (credited or why not);
        ``"time_to_goal"``: Kaplan-Meier curve of the share attaining the goal; ``"all"``:
        the four panels.
    **kw
        ``figsize`` of the new figure for ``kind="all"``.

    Returns
    -------
    Axes, or for ``kind="all"`` the array of four Axes.

    Examples
    --------
    >>> import journeylab as jl
    >>> sample = jl.datasets.make_journeys(200, random_state=1)
    >>> ax = plot_goal_attainment(jl.goal_attainment(sample.log, sample.journey), kind="reasons")
    >>> ax.get_title(loc="left")
    'Credited, or why not'
    """
    if kind not in _GOAL_KINDS:
        raise InvalidParameterError(f"kind={kind!r} is not a plot of GoalAttainment. Use one of "
                                    f"{', '.join(map(repr, _GOAL_KINDS))}.")
    if kind != "all":
        return _GOAL_PANELS[kind](result, _new_ax(ax))
    if ax is None:
        fig, axes = plt.subplots(2, 2, figsize=kw.pop("figsize", (12, 7.5)), layout="constrained")
        fig.suptitle(f"Goal attainment - {result.journey.name} ({result.goal.type}: {result.goal.activity}, "
                     f"window {duration_spec(result.goal.window)})", fontsize=12, color=INK)
        axes = axes.ravel()
    else:
        axes = np.asarray(ax, dtype=object).ravel()
        if len(axes) != 4:
            raise InvalidParameterError(f"kind='all' draws four panels; ax must be four Axes, got {len(axes)}. "
                                        "Pass kind='progress' (or another single panel) to draw on one Axes.")
    for a, name in zip(axes, ("progress", "reasons", "over_time", "time_to_goal")):
        _GOAL_PANELS[name](result, a)
    return axes


# --------------------------------------------------------------------------- A/B test


def plot_ab_test(result, *, ax=None, kind: str = "lift", **kw):
    """Plot an :class:`~journeylab.abtest.ABTest` (what :meth:`ABTest.plot` draws).

    Parameters
    ----------
    result : ABTest
        The test to draw (its ``table``, control, verdict and confidence).
    ax : Axes, optional
        Where to draw (default: a new figure).
    kind : {"lift", "rates"}, default "lift"
        ``"lift"``: each version's lift over the control with its confidence interval
        (green: significantly better, red: significantly worse, grey: inconclusive);
        ``"rates"``: the conversion rate of each version with its Wilson interval.
    **kw
        Unused; accepted for a uniform ``plot`` signature.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import warnings, journeylab as jl
    >>> sample = jl.datasets.make_journeys(400, random_state=1)
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ax = plot_ab_test(jl.ab_test(sample.log, sample.journey), kind="rates")
    >>> ax.get_title(loc="left").startswith("A/B test")
    True
    """
    if kind not in ("lift", "rates"):
        raise InvalidParameterError(f"kind={kind!r} is not a plot of ABTest. Use 'lift' or 'rates'.")
    ax = _new_ax(ax, (6.4, 1.2 + 0.6 * len(result.table)))
    t = result.table
    lvl = result.params.get("confidence", 0.95)
    if kind == "rates":
        y = np.arange(len(t))[::-1]
        rate = t["rate"].to_numpy() * 100
        lo, hi = t["rate_low"].to_numpy() * 100, t["rate_high"].to_numpy() * 100
        colors = [NEUTRAL if v == result.control else ACCENT for v in t.index]
        ax.barh(y, rate, color=colors, height=0.6)
        interval_bars(ax, y, lo, hi, ecolor=INK, capsize=4, lw=1)
        for yi, v, r, n, k in zip(y, t.index, rate, t["customers"], t["conversions"]):
            ax.text(hi.max() * 1.02, yi, f"{r:.1f}%  ({k:,}/{n:,})", va="center", fontsize=8, color=INK)
        ax.set_yticks(y)
        ax.set_yticklabels([f"{v} (control)" if v == result.control else str(v) for v in t.index])
        ax.xaxis.set_major_formatter(PercentFormatter(100))
        ax.set_xlim(0, hi.max() * 1.35 if hi.max() > 0 else 1)
        ax.set_xlabel(f"conversion rate ({result.metric_label}), {lvl:.0%} interval", color=INK)
        ax.set_title(f"A/B test: {result.verdict}", loc="left", fontsize=11)
        _clean(ax)
        return ax
    c = t.drop(index=result.control)
    y = np.arange(len(c))[::-1]
    lift = c["lift"].to_numpy() * 100
    lo, hi = c["lift_low"].to_numpy() * 100, c["lift_high"].to_numpy() * 100
    sig = c["significant"].to_numpy(dtype=bool)
    colors = [CREDITED if s and v > 0 else TARGET if s else NEUTRAL for s, v in zip(sig, lift)]
    for yi, l, a, b, col in zip(y, lift, lo, hi, colors):
        ax.plot([a, b], [yi, yi], color=col, lw=3, solid_capstyle="round")
        ax.plot([l], [yi], "o", color=col, ms=8, mec="white")
    ax.axvline(0, color=INK, lw=1)
    span = max(np.nanmax(np.abs(np.r_[lo, hi])) if len(c) else 1.0, 1e-6)
    ax.set_xlim(-span * 1.3, span * 1.3)
    for yi, l, p, s in zip(y, lift, c["p_value_adj"], c["verdict"]):
        ptxt = "p<0.001" if p < 0.001 else f"p={p:.3f}"
        ax.annotate(f"{l:+.2f} pp, {ptxt}, {s}", (l, yi), xytext=(0, 9), textcoords="offset points",
                    ha="center", fontsize=8, color=INK)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{v} vs {result.control}" for v in c.index])
    ax.set_ylim(-0.7, len(c) - 0.3)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:+.1f} pp"))
    ci_note = "Bonferroni-adjusted " if len(c) > 1 else ""
    ax.set_xlabel(f"lift in conversion ({result.metric_label}), {ci_note}{lvl:.0%} interval", color=INK)
    ax.set_title(f"A/B test: {result.verdict} (control {result.control})", loc="left", fontsize=11)
    _clean(ax)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return ax


# --------------------------------------------------------------------------- rule actions


def plot_rule_actions(result, *, ax=None, **kw):
    """Customers due for each rule's action (what :meth:`RuleActions.plot` draws).

    Parameters
    ----------
    result : RuleActions
        The actions due (its ``summary``: customers per rule, and ``as_of``).
    ax : Axes, optional
        Where to draw (default: a new figure).
    **kw
        Unused; accepted for a uniform ``plot`` signature.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import journeylab as jl
    >>> sample = jl.datasets.make_journeys(200, random_state=1)
    >>> due = jl.evaluate_rules(sample.log, sample.journey, [{"name": "r", "when": "in_journey == true",
    ...                                                       "action": "nudge"}])
    >>> plot_rule_actions(due).get_title(loc="left")
    'Actions due per rule'
    """
    s = result.summary
    ax = _new_ax(ax, (6.4, 1.2 + 0.45 * max(len(s), 1)))
    y = np.arange(len(s))[::-1]
    ax.barh(y, s["customers"].to_numpy(), color=ACCENT, height=0.6)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{r} -> {a}" for r, a in zip(s.index, s["action"])], fontsize=9)
    top = float(s["customers"].max()) if len(s) and s["customers"].max() > 0 else 1.0
    for yi, n in zip(y, s["customers"]):
        ax.text(n + top * 0.01, yi, f"{int(n):,}", va="center", fontsize=8, color=INK)
    ax.set_xlim(0, top * 1.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"customers due as of {result.as_of:%Y-%m-%d %H:%M}", color=INK)
    ax.set_title("Actions due per rule", loc="left", fontsize=11)
    _clean(ax)
    return ax
