"""Experience KPIs: NPS, CSAT and CES with confidence intervals, and scores per touchpoint.

(The peak-end test is in :mod:`journeylab.peakend`, contact peaks in :mod:`journeylab.contact`.)

The survey KPIs follow DOMAIN.md exactly:

* **NPS** (Net Promoter Score) - answers are whole numbers 0..10; promoters answer 9-10,
  passives 7-8, detractors 0-6. ``NPS = 100 * (promoters - detractors) / answers``, in
  points from -100 to +100. Interval: the *adjusted Wald* interval of Rocks (2016, *The
  American Statistician* 70:4) - add 3/4 promoter and 3/4 detractor to the counts and 3 to
  n, then use the variance of the difference of two multinomial proportions,
  ``Var = (p + d - (p - d)^2) / n'``; clipped to [-100, 100].
* **CSAT** (customer satisfaction) - answers are whole numbers 1..``scale``; satisfied
  answers are the top ``top_box`` boxes (4-5 on a 5-point scale). ``CSAT = 100 *
  satisfied / answers`` (percent). Interval: Wilson score interval of a binomial proportion.
* **CES** (customer effort score) - answers are whole numbers 1..``scale`` (default 7). The
  score is the **mean effort**; by default 1 = very low effort ("How much effort did you
  have to make?", lower is better), with ``higher_is_easier=True`` for the agreement form
  ("The company made it easy", 7 = easiest, higher is better). Reported beside it: the
  **share of low-effort answers** (the ``low_effort_box`` boxes at the easy end, default
  ``scale // 2``). Intervals: Student t for the mean, Wilson for the share.

A missing answer (NaN / None) is *no answer*: it is dropped and counted. Anything else that
is not a whole number of the scale (text, booleans, 11 on an NPS scale, 7.5) raises
:class:`~journeylab.exceptions.InvalidParameterError` with the count and examples.

Examples
--------
>>> import journeylab.kpi as kpi
>>> s = kpi.nps([10, 9, 9, 8, 7, 6, 3, 10, None])
>>> s.value, s.n, s.n_missing
(25.0, 8, 1)
>>> kpi.csat([5, 4, 3, 2, 5]).value
60.0
>>> round(kpi.ces([2, 3, 1, 6]).value, 2)
3.0
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from html import escape

import numpy as np
import pandas as pd
from scipy import stats

from ._core.stats import wilson, z_score
from ._util import closest
from .exceptions import EmptyLogError, InvalidParameterError, JourneyDefinitionError, SchemaError

__all__ = [
    "KPI_KINDS",
    "SurveyScore",
    "TouchpointScores",
    "ces",
    "csat",
    "nps",
    "survey_score",
    "touchpoint_scores",
]

#: The survey KPIs journeylab knows.
KPI_KINDS = ("nps", "csat", "ces")
_LABEL = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}


# =========================================================================== shared helpers
# (used by contact.py, attribution.py, channels.py and journeymap.py as well)


def _check_confidence(confidence) -> float:
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0 < confidence < 1:
        raise InvalidParameterError(f"confidence={confidence!r} must be a number between 0 and 1, e.g. 0.95.")
    return float(confidence)


def _check_int(value, name: str, *, minimum: int = 1, example: int = 200) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidParameterError(f"{name}={value!r} must be a whole number >= {minimum}, e.g. {name}={example}.")
    return int(value)


def _check_choice(value, name: str, choices) -> str:
    if value not in choices:
        from ._util import did_you_mean

        raise InvalidParameterError(f"{name}={value!r} is not allowed; use one of {list(choices)}."
                                    + did_you_mean(str(value), choices))
    return value


def _rng(random_state) -> np.random.Generator:
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise InvalidParameterError(f"random_state={random_state!r} must be None, a whole number or a numpy Generator.")


def _progress(iterable, *, total: int, desc: str, enabled: bool = True):
    """A tqdm.auto progress bar that only appears when the loop lasts more than 2 seconds."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return iterable
    return tqdm(iterable, total=total, desc=desc, delay=2.0, leave=False)


