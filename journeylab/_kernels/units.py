"""Whom a customer-level analysis follows when some events have no customer id.

A log with a customer role may leave the id empty on some events (anonymous visits, a
CRM that did not match the person). The analyses that follow customers (funnels, goal
attainment, A/B tests, rules, attribution, contact peaks, the journey map, channel mix,
peak-end, touchpoint scores) count such a case as **its own customer**, as in a log
without a customer role, and say so with a :class:`~journeylab.DataQualityWarning`.
Without this, pandas drops the events (a silent undercount) or a missing id stands for
every anonymous case at once.

:func:`known_customers` does it on a DataFrame; :func:`customer_expr` is the same rule as an Ibis
expression for a log that lives in an engine (two one-row queries, and the ids of the cases that
clash with a customer id - usually none - come back; the same warning).

Also here, for the analyses that follow customers through a journey (:mod:`journeylab._kernels.entries`):
the log in an engine seen per customer (:func:`unit_table`: the unit column and epoch microseconds, up to
``as_of``; :func:`engine_time_span`; :func:`to_times` / :func:`to_micros` between epoch microseconds and
timestamps), and the **segments** - :func:`excluded_ids` (the exclusion segment) and
:func:`suppression_times` (the suppression segment), from ids, times or criteria; on a lazy log criteria
are matched on :func:`segment_events`, per customer and distinct value grouped in the engine (kind (b) of
issue 15: at most a row per customer and value, never the events).

>>> import pandas as pd
>>> df = pd.DataFrame({"case": ["a", "b", "u1"], "customer": ["u1", None, None]})
>>> import warnings
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     known_customers(df)["customer"].tolist()
['u1', 'b', 'case u1']
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import numpy as np
import pandas as pd

from .._core.backend import execute, micros
from .._core.formatting import cut
from .._core.warn import warn
from ..exceptions import DataQualityWarning, InvalidParameterError
from ..journey import Criteria

__all__ = [
    "customer_expr",
    "engine_time_span",
    "excluded_ids",
    "known_customers",
    "log_timezone",
    "segment_criteria",
    "segment_events",
    "suppression_times",
    "to_micros",
    "to_times",
    "unit_table",
]


def _say(n_events: int, n_cases: int) -> None:
    warn(f"{n_events:,} event(s) of {n_cases:,} case(s) have no customer id; each of these cases "
         "counts as its own customer.")


def known_customers(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a customer id on every event: the case id where it is missing.

    A case id that is also the id of a real customer becomes ``"case <id>"``, so the two are
    never merged. Returns ``df`` itself when nothing is missing (or there is no customer
    column), else a new frame; ``df`` is never modified.
    """
    if "customer" not in df.columns:
        return df
    cust = df["customer"]
    missing = cust.isna().to_numpy()
    if not missing.any():
        return df
    case = df["case"].astype(object)
    known = set(cust[~missing])
    fill = case.where(~case.isin(known), "case " + case.astype(str))
    _say(int(missing.sum()), int(df.loc[missing, "case"].nunique()))
    return df.assign(customer=cust.astype(object).where(~missing, fill))


def customer_expr(log):
    """For a lazy log with a customer role: the customer of each event of ``log.table`` as an Ibis column
    expression - the rule of :func:`known_customers` (same ids, same warning), computed in the engine.

    The facts it needs (events without customer id, their cases, and which of those case ids are also
    customer ids) are queried once per log (``log._memo``); the warning is given at every call, as
    :func:`known_customers` does.
    """
    t = log.table

    def facts():
        anon = t.filter(t.customer.isnull())
        row = execute(anon.aggregate(n=anon.count(), cases=anon.case.nunique()))
        n, cases = int(row["n"].iloc[0]), int(row["cases"].iloc[0])
        if not n:
            return 0, 0, ()
        # a join, not isin(<subquery>): Ibis 12 compiles the subquery of isin wrongly for PySpark
        mine = anon.select("case").distinct()
        ids = t.filter(t.customer.notnull()).select(k=t.customer).distinct()
        clash = execute(mine.join(ids, mine.case == ids.k).select("case"))["case"]
        return n, cases, tuple(sorted(str(c) for c in clash))

    n, cases, clash = log._memo(("units", "anonymous"), facts)
    if not n:
        return t.customer
    _say(n, cases)
    fill = t.case
    if clash:
        fill = ibis.cases((t.case.isin(list(clash)), ibis.literal("case ").concat(t.case)), else_=t.case)
    return t.customer.fill_null(fill)


