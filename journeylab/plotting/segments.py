"""Plots of segmentations and segment comparisons (matplotlib only).

- :func:`plot_segmentation` - ``kind="profile"``: which activities tell the segments apart
  (heatmap of lift, share of cases written in each cell) with the segment sizes beside it;
  ``"sizes"``; ``"k"``: the score of each k tried by ``n_clusters="auto"``;
  ``"transitions"``: a segment's transition matrix.
- :func:`plot_comparison` - effect sizes of :func:`journeylab.segments.compare_segments`,
  significant ones starred.

Numbers come from the result objects; nothing is computed here beyond layout.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib.ticker import FuncFormatter

from ..exceptions import InvalidParameterError
from ._style import FONT, INK, LIGHT, MUTED, PALETTE, new_axes, text_color_on, title, wrap

__all__ = ["plot_segmentation", "plot_comparison"]

_KINDS = ("profile", "sizes", "k", "transitions")


def _check_kind(kind):
    if kind not in _KINDS:
        raise InvalidParameterError(f"kind={kind!r} is not allowed; use one of {', '.join(repr(k) for k in _KINDS)}.")


def plot_segmentation(seg, *, ax=None, kind: str = "profile", top: int = 12, segment: str | None = None, **kw):
    """Draw a :class:`~journeylab.segments.Segmentation`; see the module docstring. Returns the Axes."""
    _check_kind(kind)
    if kind == "sizes":
        return _sizes(seg, ax)
    if kind == "k":
        return _k_curve(seg, ax)
    if kind == "transitions":
        return _transitions(seg, ax, segment, top=kw.get("max_activities", 14))
    return _profile(seg, ax, top)


def _profile(seg, ax, top: int):
    share = seg.presence("activities")
    lift = seg.lift("activities")
    overall = share.mul(seg.sizes["cases"], axis=0).sum() / max(seg.n_cases, 1)
    keep = overall[overall >= 0.02].index
    spread = np.log2(lift[keep].clip(lower=1 / 16, upper=16)).std(axis=0).fillna(0)
    cols = list(spread.sort_values(ascending=False, kind="stable").index[:top])
    cols = sorted(cols, key=lambda c: -overall[c])
    segs = list(seg.segments)
    S, C = len(segs), len(cols)
    _fig, ax = new_axes(ax, (max(6.5, 0.72 * C + 3.6), max(2.6, 0.48 * S + 1.9)))
    vals = np.log2(lift.loc[segs, cols].to_numpy(dtype=float).clip(1 / 16, 16))
    vals = np.nan_to_num(vals, nan=0.0)
    norm = mcolors.TwoSlopeNorm(vmin=-2, vcenter=0, vmax=2)
    cmap = _cmap()
    im = ax.imshow(np.clip(vals, -2, 2), cmap=cmap, norm=norm, aspect="auto")
    for i in range(S):
        for j in range(C):
            v = share.loc[segs[i], cols[j]]
            rgba = cmap(norm(np.clip(vals[i, j], -2, 2)))
            ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=8, color=text_color_on(rgba),
                    fontfamily=FONT)
    ax.set_xticks(range(C), [wrap(c, 22, 2) for c in cols], rotation=40, ha="right", rotation_mode="anchor",
                  fontsize=8.5, color=INK)
    ax.set_yticks(range(S), [wrap(s, 18, 2) for s in segs], fontsize=9, color=INK)
    ax.tick_params(length=0)
    for sp in ax.spines.values():
        sp.set_visible(False)
    ax.set_xticks(np.arange(-0.5, C, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, S, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    how = "rules" if seg.method == "rules" else f"{seg.method} clustering"
    title(ax, f"{S} segments by {how}: the activities that tell them apart",
          "colour: lift against all cases; text: share of the segment's cases with the activity")
    cax = ax.inset_axes([0.72, 1.035 + 0.25 / max(S, 1), 0.28, 0.045])
    cb = ax.figure.colorbar(im, cax=cax, orientation="horizontal")
    cb.set_ticks([-2, -1, 0, 1, 2], labels=["÷4", "÷2", "same", "×2", "×4"])
    cb.ax.xaxis.set_ticks_position("top")
    cb.ax.tick_params(labelsize=8, colors=MUTED, length=0, pad=1)
    cb.outline.set_visible(False)
    # sizes beside the heatmap, one bar per row
    bx = ax.inset_axes([1.015, 0.0, 0.16, 1.0], sharey=ax)
    sizes = seg.sizes.loc[segs]
    bx.barh(range(S), sizes["share"], color=PALETTE[0], height=0.6)
    for i, (n, sh) in enumerate(zip(sizes["cases"], sizes["share"])):
        bx.text(sh, i, f" {n:,} ({sh:.0%})", va="center", ha="left", fontsize=8, color=INK)
    bx.set_xlim(0, max(float(sizes["share"].max()), 1e-9) * 2.1)
    bx.tick_params(left=False, labelleft=False, bottom=False, labelbottom=False)
    for sp in bx.spines.values():
        sp.set_visible(False)
    bx.set_title("cases", fontsize=8.5, color=MUTED, loc="left")
    return ax


def _cmap():
    return mcolors.LinearSegmentedColormap.from_list(
        "jl_lift", ["#2f6f9f", "#a9cce3", "#f7f7f7", "#f5b7a0", "#c2413b"])


def _sizes(seg, ax):
    sizes = seg.sizes
    S = len(sizes)
    _fig, ax = new_axes(ax, (6.0, max(2.0, 0.42 * S + 1.2)))
    y = np.arange(S)
    ax.barh(y, sizes["cases"], color=[PALETTE[i % len(PALETTE)] for i in range(S)], height=0.65)
    for i, (n, sh) in enumerate(zip(sizes["cases"], sizes["share"])):
        ax.text(n, i, f" {n:,} ({sh:.1%})", va="center", fontsize=8.5, color=INK)
    ax.set_yticks(y, [wrap(s, 22, 2) for s in sizes.index], fontsize=9, color=INK)
    ax.invert_yaxis()
    ax.set_xlim(0, max(int(sizes["cases"].max()), 1) * 1.3)
    ax.tick_params(axis="x", colors=MUTED, labelsize=8)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(LIGHT)
    ax.set_xlabel("cases", color=MUTED, fontsize=9)
    title(ax, f"Segment sizes ({seg.n_cases:,} cases)",
          None if seg.exclusive or seg.method != "rules" else "segments overlap: shares may add up to more than 100%")
    return ax


def _k_curve(seg, ax):
    ks = seg.k_scores
    if ks is None or not len(ks):
        raise InvalidParameterError("this segmentation has no k curve: only cluster_journeys(..., "
                                    "n_clusters='auto') tries several k.")
    _fig, ax = new_axes(ax, (5.5, 3.2))
    crit = str(ks["criterion"].iloc[0])
    ax.plot(ks["k"], ks["score"], marker="o", color=PALETTE[0], linewidth=1.8, markersize=5)
    chosen = ks[ks["chosen"]]
    ax.scatter(chosen["k"], chosen["score"], s=110, facecolor="none", edgecolor=PALETTE[3], linewidth=2, zorder=3,
               label=f"chosen: k={int(chosen['k'].iloc[0])}")
    better = "lower is better" if crit == "BIC" else "higher is better"
    ax.set_xlabel("number of clusters k", color=MUTED, fontsize=9)
    ax.set_ylabel(f"{crit} ({better})", color=MUTED, fontsize=9)
    ax.set_xticks(list(ks["k"]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3f}"))
    ax.tick_params(colors=MUTED, labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(LIGHT)
    ax.grid(axis="y", color=LIGHT, linewidth=0.6, alpha=0.6)
    ax.legend(frameon=False, fontsize=8.5, loc="best")
    title(ax, f"Choosing k for {seg.method} clustering", f"{crit} of each k tried")
    return ax


def _transitions(seg, ax, segment, top: int):
    if segment is None:
        raise InvalidParameterError(f"kind='transitions' needs segment=...; one of {list(seg.segments)}.")
    mat = seg.transition_matrix(segment)
    share = seg.presence("activities").loc[segment]
    acts = [a for a in share.sort_values(ascending=False, kind="stable").index if a in mat.index][:top]
    cols = acts + [mat.columns[-1]]
    sub = mat.loc[acts, cols]
    R, C = sub.shape
    _fig, ax = new_axes(ax, (max(6.0, 0.5 * C + 2.8), max(4.0, 0.42 * R + 2.0)))
    cmap = matplotlib.colormaps["Blues"]
    ax.imshow(sub.to_numpy(), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(R):
        for j in range(C):
            v = sub.iat[i, j]
            if v >= 0.05:
                rgba = cmap(v)
                ax.text(j, i, f"{v:.2f}".lstrip("0"), ha="center", va="center", fontsize=8,
                        color=text_color_on(rgba))
    ax.set_xticks(range(C), [wrap(c, 22, 1) for c in cols], rotation=45, ha="right", rotation_mode="anchor",
                  fontsize=8, color=INK)
    ax.set_yticks(range(R), [wrap(a, 18, 1) for a in acts], fontsize=8, color=INK)
    ax.tick_params(length=0)
    for sp in ax.spines.values():
        sp.set_visible(False)
    ax.set_xlabel("to", color=MUTED, fontsize=9)
    ax.set_ylabel("from", color=MUTED, fontsize=9)
    src = "fitted Markov chain" if seg.method == "markov" else "observed transitions"
    title(ax, f"Where {segment!r} goes next", f"{src}: probability of each next step (the {R} most common activities; "
          "other destinations not shown)")
    return ax


def plot_comparison(comp, *, ax=None, **kw):
    """Effect sizes of a :class:`~journeylab.segment_compare.SegmentComparison` as a heatmap:
    rows comparisons, columns metrics, colour the signed effect size (clipped to [-1, 1]),
    ``*`` where significant after correction, grey where not tested. Returns the Axes."""
    t = comp.table
    rows = list(dict.fromkeys(t["comparison"]))
    metrics = list(dict.fromkeys(t["metric"]))
    R, C = len(rows), len(metrics)
    _fig, ax = new_axes(ax, (max(5.5, 1.25 * C + 3.2), max(2.4, 0.42 * R + 1.8)))
    val = np.full((R, C), np.nan)
    txt = [["" for _ in range(C)] for _ in range(R)]
    for r in t.itertuples(index=False):
        i, j = rows.index(r.comparison), metrics.index(r.metric)
        if pd.isna(r.p_value):
            txt[i][j] = "n/a"
            continue
        e = r.effect_size
        val[i, j] = np.clip(e, -1, 1) if pd.notna(e) else 0.0
        txt[i][j] = ("-" if pd.isna(e) else f"{e:+.2f}") + (" *" if r.significant else "")
    norm = mcolors.TwoSlopeNorm(vmin=-1, vcenter=0, vmax=1)
    cmap = _cmap()
    shown = np.ma.masked_invalid(val)
    ax.imshow(shown, cmap=cmap, norm=norm, aspect="auto")
    ax.set_facecolor("#eef1f4")
    for i in range(R):
        for j in range(C):
            color = MUTED if np.isnan(val[i, j]) else text_color_on(cmap(norm(val[i, j])))
            ax.text(j, i, txt[i][j], ha="center", va="center", fontsize=8.5, color=color,
                    fontweight="bold" if txt[i][j].endswith("*") else "normal")
    measures = t.groupby("metric", sort=False)["effect_measure"].agg(lambda s: ", ".join(sorted(set(s.dropna()))))
    ax.set_xticks(range(C), [f"{m}\n({wrap(measures.get(m, ''), 18, 2)})" for m in metrics], fontsize=8, color=INK)
    ax.xaxis.tick_top()
    ax.set_yticks(range(R), [wrap(r, 28, 1) for r in rows], fontsize=8.5, color=INK)
    ax.tick_params(length=0)
    for sp in ax.spines.values():
        sp.set_visible(False)
    ax.set_xticks(np.arange(-0.5, C, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, R, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    ax.set_xlabel(f"* significant at {comp.alpha:.0%} after Benjamini-Hochberg correction; n/a: not tested "
                  "(small or constant group)", fontsize=8, color=MUTED)
    title(ax, "Differences between segments: effect sizes")
    return ax
