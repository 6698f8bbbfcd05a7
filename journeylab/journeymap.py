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

Where it runs: on a log that lives in DuckDB or Spark the map is counted in the engine, per block
(everyone, then per segment): the units; per touchpoint the events, units and units that reached the
goal (counted per unit and touchpoint, then joined to a per-unit goal flag); the units whose last event
(``arg_max`` over their events in time order) is each activity and who never reached the goal; per phase the units and events; the
answers per touchpoint and answer value. Only these per-cell tables come back - kind (a) - and the
distinct answer values (checked as in memory). A goal with conditions is evaluated in Python on the
goal activity's events (kind (c)) and their ids are joined back in the engine.

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

import ibis
import numpy as np
import pandas as pd

from ._core.backend import execute
from ._core.formatting import cut
from ._core.progress import progress as progress_bar
from ._core.results import FrozenMap, Result
from ._core.validation import BOOL, CONFIDENCE, JOURNEY, LOG, TEXT, Choice, Int, Optional, checked, log_column
from ._core.vocabulary import KPI_KINDS, KPI_LABELS
from ._kernels.events import events
from ._kernels.survey import (clean, events_where, known_table, segment_columns, segment_series, segment_table,
                              stats_frame)
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
    ph = d.groupby("phase", sort=False).agg(units=("u", "nunique"), events=("u", "size"))
    ph_scores = stats_frame(answered["v"], [answered["phase"]], sc, confidence)
    return _assemble(ev, conv, drop, n_units, scores, ph, ph_scores, phase_of, phases, min_answers)


def _assemble(ev, conv, drop, n_units, scores, ph, ph_scores, phase_of, phases, min_answers):
    """The touchpoint and phase tables from the counts (per activity ``ev``: events, units; ``conv``,
    ``drop``; the units of the block; the scores per activity and per phase; per phase ``ph``)."""
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