# --------------------------------------------------------------------------- a log in an engine


def log_timezone(log):
    """The zone of a lazy log's timestamps (its Ibis schema; UTC when the column is naive)."""
    return log.table.schema()["timestamp"].timezone or "UTC"


def to_times(us, tz) -> pd.Series:
    """Epoch microseconds (UTC) -> a Series of timestamps in ``tz`` (``datetime64[us, tz]``)."""
    arr = np.asarray(us, dtype=np.int64).view("datetime64[us]")
    return pd.Series(arr).dt.tz_localize("UTC").dt.tz_convert(tz)


def to_micros(ts) -> int:
    """One timestamp -> epoch microseconds (UTC; naive ones are taken as UTC)."""
    t = pd.Timestamp(ts)
    if t.tzinfo is not None:
        t = t.tz_convert("UTC").tz_localize(None)
    return int(t.value) // 1000


def engine_time_span(log) -> None:
    """On a lazy log, make sure the first and last timestamps are known from the engine (one aggregate,
    cached by the log: :attr:`EventLog.time_span`), never from the event table."""
    if log.is_lazy:
        log.time_span  # noqa: B018  (computed and cached by the log's one sizes query)


def unit_table(log, unit: str, as_of):
    """``log.table`` (a lazy log) up to ``as_of`` with ``us`` (epoch microseconds) and, for the customer unit,
    ``customer`` as :func:`~journeylab._kernels.units.known_customers` makes it (same warning)."""
    t = log.table
    if unit == "customer":
        t = t.mutate(customer=customer_expr(log))
    t = t.mutate(us=micros(t.timestamp))
    return t.filter(t.us <= to_micros(as_of))


def _criteria(value, name: str) -> Criteria:
    """A Criteria from a Criteria, or an activity name / list of names."""
    if isinstance(value, Criteria):
        return value
    if isinstance(value, str) or (isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value)):
        return Criteria(value)
    raise InvalidParameterError(f"{name}={cut(value)} is not understood; see the docstring for the accepted forms.")


# --------------------------------------------------------------------------- segments


def _customer_ids(value, name: str) -> pd.Index:
    if isinstance(value, (pd.Series, pd.Index, np.ndarray, list, tuple, set, frozenset)):
        vals = list(value.index[value.astype(bool)] if isinstance(value, pd.Series) and value.dtype == bool else value)
        return pd.Index([str(v) for v in vals], dtype=object).unique()
    raise InvalidParameterError(
        f"{name}={cut(value)} is not understood: give the customer ids (a set, list, Index or boolean Series), an "
        "activity name, or a Criteria such as Criteria(conditions=\"employee == true\").")


def excluded_ids(exclusion, df: pd.DataFrame, unit: str, known: pd.Index) -> pd.Index:
    """Excluded customer ids (those of ``known``, the customers up to ``as_of``)."""
    if exclusion is None:
        return pd.Index([], dtype=object)
    if isinstance(exclusion, (Criteria, str)):
        crit = _criteria(exclusion, "exclusion")
        hit = crit.matches(df).to_numpy()
        return pd.Index(pd.unique(df[unit].to_numpy()[hit]), dtype=object)
    ids = _customer_ids(exclusion, "exclusion")
    unknown = ids.difference(known)
    if len(unknown):
        warn(f"exclusion: {len(unknown):,} of {len(ids):,} ids are not {unit}s of the log (e.g. "
                      f"{cut(list(unknown[:3]))}); they are ignored. Check that they are {unit} ids.", DataQualityWarning)
    return ids.intersection(known)


