"""The peak-end rule: do the worst (or best) moment and the end of a customer's touchpoint
scores predict their overall rating better than the average of those scores?

DOMAIN.md: people judge an experience by its most intense moment and its end rather than
the average. :func:`peak_end` tests it on a log: per case (or customer, or session), the
*peak* and the *end* of the touchpoint scores (e.g. CSAT at each touchpoint) against the
*mean* of them, as predictors of an overall rating (e.g. the NPS asked at the end), with
bootstrap intervals over customers.

Where it runs: on a log that lives in DuckDB or Spark, the engine keeps the events that carry a
touchpoint score or an overall rating (a filter on those columns being not null) and sends back only
those rows and the columns read (kind (c) of the push-down rule: the answered events); the per-unit
peak, end and mean and the bootstrap are computed in Python from them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import pandas as pd

from ._core.formatting import cut, format_number
from ._core.progress import progress as progress_bar
from ._core.results import FrozenMap, Result
from ._core.validation import BOOL, CONFIDENCE, LOG, Choice, Int, checked, log_column, rng as make_rng
from ._kernels.survey import events_where, unit_column
from ._kernels.units import known_customers
from .exceptions import EmptyLogError, InvalidParameterError

__all__ = ["PeakEnd", "peak_end"]


def _ols_r2(X: np.ndarray, y: np.ndarray) -> float:
    """R-squared of an OLS fit of y on X (with intercept)."""
    A = np.column_stack([np.ones(len(y)), X])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    resid = y - A @ coef
    sst = float(((y - y.mean()) ** 2).sum())
    return 1 - float(resid @ resid) / sst if sst > 0 else np.nan


def _adj(r2: float, n: int, p: int) -> float:
    return 1 - (1 - r2) * (n - 1) / (n - p - 1) if n - p - 1 > 0 else np.nan


_PE_MODELS = {
    # name: (columns, description)
    "peak + end": (("peak", "end"), "overall ~ peak + end (OLS)"),
    "mean": (("mean",), "overall ~ mean of all touchpoint scores (OLS)"),
    "peak-end average": (("peak_end",), "overall ~ (peak + end) / 2 (Kahneman's peak-end average)"),
    "peak + end + mean": (("peak", "end", "mean"), "overall ~ peak + end + mean (OLS; which one carries the weight)"),
}


@dataclass(frozen=True, eq=False)
class PeakEnd(Result):
    """Does the peak and the end of a customer's touchpoint scores predict the overall rating
    better than the mean? From :func:`peak_end`.

    ``models``: one row per model (``peak + end``, ``mean``, ``peak-end average``,
    ``peak + end + mean``) with ``predictors``, ``r`` (multiple correlation), ``r2``,
    ``r2_adj``, and bootstrap intervals ``r2_ci_low``/``r2_ci_high``.
    ``difference``: adjusted R-squared of ``peak + end`` minus that of ``mean``, with its
    bootstrap interval and ``p_better`` (share of bootstrap samples where peak + end wins).
    ``coefficients``: standardised coefficients of ``peak + end + mean`` with intervals.
    ``customers``: one row per customer: peak, end, mean, peak_end, n_touchpoints, overall.
    ``params``: the inputs (read-only).
    """

    models: pd.DataFrame
    difference: dict
    coefficients: pd.DataFrame
    customers: pd.DataFrame
    n_excluded: int
    peak: str
    params: FrozenMap = field(default_factory=FrozenMap)

    @property
    def better(self) -> bool:
        """True when the interval of the difference lies wholly above 0."""
        return bool(self.difference["ci_low"] > 0)

    @property
    def verdict(self) -> str:
        d = self.difference
        txt = (f"ΔR²adj = {d['value']:+.3f} ({self.params['confidence']:.0%} CI {d['ci_low']:+.3f} .. "
               f"{d['ci_high']:+.3f})")
        if d["ci_low"] > 0:
            return f"peak and end predict the overall rating better than the mean: {txt}"
        if d["ci_high"] < 0:
            return f"the mean predicts the overall rating better than peak and end: {txt}"
        return f"no clear difference between peak-end and the mean: {txt}"

    def to_frame(self) -> pd.DataFrame:
        """The model table (a copy)."""
        return self.models.copy()

    @property
    def summary(self) -> pd.DataFrame:
        m = self.models
        return pd.DataFrame({
            "model": m["model"],
            "R²": m["r2"].map("{:.3f}".format),
            f"{self.params['confidence']:.0%} CI": [f"{a:.3f} .. {b:.3f}" for a, b in zip(m["r2_ci_low"], m["r2_ci_high"])],
            "adj. R²": m["r2_adj"].map("{:.3f}".format),
            "r": m["r"].map("{:.3f}".format),
        })

    def __repr__(self) -> str:
        unit = self.params["unit"]
        who = f"{unit}s" if unit in ("case", "customer") else f"{unit} values"
        return f"PeakEnd ({len(self.customers):,} {who}, peak={self.peak}): {self.verdict}"

    def _html_tables(self):
        return [("", self.models[["model", "predictors", "r2", "r2_ci_low", "r2_ci_high", "r2_adj", "r"]])]

    def _html_formats(self):
        return {c: partial(format_number, digits=3) for c in ("r2", "r2_ci_low", "r2_ci_high", "r2_adj", "r")}

    def plot(self, ax=None, **kw):
        """R-squared of each model with its bootstrap interval."""
        from .plotting.kpi import plot_peak_end

        return plot_peak_end(self, ax=ax, **kw)


def _overall_per_unit(log, df: pd.DataFrame, overall, unit: str) -> tuple[pd.Series, pd.Series | None]:
    """Overall rating per unit and (for a column) the time it was given."""
    if isinstance(overall, str):
        answered = df[df[overall].notna()]
        if answered.empty:
            raise EmptyLogError(f"column {overall!r} has no values; nothing to predict.")
        vals = pd.to_numeric(answered[overall], errors="coerce")
        if vals.isna().any():
            ex = answered.loc[vals.isna(), overall].head(3).tolist()
            raise InvalidParameterError(f"overall={overall!r}: {int(vals.isna().sum()):,} values are not numbers "
                                        f"(e.g. {cut(ex)}); the overall rating must be numeric.")
        last = answered.assign(_v=vals).groupby(unit, sort=True).tail(1).set_index(unit)
        return last["_v"].astype(float), last["timestamp"]
    if isinstance(overall, Mapping) and not isinstance(overall, pd.Series):
        overall = pd.Series(dict(overall))
    if isinstance(overall, pd.Series):
        s = pd.to_numeric(overall, errors="coerce").dropna().astype(float)
        s.index = s.index.astype(str)
        return s, None
    raise InvalidParameterError(f"overall={cut(overall)} must be a column name or a Series indexed by case (or "
                                f"unit) id.")


@checked(log=LOG, peak=Choice("min", "max", "extreme"), min_touchpoints=Int(minimum=1, example=2),
         n_boot=Int(minimum=10, example=200), confidence=CONFIDENCE, progress=BOOL)
def peak_end(log, *, score: str, overall, peak: str = "min", unit: str = "case", min_touchpoints: int = 2,
             n_boot: int = 200, confidence: float = 0.95, random_state=None, progress: bool = True) -> PeakEnd:
    """Test the peak-end rule: do the peak and the end of a customer's touchpoint scores
    predict their overall rating better than the mean of those scores?

    For each case (``unit="customer"``: each customer; or any id column, e.g.
    ``unit="session_id"`` when the case is the customer and the overall rating is asked per
    session) the touchpoint scores are the non-missing values of ``score`` (e.g. CSAT at
    touchpoints) given no later than the overall rating. ``peak`` is the most intense
    moment: ``"min"`` (the worst, default), ``"max"`` (the best) or ``"extreme"`` (farthest
    from the middle of the observed scale); ``end``
    is the last score; ``mean`` their average. ``overall`` is a column (its last value per
    case, e.g. an NPS asked at the end) or a Series indexed by case id. Cases with fewer
    than ``min_touchpoints`` scores are left out (with one score, peak = end = mean).

    Four OLS models are fitted (see :class:`PeakEnd`); the headline compares ``peak + end``
    with ``mean`` by adjusted R-squared. Intervals: percentile bootstrap over customers
    (``n_boot`` resamples, ``random_state``).

    Parameters
    ----------
    log : EventLog
        The log with the touchpoint scores (and, for a column ``overall``, the overall rating).
    score : str
        The column of touchpoint scores (e.g. ``"csat"``).
    overall : str or Series
        The overall rating: a column (its last value per unit) or a Series indexed by unit id.
    peak : {"min", "max", "extreme"}, default "min"
        The most intense moment: the worst score, the best, or the farthest from the middle.
    unit : str, default "case"
        Whose experience: ``"case"``, ``"customer"`` or an id column (e.g. ``"session_id"``).
    min_touchpoints : int, default 2
        Units with fewer touchpoint scores are left out.
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
    PeakEnd
        The four models with R-squared and intervals, the difference peak + end minus mean, the
        standardised coefficients and the table per unit.

    Examples
    --------
    >>> import numpy as np, pandas as pd, journeylab as jl
    >>> rng = np.random.default_rng(0)
    >>> rows = []
    >>> for c in range(300):
    ...     s = rng.integers(1, 6, size=4)
    ...     for i, v in enumerate(s):
    ...         rows.append((f"c{c}", f"step{i}", i, v, np.nan))
    ...     rows.append((f"c{c}", "survey", 9, np.nan, float(s.min() + s[-1] + rng.normal(0, .3))))
    >>> df = pd.DataFrame(rows, columns=["case", "activity", "h", "csat", "nps"])
    >>> df["t"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(df["h"], unit="h")
    >>> log = jl.from_pandas(df.drop(columns="h"), case="case", activity="activity", timestamp="t")
    >>> res = peak_end(log, score="csat", overall="nps", random_state=1)
    >>> res.better
    True
    """
    log_column(log, score, "score")
    unit = unit_column(log, unit)
    rng = make_rng(random_state)
    if isinstance(overall, str):
        log_column(log, overall, "overall")
        if overall == score:
            raise InvalidParameterError(f"overall={overall!r} is the same column as score; the overall rating must be "
                                        f"a different column (e.g. an NPS asked at the end) or a Series.")
    needed = [score, *([overall] if isinstance(overall, str) else []), unit]
    # lazy log: only the events with a touchpoint score or an overall rating come back (the engine filters)
    answered = (lambda c: c(score).notnull() | c(overall).notnull()) if isinstance(overall, str) \
        else (lambda c: c(score).notnull())
    df = events_where(log, needed, answered if log.is_lazy else None)
    if unit == "customer":
        df = known_customers(df)  # a case without a customer id is its own customer
    df = df[df[unit].notna()].assign(_unit=lambda d: d[unit].astype(str))
    ov, ov_time = _overall_per_unit(log, df, overall, "_unit")
    tp = df[df[score].notna()][["_unit", "timestamp", score]].copy()
    vals = pd.to_numeric(tp[score], errors="coerce")
    if vals.isna().any():
        ex = tp.loc[vals.isna(), score].head(3).tolist()
        raise InvalidParameterError(f"score={score!r}: {int(vals.isna().sum()):,} values are not numbers (e.g. "
                                    f"{cut(ex)}); the touchpoint scores must be numeric.")
    tp["_v"] = vals.astype(float)
    if ov_time is not None:
        tp = tp[tp["timestamp"] <= tp["_unit"].map(ov_time)]
    tp = tp[tp["_unit"].isin(ov.index)]
    if tp.empty:
        raise EmptyLogError(f"no case has both touchpoint scores ({score!r}) and an overall rating before which they "
                            f"were given; check the columns.")
    mid = (tp["_v"].min() + tp["_v"].max()) / 2
    g = tp.groupby("_unit", sort=True)["_v"]
    if peak == "extreme":
        dev = (tp["_v"] - mid).abs()
        idx = dev.groupby(tp["_unit"]).idxmax()
        peak_vals = tp.loc[idx.to_numpy(), "_v"].set_axis(idx.index)
    else:
        peak_vals = g.min() if peak == "min" else g.max()
    cust = pd.DataFrame({"peak": peak_vals, "end": g.last(), "mean": g.mean(), "n_touchpoints": g.size()})
    cust["peak_end"] = (cust["peak"] + cust["end"]) / 2
    cust["overall"] = ov.reindex(cust.index)
    n_all = len(cust)
    cust = cust[(cust["n_touchpoints"] >= min_touchpoints) & cust["overall"].notna()]
    n_excluded = n_all - len(cust)
    if len(cust) < 10:
        raise EmptyLogError(f"only {len(cust)} {unit}s have >= {min_touchpoints} touchpoint scores and an overall "
                            f"rating; peak-end needs at least 10 (better: hundreds).")
    y = cust["overall"].to_numpy(float)
    cols = {c: cust[c].to_numpy(float) for c in ("peak", "end", "mean", "peak_end")}
    n = len(y)

    def fit_all(ix):
        out = {}
        yy = y[ix]
        for name, (preds, _) in _PE_MODELS.items():
            X = np.column_stack([cols[c][ix] for c in preds])
            r2 = _ols_r2(X, yy)
            out[name] = (r2, _adj(r2, len(yy), len(preds)))
        return out

    def std_coefs(ix):
        X = np.column_stack([cols[c][ix] for c in ("peak", "end", "mean")])
        yy = y[ix]
        sx = X.std(axis=0)
        sy = yy.std()
        Z = (X - X.mean(axis=0)) / np.where(sx > 0, sx, 1)
        coef, *_ = np.linalg.lstsq(np.column_stack([np.ones(len(yy)), Z]), (yy - yy.mean()) / (sy or 1), rcond=None)
        return coef[1:]

    full = np.arange(n)
    point = fit_all(full)
    point_coef = std_coefs(full)
    boot_r2 = {name: [] for name in _PE_MODELS}
    boot_adj = {name: [] for name in _PE_MODELS}
    boot_coef = []
    for _ in progress_bar(range(n_boot), total=n_boot, desc="peak-end bootstrap", enabled=progress):
        ix = rng.integers(0, n, size=n)
        res = fit_all(ix)
        for name, (r2, adj) in res.items():
            boot_r2[name].append(r2)
            boot_adj[name].append(adj)
        boot_coef.append(std_coefs(ix))
    a = (1 - confidence) / 2
    rows = []
    for name, (preds, desc) in _PE_MODELS.items():
        r2, adj = point[name]
        lo, hi = np.nanquantile(boot_r2[name], [a, 1 - a])
        rows.append({"model": name, "predictors": ", ".join(preds), "r": math.sqrt(max(r2, 0)), "r2": r2,
                     "r2_adj": adj, "r2_ci_low": lo, "r2_ci_high": hi, "description": desc})
    models = pd.DataFrame(rows)
    diff_boot = np.asarray(boot_adj["peak + end"]) - np.asarray(boot_adj["mean"])
    dlo, dhi = np.nanquantile(diff_boot, [a, 1 - a])
    difference = {"value": point["peak + end"][1] - point["mean"][1], "ci_low": float(dlo), "ci_high": float(dhi),
                  "p_better": float(np.mean(diff_boot > 0)), "between": ("peak + end", "mean"), "measure": "r2_adj"}
    bc = np.asarray(boot_coef)
    clo, chi = np.nanquantile(bc, [a, 1 - a], axis=0)
    coefficients = pd.DataFrame({"predictor": ["peak", "end", "mean"], "beta": point_coef, "ci_low": clo,
                                 "ci_high": chi})
    params = {"score": score, "overall": overall if isinstance(overall, str) else "<Series>", "peak": peak,
              "unit": unit, "min_touchpoints": min_touchpoints, "n_boot": n_boot, "confidence": confidence,
              "random_state": random_state if not isinstance(random_state, np.random.Generator) else "<Generator>"}
    cust.index.name = unit
    return PeakEnd(models=models, difference=difference, coefficients=coefficients, customers=cust,
                   n_excluded=n_excluded, peak=peak, params=params)