def _engine_blocks(log, journey, score, unit, segment, phase_of, sc, confidence, min_answers):
    """Lazy log: the overall score, the blocks' names and their touchpoint and phase tables, from counts
    made in the engine (see the module docstring)."""
    t = known_table(log) if unit == "customer" and log.has_role("customer") else log.table
    t = t.filter(t[unit].notnull())
    # every answer is checked (as in memory): the distinct values, then the rows only when one is bad
    a = t.filter(t[score].notnull())
    dist = execute(a.group_by(score).aggregate(n=a.count()))
    try:
        clean(dist[score], sc, name=f"values of column {score!r}")
    except InvalidParameterError:
        rows = events_where(log, [score, unit], lambda c: c(score).notnull() & c(unit).notnull())
        clean(rows[score].set_axis(rows["_seq"].to_numpy()), sc, name=f"values of column {score!r}")
        raise
    goal = journey.goal
    if goal is None:
        flag = ibis.literal(False)
    elif not goal.conditions:
        flag = t.activity == goal.activity
    else:  # conditions are evaluated in Python on the goal activity's events; the engine joins their ids back
        cols = [c.column for c in goal.conditions if c.column in log.columns]
        cand = events_where(log, cols, lambda c: c("activity").isin([goal.activity]))
        ids = cand.loc[goal.matches(cand).to_numpy(dtype=bool), "_seq"].astype("int64")
        flag = t._seq.isin(ibis.memtable(pd.DataFrame({"_gseq": ids.to_numpy()}))._gseq) if len(ids) \
            else ibis.literal(False)
    t = t.mutate(_goal=flag.cast("int64"), _ph=t.activity.substitute(phase_of, else_=ibis.null().cast("string")),
                 _u=t[unit])
    st = segment_table(log, t, segment)
    t = st if st is not None else t
    out = {}
    specs = [(_ALL, [], t)] + ([("seg", ["_seg"], t.filter(t._seg.notnull()))] if st is not None else [])
    for name, keys, tb in progress_bar(specs, total=len(specs), desc="journey map (engine)"):
        if unit == "case":  # _seq is the order of time within a case
            order = tb._seq
        else:  # another unit spans cases: its events in time order
            tb = tb.mutate(_ord=ibis.row_number().over(ibis.window(group_by=[*[tb[k] for k in keys], tb._u],
                                                                   order_by=[tb.timestamp, tb._seq])))
            order = tb._ord
        # per unit: reached the goal, last activity; per unit and touchpoint: events (two scans of the events)
        per_unit = tb.group_by([*keys, "_u"]).aggregate(_r=tb._goal.max(), last=tb.activity.argmax(order))
        d = tb.filter(tb._ph.notnull())
        per_ut = d.group_by([*keys, "_u", "activity", "_ph"]).aggregate(_ev=d.count())
        pu = per_unit.rename(**{f"_rk{i}": k for i, k in enumerate(keys)}, _ru="_u")
        cond = [per_ut[k] == pu[f"_rk{i}"] for i, k in enumerate(keys)] + [per_ut._u == pu._ru]
        m = per_ut.join(pu, cond)
        ends = execute(per_unit.group_by([*keys, "last", "_r"]).aggregate(n=per_unit.count()))
        units = ends.groupby(keys)["n"].sum().rename("n_units").reset_index() if keys else \
            pd.DataFrame({"n_units": [int(ends["n"].sum())]})
        ends = ends[ends["_r"] == 0]
        acts = execute(m.group_by([*keys, "activity"]).aggregate(events=m._ev.sum(), units=m.count(),
                                                                  units_r=m._r.sum()))
        pp = per_ut.group_by([*keys, "_ph", "_u"]).aggregate(_ev=per_ut._ev.sum())
        phs = execute(pp.group_by([*keys, "_ph"]).aggregate(units=pp.count(), events=pp._ev.sum()))
        a = d.filter(d[score].notnull())
        ans = execute(a.group_by([*keys, "activity", "_ph", score]).aggregate(n=a.count()))
        out[name] = (units, acts, ends, phs, ans)
    units, acts, ends, phs, ans = out[_ALL]
    if not len(ans):
        raise InvalidParameterError(f"no answers in column {score!r} on the journey's touchpoints; check score=... "
                                    f"(columns with answers: {[c for c in ('nps', 'csat', 'ces') if c in log.columns]}).")
    values, _ = clean(ans[score], sc)
    overall = survey_score(pd.Series(np.repeat(values.to_numpy(dtype=float), ans["n"].to_numpy(dtype="int64"))),
                           kind=sc.kind, **sc.options(), confidence=confidence)
    blocks = [(_ALL, (units, acts, ends, phs, ans), lambda f: f)]
    if st is not None:
        seg_parts = out["seg"]
        labels = sorted(pd.unique(seg_parts[0]["_seg"]), key=str)
        blocks += [(str(s), seg_parts, (lambda f, s=s: f[f["_seg"] == s])) for s in labels]
    tables = []
    has_goal = goal is not None
    for name, parts, pick in blocks:
        units, acts, ends, phs, ans = (pick(p) for p in parts)
        ev = acts.set_index("activity")[["events", "units"]].astype("int64")
        conv = (acts.set_index("activity")["units_r"] / ev["units"]) if has_goal else None
        drop = ends.groupby("last")["n"].sum().reindex(ev.index, fill_value=0) / ev["units"]
        v, _ = clean(ans[score], sc)
        wts = ans["n"]
        scores = stats_frame(v, [ans["activity"].rename("activity")], sc, confidence, wts)
        ph_scores = stats_frame(v, [ans["_ph"].rename("phase")], sc, confidence, wts)
        ph = phs.rename(columns={"_ph": "phase"}).set_index("phase")[["units", "events"]].astype("int64")
        n_units = int(units["n_units"].sum())
        tables.append((name, *_assemble(ev, conv, drop, n_units, scores, ph, ph_scores, phase_of,
                                        list(journey.phases), min_answers)))
    return overall, tables


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
    if log.is_lazy:
        return _lazy_map(log, journey, kpi, score, segment, min_answers, unit, sc, confidence)
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
    tables = [(name, *_tables(sub, phase_of, phases, sc, confidence, min_answers, journey.goal is not None))
              for name, sub in blocks]
    return _result(journey, kpi, score, segment, min_answers, unit, sc, confidence, overall, tables, missing)


def _lazy_map(log, journey, kpi, score, segment, min_answers, unit, sc, confidence) -> JourneyMap:
    present = set(log.activities)
    phase_of = {a: p for p, acts in journey.phases.items() for a in acts if a in present}
    missing = tuple(a for acts in journey.phases.values() for a in acts if a not in present)
    if not phase_of:
        raise JourneyDefinitionError(f"none of the activities of journey {journey.name!r}'s phases occurs in the log "
                                     f"(e.g. {cut(missing[:3])}); check journey.problems(log).")
    overall, tables = _engine_blocks(log, journey, score, unit, segment, phase_of, sc, confidence, min_answers)
    return _result(journey, kpi, score, segment, min_answers, unit, sc, confidence, overall, tables, missing)


def _result(journey, kpi, score, segment, min_answers, unit, sc, confidence, overall, tables, missing) -> JourneyMap:
    """The JourneyMap from the blocks' tables (``[(segment, touchpoints, phases), ...]``, "all" first)."""
    phases = list(journey.phases)
    tps, phs = [], []
    for name, tp, ph in tables:
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
                      overall=overall, segments=tuple(b[0] for b in tables), goal=str(journey.goal.activity)
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