def suppression_times(suppression, df: pd.DataFrame, unit: str, tz, known: pd.Index) -> pd.Series:
    """Suppression time per customer (index: customer id, values: tz-aware timestamps)."""
    empty = pd.Series([], index=pd.Index([], dtype=object), dtype=df["timestamp"].dtype, name="suppressed_at")
    if suppression is None:
        return empty
    if isinstance(suppression, (Criteria, str)) or (isinstance(suppression, (list, tuple)) and suppression
                                                    and all(isinstance(v, str) for v in suppression)):
        crit = _criteria(suppression, "suppression")
        hit = crit.matches(df).to_numpy()
        first = df.loc[hit].groupby(unit, sort=False)["timestamp"].min()
        return first.rename("suppressed_at").rename_axis(None)
    if isinstance(suppression, pd.DataFrame):
        cols = [str(c) for c in suppression.columns]
        who = next((c for c in ("customer", unit, "case") if c in cols), None)
        when = next((c for c in ("time", "timestamp", "suppressed_at") if c in cols), None)
        if who is None or when is None:
            raise InvalidParameterError(
                f"suppression: a DataFrame needs the columns 'customer' and 'time'; it has {cols}. Rename them, "
                "e.g. df.rename(columns={'id': 'customer', 'removed': 'time'}).")
        ser = pd.Series(suppression[when].to_numpy(), index=suppression[who].astype(str).to_numpy())
    elif isinstance(suppression, pd.Series):
        ser = pd.Series(suppression.to_numpy(), index=[str(i) for i in suppression.index])
    elif isinstance(suppression, Mapping):
        ser = pd.Series(list(suppression.values()), index=[str(k) for k in suppression], dtype=object)
    else:
        raise InvalidParameterError(
            f"suppression={cut(suppression)} is not understood. Give when each customer was removed: a dict "
            "{customer: time}, a Series (index: customer, values: times), a DataFrame with columns customer and "
            "time, or the activity that removes them (e.g. suppression='unsubscribe').")
    try:
        times = pd.to_datetime(pd.Series(ser.to_numpy(), dtype=object), format="mixed")
    except (ValueError, TypeError):
        raise InvalidParameterError(f"suppression: some times are not dates (e.g. {cut(list(ser.iloc[:3]))}); write "
                                    "them like '2025-01-31 12:00' or as Timestamps.") from None
    if times.isna().any():
        raise InvalidParameterError(f"suppression: {int(times.isna().sum())} missing time(s); give the time each "
                                    "customer was removed, or leave them out.")
    if isinstance(times.dtype, pd.DatetimeTZDtype):
        times = times.dt.tz_convert(tz)
    else:
        times = times.dt.tz_localize(tz)
    out = pd.Series(times.dt.as_unit("us").to_numpy(), index=pd.Index(ser.index, dtype=object),
                    name="suppressed_at").astype(df["timestamp"].dtype)
    out = out.groupby(level=0, sort=False).min()
    unknown = out.index.difference(known)
    if len(unknown):
        warn(f"suppression: {len(unknown):,} of {len(out):,} ids are not {unit}s of the log (e.g. "
                      f"{cut(list(unknown[:3]))}); they are ignored. Check that they are {unit} ids.", DataQualityWarning)
    return out[out.index.isin(known)]


def segment_criteria(exclusion, suppression) -> tuple:
    """The exclusion and suppression segments given as criteria (Criteria or activity names), else None."""
    exc = _criteria(exclusion, "exclusion") if isinstance(exclusion, (Criteria, str)) else None
    sup = None
    if isinstance(suppression, (Criteria, str)) or (isinstance(suppression, (list, tuple)) and suppression
                                                    and all(isinstance(v, str) for v in suppression)):
        sup = _criteria(suppression, "suppression")
    return exc, sup


def segment_events(log, unit: str, as_of, crit) -> pd.DataFrame:
    """On a lazy log, what a segment's criteria need, grouped in the engine: per unit, activity (only when
    the criteria name activities, and only theirs) and value of each condition column, the first ``timestamp``.

    Matching the criteria on these groups gives the same customers (exclusion) and the same first matching
    time per customer (suppression) as matching every event: at most one row per customer and distinct
    value, never the events.
    """
    t = unit_table(log, unit, as_of)
    if crit.activities:
        t = t.filter(t.activity.isin(list(crit.activities)))
    cols = [c for c in dict.fromkeys(c.column for c in crit.conditions) if c in log.columns
            and c not in (unit, "activity", "timestamp")]
    keys = [unit, *(["activity"] if crit.activities else []), *cols]
    df = execute(t.group_by(keys).aggregate(us=t.us.min()))
    df["timestamp"] = to_times(df.pop("us").to_numpy(), log_timezone(log))
    df[unit] = df[unit].astype(object)
    return df.sort_values([unit, "timestamp"], kind="stable").reset_index(drop=True)
