"""The journey map figure: phases as columns, touchpoint cards coloured by their KPI, the
emotion curve underneath - one glance tells where to act.

The function takes a :class:`~journeylab.journeymap.JourneyMap`, draws on ``ax`` when given
(else on a new figure sized to the map), returns the Axes, never calls ``plt.show()`` and
never changes global rcParams. Every number comes from the result.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyBboxPatch, Rectangle

from .._core.formatting import format_share
from ..exceptions import InvalidParameterError
from ._style import INK, LIGHT, MUTED, PALETTE, interval_bars, text_color_on
from .kpi import kpi_colormap

__all__ = ["plot_journey_map"]

_HEADER = 1.05      # height of the phase header band (data units)
_CARD = 0.98        # card height
_GAP = 0.14         # gap between cards
_CURVE = 2.7        # height of the emotion-curve band
_UNIT_IN = 0.62     # inches per data unit vertically
_COL_IN = 2.45      # inches per phase column
_ACT = "#7f1d1d"
_INSUFFICIENT = "#eceff1"
_COLUMN_BG = ("#f7f9fb", "#eef2f6")


def _short(text: str, n: int) -> str:
    text = str(text).replace("_", " ")
    return text if len(text) <= n else text[: n - 1] + "\u2026"


def plot_journey_map(jm, *, ax=None, segment: str = "all", center: float | None = None, max_touchpoints: int = 8,
                     curves: bool = True, **kw):
    """Draw the journey map of ``jm``.

    Each phase is a column headed by its name, the units that reached it and its KPI. Each
    touchpoint is a card: its name, events and reach (also drawn as the dark bar along the
    card's foot), its conversion to the goal and its drop-off, and its KPI with the interval;
    the card's colour is the KPI on a diverging red-yellow-green scale centred on the
    neutral value (NPS 0, CSAT 50%, the middle of the CES scale; or ``center``). Grey
    hatched cards have fewer answers than the map's minimum: insufficient, no number. A dark
    red frame and "ACT" mark touchpoints whose whole interval lies below the overall score.
    Underneath, the emotion curve: the KPI of each phase with its interval (and, for the
    whole population, one thin line per segment when ``curves``).

    ``max_touchpoints`` cards at most per phase (the busiest; the rest is counted).

    >>> import pandas as pd, journeylab as jl
    >>> from journeylab.journey import Journey, Milestone
    >>> from journeylab.journeymap import journey_map
    >>> df = pd.DataFrame({"case": ["a", "a", "b"], "activity": ["view", "buy", "view"],
    ...     "t": pd.date_range("2025-01-01", periods=3, freq="h"), "csat": [5, 4, 1]})
    >>> j = Journey("shop", [Milestone("buy", ["buy"])], phases={"explore": ["view"], "buy": ["buy"]})
    >>> m = journey_map(jl.from_pandas(df, case="case", activity="activity", timestamp="t"), j, kpi="csat",
    ...                 min_answers=1)
    >>> plot_journey_map(m).get_title(loc="left")
    'Journey map: shop'
    """
    if segment not in jm.segments:
        raise InvalidParameterError(f"segment={segment!r} is not in this map; segments: {list(jm.segments)}.")
    tp = jm.touchpoints[jm.touchpoints["segment"] == segment]
    ph = jm.phase_scores[jm.phase_scores["segment"] == segment].set_index("phase")
    phases = list(jm.phases)
    per_phase, hidden = {}, {}
    for p in phases:
        sub = tp[tp["phase"] == p]
        if len(sub) > max_touchpoints:
            keep = sub.nlargest(max_touchpoints, "events").index
            hidden[p] = len(sub) - max_touchpoints
            sub = sub.loc[sorted(keep)]
        per_phase[p] = sub
    n_max = max([len(s) for s in per_phase.values()] + [1]) + (1 if hidden else 0) * 0.4
    P = len(phases)
    cards_h = n_max * (_CARD + _GAP)
    total_h = _HEADER + cards_h + _CURVE + 0.9
    created = ax is None
    if created:
        fig, ax = plt.subplots(figsize=(max(6.0, _COL_IN * P + 0.9), total_h * _UNIT_IN + 0.9), layout="constrained")
    fig = ax.figure
    ax.set_xlim(-0.02, P + 0.02)
    ax.set_ylim(total_h, 0)
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_visible(False)

    scores = tp.loc[tp["status"] == "ok", "score"].tolist() + ph.loc[ph["status"] == "ok", "score"].tolist()
    cmap, norm = kpi_colormap(scores, neutral=jm.neutral, better=jm.better, center=center)
    fmt = jm.overall._fmt
    fs = kw.pop("fontsize", 7.6)

    for j, p in enumerate(phases):
        x0 = j + 0.04
        w = 0.92
        ax.add_patch(FancyBboxPatch((x0, 0.05), w, _HEADER + cards_h - 0.05, boxstyle="round,pad=0,rounding_size=0.06",
                                    fc=_COLUMN_BG[j % 2], ec="none", zorder=0))
        row = ph.loc[p] if p in ph.index else None
        ax.text(j + 0.5, 0.36, _short(p, 26).upper(), ha="center", va="center", fontsize=fs + 1.8, fontweight="bold",
                color=INK)
        if row is not None:
            kpi_txt = (f"{jm.label} {fmt(row['score'])}" if row["status"] == "ok"
                       else f"{jm.label}: insufficient (n={int(row['answers'])})")
            ax.text(j + 0.5, 0.74, f"{int(row['units']):,} reached · {kpi_txt}", ha="center", va="center",
                    fontsize=fs, color=MUTED)
        for i, (_, r) in enumerate(per_phase[p].iterrows()):
            y = _HEADER + i * (_CARD + _GAP)
            ok = r["status"] == "ok"
            fill = cmap(norm(r["score"])) if ok else _INSUFFICIENT
            act = bool(r["act"])
            card = FancyBboxPatch((x0 + 0.03, y), w - 0.06, _CARD, boxstyle="round,pad=0,rounding_size=0.05",
                                  fc=fill, ec=_ACT if act else "white", lw=2.4 if act else 0.8,
                                  hatch=None if ok else "////", zorder=2)
            ax.add_patch(card)
            if not ok:
                card.set_edgecolor(LIGHT if not act else _ACT)
            tc = text_color_on(fill)
            sub_c = tc if tc != INK else "#3e4c59"
            cx = x0 + 0.09
            ax.text(cx, y + 0.2, _short(r["activity"], 24), fontsize=fs + 0.6, fontweight="bold", color=tc,
                    va="center", ha="left", zorder=3)
            ax.text(cx, y + 0.42, f"{int(r['events']):,} events · reach {format_share(r['reach'], 0)}",
                    fontsize=fs - 0.4, color=sub_c, va="center", ha="left", zorder=3)
            flow = (f"conv. {format_share(r['conversion'], 0)} · drop-off {format_share(r['drop_off'], 0)}" if jm.goal
                    else f"drop-off {format_share(r['drop_off'], 0)}")
            ax.text(cx, y + 0.61, flow, fontsize=fs - 0.4, color=sub_c, va="center", ha="left", zorder=3)
            kpi = (f"{jm.label} {fmt(r['score'])}  [{fmt(r['ci_low'])}, {fmt(r['ci_high'])}]" if ok
                   else f"insufficient (n={int(r['answers'])})" if r["answers"] else "no survey answers")
            ax.text(cx, y + 0.80, kpi, fontsize=fs, fontweight="bold" if ok else "normal",
                    style="normal" if ok else "italic", color=tc if ok else MUTED, va="center", ha="left", zorder=3)
            # reach bar along the foot of the card
            reach = float(r["reach"]) if np.isfinite(r["reach"]) else 0.0
            ax.add_patch(Rectangle((x0 + 0.03, y + _CARD - 0.06), (w - 0.06) * min(reach, 1.0), 0.06,
                                   fc=INK, alpha=0.45, lw=0, zorder=3))
            if act:
                ax.text(x0 + w - 0.06, y + 0.2, "ACT", fontsize=fs - 0.6, fontweight="bold", color="white",
                        ha="right", va="center", zorder=4,
                        bbox={"boxstyle": "round,pad=0.18", "fc": _ACT, "ec": "none"})
        if p in hidden:
            y = _HEADER + len(per_phase[p]) * (_CARD + _GAP)
            ax.text(j + 0.5, y + 0.15, f"+ {hidden[p]} more", ha="center", va="center", fontsize=fs - 0.4,
                    color=MUTED, style="italic")

    # ---- emotion curve
    top = _HEADER + cards_h + 0.25
    cax = ax.inset_axes([0, top, P, _CURVE - 0.35], transform=ax.transData)
    xs = np.arange(P) + 0.5
    okp = ph.reindex(phases)
    score = okp["score"].where(okp["status"] == "ok")
    if curves and segment == "all" and len(jm.segments) > 1:
        for k, sname in enumerate(jm.segments[1:]):
            sp = jm.phase_scores[jm.phase_scores["segment"] == sname].set_index("phase").reindex(phases)
            cax.plot(xs, sp["score"].where(sp["status"] == "ok"), color=PALETTE[k % len(PALETTE)], lw=1.1,
                     alpha=0.75, marker=".", ms=4, label=sname)
    interval_bars(cax, xs, okp["ci_low"].where(score.notna()), okp["ci_high"].where(score.notna()), horizontal=False,
                  ecolor=MUTED, capsize=3, lw=1, zorder=2)
    cax.plot(xs, score, color=INK, lw=2.2, zorder=3, label=segment if segment != "all" else "everyone")
    cax.scatter(xs, score, c=[cmap(norm(v)) if np.isfinite(v) else _INSUFFICIENT for v in score], s=70,
                edgecolor=INK, lw=0.8, zorder=4)
    for x, v in zip(xs, score):
        if np.isfinite(v):
            cax.annotate(fmt(v), (x, v), xytext=(0, 8), textcoords="offset points", ha="center", fontsize=fs,
                         color=INK, fontweight="bold")
    cax.axhline(jm.overall.value, color="#2b6cb0", ls="--", lw=1)
    cax.text(P - 0.02, jm.overall.value, f"overall {fmt(jm.overall.value)}", color="#2b6cb0", fontsize=fs - 0.6,
             ha="right", va="bottom")
    if jm.kind == "nps" or (np.nanmin(score) < jm.neutral < np.nanmax(score) if score.notna().any() else False):
        cax.axhline(jm.neutral, color=LIGHT, lw=1)
    cax.set_xlim(0, P)
    lo = np.nanmin([np.nanmin(okp["ci_low"]), jm.overall.value]) if okp["ci_low"].notna().any() else jm.overall.value
    hi = np.nanmax([np.nanmax(okp["ci_high"]), jm.overall.value]) if okp["ci_high"].notna().any() else jm.overall.value
    pad = max((hi - lo) * 0.25, 1e-6)
    cax.set_ylim(lo - pad, hi + pad * 1.4)
    cax.set_xticks(xs)
    cax.set_xticklabels([_short(p, 22) for p in phases], fontsize=fs, color=MUTED)
    cax.tick_params(axis="y", labelsize=fs, colors=MUTED)
    cax.set_ylabel(f"{jm.label} per phase", fontsize=fs + 0.4, color=INK)
    for s in ("top", "right"):
        cax.spines[s].set_visible(False)
    for s in ("left", "bottom"):
        cax.spines[s].set_color(LIGHT)
    cax.set_facecolor("none")
    cax.grid(axis="y", color=LIGHT, lw=0.5, alpha=0.6)
    if curves and segment == "all" and len(jm.segments) > 1:
        cax.legend(fontsize=fs - 0.6, frameon=False, ncol=min(len(jm.segments), 6), loc="lower right",
                   bbox_to_anchor=(1.0, 1.0), borderaxespad=0.1)
    cax.set_title("Emotion curve", loc="left", fontsize=fs + 1.4, color=INK, fontweight="bold", pad=4)

    # ---- colour bar
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=norm)
    bax = ax.inset_axes([P * 0.62, total_h - 0.32, P * 0.36, 0.16], transform=ax.transData)
    cb = fig.colorbar(sm, cax=bax, orientation="horizontal")
    cb.ax.tick_params(labelsize=fs - 0.6, colors=MUTED)
    cb.outline.set_visible(False)
    bax.set_title(f"{jm.label} of the touchpoint ({'higher' if jm.better == 'higher' else 'lower'} is better)",
                  fontsize=fs - 0.4, color=MUTED, pad=2)
    n_act = int(tp["act"].sum())
    seg_txt = f" - segment {segment}" if segment != "all" else ""
    ax.set_title(f"Journey map: {jm.journey}{seg_txt}", loc="left", fontsize=12.5, fontweight="bold", color=INK,
                 pad=20)
    goal_txt = f"conversion to '{jm.goal}'" if jm.goal else "drop-off"
    ax.text(0, 1.004, f"{jm.label} per touchpoint (colour; grey = fewer than {jm.min_answers} answers), volume and "
                       f"reach (bar), {goal_txt}; overall {jm.label} {fmt(jm.overall.value)} from "
                       f"{jm.overall.n:,} answers; {n_act} touchpoint(s) to act on (red frame)",
            transform=ax.transAxes, fontsize=fs + 0.2, color=MUTED, va="bottom", ha="left", wrap=True)
    return ax


