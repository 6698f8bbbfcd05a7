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

Where it runs: :func:`touchpoint_scores` on a log that lives in DuckDB or Spark counts in the engine
(two ``GROUP BY``: the events per cell, the answers per cell and answer value) and fetches those
per-cell tables only - kind (a) of the push-down rule, at most (cells x 11) rows; the scores are then
computed from the counts, exactly as from the answers. Periods (``freq``) of whole days ('D', 'W',
'M', 'Q'...) on a UTC timestamp are cut to the day in the engine; shorter periods (hours) or another
zone fall back to one row per cell and distinct timestamp. A ``segment`` given as a Series (case id ->
label) adds the case to the cell (one row per case and cell) and is mapped in Python.

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

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._core.formatting import cut, format_number
from ._core.results import FrozenMap, Result
from ._core.validation import BOOL, CONFIDENCE, JOURNEY, LOG, Choice, Int, Optional, checked, log_column
from ._core.vocabulary import KPI_KINDS, KPI_LABELS
from ._kernels.events import events
from ._kernels.survey import (STAT_COLUMNS, clean, events_where, score_cells, segment_columns, segment_series,
                               stats_frame)
from ._kernels.survey import scale as scale_of  # "scale" is a parameter of the functions here
from .exceptions import EmptyLogError, InvalidParameterError, JourneyDefinitionError

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

_KIND = Choice(*KPI_KINDS)


# =========================================================================== single survey scores


@dataclass(frozen=True, eq=False)
class SurveyScore(Result):
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
    params : the inputs (read-only).
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
    params: FrozenMap = field(default_factory=FrozenMap)

    def __float__(self) -> float:
        return float(self.value)

    @property
    def label(self) -> str:
        return KPI_LABELS[self.kind]

    def _fmt(self, x) -> str:
        """The score ``x`` as the KPI is written: NPS signed points, CSAT a percent, CES the mean effort."""
        if self.kind == "nps":
            return format_number(x, 1, signed=True)
        if self.kind == "csat":
            return format_number(x, 1) + "%"
        return format_number(x, 2)

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

    def __str__(self) -> str:
        return (f"{self.label} {self._fmt(self.value)} ({self.confidence:.0%} CI {self._fmt(self.ci_low)} .. "
                f"{self._fmt(self.ci_high)}), {self.n:,} answers ({self.n_missing:,} missing)")

    def __repr__(self) -> str:
        return f"SurveyScore: {self}"

    def plot(self, ax=None, **kw):
        """Bar chart of the answers per scale point, coloured by group (detractor/passive/promoter...)."""
        from .plotting.kpi import plot_survey_score

        return plot_survey_score(self, ax=ax, **kw)


_METHODS = {"nps": "adjusted Wald (Rocks 2016)", "csat": "Wilson score",
            "ces": "Student t (mean); Wilson (low-effort share)"}


@checked(kind=_KIND, higher_is_easier=BOOL, confidence=CONFIDENCE)
def survey_score(scores, *, kind: str, scale=None, top_box=None, low_effort_box=None, higher_is_easier=False,
                 confidence: float = 0.95) -> SurveyScore:
    """NPS, CSAT or CES of ``scores``, the KPI named by ``kind``; see :func:`nps`, :func:`csat`, :func:`ces`.

    Parameters
    ----------
    scores : Series, array or list
        The answers; a missing answer (NaN / None) is dropped and counted, anything else that is
        not a whole number of the scale raises.
    kind : {"nps", "csat", "ces"}
        The KPI (definitions in :mod:`journeylab.kpi`).
    scale : int, optional
        Points of the answer scale (CSAT: 5 by default, CES: 7; the NPS is always 0-10).
    top_box : int, optional
        CSAT: how many top boxes count as satisfied (default 2).
    low_effort_box : int, optional
        CES: how many boxes at the easy end count as low effort (default ``scale // 2``).
    higher_is_easier : bool, default False
        CES: True for the agreement form (``scale`` = easiest).
    confidence : float, default 0.95
        Level of the interval.

    Returns
    -------
    SurveyScore
        The score, its interval, the counts, the distribution of the answers and the definition.

    Examples
    --------
    >>> round(survey_score([9, 10, 3], kind="nps").value, 2)
    33.33
    """
    sc = scale_of(kind, scale=scale, top_box=top_box, low_effort_box=low_effort_box, higher_is_easier=higher_is_easier)
    values, n_missing = clean(scores, sc)
    if len(values) == 0:
        raise InvalidParameterError(f"{sc.label}: no answers ({n_missing:,} missing); a score needs at least one "
                                    f"answer from {sc.lo} to {sc.hi}.")
    row = stats_frame(values, None, sc, confidence).iloc[0]
    details = {k: (float(row[k]) if k not in ("satisfied",) else int(row[k]))
               for k in row.index if k not in STAT_COLUMNS}
    dist = values.astype(int).value_counts().reindex(range(sc.lo, sc.hi + 1), fill_value=0).rename("answers")
    dist.index.name = "answer"
    params = {"kind": kind, "scale": sc.hi, "confidence": confidence}
    if kind == "csat":
        params["top_box"] = sc.top_box
    if kind == "ces":
        params.update(low_effort_box=sc.low_effort_box, higher_is_easier=sc.higher_is_easier)
    return SurveyScore(kind=kind, value=float(row["score"]), ci_low=float(row["ci_low"]),
                       ci_high=float(row["ci_high"]), n=int(row["answers"]), n_missing=n_missing,
                       confidence=confidence, method=_METHODS[kind], details=details, distribution=dist,
                       definition=sc.describe(), better=sc.better, neutral=sc.neutral, params=params)


