"""Milestone funnels: how many customers reach each step, how fast, and where they drop off.

:func:`funnel` counts, for an ordered list of steps (activities, or the happy-path
milestones of a :class:`~journeylab.journey.Journey`), how many customers enter the
funnel and how many reach each step within a conversion window, with step-to-step
conversion, drop-off, time to convert and an optional breakdown by an attribute.

The rules (they are exactly what the function computes)
--------------------------------------------------------
* **Who.** With ``count="uniques"`` and ``"totals"`` the unit is the customer: the
  ``customer`` column when the log has one (a log split with ``log.sessions()``), else the
  case. With ``count="sessions"`` the unit is the journey session, i.e. the case of a log
  that has a customer role. Each unit's events are taken in time order (ties in input
  order).
* **Entering.** An attempt starts (the unit *enters*) at an occurrence of step 1; with
  ``uniques`` and ``sessions`` there is one attempt per unit, at its first occurrence of
  step 1.
* **Reaching step k.** Steps 1..k occur within ``window`` of the entry (``t_k - t_1 <=
  window``), in the order required by ``order``:

  - ``"sequential"``: step k+1 occurs after step k; other events may occur between. Each
    step is matched at its earliest occurrence after the previous step.
  - ``"strict"``: each step is the very next event of the unit (any other event in
    between ends the attempt).
  - ``"any"``: steps 2..k occur after the entry in any order (each matched, greedily, at
    its earliest occurrence not already used by another step).

  A unit that reaches step k has reached every step before it, so the counts never
  increase along the funnel.
* **Excluding.** When an ``exclude`` activity occurs after the entry and before the last
  step the attempt reached, the attempt is *void*: it is not counted at any step (the
  number of void attempts is reported).
* **Counting.** ``uniques`` counts each customer once (its first attempt);
  ``sessions`` once per session (its first attempt); ``totals`` counts every attempt: a
  customer re-enters at the first occurrence of step 1 after its previous attempt ended -
  after the last step when it converted, after the window when it failed, after the
  excluded event when it was void.
* **Breakdown.** With ``by=column`` the attempt is assigned the column's value on its
  entry event (the occurrence of step 1).

Where it runs (:mod:`journeylab._kernels.steps`): in memory on the events where they lie. On a log
that lives in DuckDB or Spark the engine marks each event with its steps (conditions compiled to SQL);
with ``order="sequential"`` and one attempt per unit (``uniques``, ``sessions``) it also finds the
steps of each attempt (window functions, a join and a minimum per step) and sends back (b) one row per
unit that enters; otherwise (c) one narrow row of integers per step or exclude event. A condition that
pandas must read (a date or a duration written as text) makes it fetch the projection instead.

Examples
--------
>>> import pandas as pd, journeylab as jl
>>> df = pd.DataFrame({
...     "who": ["a", "a", "a", "b", "b", "c"],
...     "what": ["view", "cart", "buy", "view", "cart", "view"],
...     "when": pd.to_datetime(["2025-01-01", "2025-01-02", "2025-01-03",
...                             "2025-01-01", "2025-02-01", "2025-01-05"]),
... })
>>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
>>> f = funnel(log, ["view", "cart", "buy"], window="7d")
>>> f.table["reached"].tolist()
[3, 1, 1]
>>> f
Funnel: view > cart > buy, 3 entered, 33.3% converted within 7d (uniques, sequential)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._core.warn import warn
from ._core.formatting import cut, duration_spec, format_count, format_duration, format_share
from ._core.names import closest
from ._core.progress import progress as progress_bar
from ._core.results import FrozenMap, Result
from ._core.validation import BOOL, DURATION, LOG, TEXT, Choice, Optional, Texts, checked, to_timedelta
from ._kernels.events import check_breakdown
from ._kernels.steps import first_attempts, step_rows
from ._kernels.visits import check_fit
from .exceptions import DataQualityWarning, InvalidParameterError, SchemaError

__all__ = ["funnel", "Funnel", "ORDERS", "COUNTS"]

#: Allowed values of ``order``.
ORDERS = ("sequential", "strict", "any")
#: Allowed values of ``count``.
COUNTS = ("uniques", "totals", "sessions")


@dataclass(frozen=True, eq=False)
class Funnel(Result):
    """A milestone funnel (see :func:`funnel` for the rules).

    Attributes
    ----------
    steps : the step labels, in order.
    table : one row per step: ``step``, ``reached``, ``conversion`` (share of those who
        entered), ``step_conversion`` (share of the previous step), ``drop_off`` (lost since
        the previous step), ``drop_off_rate``, ``time_median`` / ``time_p90`` (from entering
        to reaching the step), ``time_from_previous_median``.
    attempts : one row per counted or void attempt: ``unit``, ``attempt`` (1, 2, ... per
        unit), ``entered`` (time), ``reached`` (steps reached), ``converted``, ``void``, the
        breakdown value (when ``by`` is given) and the time each step was reached (one column
        per step, NaT when not reached).
    breakdown : with ``by``: the table per value of the attribute (index: value, step), else None.
    params : the inputs (read-only).
    """

    steps: tuple[str, ...]
    table: pd.DataFrame
    attempts: pd.DataFrame
    breakdown: pd.DataFrame | None
    params: FrozenMap = field(default_factory=FrozenMap)

    @property
    def entered(self) -> int:
        """Attempts counted at step 1 (void attempts excluded)."""
        return int(self.table["reached"].iloc[0])

    @property
    def converted(self) -> int:
        """Attempts that reached the last step."""
        return int(self.table["reached"].iloc[-1])

    @property
    def conversion(self) -> float:
        """Overall conversion: converted / entered."""
        return self.converted / self.entered if self.entered else math.nan

    @property
    def void(self) -> int:
        """Attempts voided by an ``exclude`` activity."""
        return int(self.attempts["void"].sum())

    @property
    def summary(self) -> pd.DataFrame:
        """Headline figures: entered, converted, conversion, time to convert, void attempts."""
        last = self.table.iloc[-1]
        rows = [
            ("entered", format_count(self.entered)),
            ("converted", format_count(self.converted)),
            ("conversion", format_share(self.conversion)),
            ("time to convert (median)", format_duration(last["time_median"])),
            ("time to convert (p90)", format_duration(last["time_p90"])),
            ("void attempts (exclude)", format_count(self.void)),
            ("window", duration_spec(self.params["window"])),
            ("order", self.params["order"]),
            ("count", self.params["count"]),
        ]
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def to_frame(self) -> pd.DataFrame:
        """The per-step table (with the breakdown, when there is one, as extra rows keyed by ``segment``)."""
        if self.breakdown is None:
            return self.table.copy()
        overall = self.table.assign(segment="(all)")
        return pd.concat([overall, self.breakdown.reset_index()], ignore_index=True)

    def __repr__(self) -> str:
        return (f"Funnel: {' > '.join(self.steps)}, {format_count(self.entered)} entered, "
                f"{format_share(self.conversion)} converted within {duration_spec(self.params['window'])} "
                f"({self.params['count']}, {self.params['order']})")

    #: the columns of :attr:`table` shown in notebooks and the report, and their headings
    _SHOWN = {"step": "step", "reached": "reached", "conversion": "conversion", "step_conversion": "from previous",
              "drop_off": "drop-off", "time_median": "time (median)", "time_p90": "time (p90)"}

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [("", self.table[list(self._SHOWN)].rename(columns=self._SHOWN))]

    def _html_formats(self) -> dict:
        return {"from previous": "share"}

    def plot(self, ax=None, *, relative: bool = False, **kw):
        """Bars of the units reaching each step (``relative=True``: as a share of those who
        entered), with the conversion from the previous step; one bar group per segment when
        there is a breakdown. Returns the Axes."""
        from .plotting.conformance import plot_funnel

        return plot_funnel(self, ax=ax, relative=relative, **kw)


# --------------------------------------------------------------------------- validation


def _step_spec(log, steps) -> tuple[tuple[str, ...], list, set[str]]:
    """Labels, matchers (activity name or Milestone) and the activities of the steps."""
    from .journey import Journey, Milestone

    if isinstance(steps, Journey):
        check_fit(log, steps)
        ms = [steps.milestone(n) for n in steps.happy_path]
        if len(ms) < 2:
            raise InvalidParameterError(
                f"journey {cut(steps.name)} has {len(ms)} milestone on its happy path; a funnel needs at least two "
                "steps. Add milestones, or pass a list of activities.")
        return tuple(m.name for m in ms), ms, {a for m in ms for a in m.activities}
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
        raise InvalidParameterError(
            f"steps={cut(steps)} must be a list of at least two activities (e.g. ['view', 'cart', 'buy']) or a "
            "Journey.")
    steps = list(steps)
    if len(steps) < 2:
        raise InvalidParameterError(
            f"steps={cut(steps)} has {len(steps)} entr{'y' if len(steps) == 1 else 'ies'}; a funnel needs at least "
            "two steps, e.g. ['view', 'cart', 'buy'].")
    present = set(log.activities)
    labels, matchers, acts, missing = [], [], set(), []
    for s in steps:
        if isinstance(s, Milestone):
            labels.append(s.name)
            matchers.append(s)
            acts.update(s.activities)
            missing += [a for a in s.activities if a not in present]
        elif isinstance(s, str):
            labels.append(s)
            matchers.append(s)
            acts.add(s)
            if s not in present:
                missing.append(s)
        else:
            raise InvalidParameterError(f"step {cut(s)} must be an activity name (text) or a Milestone.")
    typos = [m for m in missing if closest(m, log.activities)]
    first_missing = isinstance(steps[0], str) and steps[0] in missing
    if typos or first_missing:
        hints = "; ".join(f"{m!r}: closest {closest(m, log.activities) or 'none'}" for m in missing)
        raise InvalidParameterError(
            f"steps name activities that are not in the log: {hints}. Available: {list(log.activities)[:20]}"
            + (" ..." if len(log.activities) > 20 else "") + ". Fix the step names.")
    if missing:
        warn(f"steps {cut(missing)} never occur in the log (and no activity has a similar name): nobody "
                      "reaches them.", DataQualityWarning)  # the caller of funnel (through @checked)
    return tuple(labels), matchers, acts


def _check_exclude(log, exclude: tuple[str, ...] | None, labels, step_acts) -> list[str]:
    """The exclude activities (already texts, see ``@checked``): none a step, all in the log."""
    ex = list(exclude or ())
    bad = [a for a in ex if a in step_acts]
    if bad:
        where = "first or last step" if any(a in (labels[0], labels[-1]) for a in bad) else "a step"
        raise InvalidParameterError(
            f"exclude={cut(bad[0])} is also {where} of the funnel; an activity cannot both mark a step and void the "
            "attempt. Remove it from exclude (or from the steps).")
    missing = [a for a in ex if a not in set(log.activities)]
    if missing:
        raise InvalidParameterError(
            "exclude names activities that are not in the log: "
            + "; ".join(f"{cut(m)} (closest: {closest(m, log.activities) or 'none'})" for m in missing)
            + ". Fix the names.")
    return ex


# --------------------------------------------------------------------------- the attempts


def _unit_attempts(T, B, X, lo, hi, K, W, order, multi):
    """Attempts of one unit over events lo..hi-1 (lists T times, B step bitmasks, X exclude flags).

    Returns a list of (entry index, [index of step 1..r], void)."""
    out = []
    start = lo
    while True:
        e = start
        while e < hi and not (B[e] & 1):
            e += 1
        if e >= hi:
            return out
        limit = T[e] + W
        idx = [e]
        first_x = -1
        if order == "sequential":
            p = e
            for k in range(1, K):
                bit = 1 << k
                j = p + 1
                while j < hi and T[j] <= limit and not (B[j] & bit):
                    if X[j] and first_x < 0:
                        first_x = j
                    j += 1
                if j < hi and T[j] <= limit:
                    idx.append(j)
                    p = j
                else:
                    break
        elif order == "strict":
            j = e + 1
            k = 1
            while k < K and j < hi and T[j] <= limit and (B[j] >> k) & 1:
                idx.append(j)
                j += 1
                k += 1
        else:  # any
            used = {e}
            for k in range(1, K):
                bit = 1 << k
                j = e + 1
                while j < hi and T[j] <= limit and (not (B[j] & bit) or j in used):
                    j += 1
                if j < hi and T[j] <= limit:
                    idx.append(j)
                    used.add(j)
                else:
                    break
            last = max(idx)
            for j in range(e + 1, last):
                if X[j]:
                    first_x = j
                    break
        void = 0 <= first_x < max(idx)
        out.append((e, idx, void))
        if not multi:
            return out
        # where the next attempt may start
        if void:
            start = first_x + 1
        elif len(idx) == K:
            start = max(idx) + 1
        else:
            j = e + 1
            while j < hi and T[j] <= limit:
                j += 1
            start = j


@checked(log=LOG, window=DURATION, order=Choice(*ORDERS), exclude=Optional(Texts(allow_empty=True, example="['cancel']")),
         by=Optional(TEXT), count=Choice(*COUNTS), progress=Optional(BOOL))
def funnel(log, steps, *, window="14d", order: str = "sequential", exclude=None, by: str | None = None,
           count: str = "uniques", progress: bool | None = None) -> Funnel:
    """Funnel of ``steps`` over ``log``: entered, reached per step, conversion, drop-off, time to convert.

    The rules are written out in the module docstring (``help(journeylab.funnel)``).

    Parameters
    ----------
    log : EventLog
        The events.
    steps : list of str or Milestone, or Journey
        At least two activities (or :class:`~journeylab.journey.Milestone` objects), or a Journey (its
        happy-path milestones, matched with their conditions).
    window : str or Timedelta, default "14d"
        The conversion window from entering (``"14d"``, ``"36h"``, ``pd.Timedelta``); a bare number is
        refused.
    order : {"sequential", "strict", "any"}, default "sequential"
        How the steps must follow each other (see the module docstring).
    exclude : str or list of str, optional
        Activities that void an attempt when they occur between two steps.
    by : str, optional
        A column of the log; the breakdown uses its value on the entry event.
    count : {"uniques", "totals", "sessions"}, default "uniques"
        Each customer once, every attempt, or each journey session once.
    progress : bool, optional
        Show a progress bar over the units (default: above 200,000 units).

    Returns
    -------
    Funnel
        ``table`` (per step: reached, conversion, drop-off, times), ``attempts`` (one row per attempt),
        ``breakdown`` (per value of ``by``) and ``params``.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> df = pd.DataFrame({"who": ["a"] * 5, "what": ["view", "cart", "view", "cart", "buy"],
    ...                    "when": ["2025-01-01", "2025-01-02", "2025-01-04", "2025-01-05", "2025-01-06"]})
    >>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
    >>> funnel(log, ["view", "cart", "buy"], window="2d").table["reached"].tolist()
    [1, 1, 0]
    >>> funnel(log, ["view", "cart", "buy"], window="2d", count="totals").table["reached"].tolist()
    [2, 2, 1]
    >>> funnel(log, ["view", "cart"], window="2d", order="strict", exclude="buy").table["reached"].tolist()
    [1, 1]
    """
    W = to_timedelta(window, name="window")  # the default "14d" too (@checked trusts defaults)
    labels, matchers, step_acts = _step_spec(log, steps)
    ex = _check_exclude(log, exclude, labels, step_acts)
    if by is not None and by not in log.columns:
        near = closest(by, log.columns, n=1)
        raise SchemaError(f"by={cut(by)} is not a column of the log." + (f" Closest match: {near[0]!r}." if near else "")
                          + f" Available: {list(log.columns)}. Pass by=... with one of them.")
    if by in ("case", "timestamp"):
        raise InvalidParameterError(f"by={by!r}: a breakdown needs an attribute with few values (e.g. 'channel').")
    if by is not None:
        check_breakdown(log, by)
    if count == "sessions" and not log.has_role("customer"):
        raise InvalidParameterError(
            "count='sessions' counts journey sessions, but this log has no customer role: each case is a customer. "
            "Split it into sessions first, e.g. funnel(log.sessions('30min'), ...) or log.sessions(restart_on=[...]); "
            "or use count='uniques'.")
    unit_col = "case" if count == "sessions" or not log.has_role("customer") else "customer"
    K = len(labels)
    w_us = int(W / pd.Timedelta(microseconds=1))
    multi = count == "totals"
    if log.is_lazy and order == "sequential" and not multi:
        first = first_attempts(log, matchers, ex, unit_col, by, K, w_us)
        if first is not None:
            return _build(labels, W, order, count, ex, by, unit_col, *first)
    got = step_rows(log, matchers, ex, unit_col, by, order)
    units, tus, bits, xflag, take_entered, take_by = got
    n = len(units)
    bounds = np.flatnonzero(np.r_[True, units[1:] != units[:-1]]) if n else np.array([], dtype=np.int64)
    ends = np.append(bounds[1:], n)
    T, B, X = tus.tolist(), bits.tolist(), xflag.tolist()
    show = progress if progress is not None else len(bounds) > 200_000
    iterator = progress_bar(zip(bounds.tolist(), ends.tolist()), total=len(bounds), desc="funnel", enabled=show)
    rec_unit, rec_no, rec_entry, rec_reached, rec_void = [], [], [], [], []
    rec_times: list[list[int]] = []
    for lo, hi in iterator:
        if not any(b & 1 for b in B[lo:hi]):
            continue
        for no, (e, idx, void) in enumerate(_unit_attempts(T, B, X, lo, hi, K, w_us, order, multi), start=1):
            rec_unit.append(units[e])
            rec_no.append(no)
            rec_entry.append(e)
            rec_reached.append(len(idx))
            rec_void.append(void)
            rec_times.append([T[j] for j in idx] + [None] * (K - len(idx)))
    entry = np.asarray(rec_entry, dtype=np.int64)
    return _build(labels, W, order, count, ex, by, unit_col, rec_unit, rec_no, take_entered(entry),
                  take_by(entry) if by is not None else None, rec_reached, rec_void, rec_times)


def _uniq_labels(labels: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for lab in labels:
        seen[lab] = seen.get(lab, 0) + 1
        out.append(lab if seen[lab] == 1 else f"{lab} ({seen[lab]})")
    return out


def _step_table(labels, reached_n: np.ndarray, times: np.ndarray) -> pd.DataFrame:
    """reached_n: steps reached per attempt (void attempts removed); times: (n, K) µs or NaN."""
    K = len(labels)
    reached = np.array([(reached_n >= k + 1).sum() for k in range(K)], dtype=np.int64)
    entered = reached[0] if K else 0
    prev = np.r_[reached[0], reached[:-1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        conv = np.where(entered > 0, reached / max(entered, 1), np.nan)
        step_conv = np.where(prev > 0, reached / np.maximum(prev, 1), np.nan)
    step_conv[0] = np.nan
    drop = prev - reached
    drop[0] = 0
    tmed, tp90, tprev = [], [], []
    for k in range(K):
        ok = reached_n >= k + 1
        if k == 0 or not ok.any():
            tmed.append(0.0 if ok.any() else np.nan)
            tp90.append(0.0 if ok.any() else np.nan)
            tprev.append(np.nan)
            continue
        d = times[ok, k] - times[ok, 0]
        dp = times[ok, k] - times[ok, k - 1]
        tmed.append(float(np.median(d)))
        tp90.append(float(np.quantile(d, 0.9)))
        tprev.append(float(np.median(dp)))

    def td(v):
        return pd.to_timedelta(np.round(np.asarray(v, dtype=float)), unit="us")

    return pd.DataFrame({
        "step": list(labels),
        "reached": reached,
        "conversion": conv,
        "step_conversion": step_conv,
        "drop_off": drop.astype(np.int64),
        "drop_off_rate": np.where(prev > 0, drop / np.maximum(prev, 1), np.nan),
        "time_median": td(tmed),
        "time_p90": td(tp90),
        "time_from_previous_median": td(tprev),
    })


def _build(labels, W, order, count, ex, by, unit_col, rec_unit, rec_no, entered, by_values, rec_reached, rec_void,
           rec_times) -> Funnel:
    K = len(labels)
    tz = entered.tz
    if isinstance(rec_times, np.ndarray):  # from the engine: already (n, K) microseconds, NaN when not reached
        times = rec_times.astype(float, copy=False).reshape(-1, K)
    else:
        times = np.array([[np.nan if v is None else v for v in r] for r in rec_times], dtype=float).reshape(-1, K)
    cols = _uniq_labels(labels)
    attempts = pd.DataFrame({
        "unit": pd.Series(rec_unit, dtype=object),
        "attempt": np.asarray(rec_no, dtype=np.int64),
        "entered": entered,
        "reached": np.asarray(rec_reached, dtype=np.int64),
        "converted": np.asarray(rec_reached, dtype=np.int64) == K,
        "void": np.asarray(rec_void, dtype=bool),
    })
    if by is not None:
        attempts[by] = by_values
    for k, c in enumerate(cols):
        col = pd.to_datetime(pd.Series(times[:, k]), unit="us", utc=True)
        attempts[c] = col.dt.tz_convert(tz) if tz is not None else col
    counted = ~attempts["void"].to_numpy()
    table = _step_table(labels, attempts["reached"].to_numpy()[counted], times[counted])
    breakdown = None
    if by is not None:
        parts = []
        seg = attempts[by].to_numpy()[counted]
        seg_s = pd.Series(seg)
        for value in pd.unique(seg_s.dropna()) if len(seg_s) else []:
            sel = (seg_s == value).to_numpy()
            t = _step_table(labels, attempts["reached"].to_numpy()[counted][sel], times[counted][sel])
            t.insert(0, "segment", value)
            parts.append(t)
        if seg_s.isna().any():
            sel = seg_s.isna().to_numpy()
            t = _step_table(labels, attempts["reached"].to_numpy()[counted][sel], times[counted][sel])
            missing = "(missing)"
            while missing in set(seg_s.dropna().astype(str)):  # never merged with a real value "(missing)"
                missing = f"({missing})"
            t.insert(0, "segment", missing)
            parts.append(t)
        if parts:
            breakdown = pd.concat(parts, ignore_index=True)
            # each part has one row per step; its first row is the entry step (a step may repeat: view > cart > view)
            order_seg = breakdown.iloc[::K].sort_values("reached", ascending=False, kind="stable")["segment"]
            breakdown["segment"] = pd.Categorical(breakdown["segment"], categories=list(order_seg))
            breakdown = breakdown.sort_values(["segment"], kind="stable").set_index(["segment", "step"])
        else:
            breakdown = _step_table(labels, np.zeros(0, dtype=np.int64), np.zeros((0, K))).assign(
                segment="(none)").set_index(["segment", "step"])
    params = {"steps": tuple(labels), "window": W, "order": order, "exclude": tuple(ex), "by": by, "count": count,
              "unit": unit_col}
    return Funnel(tuple(labels), table, attempts, breakdown, FrozenMap(params))
