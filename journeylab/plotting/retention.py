"""The plot of cohort retention: the cohort matrix as a heatmap (cells not yet observable hatched, never
drawn as zero) and the retention curves with their Wilson bands (``Retention.plot()`` calls it)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch
from matplotlib.ticker import PercentFormatter

from ..exceptions import InvalidParameterError
from ._style import BACKGROUND, FONT, INK, LIGHT, PALETTE, text_color_on, title

__all__ = ["plot_retention"]

_WORD = {"D": "day", "W": "week", "M": "month"}
_MODE = {"unbounded": "returned in that period or later", "on": "returned in that period"}


def _heatmap(res, ax) -> None:
    shares = res.shares
    word = _WORD[res.params["period"]]
    data = np.ma.masked_invalid(shares.to_numpy(dtype=float))
    cmap = plt.get_cmap("Blues").with_extremes(bad=BACKGROUND)
    n_rows, n_cols = data.shape
    ax.imshow(data, cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    censored = ~res.observable.to_numpy()
    for i, j in zip(*np.nonzero(censored)):  # not observable yet: hatched, not a colour that reads as 0 %
        ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=BACKGROUND, edgecolor=LIGHT, hatch="///",
                                   lw=0))
    if n_rows * n_cols <= 400:
        for i in range(n_rows):
            for j in range(n_cols):
                v = data[i, j]
                if v is not np.ma.masked:
                    ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=8, fontfamily=FONT,
                            color=text_color_on(cmap(float(v))))
    step = max(1, n_rows // 26)
    rows = list(range(0, n_rows, step))
    ax.set_yticks(rows)
    fmt = "%Y-%m-%d" if res.params["period"] != "M" else "%Y-%m"
    ax.set_yticklabels([f"{shares.index[i].strftime(fmt)}  (n={int(res.sizes.iloc[i]):,})" for i in rows],
                       fontsize=8, color=INK)
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels([str(c) for c in shares.columns], fontsize=8, color=INK)
    ax.set_xlabel(f"{word}s since the cohort {word} (0 = the cohort {word})", fontsize=9, color=INK)
    ax.set_ylabel(f"cohort ({word} of the first event)" if res.params["cohort"] == "first_event"
                  else f"cohort ({word} of {res.params['cohort']})", fontsize=9, color=INK)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.tick_params(length=0)
    ax.legend(handles=[Patch(facecolor=BACKGROUND, edgecolor=LIGHT, hatch="///", label="not observable yet")],
              loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    title(ax, "Cohort retention", f"share of each cohort that {_MODE[res.params['mode']]}")


def _curves(res, ax) -> None:
    word = _WORD[res.params["period"]]
    c = res.curves
    groups = list(dict.fromkeys(c["group"]))
    for i, g in enumerate(groups):
        d = c[(c["group"] == g) & (c["customers"] > 0)]
        color = PALETTE[i % len(PALETTE)]
        ax.fill_between(d["period"], d["low"], d["high"], color=color, alpha=0.18, lw=0)
        ax.plot(d["period"], d["share"], marker="o", ms=3.5, lw=1.8, color=color,
                label=f"{g} (n={int(d['customers'].iloc[0]):,})" if len(d) else str(g))
    ax.set_ylim(0, 1.02)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_xlabel(f"{word}s since the cohort {word}", fontsize=9, color=INK)
    ax.set_ylabel(f"share {'retained' if res.params['mode'] == 'on' else 'still returning'}", fontsize=9, color=INK)
    ax.tick_params(labelsize=8, colors=INK)
    ax.grid(axis="y", color=LIGHT, lw=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False,
              title=res.params["by"] or None, title_fontsize=8)
    conf = f"{res.params['confidence']:.0%}"
    sub = f"pooled over the cohorts observable at each {word}; bands: {conf} Wilson intervals"
    if res.test is not None:
        sub += f"\nlog-rank test of the time to the first return: p = {res.p_value:.3g}"
    title(ax, "Retention curve" + (f" by {res.params['by']}" if res.params["by"] else ""), sub)


def plot_retention(res, *, ax=None, kind: str = "both"):
    """The cohort matrix (``kind="heatmap"``), the retention curves with their bands (``"curves"``), or both
    side by side (``"both"``, on a new figure).

    Parameters
    ----------
    res : Retention
        A result of :func:`journeylab.retention`.
    ax : matplotlib Axes, optional
        Where to draw ``"heatmap"`` or ``"curves"`` (not ``"both"``, which makes its own figure).
    kind : {"both", "heatmap", "curves"}, default "both"

    Returns
    -------
    matplotlib Axes, or the Figure for ``kind="both"``.

    Examples
    --------
    >>> import journeylab as jl
    >>> r = jl.retention(jl.datasets.load_example(), period="D")
    >>> plot_retention(r, kind="curves").get_xlabel()
    'days since the cohort day'
    """
    if kind not in ("both", "heatmap", "curves"):
        raise InvalidParameterError(f"kind={kind!r} must be 'both', 'heatmap' or 'curves'.")
    if kind == "both":
        if ax is not None:
            raise InvalidParameterError("kind='both' draws two panels on a new figure; give kind='heatmap' or "
                                        "kind='curves' to draw on ax.")
        n_rows = len(res.counts)
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(14, max(4.2, min(12, 1.6 + 0.28 * n_rows))),
                                     gridspec_kw={"width_ratios": [1.25, 1.0], "wspace": 0.55})
        fig.patch.set_facecolor(BACKGROUND)
        _heatmap(res, a1)
        _curves(res, a2)
        return fig
    if ax is None:
        n_rows = len(res.counts)
        size = (8, max(3.6, min(12, 1.6 + 0.28 * n_rows))) if kind == "heatmap" else (7.5, 4.2)
        fig, ax = plt.subplots(figsize=size)
        fig.patch.set_facecolor(BACKGROUND)
    (_heatmap if kind == "heatmap" else _curves)(res, ax)
    return ax
