"""Plots of experience KPIs: survey scores, scores per touchpoint, peak-end, contact peaks,
channel mix and attribution.

Every function takes the result first, draws on ``ax`` when given (else on a new figure
sized to the content), returns the Axes, never calls ``plt.show()`` and never changes
global rcParams. Numbers come from the result objects; nothing is computed here beyond
layout and colours.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib.ticker import PercentFormatter

from .._core.vocabulary import ATTRIBUTION_MODEL_NAMES
from ..exceptions import InvalidParameterError
from ._style import INK, LIGHT, MUTED, PALETTE, interval_bars, text_color_on

__all__ = [
    "kpi_colormap",
    "plot_attribution",
    "plot_attribution_comparison",
    "plot_channel_mix",
    "plot_contact_peaks",
    "plot_peak_end",
    "plot_survey_score",
    "plot_touchpoint_scores",
]

GOOD = "#1a9850"
BAD = "#d73027"
MID = "#fee08b"
GREY = "#bdc3c7"
ACCENT = "#2b6cb0"
PEAK = "#c53030"
_CHANNEL_COLORS = {"web": "#4e79a7", "app": "#f28e2b", "email": "#59a14f", "sms": "#76b7b2", "store": "#b07aa1",
                   "call_centre": "#e15759", "chat": "#edc948"}


def _new_ax(ax, size):
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def _tidy(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(LIGHT)
    ax.tick_params(colors=INK, labelsize=9)


def _title(ax, main: str, sub: str | None = None) -> None:
    ax.set_title(main, loc="left", fontsize=11, color=INK, fontweight="bold", pad=18 if sub else 6)
    if sub:
        ax.text(0, 1.01, sub, transform=ax.transAxes, fontsize=8.5, color=MUTED, va="bottom", ha="left")


def channel_colors(channels) -> dict:
    """A stable colour per channel (known channel names keep their colour).

    >>> channel_colors(["web", "kiosk"])["web"]
    '#4e79a7'
    """
    out, k = {}, 0
    for c in channels:
        if c in _CHANNEL_COLORS:
            out[c] = _CHANNEL_COLORS[c]
        else:
            out[c] = PALETTE[(8 + k) % len(PALETTE)]
            k += 1
    return out


def kpi_colormap(values, *, neutral: float, better: str = "higher", center: float | None = None):
    """(cmap, norm) of the diverging KPI scale: red = bad, yellow = neutral, green = good,
    centred on ``center`` (default ``neutral``) and symmetric around it, so that equal
    distances from the centre get equal intensity.

    >>> cmap, norm = kpi_colormap([-20, 40], neutral=0)
    >>> float(norm(0)), cmap.name
    (0.5, 'RdYlGn')
    """
    c = neutral if center is None else float(center)
    v = np.asarray([x for x in np.ravel(values) if x is not None and np.isfinite(x)], float)
    span = float(np.max(np.abs(v - c))) if len(v) else 1.0
    span = max(span, 1e-9) * 1.05
    cmap = plt.get_cmap("RdYlGn" if better == "higher" else "RdYlGn_r")
    return cmap, mcolors.Normalize(vmin=c - span, vmax=c + span)


# --------------------------------------------------------------------------- survey score


def plot_survey_score(score, *, ax=None, **kw):
    """Answers per scale point, coloured by group (NPS: detractors / passives / promoters; CSAT:
    satisfied or not; CES: low effort or not), with the KPI and its interval in the title.

    >>> from journeylab.kpi import nps
    >>> ax = plot_survey_score(nps([10, 9, 7, 3, 8]))
    >>> len(ax.patches)
    11
    """
    ax = _new_ax(ax, (6.4, 3.2))
    dist = score.distribution
    pts = dist.index.to_numpy()
    p = score.params
    if score.kind == "nps":
        cols = [BAD if x <= 6 else MID if x <= 8 else GOOD for x in pts]
    elif score.kind == "csat":
        cols = [GOOD if x > p["scale"] - p["top_box"] else GREY for x in pts]
    else:
        easy = (pts > p["scale"] - p["low_effort_box"]) if p["higher_is_easier"] else (pts <= p["low_effort_box"])
        cols = [GOOD if e else GREY for e in easy]
    share = dist / max(dist.sum(), 1)
    ax.bar(pts, share.to_numpy(), color=cols, edgecolor="white", width=0.8, **kw)
    for x, s, n in zip(pts, share, dist):
        if n:
            ax.text(x, s, f"{s:.0%}", ha="center", va="bottom", fontsize=8, color=MUTED)
    ax.set_xticks(pts)
    ax.yaxis.set_major_formatter(PercentFormatter(1, decimals=0))
    ax.set_xlabel("answer", color=INK)
    ax.set_ylabel("share of answers", color=INK)
    _tidy(ax)
    _title(ax, f"{score.label} {score._fmt(score.value)}  ({score.confidence:.0%} CI {score._fmt(score.ci_low)} .. "
               f"{score._fmt(score.ci_high)})", f"{score.n:,} answers, {score.n_missing:,} missing - {score.definition}")
    return ax


# --------------------------------------------------------------------------- touchpoint scores


def _cell_labels(t: pd.DataFrame, keys) -> list[str]:
    out = []
    for _, r in t.iterrows():
        parts = []
        for k in keys:
            v = r[k]
            if isinstance(v, pd.Timestamp):
                v = v.strftime("%Y-%m-%d")
            parts.append(str(v))
        out.append(" · ".join(parts))
    return out


def plot_touchpoint_scores(ts, *, ax=None, top: int = 40, center: float | None = None, **kw):
    """Forest plot: the KPI of each cell with its interval, coloured on the diverging KPI scale,
    best first; insufficient cells are listed in grey without a number. Grouped by period:
    one line per group over time (the ``top`` groups with most answers, at most 8).

    >>> import pandas as pd, journeylab as jl
    >>> from journeylab.kpi import touchpoint_scores
    >>> df = pd.DataFrame({"c": list("abcd"), "a": ["buy", "buy", "call", "call"],
    ...     "t": pd.date_range("2025-01-01", periods=4), "csat": [5, 4, 1, 2]})
    >>> ts = touchpoint_scores(jl.from_pandas(df, case="c", activity="a", timestamp="t"), score="csat",
    ...                        kind="csat", min_answers=2)
    >>> [t.get_text() for t in plot_touchpoint_scores(ts).get_yticklabels()]
    ['buy', 'call']
    """
    t = ts.table
    keys = [k for k in ts.keys if k != "period"]
    if "period" in ts.keys:
        return _plot_scores_over_time(ts, keys, ax=ax, center=center, **kw)
    ok = t[t["status"] == "ok"].sort_values("score", ascending=ts.better != "higher").head(top)
    bad = t[t["status"] != "ok"].sort_values("answers", ascending=False).head(max(0, top - len(ok)))
    rows = len(ok) + len(bad)
    ax = _new_ax(ax, (7.2, max(2.4, 0.28 * rows + 1.3)))
    cmap, norm = kpi_colormap(ok["score"], neutral=ts.neutral, better=ts.better, center=center)
    y = np.arange(len(ok))[::-1] + len(bad)
    if len(ok):
        ax.hlines(y, ok["ci_low"], ok["ci_high"], color=MUTED, lw=1.4, zorder=2)
        ax.scatter(ok["score"], y, c=[cmap(norm(v)) for v in ok["score"]], s=70, edgecolor=INK, linewidth=0.6,
                   zorder=3, **kw)
    yb = np.arange(len(bad))[::-1]
    lo = np.nanmin(ok["ci_low"]) if len(ok) else ts.neutral - 1
    for yy, (_, r) in zip(yb, bad.iterrows()):
        ax.text(lo, yy, f"insufficient (n={r['answers']})" if r["answers"] else "no answers", va="center",
                fontsize=8, color=MUTED, style="italic")
    ax.axvline(ts.overall.value, color=ACCENT, ls="--", lw=1, zorder=1)
    ax.text(ts.overall.value, rows - 0.4, f" overall {ts.overall._fmt(ts.overall.value)}", color=ACCENT,
            fontsize=8, va="bottom")
    if ts.kind == "nps":
        ax.axvline(0, color=LIGHT, lw=1, zorder=0)
    ax.set_yticks(list(y) + list(yb))
    ax.set_yticklabels(_cell_labels(ok, ts.keys) + _cell_labels(bad, ts.keys), fontsize=8.5)
    ax.set_ylim(-0.7, rows - 0.1 + 0.6)
    ax.set_xlabel(f"{ts.label} ({ts.overall.confidence:.0%} interval)", color=INK)
    ax.grid(axis="x", color=LIGHT, lw=0.5, alpha=0.6)
    _tidy(ax)
    n_ins = int((t["status"] != "ok").sum())
    _title(ax, f"{ts.label} by {', '.join(ts.keys)}",
           f"{ts.overall.n:,} answers; {n_ins} cell(s) below {ts.min_answers} answers shown as insufficient")
    return ax


def _plot_scores_over_time(ts, keys, *, ax=None, center=None, **kw):
    t = ts.table
    ax = _new_ax(ax, (8, 3.8))
    if keys:
        sizes = t.groupby(keys, observed=True)["answers"].sum().sort_values(ascending=False).head(8)
        groups = list(sizes.index)
    else:
        groups = [None]
    for i, g in enumerate(groups):
        sub = t
        if g is not None:
            gt = g if isinstance(g, tuple) else (g,)
            for k, v in zip(keys, gt):
                sub = sub[sub[k] == v]
        sub = sub.sort_values("period")
        color = PALETTE[i % len(PALETTE)]
        score = sub["score"].where(sub["status"] == "ok")
        label = " · ".join(map(str, g if isinstance(g, tuple) else (g,))) if g is not None else ts.label
        ax.plot(sub["period"], score, marker="o", ms=3.5, lw=1.6, color=color, label=label, **kw)
        ax.fill_between(sub["period"], sub["ci_low"], sub["ci_high"], color=color, alpha=0.12, lw=0)
    ax.axhline(ts.overall.value, color=ACCENT, ls="--", lw=1)
    ax.set_ylabel(ts.label, color=INK)
    if len(groups) > 1:  # beside the axes: inside, a legend hides some line wherever it goes
        ax.legend(fontsize=8, frameon=False, ncol=1, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", color=LIGHT, lw=0.5, alpha=0.6)
    _tidy(ax)
    _title(ax, f"{ts.label} over time" + (f" by {', '.join(keys)}" if keys else ""),
           f"gaps: periods with fewer than {ts.min_answers} answers; dashed: overall "
           f"{ts.overall._fmt(ts.overall.value)}")
    return ax


# --------------------------------------------------------------------------- peak-end


def plot_peak_end(res, *, ax=None, **kw):
    """R-squared of each model (peak + end, mean, peak-end average, all three) with bootstrap
    intervals; the headline comparison in the title (see :func:`journeylab.peakend.peak_end`
    for an example of the result; ``res.plot()`` calls this function).
    """
    ax = _new_ax(ax, (7, 3.0))
    m = res.models.iloc[::-1]
    colors = {"peak + end": GOOD, "mean": GREY, "peak-end average": "#66bd63", "peak + end + mean": ACCENT}
    y = np.arange(len(m))
    ax.barh(y, m["r2"], color=[colors.get(x, GREY) for x in m["model"]], height=0.6, **kw)
    interval_bars(ax, y, m["r2_ci_low"], m["r2_ci_high"], ecolor=INK, capsize=3, lw=1)
    for yy, v, hi in zip(y, m["r2"], m["r2_ci_high"]):
        ax.text(hi + 0.01, yy, f"{v:.3f}", va="center", fontsize=8.5, color=INK)
    ax.set_yticks(y)
    ax.set_yticklabels([f"{a}\n({d})" if len(d) < 38 else a for a, d in zip(m["model"], m["predictors"])], fontsize=8.5)
    ax.set_xlim(0, min(1.0, float(np.nanmax(m["r2_ci_high"])) * 1.18 + 0.02))
    ax.set_xlabel("R² of the overall rating", color=INK)
    _tidy(ax)
    d = res.difference
    _title(ax, "Peak-end rule: what predicts the overall rating?",
           f"{len(res.customers):,} {res.params['unit']} values; peak = {res.peak}; ΔR²adj (peak + end - mean) = "
           f"{d['value']:+.3f} [{d['ci_low']:+.3f}, {d['ci_high']:+.3f}]")
    return ax


# --------------------------------------------------------------------------- contact peaks


def plot_contact_peaks(cp, *, ax=None, scale: str | None = None, **kw):
    """Volume per period (default the coarsest scale) against the expected volume; peaks in red,
    episodes shaded and labelled with their most likely cause (``peaks.plot()`` calls this
    function; see :func:`journeylab.contact.contact_peaks` for an example of the result).
    """
    s = cp.series
    scales = list(dict.fromkeys(s["scale"]))
    scale = scale or scales[-1]
    if scale not in scales:
        raise InvalidParameterError(f"scale={scale!r} was not computed; available: {scales}.")
    d = s[s["scale"] == scale]
    ax = _new_ax(ax, (9, 3.6))
    width = (d["end"] - d["period"]).iloc[0] if len(d) else pd.Timedelta("1D")
    ax.bar(d["period"], d["volume"], width=width * 0.9, align="edge", color=[PEAK if p else "#9fb3c8" for p in
                                                                            d["peak"]], lw=0, **kw)
    ax.hlines(d["expected"], d["period"], d["period"] + width * 0.9, color=INK, lw=1.3, label="expected")
    ymax = float(d["volume"].max()) if len(d) else 1.0
    for i, (_, e) in enumerate(cp.episodes.iterrows()):
        ax.axvspan(e["start"], e["end"], color=PEAK, alpha=0.08, lw=0)
        cause = str(e["likely_causes"]).split(";")[0].split(" (")[0]
        ax.annotate(f"{e['start']:%d %b}: {cause}" if cause != "-" else f"{e['start']:%d %b}",
                    (e["start"], ymax * (1.02 + 0.1 * (i % 2))), fontsize=8, color=PEAK, ha="left",
                    annotation_clip=False)
    ax.set_ylim(0, ymax * 1.28)
    ax.set_ylabel(f"contacts per {scale}", color=INK)
    ax.legend(fontsize=8, frameon=False, loc="upper right")
    _tidy(ax)
    _title(ax, f"Contact peaks - {', '.join(cp.channel)}",
           f"{len(cp.episodes)} episode(s); red: robust outliers (weekly seasonality, rolling median/MAD); "
           f"label: likely cause")
    ax.figure.autofmt_xdate() if ax.figure.get_layout_engine() is None else None
    return ax


# --------------------------------------------------------------------------- channel mix


def plot_channel_mix(mix, *, ax=None, kind: str = "share", segment: str | None = None, **kw):
    """``kind="share"``: stacked bars of channel share per phase (per segment and phase with a
    segment); ``"switches"``: heatmap of the next-channel probabilities (counts annotated);
    ``"spend"``: share of spend by channel.

    >>> import pandas as pd, journeylab as jl
    >>> from journeylab.channels import channel_mix
    >>> df = pd.DataFrame({"c": ["a", "a", "b"], "a": ["view", "buy", "view"],
    ...     "t": pd.date_range("2025-01-01", periods=3, freq="h"), "ch": ["web", "app", "web"]})
    >>> mix = channel_mix(jl.from_pandas(df, case="c", activity="a", timestamp="t", channel="ch"))
    >>> plot_channel_mix(mix, kind="switches").get_xlabel()
    'channel of step n+1'
    """
    if kind == "share":
        sh = mix.share
        if segment is not None:
            sh = sh[sh["segment"] == segment]
        idx = ["segment", "phase"] if "segment" in sh.columns else ["phase"]
        tab = sh.pivot_table(index=idx, columns="channel", values="share", aggfunc="sum", fill_value=0,
                             observed=True, sort=False)
        order = list(mix.switches.index)
        tab = tab[[c for c in order if c in tab.columns]]
        ax = _new_ax(ax, (8, max(2.4, 0.42 * len(tab) + 1.4)))
        cols = channel_colors(tab.columns)
        left = np.zeros(len(tab))
        y = np.arange(len(tab))[::-1]
        for c in tab.columns:
            v = tab[c].to_numpy()
            ax.barh(y, v, left=left, color=cols[c], label=c, height=0.7, edgecolor="white", lw=0.5, **kw)
            for yy, l0, vv in zip(y, left, v):
                if vv >= 0.07:
                    ax.text(l0 + vv / 2, yy, f"{vv:.0%}", ha="center", va="center", fontsize=8,
                            color=text_color_on(cols[c]))
            left += v
        ax.set_yticks(y)
        ax.set_yticklabels([" · ".join(map(str, i)) if isinstance(i, tuple) else str(i) for i in tab.index], fontsize=9)
        ax.xaxis.set_major_formatter(PercentFormatter(1, decimals=0))
        ax.set_xlim(0, 1)
        ax.legend(fontsize=8, frameon=False, ncol=min(len(tab.columns), 7), loc="lower left",
                  bbox_to_anchor=(0, 1.0))
        _tidy(ax)
        ax.set_title("Channel share per phase", loc="left", fontsize=11, color=INK, fontweight="bold", pad=22)
        return ax
    if kind == "switches":
        p = mix.switch_probabilities.fillna(0)
        n = mix.switches
        ax = _new_ax(ax, (2.6 + 1.0 * len(p.columns), 1.6 + 0.72 * len(p)))
        im = ax.imshow(p.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
        for i in range(p.shape[0]):
            for j in range(p.shape[1]):
                v = p.iat[i, j]
                ax.text(j, i, f"{v:.0%}\n{n.iat[i, j]:,}", ha="center", va="center", fontsize=8,
                        color="white" if v > 0.55 else INK)
        ax.set_xticks(range(len(p.columns)))
        ax.set_xticklabels(p.columns, rotation=30, ha="right", fontsize=9)
        ax.set_yticks(range(len(p.index)))
        ax.set_yticklabels(p.index, fontsize=9)
        ax.set_xlabel("channel of step n+1", color=INK)
        ax.set_ylabel("channel of step n", color=INK)
        ax.figure.colorbar(im, ax=ax, fraction=0.04, pad=0.02, format=PercentFormatter(1, decimals=0))
        _title(ax, "Channel switches", f"next channel after each step (share, count); switch rate "
                                       f"{mix.switch_rate:.1%}")
        return ax
    if kind == "spend":
        if mix.spend_by_channel is None:
            raise InvalidParameterError("this ChannelMix has no spend: call channel_mix(..., spend='<amount column>') "
                                        "or build the log with value=....")
        t = mix.spend_by_channel.iloc[::-1]
        ax = _new_ax(ax, (6.5, max(2.2, 0.4 * len(t) + 1.2)))
        cols = channel_colors(t["channel"])
        ax.barh(t["channel"], t["share"], color=[cols[c] for c in t["channel"]], **kw)
        for yy, v, sp in zip(range(len(t)), t["share"], t["spend"]):
            ax.text(v, yy, f" {v:.0%} ({sp:,.0f})", va="center", fontsize=8, color=INK)
        ax.xaxis.set_major_formatter(PercentFormatter(1, decimals=0))
        ax.set_xlim(0, min(1, float(t["share"].max()) * 1.35))
        _tidy(ax)
        _title(ax, "Share of spend by channel", "the brand's spend per channel (not share of wallet: that needs "
                                                "the customers' category spend)")
        return ax
    raise InvalidParameterError(f"kind={kind!r} is not allowed; use 'share', 'switches' or 'spend'.")


# --------------------------------------------------------------------------- attribution


def plot_attribution(res, *, ax=None, **kw):
    """Horizontal bars of each touchpoint's share of the credit, with the bootstrap interval.

    >>> import pandas as pd, journeylab as jl
    >>> from journeylab.attribution import attribution
    >>> df = pd.DataFrame({"c": ["a", "a", "b", "b"], "a": ["ad", "buy", "mail", "buy"],
    ...     "t": pd.date_range("2025-01-01", periods=4)})
    >>> res = attribution(jl.from_pandas(df, case="c", activity="a", timestamp="t"), conversion="buy",
    ...                   touchpoints="activity", random_state=0)
    >>> [t.get_text() for t in plot_attribution(res).get_yticklabels()]
    ['mail', 'ad']
    """
    c = res.credits.iloc[::-1]
    ax = _new_ax(ax, (6.8, max(2.2, 0.42 * len(c) + 1.3)))
    y = np.arange(len(c))
    ax.barh(y, c["share"], color=ACCENT, height=0.62, **kw)
    interval_bars(ax, y, c["share_ci_low"], c["share_ci_high"], ecolor=INK, capsize=3, lw=1)
    for yy, v, hi, cr in zip(y, c["share"], c["share_ci_high"], c["credit"]):
        ax.text(hi + 0.01, yy, f"{v:.1%} ({cr:,.0f})", va="center", fontsize=8, color=INK)
    ax.set_yticks(y)
    ax.set_yticklabels(c["touchpoint"], fontsize=9)
    ax.xaxis.set_major_formatter(PercentFormatter(1, decimals=0))
    ax.set_xlim(0, min(1.0, float(c["share_ci_high"].max()) * 1.3 + 0.02))
    _tidy(ax)
    _title(ax, f"Attribution - {ATTRIBUTION_MODEL_NAMES[res.model]}",
           f"share of {res.n_attributed:,} attributed conversions ({res.params['confidence']:.0%} bootstrap "
           f"interval, {res.params['n_boot']} resamples of {res.params['unit']}s)")
    return ax


def plot_attribution_comparison(cmp, *, ax=None, **kw):
    """Dot plot: for each touchpoint (rows) the share of credit under every model (colours), with
    the bootstrap intervals - where the models agree and where the choice of model matters.

    >>> import pandas as pd, journeylab as jl
    >>> from journeylab.attribution import compare_attribution
    >>> df = pd.DataFrame({"c": ["a"] * 3, "a": ["ad", "mail", "buy"], "t": pd.date_range("2025-01-01", periods=3)})
    >>> cmp = compare_attribution(jl.from_pandas(df, case="c", activity="a", timestamp="t"), conversion="buy",
    ...                           touchpoints="activity", models=["first", "last"], random_state=0)
    >>> len(plot_attribution_comparison(cmp).get_legend().get_texts())
    2
    """
    shares = cmp.shares
    tidy = cmp.to_frame()
    models = list(cmp.results)
    tps = list(shares.index)
    ax = _new_ax(ax, (8.5, max(2.6, 0.62 * len(tps) + 1.6)))
    k = len(models)
    offsets = np.linspace(0.32, -0.32, k) if k > 1 else np.zeros(1)
    ypos = {t: i for i, t in enumerate(tps[::-1])}
    for j, m in enumerate(models):
        sub = tidy[tidy["model"] == m].set_index("touchpoint").reindex(tps)
        yy = np.array([ypos[t] for t in tps]) + offsets[j]
        color = PALETTE[j % len(PALETTE)]
        ax.hlines(yy, sub["share_ci_low"], sub["share_ci_high"], color=color, lw=1.2, alpha=0.8)
        ax.scatter(sub["share"], yy, color=color, s=26, zorder=3, label=ATTRIBUTION_MODEL_NAMES[m], edgecolor="white",
                   linewidth=0.4, **kw)
    for i in range(len(tps) - 1):
        ax.axhline(i + 0.5, color=LIGHT, lw=0.6)
    ax.set_yticks(range(len(tps)))
    ax.set_yticklabels(tps[::-1], fontsize=9)
    ax.set_ylim(-0.6, len(tps) - 0.4)
    ax.xaxis.set_major_formatter(PercentFormatter(1, decimals=0))
    ax.set_xlim(left=0)
    ax.legend(fontsize=8, frameon=False, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.grid(axis="x", color=LIGHT, lw=0.5, alpha=0.6)
    _tidy(ax)
    first = next(iter(cmp.results.values()))
    _title(ax, "Attribution compared across models",
           f"share of credit with {first.params['confidence']:.0%} bootstrap intervals; {first.n_attributed:,} "
           f"attributed conversions")
    return ax


