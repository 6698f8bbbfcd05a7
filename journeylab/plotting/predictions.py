"""Plots of in-flight predictions: the reliability diagram, the feature groups, the scores.

Every function draws on the given Axes (or a new figure), returns what it drew on, never calls
``plt.show()`` and never changes global rcParams. Numbers come from the result objects
(:class:`~journeylab.Predictions`, :class:`~journeylab.PredictionEvaluation`).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..exceptions import InvalidParameterError
from ._style import INK, LIGHT, MUTED

__all__ = ["plot_predictions", "plot_reliability"]

MODEL = "#2b6cb0"
BASELINE = "#a0aec0"
_KINDS = ("all", "reliability", "importance", "scores")


def _clean(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=INK, labelsize=9)
    ax.title.set_color(INK)


def _new_ax(ax, size=(5.2, 4.0)):
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def plot_reliability(evaluation, *, ax=None):
    """The reliability diagram of a binary target (predicted probability against the observed rate per decile
    of the predictions, model and baseline, on the held-out cut-offs); for other targets the metrics of
    the model against the baseline as bars.

    Parameters
    ----------
    evaluation : PredictionEvaluation
    ax : Axes, optional

    Returns
    -------
    Axes

    Examples
    --------
    >>> import journeylab as jl
    >>> s = jl.datasets.make_journeys(900, days=120, random_state=11, p_stall=0.5, p_late_purchase=0.6)
    >>> p = jl.predict(s.log, s.journey, horizon="7d", random_state=0)
    >>> ax = plot_reliability(p.evaluate())
    """
    ax = _new_ax(ax)
    cal = evaluation.calibration
    if len(cal):
        ax.plot([0, 1], [0, 1], ls="--", color=LIGHT, lw=1, label="perfect calibration")
        for source, color, marker in (("baseline", BASELINE, "s"), ("model", MODEL, "o")):
            part = cal[cal["source"] == source]
            auc = evaluation.value("auc", source)
            ax.plot(part["predicted"], part["observed"], marker=marker, color=color, lw=1.5, ms=5,
                    label=f"{source} (AUC {auc:.2f})")
        top = float(max(cal["predicted"].max(), cal["observed"].max(), 0.05)) * 1.08
        ax.set_xlim(0, min(1, top))
        ax.set_ylim(0, min(1, top))
        ax.set_xlabel("predicted probability", fontsize=9, color=INK)
        ax.set_ylabel("observed rate", fontsize=9, color=INK)
        ax.set_title(f"Reliability on held-out cut-offs ({evaluation.examples:,} examples)", fontsize=10)
    else:
        m = evaluation.metrics
        y = np.arange(len(m))
        ax.barh(y - 0.18, m["model"], height=0.34, color=MODEL, label="model")
        ax.barh(y + 0.18, m["baseline"].fillna(0), height=0.34, color=BASELINE, label="baseline")
        ax.set_yticks(y, m["metric"], fontsize=9)
        ax.invert_yaxis()
        ax.set_title(f"Held-out metrics, target {evaluation.target!r}", fontsize=10)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))
    _clean(ax)
    return ax


def _importance(pred, ax):
    imp = pred.importance
    y = np.arange(len(imp))
    ax.barh(y, imp["importance"], xerr=imp["std"], color=MODEL, ecolor=MUTED, height=0.6)
    ax.set_yticks(y, imp["group"], fontsize=9)
    ax.invert_yaxis()
    ax.axvline(0, color=LIGHT, lw=1)
    what = "drop in AUC" if pred.target != "remaining_time" else "rise in MAE (hours)"
    ax.set_xlabel(f"{what} when the group is shuffled", fontsize=9, color=INK)
    ax.set_title("What the model uses (held-out permutation)", fontsize=10)
    _clean(ax)
    return ax


def _scores(pred, ax):
    sc = pred.scores
    col = pred.column
    if col in ("remaining_time",):
        values = pd.to_timedelta(sc[col]) / pd.Timedelta(days=1)
        label = "predicted remaining time (days)"
    elif col == "next_milestone":
        values = sc["p_next_milestone"]
        label = "probability of the most likely next milestone"
    else:
        values = sc[col]
        label = f"predicted {col}"
    groups = [m for m in pd.unique(sc["milestone"].astype(object)) if isinstance(m, str)]
    data = [np.asarray(values[sc["milestone"] == m], dtype=float) for m in groups]
    data = [d[np.isfinite(d)] for d in data]
    keep = [i for i, d in enumerate(data) if len(d)]
    if keep:
        ax.boxplot([data[i] for i in keep], orientation="horizontal", widths=0.6, patch_artist=True,
                   boxprops={"facecolor": "#bee3f8", "edgecolor": MODEL}, medianprops={"color": INK},
                   flierprops={"markersize": 2, "markeredgecolor": MUTED})
        ax.set_yticks(np.arange(1, len(keep) + 1), [f"{groups[i]} ({len(data[i]):,})" for i in keep], fontsize=9)
    else:
        ax.text(0.5, 0.5, "nobody in flight", ha="center", va="center", transform=ax.transAxes, color=INK)
    ax.set_xlabel(label, fontsize=9, color=INK)
    ax.set_title(f"In flight at {pred.as_of:%Y-%m-%d}, by current milestone", fontsize=10)
    _clean(ax)
    return ax


def plot_predictions(pred, *, ax=None, kind: str = "all"):
    """Draw :class:`~journeylab.Predictions`: the reliability diagram (or metrics), the permutation importance
    per feature group and the scores of the customers in flight by current milestone.

    Parameters
    ----------
    pred : Predictions
    ax : Axes or sequence of three Axes, optional
        Where to draw (default: a new figure); three Axes for ``kind="all"``.
    kind : {"all", "reliability", "importance", "scores"}, default "all"

    Returns
    -------
    Axes, or an array of three Axes for ``kind="all"``

    Examples
    --------
    >>> import journeylab as jl
    >>> s = jl.datasets.make_journeys(900, days=120, random_state=11, p_stall=0.5, p_late_purchase=0.6)
    >>> axes = plot_predictions(jl.predict(s.log, s.journey, horizon="7d", random_state=0))
    >>> len(axes)
    3
    """
    if kind not in _KINDS:
        raise InvalidParameterError(f"kind={kind!r} is not a plot of predictions; use one of {list(_KINDS)}.")
    if kind == "reliability":
        return plot_reliability(pred.evaluation, ax=ax)
    if kind == "importance":
        return _importance(pred, _new_ax(ax))
    if kind == "scores":
        return _scores(pred, _new_ax(ax))
    if ax is None:
        _, ax = plt.subplots(1, 3, figsize=(16, 4.2), layout="constrained")
    axes = np.asarray(ax).ravel()
    if len(axes) != 3:
        raise InvalidParameterError(f"kind='all' draws on three Axes; got {len(axes)}. Pass ax=None or three Axes.")
    plot_reliability(pred.evaluation, ax=axes[0])
    _importance(pred, axes[1])
    _scores(pred, axes[2])
    return axes
