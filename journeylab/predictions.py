"""In-flight predictions: for the customers still on the way, what happens next, checked against what
later happened.

:func:`predict` learns from the journey's own past: at many past cut-off dates it takes every customer
then in flight, computes what was known about them at that date (their journey prefix) and records what
happened within the ``horizon`` after it; a scikit-learn model learns the one from the other, is calibrated
and evaluated on later cut-offs than it was trained on, and then scores the customers in flight at
``as_of``. The scores feed the rules (``evaluate_rules(..., scores=predictions)``).

How the examples are made (no leakage)
--------------------------------------
- **Cut-offs** every ``every`` (default 7 days), the latest at ``as_of - horizon`` (so that every label is
  observed), the earliest one ``max(horizon, every)`` after the log's first event (a warm-up).
- **Features at a cut-off** ``c``: only the events strictly before ``c`` - the journey state the rules read
  (:mod:`journeylab._kernels.journey_state`: milestone reached and when, time in the current milestone,
  stalled, time since the last event, entries, the profile and session values of every attribute column,
  survey answers so far), plus counts of the current entry (events, events of each activity - the
  ``counts`` of :class:`~journeylab.JourneyVectorizer` -, channels, rework, skipped milestones, negative
  milestones). Feature groups: ``progress``, ``timing``, ``deviations``, ``activity``,
  ``channels``, ``surveys``, ``attributes``.
- **Who**: a customer gives at most one example per cut-off, only while in flight - in the journey (the
  current entry has not ended: no exit, timeout or suppression) and not yet credited with the goal.
- **Labels**, from the events in ``[c, c + horizon)`` only: ``goal`` - a goal event; ``conversion`` - an
  event of the last milestone of the happy path; ``attrition`` - neither a goal event nor any milestone
  event other than an exit (the customer stops moving); ``remaining_time`` - hours to the first goal or
  exit event, capped at the horizon (a customer who does not finish within it counts as the horizon);
  ``next_milestone`` - the first milestone other than the current one, or ``"none"``.
- **Split by time**, never by rows: the earliest 60% of the cut-offs train the model, the next 20%
  calibrate it, the latest 20% evaluate it; a training (calibration) cut-off whose label window reaches
  past the first calibration (evaluation) cut-off is dropped, so no label of a fitting set is observed
  after the set that judges it begins. The model that is evaluated is the one that scores.
- **Remaining time**: gradient-boosting quantile models (10%, 50%, 90%) fit on the training cut-offs; the
  80% interval is then *conformalised* on the calibration cut-offs (conformalised quantile regression,
  Romano, Patterson and Candes 2019), which guarantees at least 80% coverage on exchangeable examples and
  narrows intervals that the quantile models made too wide. The label is capped at the horizon, so when
  most customers in flight do not finish within it (the simulator: about 19 in 20), they all sit on
  the cap, every sensible interval ends there, and the measured coverage is that share or more (0.95 on
  the simulator) - read it with the share of capped examples.

Where it runs
-------------
On a lazy log (DuckDB, Spark) the engine sends back the journey's own events (entry, exit, milestones,
goal) projected to the key columns and the attribute columns of at most 50 distinct values (identifiers
are left out); the examples are then built in memory from that projection, as for a log in memory.

The computations live in ``_kernels/prefix_examples.py`` (the examples of every cut-off, and the customers
scored at ``as_of``, from one pass over the journey's events: as-of lookups, not a new follow per cut-off),
``_kernels/prefixes.py`` (the journey's events, the labels, and ``features_at``: one cut-off, the reference
the fast builder is tested against) and ``_kernels/learners.py`` (models). Cost: at 1M customers (11M
journey events, 22 cut-offs, 3.7M examples) the examples take minutes, the models most of the training
time (``benchmarks/README.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._core.formatting import cut
from ._core.results import FrozenMap, Result
from ._core.validation import DURATION, JOURNEY, LOG, RANDOM_STATE, Choice, analysis_date, checked, rng, to_timedelta
from ._kernels import learners as L
from ._kernels.entries import TIMEOUT
from ._kernels.prefix_examples import cached_examples, cached_in_flight, examples_labels
from ._kernels.prefixes import TARGETS, prefix_log
from .exceptions import InvalidParameterError, JourneyDefinitionError

__all__ = ["PredictionEvaluation", "Predictions", "predict", "score_column"]

_SHARES = {"train": 0.6, "calibrate": 0.2, "evaluate": 0.2}
_MIN_CUTOFFS = 5


def score_column(target: str) -> str:
    """The name of the score column (and rule variable) of a target: ``p_goal``, ``p_conversion``,
    ``p_attrition``, ``remaining_time``, ``next_milestone``."""
    return f"p_{target}" if target in ("goal", "conversion", "attrition") else target


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class PredictionEvaluation(Result):
    """How well :func:`predict`'s model did on the held-out (latest) cut-offs, against the baseline.

    Attributes
    ----------
    target : what was predicted.
    metrics : one row per metric (``auc``, ``brier`` for classification; ``mae_h`` - mean absolute error
        in hours - and ``coverage`` of the 80% interval for ``remaining_time``) with ``model`` and
        ``baseline`` (the historical rate, class shares or median remaining time at the customer's current
        milestone, learned on the training cut-offs) and ``better`` (the model beats the baseline).
    calibration : for binary targets, per bin of predicted probability (deciles of the predictions):
        ``predicted`` (mean), ``observed`` (rate), ``examples``, for the ``model`` and the ``baseline``
        (column ``source``); empty otherwise.
    examples : held-out examples evaluated.
    params : the inputs (read-only).
    """

    target: str
    metrics: pd.DataFrame
    calibration: pd.DataFrame
    examples: int
    params: FrozenMap = field(default_factory=FrozenMap)

    def value(self, metric: str, source: str = "model") -> float:
        """One number of :attr:`metrics`, e.g. ``value("auc", "baseline")``."""
        row = self.metrics.set_index("metric")
        if metric not in row.index:
            raise InvalidParameterError(f"metric={cut(metric)} is not evaluated for target {self.target!r}; "
                                        f"use one of {list(row.index)}.")
        return float(row.loc[metric, source])

    def to_frame(self) -> pd.DataFrame:
        return self.metrics.copy()

    @property
    def summary(self) -> pd.DataFrame:
        return self.metrics.copy()

    def __repr__(self) -> str:
        parts = ", ".join(f"{r.metric} {r.model:.3f} (baseline {r.baseline:.3f})" for r in self.metrics.itertuples())
        return f"PredictionEvaluation {self.target!r} on {self.examples:,} held-out examples: {parts}"

    def _html_tables(self):
        return [("Held-out cut-offs: model against baseline", self.metrics)]

    def plot(self, ax=None, **kw):
        """The reliability diagram (binary targets) or the metrics against the baseline (see
        :func:`~journeylab.plotting.plot_reliability`)."""
        from .plotting.predictions import plot_reliability

        return plot_reliability(self, ax=ax, **kw)


@dataclass(frozen=True, eq=False)
class Predictions(Result):
    """The scores of the customers in flight at ``as_of`` and how the model was made (see :func:`predict`).

    Attributes
    ----------
    target : what is predicted; :attr:`column` names the score column.
    scores : one row per customer in flight at ``as_of`` (index ``customer``): the score (``p_<target>``; or
        ``remaining_time`` with ``remaining_low`` and ``remaining_high``, the conformalised 80% interval, as
        Timedeltas; or ``next_milestone`` with its probability ``p_next_milestone``), ``baseline`` (the same
        quantity from the current milestone alone), ``milestone``, ``stalled_for``, ``reasons`` (the three
        feature groups that move this customer's score most, signed) and one ``effect:<group>`` column per
        group (score minus the score with that group set to its typical training value).
    importance : permutation importance per feature group on the held-out cut-offs (``group``,
        ``importance`` - the drop in AUC, or the rise in mean absolute error in hours -, ``std``, ``features``).
    cutoffs : per cut-off: ``cutoff``, ``set`` (``train``, ``calibrate``, ``evaluate`` or ``dropped``),
        ``examples``, ``label_mean`` (share of positives, or mean hours; NaN for next_milestone).
    evaluation : the :class:`PredictionEvaluation`.
    model : the fitted estimator (a calibrated classifier, or a dict quantile -> regressor).
    calibration : the calibration method (``isotonic``, ``sigmoid``; ``conformal`` for the remaining time)
        or None.
    as_of : the scoring date.
    params : the inputs (read-only).
    """

    target: str
    scores: pd.DataFrame
    importance: pd.DataFrame
    cutoffs: pd.DataFrame
    evaluation: PredictionEvaluation
    model: Any
    calibration: str | None
    features: tuple
    as_of: pd.Timestamp
    params: FrozenMap = field(default_factory=FrozenMap)

    @property
    def column(self) -> str:
        """The score column (the variable rules read)."""
        return score_column(self.target)

    def evaluate(self) -> PredictionEvaluation:
        """The evaluation on the held-out cut-offs (AUC, Brier and calibration, or MAE and interval
        coverage), against the baseline at the customer's current milestone."""
        return self.evaluation

    def to_frame(self) -> pd.DataFrame:
        return self.scores.reset_index()

    @property
    def summary(self) -> pd.DataFrame:
        return self.evaluation.metrics.copy()

    def __repr__(self) -> str:
        ev = self.evaluation.metrics.iloc[0]
        return (f"Predictions {self.target!r}: {len(self.scores):,} customers in flight scored as of "
                f"{self.as_of:%Y-%m-%d %H:%M}; held-out {ev.metric} {ev.model:.3f} (baseline {ev.baseline:.3f})")

    def _html_tables(self):
        cols = [c for c in self.scores.columns if not c.startswith("effect:")]
        return [("Held-out cut-offs: model against baseline", self.evaluation.metrics),
                ("Feature groups (permutation importance)", self.importance),
                ("Scores (first rows)", self.scores[cols].head(10).reset_index())]

    def plot(self, ax=None, *, kind: str = "all", **kw):
        """Plot the predictions (see :func:`~journeylab.plotting.plot_predictions`).

        Parameters
        ----------
        ax : Axes or sequence of three Axes, optional
        kind : {"all", "reliability", "importance", "scores"}, default "all"
        """
        from .plotting.predictions import plot_predictions

        return plot_predictions(self, ax=ax, kind=kind, **kw)


# --------------------------------------------------------------------------- the examples


def _cutoffs(start, as_of, horizon, every) -> list[pd.Timestamp]:
    last = as_of - horizon
    first = start + max(horizon, every)
    out = []
    c = last
    while c >= first:
        out.append(c)
        c = c - every
    return out[::-1]


def _split(cuts, horizon) -> list[str]:
    """``train``, ``calibrate``, ``evaluate`` or ``dropped`` per cut-off (see the module docstring)."""
    n = len(cuts)
    n_eval = max(1, round(n * _SHARES["evaluate"]))
    n_cal = max(1, round(n * _SHARES["calibrate"]))
    sets = ["train"] * (n - n_eval - n_cal) + ["calibrate"] * n_cal + ["evaluate"] * n_eval
    cal0, ev0 = cuts[n - n_eval - n_cal], cuts[n - n_eval]
    for i, c in enumerate(cuts):
        if (sets[i] == "train" and c + horizon > cal0) or (sets[i] == "calibrate" and c + horizon > ev0):
            sets[i] = "dropped"
    return sets


def _check(log, journey, target, horizon, every, model):
    if target in ("goal", "attrition") and journey.goal is None:
        raise JourneyDefinitionError(f"journey {cut(journey.name)} has no goal, so target={target!r} has nothing "
                                     "to predict; add a goal to the journey or use target='conversion'.")
    if model == "logistic" and target == "remaining_time":
        raise InvalidParameterError("model='logistic' is for the classification targets; target='remaining_time' "
                                    "uses quantile gradient boosting: use model='gbm'.")
    if horizon <= pd.Timedelta(0) or every <= pd.Timedelta(0):
        raise InvalidParameterError(f"horizon={horizon} and every={every} must be positive durations, e.g. '14d'.")


def _examples(log, pl, journey, cuts, horizon, target, timeout):
    """The examples of every cut-off at once (the journey followed once; see
    :mod:`journeylab._kernels.prefix_examples`): features, labels, current milestones, cut-off of each row."""
    ex = cached_examples(log, pl, journey, cuts, timeout=timeout)
    if not len(ex.X):
        return None
    y = examples_labels(pl, journey, ex, horizon, target)
    return ex.X, y, ex.state["milestone"].astype(object), ex.key


# --------------------------------------------------------------------------- the public function


@checked(log=LOG, journey=JOURNEY, target=Choice(*TARGETS), horizon=DURATION, every=DURATION,
         model=Choice("gbm", "logistic"), random_state=RANDOM_STATE, timeout=TIMEOUT)
def predict(log, journey, *, target: str = "goal", as_of=None, horizon="14d", model: str = "gbm",
            every="7d", timeout="30d", random_state=None) -> Predictions:
    """Predict, for every customer still in the journey at ``as_of``, what happens within ``horizon``.

    The model learns from journey prefixes cut at past dates (only what was known then), labelled with what
    happened within the horizon after each date; it is trained on earlier cut-offs, calibrated and
    evaluated on later ones (never on random rows), always against the baseline of the customer's current
    milestone. The module docstring (:mod:`journeylab.predictions`) gives every rule. On a lazy log only the
    journey's own events come back from the engine (projected); the examples are built in memory.

    Parameters
    ----------
    log : EventLog
        The events (in memory, DuckDB or Spark); a DataFrame is refused with advice.
    journey : Journey
        Entry and exit criteria, milestones, happy path, stall thresholds and goal.
    target : {"goal", "conversion", "attrition", "remaining_time", "next_milestone"}, default "goal"
        What to predict (see the module docstring for the exact labels).
    as_of : date, optional
        The scoring date (default: the log's last timestamp); the customers in flight then are scored and
        every training label is observed before it.
    horizon : duration, default "14d"
        How far ahead the prediction looks.
    model : {"gbm", "logistic"}, default "gbm"
        scikit-learn ``HistGradientBoosting`` or a logistic regression (classification targets only).
    every : duration, default "7d"
        The step between cut-off dates.
    timeout : duration or None, default "30d"
        A customer inactive in the journey for longer has left it (as in :func:`~journeylab.goal_attainment`):
        not in flight, neither an example nor scored. None: only the exit criteria end an entry.
    random_state : int, optional
        Seed of the models and of the permutation importance.

    Returns
    -------
    Predictions
        ``.scores`` (per customer in flight), ``.evaluate()`` (held-out metrics against the baseline),
        ``.importance`` (per feature group), ``.cutoffs``, ``.plot()``.

    Raises
    ------
    InvalidParameterError
        An unknown target or model, a horizon that is not a positive duration, too short a history for
        the horizon (fewer than 5 cut-offs), or a single outcome in the training examples.
    JourneyDefinitionError
        ``target="goal"`` or ``"attrition"`` with a journey that has no goal.

    Examples
    --------
    >>> import journeylab as jl
    >>> s = jl.datasets.make_journeys(900, days=120, random_state=11, p_stall=0.5, p_late_purchase=0.6)
    >>> p = jl.predict(s.log, s.journey, target="goal", horizon="7d", random_state=0)
    >>> p.column, bool(0 <= p.scores["p_goal"].min() <= p.scores["p_goal"].max() <= 1)
    ('p_goal', True)
    >>> p.evaluate().value("auc") > p.evaluate().value("auc", "baseline")
    True
    >>> jl.predict(s.log, s.journey, target="churn")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: target='churn' is not allowed; use one of ['goal', 'conversion', 'attrition', 'remaining_time', 'next_milestone'].
    """
    horizon, every = to_timedelta(horizon, name="horizon"), to_timedelta(every, name="every")  # defaults are text
    timeout = TIMEOUT(timeout, "timeout")
    _check(log, journey, target, horizon, every, model)
    journey.check(log, parts=["milestones"], minor="warn")
    as_of = analysis_date(log, as_of)
    pl = prefix_log(log, journey)
    cuts = _cutoffs(pl.start, as_of, horizon, every)
    if len(cuts) < _MIN_CUTOFFS:
        raise InvalidParameterError(
            f"the log spans {pl.start:%Y-%m-%d} .. {as_of:%Y-%m-%d}: with horizon={horizon} and every={every} that "
            f"gives {len(cuts)} cut-off date(s), fewer than {_MIN_CUTOFFS}; use a shorter horizon or every, "
            "or a later as_of.")
    sets = np.asarray(_split(cuts, horizon), dtype=object)
    built = _examples(log, pl, journey, cuts, horizon, target, timeout)
    if built is None:
        raise InvalidParameterError(f"nobody was in flight in journey {cut(journey.name)} at any cut-off date "
                                    f"({cuts[0]:%Y-%m-%d} .. {cuts[-1]:%Y-%m-%d}); check the journey's entry.")
    X, y, ms, key = built
    where = sets[key]
    tr, ca, te = (where == "train"), (where == "calibrate"), (where == "evaluate")
    X = X[[c for c in X.columns if X[c][tr].nunique(dropna=True) >= 2]]  # constant or empty in training: no use
    classify = target != "remaining_time"
    if classify and len(np.unique(y[tr])) < 2:
        raise InvalidParameterError(f"every training example has the same outcome ({cut(y[tr][:1].tolist())}) "
                                    f"for target={target!r} within horizon={horizon}; use a longer horizon or "
                                    "a log with more history.")
    if not te.any() or not tr.any():
        raise InvalidParameterError("no customer was in flight at the training or the evaluation cut-offs; "
                                    "use a longer log or a shorter horizon.")
    gen = rng(random_state if isinstance(random_state, (int, np.integer)) else None)
    fit = _fit_classifier if classify else _fit_regressor
    from threadpoolctl import threadpool_limits  # a dependency of scikit-learn

    # one thread: OpenMP threads that wait for busy cores make gradient boosting many times slower on a
    # shared machine, and the models here are small
    with threadpool_limits(limits=1):
        out = fit(model, X, y, ms, tr, ca, te, random_state, gen, score_column(target),
                  **({} if classify else {"cap": horizon / pd.Timedelta(hours=1)}))
    X_now, st_now = cached_in_flight(log, pl, journey, as_of, timeout=timeout)
    X_now = X_now[list(X.columns)]
    for col in X_now.columns:
        if isinstance(X[col].dtype, pd.CategoricalDtype):
            X_now[col] = pd.Categorical(X_now[col].astype(object), categories=X[col].cat.categories)
    with threadpool_limits(limits=1):
        scores = out["score"](X_now, st_now)
    label_mean = [float(np.mean(y[key == i])) if target != "next_milestone" and (key == i).any() else np.nan
                  for i in range(len(cuts))]
    cut_table = pd.DataFrame({"cutoff": cuts, "set": sets,
                              "examples": np.bincount(key, minlength=len(cuts)), "label_mean": label_mean})
    params = {"journey": journey.name, "target": target, "as_of": as_of, "horizon": horizon, "model": model,
              "every": every, "timeout": timeout, "random_state": random_state if isinstance(random_state, (int, type(None))) else
              repr(random_state)}
    ev = PredictionEvaluation(target=target, metrics=out["metrics"], calibration=out["calibration"],
                              examples=int(te.sum()), params=params)
    return Predictions(target=target, scores=scores, importance=out["importance"], cutoffs=cut_table,
                       evaluation=ev, model=out["model"], calibration=out.get("method"),
                       features=tuple(X.columns), as_of=as_of, params=params)


# --------------------------------------------------------------------------- fitting


def _metric_table(model: dict, base: dict, lower_is_better=("brier", "mae_h")) -> pd.DataFrame:
    rows = []
    for k, v in model.items():
        b = base.get(k, np.nan)
        better = (v < b) if k in lower_is_better else (abs(v - 0.8) < abs(b - 0.8)) if k == "coverage" else (v > b)
        rows.append({"metric": k, "model": v, "baseline": b, "better": bool(better)})
    return pd.DataFrame(rows)


def _reliability(y, p, source: str) -> pd.DataFrame:
    q = np.unique(np.quantile(p, np.linspace(0, 1, 11)))
    bins = np.clip(np.searchsorted(q, p, side="right") - 1, 0, max(len(q) - 2, 0))
    df = pd.DataFrame({"bin": bins, "p": p, "y": y})
    g = df.groupby("bin").agg(predicted=("p", "mean"), observed=("y", "mean"), examples=("y", "size")).reset_index()
    g.insert(0, "source", source)
    return g


def _reasons(effects: pd.DataFrame, k: int = 3) -> list[str]:
    vals = effects.to_numpy()
    order = np.argsort(-np.abs(vals), axis=1)[:, :k]
    names = np.asarray(effects.columns)
    return [", ".join(f"{names[j]} {vals[i, j]:+.2f}" for j in row if vals[i, j] != 0) for i, row in enumerate(order)]


def _fit_classifier(model, X, y, ms, tr, ca, te, random_state, gen, column):
    est, method = L.fit_classifier(model, X[tr], y[tr], X[ca], y[ca], random_state)
    classes = list(est.classes_)
    binary = len(classes) == 2 and set(classes) <= {0, 1}
    kind = "rate" if binary else "shares"

    def proba(Xs):
        return est.predict_proba(Xs)

    def base_of(milestones):
        b = L.baseline(ms[tr], y[tr], milestones, kind=kind, classes=classes)
        return np.column_stack([1 - b, b]) if binary else b

    p_te, b_te = proba(X[te]), base_of(ms[te])
    metrics = _metric_table(L.class_metrics(y[te], p_te, classes), L.class_metrics(y[te], b_te, classes))
    calib = (pd.concat([_reliability(y[te], p_te[:, 1], "model"), _reliability(y[te], b_te[:, 1], "baseline")],
                       ignore_index=True) if binary else pd.DataFrame(
        columns=["source", "bin", "predicted", "observed", "examples"]))

    def score(Xs, ys):
        return L.class_metrics(ys, proba(Xs), classes)["auc"]

    importance = L.group_importance(score, X[te], y[te], gen)
    typical = L.typical_values(X[tr])

    def scorer(X_now, st):
        P = proba(X_now) if len(X_now) else np.zeros((0, len(classes)))
        b = base_of(st["milestone"].astype(object)) if len(X_now) else np.zeros((0, len(classes)))
        top = P.argmax(axis=1) if len(P) else np.zeros(0, int)
        main = P[:, 1] if binary else P[np.arange(len(P)), top]
        eff = L.group_effects(lambda Z: proba(Z)[:, 1] if binary else proba(Z)[np.arange(len(Z)), top],
                              X_now, typical) if len(X_now) else pd.DataFrame(index=X_now.index)
        out = pd.DataFrame(index=X_now.index)
        if binary:
            out[column] = main
            out["baseline"] = b[:, 1]
        else:
            out["next_milestone"] = np.asarray(classes, dtype=object)[top]
            out["p_next_milestone"] = main
            out["baseline"] = b[np.arange(len(b)), top] if len(b) else np.zeros(0)
        _state_columns(out, st)
        out["reasons"] = _reasons(eff) if len(eff) else []
        for g in eff.columns:
            out[f"effect:{g}"] = eff[g].to_numpy()
        return out

    return {"metrics": metrics, "calibration": calib, "importance": importance, "model": est,
            "method": method, "score": scorer}


def _state_columns(out: pd.DataFrame, st: pd.DataFrame) -> None:
    out["milestone"] = st["milestone"].astype(object).to_numpy()
    out["stalled_for"] = pd.to_timedelta(pd.Series(st["stalled_for"].array)).to_numpy()


def _fit_regressor(model, X, y, ms, tr, ca, te, random_state, gen, column, cap=np.inf):
    """Quantile models fit on the training cut-offs; the 80% interval conformalised on the calibration ones
    (CQR, Romano et al. 2019): with ``E = max(low - y, y - high)`` on the calibration examples, the interval
    becomes ``[low - Q, high + Q]``, ``Q`` the ``ceil((n + 1) 0.8) / n`` quantile of ``E`` (negative
    ``Q`` narrows it); the interval and the point are clipped to ``[0, cap]`` (the horizon, in hours)."""
    fit_rows = tr if ca.any() else tr | ca
    models = L.fit_quantiles(X[fit_rows], y[fit_rows], random_state)
    lo, mid, hi = L.QUANTILES

    def pred(Xs, q):
        return models[q].predict(Xs)

    def raw(Xs):
        return np.sort(np.column_stack([pred(Xs, q) for q in (lo, mid, hi)]), axis=1)  # sorted: no crossing

    adjust = 0.0
    if ca.any():
        r = raw(X[ca])
        e = np.maximum(r[:, 0] - y[ca], y[ca] - r[:, 2])
        level = min(1.0, np.ceil((len(e) + 1) * (hi - lo)) / len(e))
        adjust = float(np.quantile(e, level, method="higher"))

    def interval(Xs):
        r = raw(Xs)
        m = np.clip(r[:, 1], 0, cap)
        return np.minimum(np.clip(r[:, 0] - adjust, 0, cap), m), m, np.maximum(np.clip(r[:, 2] + adjust, 0, cap), m)

    b_te = L.baseline(ms[tr | ca], y[tr | ca], ms[te], kind="median")
    low_te, mid_te, high_te = interval(X[te])
    metrics = _metric_table(L.regression_metrics(y[te], mid_te, low_te, high_te),
                            {"mae_h": L.regression_metrics(y[te], b_te)["mae_h"], "coverage": np.nan})

    def score(Xs, ys):
        return -L.regression_metrics(ys, pred(Xs, mid))["mae_h"]

    importance = L.group_importance(score, X[te], y[te], gen)
    typical = L.typical_values(X[tr | ca])

    def scorer(X_now, st):
        out = pd.DataFrame(index=X_now.index)
        n = len(X_now)
        qs = interval(X_now) if n else (np.zeros(0),) * 3
        for j, name in enumerate(("remaining_low", "remaining_time", "remaining_high")):
            out[name] = pd.to_timedelta(qs[j], unit="h")
        b = L.baseline(ms[tr | ca], y[tr | ca], st["milestone"].astype(object), kind="median") if n else np.zeros(0)
        out["baseline"] = pd.to_timedelta(b, unit="h")
        _state_columns(out, st)
        eff = L.group_effects(lambda Z: pred(Z, mid), X_now, typical) if n else pd.DataFrame(index=X_now.index)
        out["reasons"] = _reasons(eff) if n else []
        for g in eff.columns:
            out[f"effect:{g}"] = pd.to_timedelta(eff[g].to_numpy(), unit="h")
        return out

    return {"metrics": metrics, "calibration": pd.DataFrame(columns=["source", "bin", "predicted", "observed",
                                                                      "examples"]),
            "importance": importance, "model": models, "method": "conformal", "score": scorer}

