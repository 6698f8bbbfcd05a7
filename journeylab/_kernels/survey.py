"""Survey answers: the answer scales of NPS, CSAT and CES, the cleaning of answers, the per-group score
table, and whose experience an answer belongs to (the unit and the segment of each event).

The survey analyses (:mod:`journeylab.kpi`, :mod:`journeylab.peakend`, :mod:`journeylab.journeymap`,
:mod:`journeylab.channels`) share these. Inputs and outputs are plain Series and DataFrames: the per-group
table is a sum of indicator columns per group, which an engine can compute as one ``GROUP BY``.

>>> sc = scale("nps")
>>> values, n_missing = clean([10, 9, 3, None], sc)
>>> stats_frame(values, None, sc, 0.95)[["answers", "score"]].round(1)
   answers  score
0        3   33.3
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import ibis
import numpy as np
import pandas as pd

from .._core.backend import execute
from .._core.formatting import cut
from .._core.stats import nps_interval, t_interval, wilson, z_score
from .._core.validation import BOOL, Choice, log_column
from .._core.warn import warn
from .._core.vocabulary import KPI_KINDS, KPI_LABELS
from ..exceptions import InvalidParameterError, SchemaError
from .events import KEY_COLUMNS, events

__all__ = ["Scale", "scale", "clean", "stats_frame", "STAT_COLUMNS", "unit_column", "segment_series",
           "segment_columns", "events_where", "known_table", "segment_table", "engine_times",
           "score_cells"]


# =========================================================================== scales


@dataclass(frozen=True)
class Scale:
    """The answer scale of a survey KPI: its points ``lo..hi`` and what counts as satisfied / low effort."""

    kind: str
    lo: int
    hi: int
    top_box: int = 0           # csat
    low_effort_box: int = 0    # ces
    higher_is_easier: bool = False

    @property
    def label(self) -> str:
        return KPI_LABELS[self.kind]

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

    def options(self) -> dict:
        """The keyword arguments of :func:`scale` that give this scale back (besides ``kind``)."""
        return {"scale": self.hi if self.kind != "nps" else None, "top_box": self.top_box or None,
                "low_effort_box": self.low_effort_box or None, "higher_is_easier": self.higher_is_easier}


def _whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def scale(kind: str, *, scale=None, top_box=None, low_effort_box=None, higher_is_easier=False) -> Scale:
    """The :class:`Scale` of ``kind`` ("nps", "csat" or "ces"), its options checked.

    >>> scale("csat", top_box=1).describe()
    'CSAT = % of answers in the top 1 box(es) (5) of a 5-point scale'
    """
    Choice(*KPI_KINDS)(kind, "kind")
    if kind == "nps":
        if scale not in (None, 10, 11):
            raise InvalidParameterError(f"scale={cut(scale)}: the NPS is defined on the 0-10 scale only; drop scale=.")
        return Scale("nps", 0, 10)
    default = 5 if kind == "csat" else 7
    sc = default if scale is None else scale
    if not _whole(sc) or not 2 <= sc <= 11:
        raise InvalidParameterError(f"scale={cut(scale)} must be the number of points of the answer scale (2 to 11), "
                                    f"e.g. scale={default}.")
    sc = int(sc)
    if kind == "csat":
        tb = 2 if top_box is None else top_box
        if not _whole(tb) or not 1 <= tb < sc:
            raise InvalidParameterError(f"top_box={cut(top_box)} must be a whole number from 1 to {sc - 1} (the "
                                        f"number of top boxes that count as satisfied; 2 = top-2-box).")
        return Scale("csat", 1, sc, top_box=int(tb))
    lb = sc // 2 if low_effort_box is None else low_effort_box
    if not _whole(lb) or not 1 <= lb < sc:
        raise InvalidParameterError(f"low_effort_box={cut(low_effort_box)} must be a whole number from 1 to "
                                    f"{sc - 1}.")
    return Scale("ces", 1, sc, low_effort_box=int(lb),
                 higher_is_easier=BOOL(higher_is_easier, "higher_is_easier"))


# =========================================================================== answers


def _plain(v):
    """numpy scalars as plain Python values (for readable messages)."""
    return v.item() if isinstance(v, np.generic) else v


def clean(scores, sc: Scale, *, name: str = "scores") -> tuple[pd.Series, int]:
    """Valid answers as a float Series (missing dropped) and the number of missing answers.

    A missing answer (NaN / None) is no answer; anything else that is not a whole number of the
    scale raises an InvalidParameterError with the count and examples.

    >>> clean([10, None, 9], scale("nps"))
    (0    10.0
    2     9.0
    dtype: float64, 1)
    """
    if isinstance(scores, pd.DataFrame):
        raise InvalidParameterError(f"{name} is a DataFrame; pass one column of answers, e.g. df['nps'].")
    if isinstance(scores, (str, bytes)) or not isinstance(scores, (pd.Series, np.ndarray, Iterable)):
        raise InvalidParameterError(f"{name}={cut(scores)} must be a Series, array or list of answers.")
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
        f"{sc.label}: {n_bad:,} {name} {kind_txt} (e.g. {cut(ex_vals)} at {cut(ex_pos)}); {sc.label} "
        f"answers are whole numbers from {sc.lo} to {sc.hi}. Fix or drop them (a missing answer is NaN)."
    )


# =========================================================================== group statistics


#: The columns every score table starts with.
STAT_COLUMNS = ("answers", "score", "ci_low", "ci_high")


def stats_frame(values: pd.Series, keys: list[pd.Series] | None, sc: Scale, confidence: float,
                weights: pd.Series | None = None) -> pd.DataFrame:
    """Per group (or overall when ``keys`` is None): answers, score, interval and the kind's details.

    ``values`` are clean answers (see :func:`clean`); ``keys`` are Series aligned with the events
    the answers come from. The details are ``promoters``, ``passives``, ``detractors`` (% of
    answers) for NPS, ``satisfied`` (a count) for CSAT, ``low_effort`` (%) and its interval for CES.
    ``weights`` (aligned with ``values``): how many answers each value stands for - the answer
    counts of the cells that an engine counted; the sums are whole numbers, so the result is exactly the one
    of the answers themselves.
    """
    v = values.to_numpy(dtype=float)
    w = np.ones_like(v) if weights is None else weights.loc[values.index].to_numpy(dtype=float)
    parts = {"_n": w}
    if sc.kind == "nps":
        parts["_pro"] = w * (v >= 9)
        parts["_det"] = w * (v <= 6)
    elif sc.kind == "csat":
        parts["_top"] = w * (v > sc.hi - sc.top_box)
    else:
        parts["_sum"] = w * v
        parts["_sq"] = w * (v * v)
        low = (v > sc.hi - sc.low_effort_box) if sc.higher_is_easier else (v <= sc.low_effort_box)
        parts["_low"] = w * low
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
            out["ci_low"], out["ci_high"] = nps_interval(n, pro, det, confidence)
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
            out["ci_low"], out["ci_high"] = t_interval(mean, sd, n, confidence)
            low = g["_low"].to_numpy()
            out["low_effort"] = 100 * low / n
            lo, hi = wilson(low, n, z_score(confidence))
            out["low_effort_ci_low"], out["low_effort_ci_high"] = 100 * lo, 100 * hi
    return out


# =========================================================================== units and segments


def unit_column(log, unit: str) -> str:
    """The column that identifies one experience: 'case', 'customer' or any id column (e.g. a session id).

    >>> import journeylab as jl
    >>> unit_column(jl.datasets.load_example(), "case")
    'case'
    """
    if unit == "customer" and not log.has_role("customer"):
        raise SchemaError("unit='customer' needs a customer column, and the log has none; build the log with "
                          "customer=... or use unit='case' (or a session id column).")
    return log_column(log, unit, "unit")


def segment_columns(log, segment) -> list[str]:
    """The columns :func:`segment_series` reads for ``segment`` (besides ``case``), checked against the log.

    >>> import journeylab as jl
    >>> segment_columns(jl.datasets.load_example(), "resource")
    ['resource']
    """
    if segment is None:
        return []
    if isinstance(segment, str):
        return [log_column(log, segment, "segment")]
    return ["customer"] if log.has_role("customer") else []


def segment_series(log, segment, df: pd.DataFrame) -> pd.Series | None:
    """Segment label per event of ``df``: ``segment`` is a column name, or a Series / mapping case id ->
    segment (or customer id -> segment when the labels are customer ids). ``df`` holds the columns that
    :func:`segment_columns` names.

    >>> import pandas as pd, journeylab as jl
    >>> log = jl.datasets.load_example()
    >>> df = pd.DataFrame({"case": ["1", "2"], "activity": ["a", "b"]})
    >>> segment_series(log, {"1": "gold"}, df).tolist()
    ['gold', nan]
    """
    if segment is None:
        return None
    if isinstance(segment, str):
        log_column(log, segment, "segment")
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
                f"segment: none of the {len(seg):,} labels matches a case id of the log (e.g. "
                f"{cut(list(seg.index[:3]))} vs {cut(list(df['case'].unique()[:3]))}); index the Series by case "
                f"(or customer) id.")
        return out.rename("segment")
    raise InvalidParameterError(f"segment={cut(segment)} must be a column name or a Series mapping case id -> "
                                f"segment.")


# =========================================================================== the events in the engine


def _col(frame):
    """A column getter for ``where`` callables: the same code reads a pandas frame and an Ibis table."""
    return lambda name: frame[name]


def engine_times(ts: pd.Series) -> pd.Series:
    """Timestamps fetched from an engine as the in-memory log holds them: zone-aware, in microseconds.

    DuckDB returns ``timestamp with time zone`` columns aware already (returned as they are); Spark
    returns its TIMESTAMP (an instant) as naive values of the session's zone, which journeylab's Spark
    sessions set to UTC: those are read as UTC.

    >>> engine_times(pd.Series(pd.to_datetime(["2025-01-01 10:00"]))).dtype
    datetime64[us, UTC]
    """
    if not pd.api.types.is_datetime64_any_dtype(ts) or getattr(ts.dt, "tz", None) is not None:
        return ts
    return ts.dt.tz_localize("UTC").astype("datetime64[us, UTC]")


def known_table(log, *, quiet: bool = False):
    """Lazy log: its Ibis table with a customer id on every event, as
    :func:`journeylab._kernels.units.known_customers` gives it in memory (the case id where it is
    missing, ``"case <id>"`` when that id is also a real customer's), and the same warning, counted over
    the whole log in the engine (two small queries; ``quiet`` for a second use in the same analysis). The
    table itself when nothing is missing.
    """
    t = log.table
    if "customer" not in t.columns:
        return t
    miss = t.filter(t.customer.isnull())
    stats = execute(miss.aggregate(n=miss.count(), cases=miss.case.nunique()))
    n = int(stats["n"].iloc[0])
    if n == 0:
        return t
    known = t.filter(t.customer.notnull())
    clash = execute(miss.filter(miss.case.cast("string").isin(known.customer.cast("string")))
                    .select("case").distinct())["case"].astype(str).tolist()
    if not quiet:
        warn(f"{n:,} event(s) of {int(stats['cases'].iloc[0]):,} case(s) have no customer id; each of these cases "
             "counts as its own customer.")
    case = t.case.cast("string")
    fill = case.isin(clash).ifelse(ibis.literal("case ") + case, case) if clash else case
    return t.mutate(customer=t.customer.isnull().ifelse(fill, t.customer.cast("string")))


def events_where(log, columns, where=None) -> pd.DataFrame:
    """The events of ``log`` that ``where`` keeps, with the key columns, ``columns`` and ``_seq``.

    Like :func:`journeylab._kernels.events.events` (same columns, same order, same index in memory), but
    keeps only the rows for which ``where(col)`` is true, ``col(name)`` being a column: a pandas Series
    in memory, an Ibis column for a lazy log (the filter then runs in the engine, and only those rows
    come back). ``where`` must use operations both have: ``isin``, ``notnull``, ``&``, ``|``, ``~``.

    >>> import journeylab as jl
    >>> log = jl.datasets.load_example()
    >>> len(events_where(log, ["resource"], lambda c: c("activity").isin(["pay compensation"])))
    3
    """
    if not log.is_lazy or where is None:
        df = events(log, columns)
        return df if where is None else df[where(_col(df)).to_numpy(dtype=bool)]
    names = list(log.columns)
    extra = [c for c in dict.fromkeys(columns) if c not in KEY_COLUMNS]
    missing = [c for c in extra if c not in names]
    if missing:
        raise SchemaError(f"column(s) {cut(missing)} are not in the log; it has {cut(names, 200)}.")
    t = known_table(log) if "customer" in extra else log.table
    t = t.filter(where(_col(t)))
    out = execute(t.select(*KEY_COLUMNS, *extra, "_seq").order_by("_seq")).reset_index(drop=True)
    out["timestamp"] = engine_times(out["timestamp"])
    return out


def segment_table(log, t, segment):
    """Lazy log: ``t`` with the segment of each event in ``_seg`` (None without a segment).

    A column is read in the engine; a Series (case id -> label, or customer id -> label) is matched in
    Python to the distinct (case, customer) pairs (one row per case) and joined back as a small table.
    The labels are those of :func:`segment_series` (the column's values; the Series' labels).
    """
    if segment is None:
        return None
    segment_columns(log, segment)  # checks a column name
    if isinstance(segment, str):
        return t.mutate(_seg=t[segment])
    cols = ["case", *(["customer"] if "customer" in t.columns else [])]
    pairs = execute(t.group_by(cols).aggregate(_first=t._seq.min()).order_by("_first"))  # in log order
    lab = segment_series(log, segment, pairs)
    m = pd.DataFrame({"_case": pairs["case"].astype(str).to_numpy(), "_seg": lab.to_numpy()})
    m = m[m["_seg"].notna()].drop_duplicates("_case")
    if m.empty:
        return t.mutate(_seg=ibis.null().cast("string"))
    mt = ibis.memtable(m)
    return t.left_join(mt, t.case.cast("string") == mt._case).drop("_case")


def score_cells(log, score: str, columns: list[str], *, when: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lazy log: the events per cell and the answers per cell and answer value, counted in the engine.

    ``columns`` make a cell; ``when="day"`` adds the day of the event (in UTC, as a ``timestamp`` column)
    and ``when="timestamp"`` the timestamp itself. Returns ``(events, answers)``: the cell columns and
    ``n`` (events in the cell); the cell columns, ``score`` (one answer value) and ``n`` (answers with
    that value). Two ``GROUP BY``; what comes back is one row per cell (and answer value).
    """
    t = log.table
    cols = list(columns)
    if when == "day":
        t = t.mutate(_day=t.timestamp.truncate("D").cast(t.timestamp.type()))
        cols.append("_day")
    elif when == "timestamp":
        cols.append("timestamp")
    ev = execute(t.group_by(cols).aggregate(n=t.count()))
    a = t.filter(t[score].notnull())
    ans = execute(a.group_by([*cols, score]).aggregate(n=a.count()))
    out = []
    for f in (ev, ans):
        if when is not None:
            f = f.rename(columns={"_day": "timestamp"})
            f["timestamp"] = engine_times(f["timestamp"])
        out.append(f)
    return out[0], out[1]