@checked(confidence=CONFIDENCE)
def nps(scores, *, confidence: float = 0.95) -> SurveyScore:
    """Net Promoter Score of 0-10 answers: % promoters (9-10) minus % detractors (0-6), in points.

    The interval is the adjusted Wald interval (Rocks 2016): 3/4 is added to the promoter and
    detractor counts and 3 to n, and the half-width is ``z * sqrt((p + d - (p - d)^2) / n')``,
    the standard error of the difference of two multinomial proportions. Missing answers
    (NaN) are dropped and counted; other values outside the whole numbers 0..10 raise.

    Parameters
    ----------
    scores : Series, array or list
        The answers, whole numbers 0..10 (NaN / None = no answer).
    confidence : float, default 0.95
        Level of the interval.

    Returns
    -------
    SurveyScore
        ``value`` in points (-100..100), ``details`` the shares of promoters, passives and detractors.

    Examples
    --------
    >>> s = nps([10, 10, 9, 8, 2])
    >>> s.value, s.details["promoters"], s.details["detractors"]
    (40.0, 60.0, 20.0)
    >>> print(s)
    NPS +40.0 (95% CI -29.8 .. +79.8), 5 answers (0 missing)
    >>> s
    SurveyScore: NPS +40.0 (95% CI -29.8 .. +79.8), 5 answers (0 missing)
    >>> nps([9, 11, "ten"])
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: NPS: 1 scores are not numbers (e.g. ['ten'] at [2]); ...
    """
    return survey_score(scores, kind="nps", confidence=confidence)


@checked(confidence=CONFIDENCE)
def csat(scores, *, scale: int = 5, top_box: int = 2, confidence: float = 0.95) -> SurveyScore:
    """Customer satisfaction: the percentage of answers in the top ``top_box`` boxes of a
    ``scale``-point scale (1..scale); top-2-box on 5 points (4 or 5 = satisfied) by default.

    The interval is the Wilson score interval of the proportion.

    Parameters
    ----------
    scores : Series, array or list
        The answers, whole numbers 1..``scale`` (NaN / None = no answer).
    scale : int, default 5
        Points of the answer scale (2 to 11).
    top_box : int, default 2
        How many top boxes count as satisfied.
    confidence : float, default 0.95
        Level of the interval.

    Returns
    -------
    SurveyScore
        ``value`` in percent satisfied, ``details["satisfied"]`` the count.

    Examples
    --------
    >>> csat([5, 4, 4, 3, 1]).value
    60.0
    >>> csat([7, 6, 5, 1], scale=7, top_box=3).value
    75.0
    """
    return survey_score(scores, kind="csat", scale=scale, top_box=top_box, confidence=confidence)