def _column(log, name, role: str) -> str:
    """Check that ``name`` is a column of ``log``; the message lists what is available."""
    if not isinstance(name, str):
        raise InvalidParameterError(f"{role}={name!r} must be the name of a column of the log (a str).")
    if name not in log.columns:
        near = closest(name, log.columns, n=1)
        near_txt = f" Closest match: {near[0]!r}." if near else ""
        raise SchemaError(
            f"{role}={name!r} is not a column of the log.{near_txt} Available: {list(log.columns)}. "
            f"Pass {role}=... with one of them (role columns have canonical names: 'channel', 'value', ...)."
        )
    return name


def _unit_column(log, unit: str) -> str:
    """The column that identifies one experience: 'case', 'customer' or any id column (e.g. a session id)."""
    if unit == "customer" and not log.has_role("customer"):
        raise SchemaError("unit='customer' needs a customer column, and the log has none; build the log with "
                          "customer=... or use unit='case' (or a session id column).")
    return _column(log, unit, "unit")


def _segment_series(log, segment, df: pd.DataFrame) -> pd.Series | None:
    """Segment label per event: ``segment`` is a column name, or a Series / mapping case -> segment."""
    if segment is None:
        return None
    if isinstance(segment, str):
        _column(log, segment, "segment")
        return df[segment].astype("object").where(df[segment].notna(), None).rename("segment")
    if isinstance(segment, Mapping) and not isinstance(segment, pd.Series):
        segment = pd.Series(dict(segment))
    if isinstance(segment, pd.Series):
        seg = segment.copy()
        seg.index = seg.index.astype(str)
        key = "customer" if log.has_role("customer") and df["customer"].isin(seg.index).any() \
            and not df["case"].isin(seg.index).any() else "case"
        out = df[key].map(seg)
        if out.notna().sum() == 0:
            raise InvalidParameterError(
                f"segment: none of the {len(seg):,} labels matches a case id of the log (e.g. {list(seg.index[:3])} "
                f"vs {list(df['case'].unique()[:3])}); index the Series by case (or customer) id.")
        return out.rename("segment")
    raise InvalidParameterError(f"segment={segment!r} must be a column name or a Series mapping case id -> segment.")


def _html(title: str, df: pd.DataFrame, *, max_rows: int = 20) -> str:
    return f"<p><b>{escape(title)}</b></p>" + df.to_html(max_rows=max_rows, escape=True, na_rep="-")


