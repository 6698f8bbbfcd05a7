"""Attribution: which touchpoints (or channels) get the credit for conversions, with intervals.

Conversion paths
----------------
Events are grouped per customer (the ``customer`` column when the log has one, else the
case) and ordered in time. Each conversion event closes a **conversion path**: the
customer's touchpoints since their previous conversion that lie within ``lookback`` before
it (touchpoints after a conversion belong to the next one). Touchpoints after a customer's
last conversion form one **non-converting path** (those within ``lookback`` of its last
touch); only the Markov model uses them. A conversion without any touchpoint in its window
is *unattributed* (counted, never credited).

Models (credit per conversion path of n touches, summed over paths)
------------------------------------------------------------------
* ``first`` / ``last``: 100% to the first / last touch.
* ``linear``: 1/n to each touch.
* ``u_shaped``: 40% first, 40% last, 20% spread evenly over the middle; 50/50 with two
  touches.
* ``j_curve``: 20% first, 60% last, 20% middle; 25/75 with two touches.
* ``inverse_j``: 60% first, 20% last, 20% middle; 75/25 with two touches.
* ``time_decay``: weight ``2 ** (-t / half_life)`` with t the time from the touch to the
  conversion, normalised within the path.
* ``markov``: a first-order Markov chain over ``start``, the touchpoints, ``conversion``
  and ``null``, estimated from the transitions of every path (converting or not). The
  *removal effect* of a touchpoint is ``1 - P(conversion | it is removed) / P(conversion)``,
  where removing a state redirects every transition into it to ``null``; credits are the
  removal effects normalised to sum to the number of attributed conversions.
* ``shapley``: the Shapley value of the game of Zhao, Mahboobi & Bagheri (2018, "Shapley
  value methods for attribution modeling in online advertising"): the value of a coalition
  S is the number of conversions whose set of touchpoints is a subset of S. That game is a
  sum of unanimity games, so the Shapley value has the exact closed form
  ``phi_j = sum over conversions whose touchpoint set T contains j of 1 / |T|`` (their
  simplified formula): it is computed exactly for any number of touchpoints, no sampling
  needed (the tests check it against brute-force enumeration of coalitions).

With n = 1 every rule gives the single touch 100%.

Intervals
---------
Every model comes with percentile bootstrap intervals: customers are resampled with
replacement ``n_boot`` times (``random_state``) and the whole model is re-estimated.

Where it runs
-------------
On a log that lives in DuckDB or Spark the paths' events are chosen in the engine
(:mod:`journeylab._kernels.conversion_paths`): the conversion events and only the touches
inside a path's window (window functions per unit), with the few columns read - kind (c) of
the push-down rule, the relevant events. A conversion given as a goal with conditions keeps
every event of the goal's activity and every touch instead (the conditions are evaluated in
Python). When the conversion is an activity the engine also numbers and codes the touches of each path, so
that a few integers per touch come back. The credits and the bootstrap run in Python on those paths.

>>> import pandas as pd, journeylab as jl
>>> df = pd.DataFrame({"case": ["a", "a", "a", "b", "b"],
...     "activity": ["ad", "email", "buy", "email", "buy"],
...     "t": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03", "2025-01-01", "2025-01-02"])})
>>> log = jl.from_pandas(df, case="case", activity="activity", timestamp="t")
>>> res = attribution(log, conversion="buy", touchpoints=["ad", "email"], model="linear", random_state=0)
>>> res.to_frame()[["touchpoint", "credit"]]
  touchpoint  credit
0      email     1.5
1         ad     0.5
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from ._core.formatting import cut
from ._core.progress import progress as progress_bar
from ._core.results import FrozenMap, Result
from ._core.validation import BOOL, CONFIDENCE, LOG, Choice, Int, Optional, checked, rng as make_rng, to_timedelta
from ._core.vocabulary import ATTRIBUTION_MODEL_NAMES, ATTRIBUTION_MODELS
from ._kernels.conversion_paths import Paths, build_paths
from .exceptions import EmptyLogError, InvalidParameterError

__all__ = ["MODELS", "Attribution", "AttributionComparison", "attribution", "compare_attribution",
           "conversion_paths"]

#: The attribution models, rule-based first.
MODELS = ATTRIBUTION_MODELS
_POSITION = {  # (first, last, middle) for n > 2; (first, last) for n == 2
    "u_shaped": ((0.4, 0.4, 0.2), (0.5, 0.5)),
    "j_curve": ((0.2, 0.6, 0.2), (0.25, 0.75)),
    "inverse_j": ((0.6, 0.2, 0.2), (0.75, 0.25)),
}
_MODEL = Choice(*MODELS)
_UNIT = Optional(Choice("case", "customer"))


@checked(log=LOG, unit=_UNIT)
def conversion_paths(log, *, conversion, touchpoints="channel", lookback="30d", unit: str | None = None
                     ) -> pd.DataFrame:
    """The conversion (and non-converting) paths that :func:`attribution` credits.

    Parameters
    ----------
    log : EventLog
        The events of the customers (or cases).
    conversion : str, list of str, Goal or Journey
        The conversion activity (or activities), a journey Goal (its conditions apply) or a
        Journey (its goal).
    touchpoints : str or list of str, default "channel"
        A column whose value labels each touchpoint event, or a list of activities.
    lookback : str or Timedelta, default "30d"
        How long before a conversion a touch may be.
    unit : {"customer", "case"}, optional
        Whose events form paths (default: the customer when the log has one).

    Returns
    -------
    DataFrame
        One row per path: ``unit`` (customer or case id), ``converted``, ``touchpoints`` (tuple,
        in time order), ``length``.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> df = pd.DataFrame({"case": ["a"] * 4, "activity": ["ad", "buy", "email", "buy"],
    ...     "t": pd.date_range("2025-01-01", periods=4, freq="D")})
    >>> log = jl.from_pandas(df, case="case", activity="activity", timestamp="t")
    >>> conversion_paths(log, conversion="buy", touchpoints="activity")["touchpoints"].tolist()
    [('ad',), ('email',)]
    """
    p, _ = build_paths(log, conversion=conversion, touchpoints=touchpoints, lookback=lookback, unit=unit)
    seqs = p.touches.groupby("path")["label"].agg(lambda s: tuple(p.labels[i] for i in s))
    out = p.paths.copy()
    out["unit"] = p.units[out["unit_idx"]].to_numpy()
    out["touchpoints"] = seqs.reindex(out["path"]).to_numpy()
    out = out.rename(columns={"n_touches": "length"})
    return out[["unit", "converted", "touchpoints", "length"]]


# =========================================================================== models
# (the paths they credit come from journeylab._kernels.conversion_paths)


def _rule_weights(t: pd.DataFrame, model: str, half_life_s: float) -> np.ndarray:
    pos, n = t["pos"].to_numpy(), t["n"].to_numpy()
    first, last = pos == 0, pos == n - 1
    if model == "first":
        return first.astype(float)
    if model == "last":
        return last.astype(float)
    if model == "linear":
        return 1.0 / n
    if model == "time_decay":
        w = np.power(2.0, -t["dt_s"].to_numpy() / half_life_s)
        tot = pd.Series(w).groupby(t["path"].to_numpy()).transform("sum").to_numpy()
        return w / tot
    (f, l_, m), (f2, l2) = _POSITION[model]
    w = np.where(n == 1, 1.0,
                 np.where(n == 2, np.where(first, f2, l2),
                          np.where(first, f, np.where(last, l_, m / np.maximum(n - 2, 1)))))
    return w


def _unit_credit_matrix(p: Paths, model: str, half_life_s: float) -> np.ndarray:
    """Credit of each unit (row) to each label (column) for the linear models (rules, Shapley)."""
    t = p.touches[p.touches["converted"]]
    U, L = len(p.units), len(p.labels)
    C = np.zeros((U, L))
    if t.empty:
        return C
    if model == "shapley":
        distinct = t[["path", "unit_idx", "label"]].drop_duplicates()
        size = distinct.groupby("path")["label"].transform("size").to_numpy()
        np.add.at(C, (distinct["unit_idx"].to_numpy(), distinct["label"].to_numpy()), 1.0 / size)
        return C
    w = _rule_weights(t, model, half_life_s)
    np.add.at(C, (t["unit_idx"].to_numpy(), t["label"].to_numpy()), w)
    return C


def _transition_matrix(p: Paths) -> sparse.csr_matrix:
    """Per unit, the counts of every transition (flattened S x S; states: labels, start, conversion, null)."""
    L = len(p.labels)
    S = L + 3
    start, conv, null = L, L + 1, L + 2
    t = p.touches
    prev = np.where(t["pos"].to_numpy() == 0, start, np.r_[-1, t["label"].to_numpy()[:-1]])
    frm = [prev, t["label"].to_numpy()[t["pos"].to_numpy() == t["n"].to_numpy() - 1]]
    last = t[t["pos"] == t["n"] - 1]
    to = [t["label"].to_numpy(), np.where(last["converted"].to_numpy(), conv, null)]
    units = [t["unit_idx"].to_numpy(), last["unit_idx"].to_numpy()]
    frm, to, units = np.concatenate(frm), np.concatenate(to), np.concatenate(units)
    return sparse.csr_matrix((np.ones(len(frm)), (units, frm * S + to)), shape=(len(p.units), S * S))


def _markov_removal(counts: np.ndarray, L: int) -> tuple[np.ndarray, float]:
    """Removal effect of each of the L touchpoint states, and P(conversion), from transition counts."""
    S = L + 3
    start, conv = L, L + 1
    M = counts.reshape(S, S)
    out = M.sum(axis=1, keepdims=True)
    P = np.divide(M, out, out=np.zeros_like(M, dtype=float), where=out > 0)
    transient = list(range(L + 1))  # labels and start

    def p_conv(removed: int | None) -> float:
        Q = P[np.ix_(transient, transient)].copy()
        r = P[transient, conv].copy()
        if removed is not None:
            Q[removed, :] = 0.0   # the removed state now leads to null only
            r[removed] = 0.0
        try:
            x = np.linalg.solve(np.eye(len(transient)) - Q, r)
        except np.linalg.LinAlgError:
            x = np.linalg.lstsq(np.eye(len(transient)) - Q, r, rcond=None)[0]
        return float(x[start])

    base = p_conv(None)
    if base <= 0:
        return np.zeros(L), 0.0
    effects = np.array([1 - p_conv(s) / base for s in range(L)])
    return np.clip(effects, 0, None), base


def _markov_credit(counts: np.ndarray, L: int, n_conv: float) -> np.ndarray:
    re, _ = _markov_removal(counts, L)
    tot = re.sum()
    return re / tot * n_conv if tot > 0 else np.zeros(L)


# =========================================================================== results


@dataclass(frozen=True, eq=False)
class Attribution(Result):
    """Credit per touchpoint for one model, with bootstrap intervals; from :func:`attribution`.

    ``to_frame()`` columns: ``touchpoint``, ``credit`` (conversions credited), ``ci_low``,
    ``ci_high``, ``share`` (of the attributed conversions), ``share_ci_low``,
    ``share_ci_high``; sorted by credit. ``removal_effects`` (Markov only): touchpoint,
    removal_effect. ``n_conversions``: conversion events; ``n_attributed``: those with at
    least one touchpoint in their window; ``n_paths``: conversion plus non-converting paths.
    """

    model: str
    credits: pd.DataFrame
    n_conversions: int
    n_attributed: int
    n_paths: int
    removal_effects: pd.DataFrame | None
    params: FrozenMap = field(default_factory=FrozenMap)

    def to_frame(self) -> pd.DataFrame:
        """The credit table (a copy)."""
        return self.credits.copy()

    @property
    def summary(self) -> pd.DataFrame:
        c = self.credits
        conf = self.params["confidence"]
        return pd.DataFrame({
            "touchpoint": c["touchpoint"],
            "credit": c["credit"].map("{:,.1f}".format),
            "share": c["share"].map("{:.1%}".format),
            f"{conf:.0%} CI (share)": [f"{a:.1%} .. {b:.1%}" for a, b in zip(c["share_ci_low"], c["share_ci_high"])],
        })

    def __repr__(self) -> str:
        top = self.credits.iloc[0] if len(self.credits) else None
        top_txt = (f"; top: {top['touchpoint']} {top['share']:.1%} [{top['share_ci_low']:.1%}, "
                   f"{top['share_ci_high']:.1%}]") if top is not None else ""
        return (f"Attribution ({ATTRIBUTION_MODEL_NAMES[self.model]}, by {self.params['touchpoints']}): "
                f"{self.n_attributed:,} of {self.n_conversions:,} conversions credited to {len(self.credits)} "
                f"touchpoints{top_txt}")

    def _html_tables(self):
        return [("", self.credits)]

    def _html_formats(self):
        return {"credit": "score", "ci_low": "score", "ci_high": "score", "share": "share", "share_ci_low": "share",
                "share_ci_high": "share"}

    def plot(self, ax=None, **kw):
        """Horizontal bars of the credit share per touchpoint with the bootstrap intervals."""
        from .plotting.kpi import plot_attribution

        return plot_attribution(self, ax=ax, **kw)


@dataclass(frozen=True, eq=False)
class AttributionComparison(Result):
    """Several attribution models side by side; from :func:`compare_attribution`.

    ``to_frame()``: tidy rows (model, touchpoint, credit, ci_low, ci_high, share,
    share_ci_low, share_ci_high); ``shares``: touchpoints x models table of shares;
    ``results``: the :class:`Attribution` of each model.
    """

    results: dict
    params: FrozenMap = field(default_factory=FrozenMap)

    def to_frame(self) -> pd.DataFrame:
        """Tidy rows: model, touchpoint, credit, its interval, share and its interval."""
        return pd.concat([r.credits.assign(model=m) for m, r in self.results.items()], ignore_index=True)[
            ["model", "touchpoint", "credit", "ci_low", "ci_high", "share", "share_ci_low", "share_ci_high"]]

    @property
    def shares(self) -> pd.DataFrame:
        t = self.to_frame().pivot(index="touchpoint", columns="model", values="share")
        t = t[[m for m in self.results]]
        return t.loc[t.mean(axis=1).sort_values(ascending=False).index]

    @property
    def summary(self) -> pd.DataFrame:
        return self.shares.map(lambda x: f"{x:.1%}").rename(columns=ATTRIBUTION_MODEL_NAMES)

    def __repr__(self) -> str:
        first = next(iter(self.results.values()))
        return (f"AttributionComparison: {len(self.results)} models x {len(self.shares)} touchpoints, "
                f"{first.n_attributed:,} attributed conversions")

    def _html_tables(self):
        return [("share of the credit", self.shares.rename(columns=ATTRIBUTION_MODEL_NAMES).rename_axis(columns=None))]

    def _html_formats(self):
        return {name: "share" for name in ATTRIBUTION_MODEL_NAMES.values()}

    def plot(self, ax=None, **kw):
        """Grouped bars: the share of each touchpoint under each model, with intervals."""
        from .plotting.kpi import plot_attribution_comparison

        return plot_attribution_comparison(self, ax=ax, **kw)


# =========================================================================== public functions


def _estimate(p: Paths, model: str, half_life_s: float, n_boot: int, confidence: float, rng, progress: bool,
              info: dict, params: dict) -> Attribution:
    L = len(p.labels)
    U = len(p.units)
    conv_paths = p.paths[p.paths["converted"]]
    n_attr_unit = np.bincount(conv_paths["unit_idx"].to_numpy(), minlength=U).astype(float)
    removal = None
    if model == "markov":
        T = _transition_matrix(p)
        counts = np.asarray(T.sum(axis=0)).ravel()
        TT = T.T.tocsr()
        point = _markov_credit(counts, L, n_attr_unit.sum())
        re, _ = _markov_removal(counts, L)
        removal = pd.DataFrame({"touchpoint": list(p.labels), "removal_effect": re}).sort_values(
            "removal_effect", ascending=False, ignore_index=True)

        def boot_one(w):
            return _markov_credit(TT @ w, L, w @ n_attr_unit)
    else:
        C = _unit_credit_matrix(p, model, half_life_s)
        point = C.sum(axis=0)

        def boot_one(w):
            return w @ C
    boots = np.empty((n_boot, L))
    shares = np.empty((n_boot, L))
    for b in progress_bar(range(n_boot), total=n_boot, desc=f"bootstrap ({model})", enabled=progress):
        w = np.bincount(rng.integers(0, U, U), minlength=U).astype(float)
        boots[b] = boot_one(w)
        tot = boots[b].sum()
        shares[b] = boots[b] / tot if tot > 0 else np.nan
    a = (1 - confidence) / 2
    lo, hi = np.nanquantile(boots, [a, 1 - a], axis=0)
    slo, shi = np.nanquantile(shares, [a, 1 - a], axis=0)
    total = point.sum()
    credits = pd.DataFrame({"touchpoint": list(p.labels), "credit": point, "ci_low": lo, "ci_high": hi,
                            "share": point / total if total > 0 else np.nan, "share_ci_low": slo,
                            "share_ci_high": shi})
    credits = credits.sort_values(["credit", "touchpoint"], ascending=[False, True], ignore_index=True)
    return Attribution(model=model, credits=credits, n_conversions=p.n_conversions,
                       n_attributed=int(n_attr_unit.sum()), n_paths=len(p.paths), removal_effects=removal,
                       params={**params, "model": model, **info})


def _common(log, conversion, touchpoints, lookback, half_life, unit, n_boot, confidence, random_state):
    half_life_td = to_timedelta(half_life, name="half_life")
    rng = make_rng(random_state)
    p, info = build_paths(log, conversion=conversion, touchpoints=touchpoints, lookback=lookback, unit=unit)
    if not p.paths["converted"].any():
        raise EmptyLogError(f"none of the {p.n_conversions:,} conversions has a touchpoint within "
                            f"lookback={cut(lookback)} before it; widen lookback=... or check touchpoints=...")
    params = {"conversion": conversion if isinstance(conversion, (str, list, tuple)) else str(conversion),
              "touchpoints": info["touchpoints"], "lookback": str(lookback), "half_life": str(half_life),
              "unit": p.unit, "n_boot": n_boot, "confidence": confidence,
              "random_state": random_state if not isinstance(random_state, np.random.Generator) else "<Generator>"}
    return p, info, half_life_td.total_seconds(), n_boot, confidence, rng, params


_CHECKS = dict(log=LOG, unit=_UNIT, n_boot=Int(minimum=10, example=200), confidence=CONFIDENCE, progress=BOOL)


@checked(model=_MODEL, **_CHECKS)
def attribution(log, *, conversion, touchpoints="channel", model: str = "last", lookback="30d", half_life="7d",
                unit: str | None = None, n_boot: int = 200, confidence: float = 0.95, random_state=None,
                progress: bool = True) -> Attribution:
    """Credit per touchpoint (or channel) for the conversions, with bootstrap intervals.

    Parameters
    ----------
    log : EventLog
        The events of the customers (or cases).
    conversion : str, list of str, Goal or Journey
        The conversion activity (or a list of them), or a journey
        :class:`~journeylab.journey.Goal` (its conditions apply) or a Journey (its goal).
    touchpoints : str or list of str, default "channel"
        A column whose value labels each touchpoint event (``"channel"``, ``"activity"`` or an
        attribute; every non-conversion event with a value is a touch), or a list of activities
        (only those are touches, labelled by activity).
    model : str, default "last"
        One of :data:`MODELS` (definitions in the module docstring).
    lookback : str or Timedelta, default "30d"
        How long before a conversion a touch may be.
    half_life : str or Timedelta, default "7d"
        The half-life of ``time_decay``.
    unit : {"customer", "case"}, optional
        Whose events form paths and what the bootstrap resamples (default: the customer when
        the log has one).
    n_boot : int, default 200
        Bootstrap resamples (at least 10).
    confidence : float, default 0.95
        Level of the intervals.
    random_state : None, int or numpy Generator
        Seed of the bootstrap.
    progress : bool, default True
        Show a progress bar when the bootstrap takes more than two seconds.

    Returns
    -------
    Attribution
        The credit and share of each touchpoint with bootstrap intervals (``to_frame()``), and
        the counts of conversions and paths.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> df = pd.DataFrame({"case": ["a", "a", "a", "b", "b"], "activity": ["ad", "email", "buy", "email", "buy"],
    ...     "t": pd.date_range("2025-01-01", periods=5, freq="D")})
    >>> log = jl.from_pandas(df, case="case", activity="activity", timestamp="t")
    >>> attribution(log, conversion="buy", touchpoints="activity", model="first", random_state=0)
    Attribution (first touch, by activity): 2 of 2 conversions credited to 2 touchpoints; top: ad 50.0% [0.0%, 100.0%]
    """
    p, info, hl, n_boot, confidence, rng, params = _common(log, conversion, touchpoints, lookback, half_life, unit,
                                                           n_boot, confidence, random_state)
    return _estimate(p, model, hl, n_boot, confidence, rng, progress, info, params)


@checked(**_CHECKS)
def compare_attribution(log, *, conversion, touchpoints="channel", models=MODELS, lookback="30d", half_life="7d",
                        unit: str | None = None, n_boot: int = 200, confidence: float = 0.95, random_state=None,
                        progress: bool = True) -> AttributionComparison:
    """Run several attribution models on the same paths (built once) and compare their credits.

    Parameters
    ----------
    log : EventLog
        The events of the customers (or cases).
    conversion : str, list of str, Goal or Journey
        What a conversion is (see :func:`attribution`).
    touchpoints : str or list of str, default "channel"
        A column that labels the touchpoints, or a list of activities (see :func:`attribution`).
    models : list of str, default all of :data:`MODELS`
        The models to compare.
    lookback, half_life : str or Timedelta
        The path window and the half-life of ``time_decay`` (see :func:`attribution`).
    unit : {"customer", "case"}, optional
        Whose events form paths (default: the customer when the log has one).
    n_boot : int, default 200
        Bootstrap resamples per model (at least 10).
    confidence : float, default 0.95
        Level of the intervals.
    random_state : None, int or numpy Generator
        Seed of the bootstrap (each model gets its own stream from it).
    progress : bool, default True
        Show a progress bar when a bootstrap takes more than two seconds.

    Returns
    -------
    AttributionComparison
        The :class:`Attribution` of each model and the touchpoints x models table of shares.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> df = pd.DataFrame({"case": ["a", "a", "a"], "activity": ["ad", "email", "buy"],
    ...     "t": pd.date_range("2025-01-01", periods=3, freq="D")})
    >>> log = jl.from_pandas(df, case="case", activity="activity", timestamp="t")
    >>> cmp = compare_attribution(log, conversion="buy", touchpoints="activity", models=["first", "last"],
    ...                           random_state=0)
    >>> cmp.shares.to_dict()
    {'first': {'ad': 1.0, 'email': 0.0}, 'last': {'ad': 0.0, 'email': 1.0}}
    """
    if isinstance(models, str):
        models = [models]
    models = list(models)
    if not models:
        raise InvalidParameterError(f"models=[] is empty; give some of {list(MODELS)}.")
    for m in models:
        _MODEL(m, "model")
    p, info, hl, n_boot, confidence, rng, params = _common(log, conversion, touchpoints, lookback, half_life, unit,
                                                           n_boot, confidence, random_state)
    seeds = rng.integers(0, 2**32 - 1, size=len(models))
    results = {m: _estimate(p, m, hl, n_boot, confidence, np.random.default_rng(s), progress, info, params)
               for m, s in zip(models, seeds)}
    return AttributionComparison(results=results, params={**params, "models": models})