@checked(higher_is_easier=BOOL, confidence=CONFIDENCE)
def ces(scores, *, scale: int = 7, higher_is_easier: bool = False, low_effort_box: int | None = None,
        confidence: float = 0.95) -> SurveyScore:
    """Customer effort score: the mean effort on a 1..``scale`` scale, with the share of
    low-effort answers.

    By default 1 means very low effort (lower is better). With ``higher_is_easier=True`` the
    scale is the agreement form ("the company made it easy", ``scale`` = easiest). Low-effort
    answers are the ``low_effort_box`` boxes at the easy end (default ``scale // 2``: 1-3 on a
    7-point scale). Intervals: Student t for the mean, Wilson for the share.

    Parameters
    ----------
    scores : Series, array or list
        The answers, whole numbers 1..``scale`` (NaN / None = no answer).
    scale : int, default 7
        Points of the answer scale (2 to 11).
    higher_is_easier : bool, default False
        True for the agreement form (``scale`` = easiest).
    low_effort_box : int, optional
        How many boxes at the easy end count as low effort (default ``scale // 2``).
    confidence : float, default 0.95
        Level of the intervals.

    Returns
    -------
    SurveyScore
        ``value`` the mean effort, ``details["low_effort"]`` the share of low-effort answers (%) and
        its interval.

    Examples
    --------
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
            raise InvalidParameterError(f"freq={cut(freq)} is not a period; use e.g. 'D', 'W', 'M', 'Q' or "
                                        "'1h'.") from None
    if tz is not None:
        start = start.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    return start.rename("period")


def _keys(log, df: pd.DataFrame, by, freq, journey, segment) -> tuple[list[pd.Series], list[str]]:
    """The grouping keys of the rows of ``df`` (Series aligned with it) and their names."""
    keys: list[pd.Series] = []
    names: list[str] = []
    for b in by:
        keys.append(journey.phase_of(df["activity"]).set_axis(df.index) if b == "phase" else df[b].rename(b))
        names.append(b)
    seg = segment_series(log, segment, df)
    if seg is not None:
        keys.insert(0, seg)
        names.insert(0, "segment")
    if freq is not None:
        keys.append(_period(df["timestamp"], freq))
        names.append("period")
    return [k.rename(n) for k, n in zip(keys, names)], names


def _whole_days(freq) -> bool:
    """True when every period of ``freq`` starts at midnight and holds whole days ('D', 'W', 'M', 'Q'...)."""
    probe = pd.Series(pd.to_datetime(["2021-03-03 13:45", "2021-07-18 23:59", "2022-12-31 00:01"]))
    try:
        starts = _period(probe, freq)
    except InvalidParameterError:
        return False
    return bool((starts == starts.dt.normalize()).all()) and bool((starts <= probe.dt.normalize()).all())


def _engine_cells(log, score, sc, by, freq, journey, segment):
    """Lazy log: the cells counted in the engine (:func:`journeylab._kernels.survey.score_cells`), keyed here.

    The cell columns are the ``by`` columns (``activity`` for a phase), the segment column (a Series
    ``segment``: the case, mapped here), and for ``freq`` the day of the event when the periods are
    whole days of a UTC timestamp (else the timestamp itself: one row per distinct timestamp of each cell).
    """
    cols = list(dict.fromkeys([b if b != "phase" else "activity" for b in by] + segment_columns(log, segment)
                              + (["case"] if segment is not None and not isinstance(segment, str) else [])))
    utc = getattr(log.table.timestamp.type(), "timezone", None) in (None, "UTC", "Etc/UTC")
    when = None if freq is None else "day" if _whole_days(freq) and utc else "timestamp"
    ev, ans = score_cells(log, score, cols, when=when)
    try:
        values, _ = clean(ans[score], sc, name=f"values of column {score!r}")
    except InvalidParameterError:  # the message names the answers themselves: those of the memory path
        rows = events_where(log, [score], lambda c: c(score).notnull())
        clean(rows[score].set_axis(rows["_seq"].to_numpy()), sc, name=f"values of column {score!r}")
        raise
    ev_keys, names = _keys(log, ev, by, freq, journey, segment)
    keys, _ = _keys(log, ans, by, freq, journey, segment)
    events_ = ev["n"].groupby(ev_keys, observed=True, sort=False, dropna=True).sum()
    return keys, names, values, ans["n"].loc[values.index], events_


@dataclass(frozen=True, eq=False)
class TouchpointScores(Result):
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
    params: FrozenMap = field(default_factory=FrozenMap)

    def to_frame(self) -> pd.DataFrame:
        """The tidy table (a copy)."""
        return self.table.copy()

    @property
    def label(self) -> str:
        return KPI_LABELS[self.kind]

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

    def plot(self, ax=None, **kw):
        """Forest plot of the scores with their intervals (lines over time when grouped by period)."""
        from .plotting.kpi import plot_touchpoint_scores

        return plot_touchpoint_scores(self, ax=ax, **kw)


@checked(log=LOG, kind=_KIND, journey=Optional(JOURNEY), min_answers=Int(minimum=1, example=30),
         higher_is_easier=BOOL, confidence=CONFIDENCE)
def touchpoint_scores(log, *, score: str, kind: str = "nps", by=("activity",), freq=None, journey=None,
                      segment=None, min_answers: int = 30, scale=None, top_box=None, low_effort_box=None,
                      higher_is_easier: bool = False, confidence: float = 0.95) -> TouchpointScores:
    """Survey KPI per touchpoint (activity) - and per phase, channel, segment or period.

    Parameters
    ----------
    log : EventLog
        The log whose ``score`` column holds the survey answer given about each event (missing
        where the customer did not answer).
    score : str
        Name of that column (e.g. ``"nps"``, ``"csat"``).
    kind : {"nps", "csat", "ces"}, default "nps"
        The KPI (definitions in :mod:`journeylab.kpi`).
    by : str or tuple of str, default ("activity",)
        Grouping columns: ``"activity"``, ``"channel"``, ``"phase"`` (needs ``journey``; events of
        activities outside every phase are left out), or any attribute.
    freq : str, optional
        Also group by calendar period of the event (``"D"``, ``"W"``, ``"M"``, ``"Q"``...).
    journey : Journey, optional
        The journey whose phases ``by="phase"`` uses.
    segment : str or Series, optional
        A column name or a Series case id -> segment label; adds a ``segment`` key.
    min_answers : int, default 30
        Cells with fewer answers are marked ``"insufficient"`` and get no score.
    scale, top_box, low_effort_box, higher_is_easier
        The answer scale (see :func:`csat`, :func:`ces`).
    confidence : float, default 0.95
        Level of the intervals.

    Returns
    -------
    TouchpointScores
        One row per cell (``to_frame()``), the overall score, the cells with too few answers.

    Examples
    --------
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
    sc = scale_of(kind, scale=scale, top_box=top_box, low_effort_box=low_effort_box, higher_is_easier=higher_is_easier)
    log_column(log, score, "score")
    if isinstance(by, str):
        by = (by,)
    by = tuple(by)
    if not by and freq is None and segment is None:
        raise InvalidParameterError("by=() with no freq or segment leaves nothing to group by; use "
                                    "survey_score(...) for one overall score, or by=('activity',).")
    for b in by:
        if b == "phase":
            if journey is None:
                raise InvalidParameterError("by='phase' needs the journey that defines the phases: pass journey=...")
            if not journey.phases:
                raise JourneyDefinitionError(f"journey {journey.name!r} defines no phases; add a 'phases:' mapping "
                                             f"(phase -> activities) to group touchpoints by phase.")
        else:
            log_column(log, b, "by")
    if log.is_lazy:
        keys, names, values, weights, events_ = _engine_cells(log, score, sc, by, freq, journey, segment)
    else:
        df = events(log, [score, *(b for b in by if b != "phase"), *segment_columns(log, segment)])
        keys, names = _keys(log, df, by, freq, journey, segment)
        values, _ = clean(df[score], sc, name=f"values of column {score!r}")
        weights = None
        events_ = (pd.DataFrame({"_e": np.ones(len(df))})
                   .groupby(keys, observed=True, sort=False, dropna=True).sum()["_e"])
    if not len(values):
        raise EmptyLogError(f"column {score!r} has no answers (every value is missing); nothing to score.")
    overall_values = values if weights is None else pd.Series(np.repeat(values.to_numpy(dtype=float),
                                                                        weights.to_numpy(dtype="int64")))
    overall = survey_score(overall_values, kind=kind, **sc.options(), confidence=confidence)
    stats_ = stats_frame(values, keys, sc, confidence, weights)
    table = stats_.reindex(events_.index)
    table.insert(0, "events", events_.astype("int64"))
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


def __getattr__(name):
    # peak-end lives in journeylab.peakend (kept reachable from here for one release)
    if name in ("peak_end", "PeakEnd"):
        from . import peakend

        warnings.warn(f"journeylab.kpi.{name} is deprecated and goes in the next release; use "
                      f"journeylab.peakend.{name} (or jl.{name}).", DeprecationWarning, stacklevel=2)
        return getattr(peakend, name)
    raise AttributeError(f"module 'journeylab.kpi' has no attribute {name!r}")
