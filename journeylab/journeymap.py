"""The journey map: phases as columns, each touchpoint with its volume, conversion or drop-off
and survey KPI, and the emotion curve - "at a glance, where to act".

:func:`journey_map` computes the numbers; ``JourneyMap.plot()`` draws them
(:func:`journeylab.plotting.journeymap.plot_journey_map`).

Per touchpoint (an activity listed in one of the journey's phases) and per *unit* (the case
by default; any id column such as a session id):

* ``events``, ``units`` (units that had it) and ``reach`` (their share of all units);
* ``conversion`` (when the journey has a goal): of the units that had the touchpoint, the
  share that reached the goal (a goal event in the same unit, before or after it);
* ``drop_off``: of the units that had it, the share whose last event is this touchpoint and
  who never reached the goal (without a goal: whose last event it is);
* the KPI (``kpi="nps"|"csat"|"ces"``, from the survey column ``score``, default the
  column named like the KPI) with its interval; cells with fewer than ``min_answers``
  answers are *insufficient* and get no score;
* ``gap``: the score minus the journey's overall score, signed so that negative is worse;
  ``act``: True when the whole interval lies on the worse side of the overall score - the
  touchpoints to act on.

Per phase: units reached, events, and the KPI of all the phase's answers - the points of
the **emotion curve**. With ``segment``, every table also has the rows of each segment
(segment ``"all"`` is everyone).

>>> import journeylab as jl
>>> from journeylab.journey import Journey, Milestone
>>> import pandas as pd
>>> df = pd.DataFrame({"case": list("aabbcc"), "activity": ["ad", "buy"] * 3,
...     "t": pd.date_range("2025-01-01", periods=6, freq="h"), "csat": [5, 4, 2, 5, 4, None]})
>>> log = jl.from_pandas(df, case="case", activity="activity", timestamp="t")
>>> j = Journey("shop", [Milestone("buy", ["buy"])], phases={"awareness": ["ad"], "purchase": ["buy"]},
...             goal={"type": "purchase", "activity": "buy"})
>>> m = journey_map(log, j, kpi="csat", min_answers=1)
>>> m.touchpoints[["phase", "activity", "units", "conversion", "score"]].round(1)
       phase activity  units  conversion  score
0  awareness       ad      3         1.0   66.7
1   purchase      buy      3         1.0  100.0
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._core.formatting import cut
from ._core.results import FrozenMap, Result
from ._core.validation import BOOL, CONFIDENCE, JOURNEY, LOG, TEXT, Choice, Int, Optional, checked, log_column
from ._core.vocabulary import KPI_KINDS, KPI_LABELS
from ._kernels.events import events
from ._kernels.survey import clean, segment_columns, segment_series, stats_frame
from ._kernels.survey import scale as scale_of  # "scale" is a parameter of journey_map
from ._kernels.units import known_customers
from .exceptions import InvalidParameterError, JourneyDefinitionError
from .kpi import SurveyScore, survey_score

__all__ = ["JourneyMap", "journey_map"]

_ALL = "all"


@dataclass(frozen=True, eq=False)
class JourneyMap(Result):
    """The numbers of a journey map; from :func:`journey_map` (see the module docstring).

    ``touchpoints``: segment, phase, activity, events, units, reach, conversion, drop_off,
    answers, score, ci_low, ci_high, status, gap, act.
    ``phase_scores``: segment, phase, units, events, answers, score, ci_low, ci_high, status.
    ``overall``: the :class:`~journeylab.kpi.SurveyScore` of every answer of the mapped
    touchpoints. ``missing``: phase activities that do not occur in the log. ``params``: the
    inputs (read-only).
    """

    journey: str
    kind: str
    phases: tuple[str, ...]
    touchpoints: pd.DataFrame
    phase_scores: pd.DataFrame
    overall: SurveyScore
    segments: tuple[str, ...]
    goal: str | None
    missing: tuple[str, ...]
    min_answers: int
    better: str
    neutral: float
    params: FrozenMap = field(default_factory=FrozenMap)

    @property
    def label(self) -> str:
        return KPI_LABELS[self.kind]

    def to_frame(self) -> pd.DataFrame:
        """The touchpoint table (all segments)."""
        return self.touchpoints.copy()

    def where_to_act(self, segment: str = _ALL) -> pd.DataFrame:
        """The touchpoints whose KPI is significantly worse than the overall score, worst first.

        Columns: phase, activity, events, score, ci_low, ci_high, gap, drop_off.
        """
        t = self.touchpoints
        t = t[(t["segment"] == segment) & t["act"]]
        return t.sort_values("gap")[["phase", "activity", "events", "score", "ci_low", "ci_high", "gap",
                                     "drop_off"]].reset_index(drop=True)

    @property
    def summary(self) -> pd.DataFrame:
        """Per phase: units reached, the phase KPI, and the touchpoint to act on (if any)."""
        ph = self.phase_scores[self.phase_scores["segment"] == _ALL]
        fmt = self.overall._fmt
        act = self.where_to_act()
        worst = act.groupby("phase", sort=False)["activity"].first() if len(act) else pd.Series(dtype=object)
        return pd.DataFrame({
            "phase": ph["phase"].to_numpy(),
            "units reached": ph["units"].map("{:,}".format).to_numpy(),
            self.label: [fmt(s) if st == "ok" else f"insufficient (n={n})"
                         for s, st, n in zip(ph["score"], ph["status"], ph["answers"])],
            "act on": [worst.get(p, "-") for p in ph["phase"]],
        })

    def __repr__(self) -> str:
        n_tp = int((self.touchpoints["segment"] == _ALL).sum())
        n_act = len(self.where_to_act())
        return (f"JourneyMap '{self.journey}': {len(self.phases)} phases, {n_tp} touchpoints, {self.label} overall "
                f"{self.overall._fmt(self.overall.value)}; {n_act} touchpoint(s) to act on")

    def plot(self, ax=None, *, segment: str = _ALL, **kw):
        """Draw the journey map (see :func:`journeylab.plotting.journeymap.plot_journey_map`)."""
        from .plotting.journeymap import plot_journey_map

        return plot_journey_map(self, ax=ax, segment=segment, **kw)


def _tables(df: pd.DataFrame, phase_of: dict, phases: list, sc, confidence: float, min_answers: int,
            has_goal: bool):
    """Touchpoint and phase tables for one subset of events.

    ``df`` has the columns ``u`` (unit code), ``activity``, ``phase`` (None outside the
    phases), ``v`` (the answer, NaN when none) and ``goal`` (bool), sorted by unit and time.
    """
    d = df[df["phase"].notna()]
    n_units = df["u"].nunique()
    ev = d.groupby("activity", sort=False).agg(events=("u", "size"), units=("u", "nunique"))
    reached = np.unique(df.loc[df["goal"], "u"].to_numpy())
    pairs = d[["u", "activity"]].drop_duplicates()
    conv = pairs["u"].isin(reached).groupby(pairs["activity"]).mean() if has_goal else None
    last = df.groupby("u", sort=False)["activity"].last()
    ended = last[~last.index.isin(reached)]
    drop = ended.value_counts().reindex(ev.index, fill_value=0) / ev["units"]
    answered = d[d["v"].notna()]
    scores = stats_frame(answered["v"], [answered["activity"]], sc, confidence)
    tp = ev.join(scores, how="left")
    tp["reach"] = tp["units"] / max(n_units, 1)
    tp["conversion"] = conv.reindex(tp.index).astype(float) if conv is not None else np.nan
    tp["drop_off"] = drop.reindex(tp.index).astype(float)
    tp["answers"] = tp["answers"].fillna(0).astype("int64") if "answers" in tp else 0
    tp = tp.reset_index().rename(columns={"index": "activity"})
    tp["phase"] = tp["activity"].map(phase_of)
    order = {a: i for i, a in enumerate(phase_of)}
    tp = tp.sort_values("activity", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    # phases
    ph = d.groupby("phase", sort=False).agg(units=("u", "nunique"), events=("u", "size"))
    ph_scores = stats_frame(answered["v"], [answered["phase"]], sc, confidence)
    ph = ph.join(ph_scores, how="left").reindex(phases)
    for c in ("units", "events", "answers"):
        ph[c] = ph[c].fillna(0).astype("int64") if c in ph else 0
    ph = ph.rename_axis("phase").reset_index()
    for t in (tp, ph):
        t["status"] = np.where(t["answers"] >= min_answers, "ok", "insufficient")
        for c in ("score", "ci_low", "ci_high"):
            if c not in t.columns:
                t[c] = np.nan
            t.loc[t["status"] != "ok", c] = np.nan
    return tp, ph


@checked(log=LOG, journey=JOURNEY, kpi=Choice(*KPI_KINDS), score=Optional(TEXT),
         min_answers=Int(minimum=1, example=30), unit=TEXT, higher_is_easier=BOOL, confidence=CONFIDENCE)
def journey_map(log, journey, *, kpi: str = "nps", score: str | None = None, segment=None, min_answers: int = 30,
                unit: str = "case", scale=None, top_box=None, low_effort_box=None, higher_is_easier: bool = False,
                confidence: float = 0.95) -> JourneyMap:
    """Build the journey map of ``log`` along ``journey``'s phases (see the module docstring).

    Parameters
    ----------
    log : EventLog
        The events, with a column of survey answers.
    journey : Journey
        A journey with ``phases``; its goal gives the conversion (else the map shows drop-off
        only).
    kpi : {"nps", "csat", "ces"}, default "nps"
        The survey KPI.
    score : str, optional
        The column of answers (default: the column named like the KPI).
    segment : str or Series, optional
        A column name or a Series case id -> segment: the tables get one block per segment
        besides ``"all"``, and ``plot(segment=...)`` draws one of them.
    min_answers : int, default 30
        Touchpoints and phases with fewer answers are shown as insufficient.
    unit : str, default "case"
        What a journey is: ``"case"``, ``"customer"`` or an id column (``"session_id"``).
    scale, top_box, low_effort_box, higher_is_easier
        The answer scale (see :func:`journeylab.kpi.csat`, :func:`journeylab.kpi.ces`).
    confidence : float, default 0.95
        Level of the intervals.

    Returns
    -------
    JourneyMap
        The touchpoint table (``to_frame()``), the scores per phase, the overall score and the
        touchpoints to act on (``where_to_act()``).

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> from journeylab.journey import Journey, Milestone
    >>> df = pd.DataFrame({"case": ["a", "a", "b"], "activity": ["view", "buy", "view"],
    ...     "t": pd.date_range("2025-01-01", periods=3, freq="h"), "nps": [9, 10, 2]})
    >>> log = jl.from_pandas(df, case="case", activity="activity", timestamp="t")
    >>> j = Journey("shop", [Milestone("buy", ["buy"])], phases={"explore": ["view"], "buy": ["buy"]},
    ...             goal={"type": "purchase", "activity": "buy"})
    >>> m = journey_map(log, j, kpi="nps", min_answers=1)
    >>> m.touchpoints[["activity", "conversion", "drop_off", "score"]]
      activity  conversion  drop_off  score
    0     view         0.5       0.5    0.0
    1      buy         1.0       0.0  100.0
    """
    sc = scale_of(kpi, scale=scale, top_box=top_box, low_effort_box=low_effort_box, higher_is_easier=higher_is_easier)
    score = score or kpi
    log_column(log, score, "score")
    unit = "case" if unit == "case" else log_column(log, unit, "unit")
    if not journey.phases:
        raise JourneyDefinitionError(f"journey {journey.name!r} defines no phases; a journey map needs them. Add "
                                     f"'phases:' (phase -> activities) to the journey definition.")
    goal_columns = [c.column for c in journey.goal.conditions if c.column in log.columns] if journey.goal else []
    df = events(log, [score, unit, *segment_columns(log, segment), *goal_columns])
    if unit == "customer" and log.has_role("customer"):
        df = known_customers(df)  # a case without a customer id is its own customer
    df = df[df[unit].notna()]
    present = set(log.activities)
    phase_of = {a: p for p, acts in journey.phases.items() for a in acts if a in present}
    missing = tuple(a for acts in journey.phases.values() for a in acts if a not in present)
    if not phase_of:
        raise JourneyDefinitionError(f"none of the activities of journey {journey.name!r}'s phases occurs in the log "
                                     f"(e.g. {cut(missing[:3])}); check journey.problems(log).")
    phases = list(journey.phases)
    values, _ = clean(df[score], sc, name=f"values of column {score!r}")
    work = pd.DataFrame({"u": pd.factorize(df[unit])[0], "t": df["timestamp"], "seq": df["_seq"],
                         "activity": df["activity"].to_numpy(), "phase": df["activity"].map(phase_of).to_numpy()},
                        index=df.index)
    work["v"] = values.reindex(df.index)
    work["goal"] = (journey.goal.matches(df).set_axis(df.index).astype(bool) if journey.goal is not None
                    else False)
    mapped = work.loc[work["phase"].notna() & work["v"].notna(), "v"]
    if mapped.empty:
        raise InvalidParameterError(f"no answers in column {score!r} on the journey's touchpoints; check score=... "
                                    f"(columns with answers: {[c for c in ('nps', 'csat', 'ces') if c in log.columns]}).")
    overall = survey_score(mapped, kind=kpi, **sc.options(), confidence=confidence)
    seg = segment_series(log, segment, df)
    work = work.sort_values(["u", "t", "seq"], kind="stable")
    blocks = [(_ALL, work)]
    if seg is not None:
        seg = seg.reindex(work.index)
        blocks += [(str(s), work[(seg == s).to_numpy()]) for s in sorted(seg.dropna().unique(), key=str)]
    tps, phs = [], []
    for name, sub in blocks:
        tp, ph = _tables(sub, phase_of, phases, sc, confidence, min_answers, journey.goal is not None)
        tp.insert(0, "segment", name)
        ph.insert(0, "segment", name)
        tps.append(tp)
        phs.append(ph)
    tp = pd.concat(tps, ignore_index=True)
    ph = pd.concat(phs, ignore_index=True)
    sign = 1.0 if sc.better == "higher" else -1.0
    tp["gap"] = sign * (tp["score"] - overall.value)
    worse_bound = tp["ci_high"] if sign > 0 else tp["ci_low"]
    tp["act"] = (tp["status"] == "ok") & (sign * (worse_bound - overall.value) < 0)
    cols = ["segment", "phase", "activity", "events", "units", "reach", "conversion", "drop_off", "answers", "score",
            "ci_low", "ci_high", "status", "gap", "act"]
    tp = tp[cols + [c for c in tp.columns if c not in cols]]
    ph = ph[["segment", "phase", "units", "events", "answers", "score", "ci_low", "ci_high", "status"]
            + [c for c in ph.columns if c not in ("segment", "phase", "units", "events", "answers", "score",
                                                  "ci_low", "ci_high", "status")]]
    params = {"journey": journey.name, "kpi": kpi, "score": score, "segment": segment if isinstance(segment, str)
              or segment is None else "<Series>", "min_answers": min_answers, "unit": unit,
              "confidence": confidence, **{k: v for k, v in overall.params.items() if k not in ("kind", "confidence")}}
    return JourneyMap(journey=journey.name, kind=kpi, phases=tuple(phases), touchpoints=tp, phase_scores=ph,
                      overall=overall, segments=tuple(b[0] for b in blocks), goal=str(journey.goal.activity)
                      if journey.goal is not None else None, missing=missing, min_answers=min_answers,
                      better=sc.better, neutral=sc.neutral, params=params)


def __getattr__(name):
    # the report's HTML moved to journeylab._report.experience (kept reachable from here for one release)
    if name == "experience_sections":
        from ._report.experience import experience_sections

        warnings.warn("journeylab.journeymap.experience_sections is deprecated and goes in the next release; use "
                      "journeylab._report.experience.experience_sections.", DeprecationWarning, stacklevel=2)
        return experience_sections
    raise AttributeError(f"module 'journeylab.journeymap' has no attribute {name!r}")