def _fmt_num(x, digits: int = 1, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


# =========================================================================== interval kernels (vectorised)


def _nps_interval(n, promoters, detractors, confidence):
    """Adjusted-Wald interval of the NPS (points); arrays in, arrays out (Rocks 2016)."""
    n = np.asarray(n, dtype=float)
    z = z_score(confidence)
    na = n + 3.0
    p = (np.asarray(promoters, float) + 0.75) / na
    d = (np.asarray(detractors, float) + 0.75) / na
    centre = p - d
    half = z * np.sqrt(np.maximum(p + d - centre**2, 0.0) / na)
    lo = np.clip(centre - half, -1, 1) * 100
    hi = np.clip(centre + half, -1, 1) * 100
    return lo, hi


def _t_interval(mean, sd, n, confidence):
    """Student-t interval of a mean; NaN half-width for n < 2."""
    mean = np.asarray(mean, float)
    n = np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        tq = stats.t.ppf(0.5 + confidence / 2, np.maximum(n - 1, 1))
        half = np.where(n >= 2, tq * np.asarray(sd, float) / np.sqrt(n), np.nan)
    return mean - half, mean + half


# =========================================================================== validation of answers


@dataclass(frozen=True)
class _Scale:
    kind: str
    lo: int
    hi: int
    top_box: int = 0           # csat
    low_effort_box: int = 0    # ces
    higher_is_easier: bool = False

    @property
    def better(self) -> str:
        return "lower" if self.kind == "ces" and not self.higher_is_easier else "higher"

    @property
    def neutral(self) -> float:
        """Centre of the diverging colour scale: NPS 0, CSAT 50 %, CES the middle of the scale."""
        return {"nps": 0.0, "csat": 50.0}.get(self.kind, (self.lo + self.hi) / 2)

    @property
    def unit(self) -> str:
        return {"nps": "points", "csat": "% satisfied"}.get(self.kind, f"mean effort (1-{self.hi})")

    def describe(self) -> str:
        if self.kind == "nps":
            return "NPS = % promoters (9-10) - % detractors (0-6) on a 0-10 scale"
        if self.kind == "csat":
            boxes = f"{self.hi - self.top_box + 1}-{self.hi}" if self.top_box > 1 else f"{self.hi}"
            return f"CSAT = % of answers in the top {self.top_box} box(es) ({boxes}) of a {self.hi}-point scale"
        easy = (f"{self.hi - self.low_effort_box + 1}-{self.hi}" if self.higher_is_easier
                else f"1-{self.low_effort_box}")
        return (f"CES = mean effort on a 1-{self.hi} scale ({'higher' if self.higher_is_easier else 'lower'} is "
                f"easier); low effort = answers {easy}")


def _scale(kind: str, *, scale=None, top_box=None, low_effort_box=None, higher_is_easier=False) -> _Scale:
    _check_choice(kind, "kind", KPI_KINDS)
    if kind == "nps":
        if scale not in (None, 10, 11):
            raise InvalidParameterError(f"scale={scale!r}: the NPS is defined on the 0-10 scale only; drop scale=.")
        return _Scale("nps", 0, 10)
    default = 5 if kind == "csat" else 7
    sc = default if scale is None else scale
    if isinstance(sc, bool) or not isinstance(sc, numbers.Integral) or not 2 <= sc <= 11:
        raise InvalidParameterError(f"scale={scale!r} must be the number of points of the answer scale (2 to 11), "
                                    f"e.g. scale={default}.")
    sc = int(sc)
    if kind == "csat":
        tb = 2 if top_box is None else top_box
        if isinstance(tb, bool) or not isinstance(tb, numbers.Integral) or not 1 <= tb < sc:
            raise InvalidParameterError(f"top_box={top_box!r} must be a whole number from 1 to {sc - 1} (the number "
                                        f"of top boxes that count as satisfied; 2 = top-2-box).")
        return _Scale("csat", 1, sc, top_box=int(tb))
    lb = sc // 2 if low_effort_box is None else low_effort_box
    if isinstance(lb, bool) or not isinstance(lb, numbers.Integral) or not 1 <= lb < sc:
        raise InvalidParameterError(f"low_effort_box={low_effort_box!r} must be a whole number from 1 to {sc - 1}.")
    if not isinstance(higher_is_easier, (bool, np.bool_)):
        raise InvalidParameterError(f"higher_is_easier={higher_is_easier!r} must be True or False.")
    return _Scale("ces", 1, sc, low_effort_box=int(lb), higher_is_easier=bool(higher_is_easier))


def _plain(v):
    """numpy scalars as plain Python values (for readable messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _clean(scores, sc: _Scale, *, name: str = "scores") -> tuple[pd.Series, int]:
    """Valid answers as a float Series (missing dropped) and the number of missing answers."""
    if isinstance(scores, pd.DataFrame):
        raise InvalidParameterError(f"{name} is a DataFrame; pass one column of answers, e.g. df['nps'].")
    if isinstance(scores, (str, bytes)) or not isinstance(scores, (pd.Series, np.ndarray, Iterable)):
        raise InvalidParameterError(f"{name}={scores!r} must be a Series, array or list of answers.")
    s = scores if isinstance(scores, pd.Series) else pd.Series(list(scores) if not isinstance(scores, np.ndarray)
                                                               else scores)
    missing = s.isna()
    if pd.api.types.is_bool_dtype(s.dtype):
        bad = ~missing
        kind_txt = "are not numbers (True/False)"
    else:
        if s.dtype == object:
            is_bool = s.map(lambda v: isinstance(v, (bool, np.bool_)))
        else:
            is_bool = pd.Series(False, index=s.index)
        num = pd.to_numeric(s.where(~is_bool), errors="coerce")
        not_number = (~missing) & (num.isna() | is_bool)
        if not_number.any():
            bad = not_number
            kind_txt = "are not numbers"
        else:
            v = num.astype(float)
            outside = (~missing) & ((v < sc.lo) | (v > sc.hi) | ~np.isfinite(v))
            fractional = (~missing) & ~outside & (v != np.floor(v))
            bad = outside | fractional
            kind_txt = (f"are outside {sc.lo}..{sc.hi}" if outside.any() and not fractional.any()
                        else "are not whole numbers" if not outside.any()
                        else f"are outside {sc.lo}..{sc.hi} or not whole numbers")
            if not bad.any():
                return v[~missing], int(missing.sum())
    n_bad = int(bad.sum())
    ex_vals = [_plain(s[bad].iloc[i]) for i in range(min(5, n_bad))]
    ex_pos = [_plain(i) for i in s.index[bad][:5]]
    raise InvalidParameterError(
        f"{_LABEL[sc.kind]}: {n_bad:,} {name} {kind_txt} (e.g. {ex_vals!r} at {ex_pos!r}); {_LABEL[sc.kind]} "
        f"answers are whole numbers from {sc.lo} to {sc.hi}. Fix or drop them (a missing answer is NaN)."
    )


# =========================================================================== group statistics


_STAT_COLS = ("answers", "score", "ci_low", "ci_high")


def _stats_frame(values: pd.Series, keys: list[pd.Series] | None, sc: _Scale, confidence: float) -> pd.DataFrame:
    """Per group (or overall when keys is None): answers, score, interval and the kind's details."""
    v = values.to_numpy(dtype=float)
    parts = {"_n": np.ones_like(v)}
    if sc.kind == "nps":
        parts["_pro"] = (v >= 9).astype(float)
        parts["_det"] = (v <= 6).astype(float)
    elif sc.kind == "csat":
        parts["_top"] = (v > sc.hi - sc.top_box).astype(float)
    else:
        parts["_sum"] = v
        parts["_sq"] = v * v
        low = (v > sc.hi - sc.low_effort_box) if sc.higher_is_easier else (v <= sc.low_effort_box)
        parts["_low"] = low.astype(float)
    frame = pd.DataFrame(parts, index=values.index)
    if keys:
        g = frame.groupby([k.loc[values.index] for k in keys], observed=True, sort=False, dropna=True).sum()
    else:
        g = frame.sum().to_frame().T
    n = g["_n"].to_numpy()
    out = pd.DataFrame(index=g.index)
    out["answers"] = n.astype("int64")
    with np.errstate(invalid="ignore", divide="ignore"):
        if sc.kind == "nps":
            pro, det = g["_pro"].to_numpy(), g["_det"].to_numpy()
            out["score"] = 100 * (pro - det) / n
            out["ci_low"], out["ci_high"] = _nps_interval(n, pro, det, confidence)
            out["promoters"] = 100 * pro / n
            out["passives"] = 100 * (n - pro - det) / n
            out["detractors"] = 100 * det / n
        elif sc.kind == "csat":
            top = g["_top"].to_numpy()
            out["score"] = 100 * top / n
            lo, hi = wilson(top, n, z_score(confidence))
            out["ci_low"], out["ci_high"] = 100 * lo, 100 * hi
            out["satisfied"] = top.astype("int64")
        else:
            mean = g["_sum"].to_numpy() / n
            var = np.where(n > 1, (g["_sq"].to_numpy() - n * mean**2) / np.maximum(n - 1, 1), np.nan)
            sd = np.sqrt(np.maximum(var, 0))
            out["score"] = mean
            out["ci_low"], out["ci_high"] = _t_interval(mean, sd, n, confidence)
            low = g["_low"].to_numpy()
            out["low_effort"] = 100 * low / n
            lo, hi = wilson(low, n, z_score(confidence))
            out["low_effort_ci_low"], out["low_effort_ci_high"] = 100 * lo, 100 * hi
    return out


# =========================================================================== single survey scores


@dataclass(frozen=True, eq=False)
class SurveyScore:
    """One survey KPI (NPS, CSAT or CES) with its confidence interval.

    Attributes
    ----------
    kind : "nps", "csat" or "ces".
    value : the KPI (NPS in points -100..100, CSAT in percent, CES the mean effort).
    ci_low, ci_high : the interval at ``confidence`` (method in ``method``).
    n : answers used; n_missing : missing answers dropped.
    details : kind-specific shares (promoters/passives/detractors, satisfied, low_effort...).
    distribution : answers per scale point (Series indexed by the scale points).
    definition : the definition in words; better : "higher" or "lower"; neutral : the
        centre of the colour scale.
    """

    kind: str
    value: float
    ci_low: float
    ci_high: float
    n: int
    n_missing: int
    confidence: float
    method: str
    details: dict
    distribution: pd.Series
    definition: str
    better: str
    neutral: float
    params: dict = field(default_factory=dict)

    def __float__(self) -> float:
        return float(self.value)

    @property
    def label(self) -> str:
        return _LABEL[self.kind]

    def _fmt(self, x) -> str:
        if self.kind == "nps":
            return _fmt_num(x, 1, signed=True)
        if self.kind == "csat":
            return _fmt_num(x, 1) + "%"
        return _fmt_num(x, 2)

    def to_frame(self) -> pd.DataFrame:
        """One row: kind, score, ci_low, ci_high, answers, missing, confidence, then the details."""
        row = {"kind": self.kind, "score": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high,
               "answers": self.n, "missing": self.n_missing, "confidence": self.confidence, **self.details}
        return pd.DataFrame([row])

    @property
    def summary(self) -> pd.DataFrame:
        """The KPI, its interval, the counts and the definition, as a small two-column table."""
        rows = [(self.label, self._fmt(self.value)),
                (f"{self.confidence:.0%} interval", f"{self._fmt(self.ci_low)} .. {self._fmt(self.ci_high)}"),
                ("answers", f"{self.n:,}"), ("missing (no answer)", f"{self.n_missing:,}")]
        rows += [(k.replace("_", " "), f"{v:.1f}%" if isinstance(v, float) else f"{v:,}") for k, v in self.details.items()]
        rows += [("interval method", self.method), ("definition", self.definition)]
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def __repr__(self) -> str:
        return (f"{self.label} {self._fmt(self.value)} ({self.confidence:.0%} CI {self._fmt(self.ci_low)} .. "
                f"{self._fmt(self.ci_high)}), {self.n:,} answers ({self.n_missing:,} missing)")

    def _repr_html_(self) -> str:
        return _html(repr(self), self.summary)

    def plot(self, ax=None, **kw):
        """Bar chart of the answers per scale point, coloured by group (detractor/passive/promoter...)."""
        from .plotting.kpi import plot_survey_score

        return plot_survey_score(self, ax=ax, **kw)


def survey_score(scores, *, kind: str, scale=None, top_box=None, low_effort_box=None, higher_is_easier=False,
                 confidence: float = 0.95) -> SurveyScore:
    """NPS, CSAT or CES of ``scores`` by name (``kind``); see :func:`nps`, :func:`csat`, :func:`ces`.

    >>> round(survey_score([9, 10, 3], kind="nps").value, 2)
    33.33
    """
    sc = _scale(kind, scale=scale, top_box=top_box, low_effort_box=low_effort_box, higher_is_easier=higher_is_easier)
    confidence = _check_confidence(confidence)
    values, n_missing = _clean(scores, sc)
    if len(values) == 0:
        raise InvalidParameterError(f"{_LABEL[kind]}: no answers ({n_missing:,} missing); a score needs at least one "
                                    f"answer from {sc.lo} to {sc.hi}.")
    row = _stats_frame(values, None, sc, confidence).iloc[0]
    details = {k: (float(row[k]) if k not in ("satisfied",) else int(row[k]))
               for k in row.index if k not in _STAT_COLS}
    dist = values.astype(int).value_counts().reindex(range(sc.lo, sc.hi + 1), fill_value=0).rename("answers")
    dist.index.name = "answer"
    method = {"nps": "adjusted Wald (Rocks 2016)", "csat": "Wilson score",
              "ces": "Student t (mean); Wilson (low-effort share)"}[kind]
    params = {"kind": kind, "scale": sc.hi, "confidence": confidence}
    if kind == "csat":
        params["top_box"] = sc.top_box
    if kind == "ces":
        params.update(low_effort_box=sc.low_effort_box, higher_is_easier=sc.higher_is_easier)
    return SurveyScore(kind=kind, value=float(row["score"]), ci_low=float(row["ci_low"]),
                       ci_high=float(row["ci_high"]), n=int(row["answers"]), n_missing=n_missing,
                       confidence=confidence, method=method, details=details, distribution=dist,
                       definition=sc.describe(), better=sc.better, neutral=sc.neutral, params=params)


def nps(scores, *, confidence: float = 0.95) -> SurveyScore:
    """Net Promoter Score of 0-10 answers: % promoters (9-10) minus % detractors (0-6), in points.

    The interval is the adjusted Wald interval (Rocks 2016): 3/4 is added to the promoter and
    detractor counts and 3 to n, and the half-width is ``z * sqrt((p + d - (p - d)^2) / n')``,
    the standard error of the difference of two multinomial proportions. Missing answers
    (NaN) are dropped and counted; other values outside the whole numbers 0..10 raise.

    >>> s = nps([10, 10, 9, 8, 2])
    >>> s.value, s.details["promoters"], s.details["detractors"]
    (40.0, 60.0, 20.0)
    >>> s
    NPS +40.0 (95% CI -29.8 .. +79.8), 5 answers (0 missing)
    >>> nps([9, 11, "ten"])
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: NPS: 1 scores are not numbers (e.g. ['ten'] at [2]); ...
    """
    return survey_score(scores, kind="nps", confidence=confidence)


def csat(scores, *, scale: int = 5, top_box: int = 2, confidence: float = 0.95) -> SurveyScore:
    """Customer satisfaction: the percentage of answers in the top ``top_box`` boxes of a
    ``scale``-point scale (1..scale); top-2-box on 5 points (4 or 5 = satisfied) by default.

    The interval is the Wilson score interval of the proportion.

    >>> csat([5, 4, 4, 3, 1]).value
    60.0
    >>> csat([7, 6, 5, 1], scale=7, top_box=3).value
    75.0
    """
    return survey_score(scores, kind="csat", scale=scale, top_box=top_box, confidence=confidence)


def ces(scores, *, scale: int = 7, higher_is_easier: bool = False, low_effort_box: int | None = None,
        confidence: float = 0.95) -> SurveyScore:
    """Customer effort score: the mean effort on a 1..``scale`` scale, with the share of
    low-effort answers.

    By default 1 means very low effort (lower is better). With ``higher_is_easier=True`` the
    scale is the agreement form ("the company made it easy", ``scale`` = easiest). Low-effort
    answers are the ``low_effort_box`` boxes at the easy end (default ``scale // 2``: 1-3 on a
    7-point scale). Intervals: Student t for the mean, Wilson for the share.

    >>> s = ces([1, 2, 2, 5, 6, 7])
    >>> s.value, round(s.details["low_effort"], 1)
    (3.8333333333333335, 50.0)
    >>> round(ces([7, 6, 2], higher_is_easier=True).details["low_effort"], 1)
    66.7
    """
    return survey_score(scores, kind="ces", scale=scale, low_effort_box=low_effort_box,
                        higher_is_easier=higher_is_easier, confidence=confidence)


# =========================================================================== touchpoint scores


def _period(ts: pd.Series, freq) -> pd.Series:
    """Start of the calendar period (``freq``: 'D', 'W', 'M', 'Q', '1h'...) of each timestamp, in the log's zone."""
    tz = ts.dt.tz
    naive = ts.dt.tz_localize(None) if tz is not None else ts
    try:
        start = naive.dt.to_period(freq).dt.start_time
    except (ValueError, TypeError, AttributeError):
        try:
            start = naive.dt.floor(freq)
        except (ValueError, TypeError):
            raise InvalidParameterError(f"freq={freq!r} is not a period; use e.g. 'D', 'W', 'M', 'Q' or '1h'.") from None
    if tz is not None:
        start = start.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    return start.rename("period")


@dataclass(frozen=True, eq=False)
class TouchpointScores:
    """Survey KPI per touchpoint (and phase, segment or period), from :func:`touchpoint_scores`.

    ``to_frame()`` columns: the grouping keys, ``events`` (events in the cell),
    ``answers`` (non-missing answers), ``response_rate``, ``score``, ``ci_low``, ``ci_high``,
    ``status`` ("ok", or "insufficient" when answers < ``min_answers``: the score and
    interval are then NaN, never a number), then the kind's details (``promoters``,
    ``passives``, ``detractors`` in % for NPS; ``satisfied`` for CSAT; ``low_effort`` in %
    for CES). ``overall`` is the :class:`SurveyScore` over every answer.
    """

    kind: str
    keys: tuple[str, ...]
    table: pd.DataFrame
    overall: SurveyScore
    min_answers: int
    better: str
    neutral: float
    params: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    @property
    def label(self) -> str:
        return _LABEL[self.kind]

    @property
    def insufficient(self) -> pd.DataFrame:
        """The cells with fewer than ``min_answers`` answers."""
        return self.table[self.table["status"] == "insufficient"].copy()

    @property
    def summary(self) -> pd.DataFrame:
        """Display table: the score as text, "insufficient (n=...)" where answers are too few."""
        t = self.table
        fmt = self.overall._fmt

        def shown(row):
            if row["status"] != "ok":
                return f"insufficient (n={row['answers']})" if row["answers"] else "no answers"
            return f"{fmt(row['score'])} [{fmt(row['ci_low'])}, {fmt(row['ci_high'])}]"

        out = t[list(self.keys)].copy()
        for k in self.keys:
            if pd.api.types.is_datetime64_any_dtype(out[k]):
                out[k] = out[k].dt.strftime("%Y-%m-%d %H:%M").str.replace(" 00:00", "", regex=False)
        out[self.label] = [shown(r) for _, r in t.iterrows()]
        out["answers"] = t["answers"].map("{:,}".format)
        out["response rate"] = t["response_rate"].map(lambda x: f"{x:.0%}" if pd.notna(x) else "-")
        return out.reset_index(drop=True)

    def __repr__(self) -> str:
        n_cells = len(self.table)
        n_ins = int((self.table["status"] == "insufficient").sum())
        return (f"TouchpointScores: {self.label} by {', '.join(self.keys)}, {n_cells:,} cells ({n_ins:,} insufficient, "
                f"< {self.min_answers} answers); overall {self.overall._fmt(self.overall.value)} from "
                f"{self.overall.n:,} answers")

    def _repr_html_(self) -> str:
        return _html(repr(self), self.summary, max_rows=30)

    def plot(self, ax=None, **kw):
        """Forest plot of the scores with their intervals (lines over time when grouped by period)."""
        from .plotting.kpi import plot_touchpoint_scores

        return plot_touchpoint_scores(self, ax=ax, **kw)


def touchpoint_scores(log, *, score: str, kind: str = "nps", by=("activity",), freq=None, journey=None,
                      segment=None, min_answers: int = 30, scale=None, top_box=None, low_effort_box=None,
                      higher_is_easier: bool = False, confidence: float = 0.95) -> TouchpointScores:
    """Survey KPI per touchpoint (activity) - and per phase, channel, segment or period.

    Parameters
    ----------
    log : EventLog whose ``score`` column holds the survey answer given about each event
        (missing where the customer did not answer).
    score : name of that column (e.g. ``"nps"``, ``"csat"``).
    kind : ``"nps"``, ``"csat"`` or ``"ces"`` (definitions in :mod:`journeylab.kpi`).
    by : grouping columns: ``"activity"`` (default), ``"channel"``, ``"phase"`` (needs
        ``journey``, events of activities outside every phase are left out), or any attribute.
    freq : also group by calendar period of the event (``"D"``, ``"W"``, ``"M"``, ``"Q"``...).
    journey : a :class:`~journeylab.journey.Journey`, for ``"phase"``.
    segment : a column name or a Series case id -> segment label; adds a ``segment`` key.
    min_answers : cells with fewer answers are marked ``"insufficient"`` and get no score.
    scale, top_box, low_effort_box, higher_is_easier : the scale (see :func:`csat`, :func:`ces`).

    >>> import pandas as pd, journeylab as jl
    >>> df = pd.DataFrame({"c": ["a", "a", "b", "b", "c"], "act": ["buy", "call", "buy", "call", "buy"],
    ...     "t": pd.date_range("2025-01-01", periods=5, freq="D"), "nps": [10, 3, 9, None, 6]})
    >>> log = jl.from_pandas(df, case="c", activity="act", timestamp="t")
    >>> ts = touchpoint_scores(log, score="nps", min_answers=2)
    >>> ts.to_frame()[["activity", "answers", "score", "status"]]
      activity  answers      score        status
    0      buy        3  33.333333            ok
    1     call        1        NaN  insufficient
    """
    sc = _scale(kind, scale=scale, top_box=top_box, low_effort_box=low_effort_box, higher_is_easier=higher_is_easier)
    confidence = _check_confidence(confidence)
    min_answers = _check_int(min_answers, "min_answers", example=30)
    _column(log, score, "score")
    if isinstance(by, str):
        by = (by,)
    by = tuple(by)
    if not by and freq is None and segment is None:
        raise InvalidParameterError("by=() with no freq or segment leaves nothing to group by; use "
                                    "survey_score(...) for one overall score, or by=('activity',).")
    df = log._frame()
    keys: list[pd.Series] = []
    names: list[str] = []
    for b in by:
        if b == "phase":
            if journey is None:
                raise InvalidParameterError("by='phase' needs the journey that defines the phases: pass journey=...")
            if not journey.phases:
                raise JourneyDefinitionError(f"journey {journey.name!r} defines no phases; add a 'phases:' mapping "
                                             f"(phase -> activities) to group touchpoints by phase.")
            keys.append(journey.phase_of(df["activity"]).set_axis(df.index))
        else:
            _column(log, b, "by")
            keys.append(df[b].rename(b))
        names.append(b)
    seg = _segment_series(log, segment, df)
    if seg is not None:
        keys.insert(0, seg)
        names.insert(0, "segment")
    if freq is not None:
        keys.append(_period(df["timestamp"], freq))
        names.append("period")
    keys = [k.rename(n) for k, n in zip(keys, names)]

    values, _ = _clean(df[score], sc, name=f"values of column {score!r}")
    overall = survey_score(values, kind=kind, scale=sc.hi if kind != "nps" else None,
                           top_box=sc.top_box or None, low_effort_box=sc.low_effort_box or None,
                           higher_is_easier=sc.higher_is_easier, confidence=confidence) if len(values) else None
    if overall is None:
        raise EmptyLogError(f"column {score!r} has no answers (every value is missing); nothing to score.")
    events = pd.DataFrame({"_e": np.ones(len(df))}).groupby(keys, observed=True, sort=False, dropna=True).sum()["_e"]
    stats_ = _stats_frame(values, keys, sc, confidence)
    table = stats_.reindex(events.index)
    table.insert(0, "events", events.astype("int64"))
    table["answers"] = table["answers"].fillna(0).astype("int64")
    table.insert(2, "response_rate", table["answers"] / table["events"])
    status = np.where(table["answers"] >= min_answers, "ok", "insufficient")
    table["status"] = status
    kind_cols = [c for c in table.columns if c not in ("events", "answers", "response_rate", "status")]
    table.loc[table["status"] != "ok", kind_cols] = np.nan
    table = table.reset_index()
    # order: phase / period chronological, activities by frequency, others by name
    order_cols, asc = [], []
    for n in names:
        if n == "activity":
            rank = {a: i for i, a in enumerate(log.activities)}
            table["_o_activity"] = table["activity"].map(rank)
            order_cols.append("_o_activity")
        else:
            order_cols.append(n)
        asc.append(True)
    table = table.sort_values(order_cols, ascending=asc, kind="stable", na_position="last")
    table = table.drop(columns=[c for c in table.columns if c.startswith("_o_")]).reset_index(drop=True)
    cols = names + ["events", "answers", "response_rate", "score", "ci_low", "ci_high", "status"]
    table = table[cols + [c for c in table.columns if c not in cols]]
    params = {"score": score, "kind": kind, "by": by, "freq": freq, "journey": getattr(journey, "name", None),
              "segment": segment if isinstance(segment, str) or segment is None else "<Series>",
              "min_answers": min_answers, "confidence": confidence, **overall.params}
    return TouchpointScores(kind=kind, keys=tuple(names), table=table, overall=overall, min_answers=min_answers,
                            better=sc.better, neutral=sc.neutral, params=params)


def __getattr__(name):  # peak-end lives in journeylab.peakend; kept reachable from here
    if name in ("peak_end", "PeakEnd"):
        from . import peakend

        return getattr(peakend, name)
    raise AttributeError(f"module 'journeylab.kpi' has no attribute {name!r}")
