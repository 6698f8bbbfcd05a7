"""Contact peaks: sudden surges of inbound contacts, and what happened just before them.

:func:`contact_peaks` counts the inbound contacts (events of a channel such as the call
centre) per period, removes the weekly (or daily) seasonality and the slow level changes
with medians, and flags the periods whose volume is a robust outlier. Each run of flagged
periods (an *episode*) comes with the activities that the contacting customers did just
before contacting, over-represented compared with contacts at normal times: a campaign
send, a payment error, a delivery delay.

The method, step by step (for the base period ``freq`` and again for every coarser
period in ``scales``, by default one day):

1. ``c_t`` = contacts in period ``t`` (periods in the log's wall-clock time, zeros
   included), put on the variance-stabilised scale ``y_t = 2 * sqrt(c_t + 3/8)``
   (Anscombe), where Poisson noise has unit variance whatever the level.
2. Seasonal baseline ``s_t``: the median of ``y`` over the history for the same slot of the
   week (``season="week"``: hour of week for hourly periods, day of week for daily ones),
   of the day (``"day"``), or 0.
3. Residual ``r_t = y_t - s_t``; its rolling median ``m_t`` and rolling MAD over ``window``
   (centred) give the local level and spread; ``sigma_t = max(1.4826 * MAD_t, 1)`` (never
   below the Poisson unit).
4. Robust z: ``z_t = (r_t - m_t) / sigma_t``; a period is a peak when ``z_t`` reaches the
   threshold of its scale and ``c_t >= min_volume``. ``threshold`` (default 5) applies to
   the base period; a period k times longer is tested at the z that keeps the expected
   number of false alarms per unit of time the same under a normal tail (``sf(z_k) = k *
   sf(threshold)``: 4.35 for days when hours use 5), since it is tested k times less often.
   A sustained surge counts too: a run of two or more consecutive periods, each with
   ``z >= run_z`` (default 3), whose combined z (Stouffer: sum / sqrt(length)) reaches the
   threshold. Expected volume = the back-transformed ``s_t + m_t``.
5. Peak periods of any scale that overlap or lie at most one base period apart form an
   *episode*. For each episode, and for every activity ``a`` outside the contacts: the
   share of its contacts whose customer did ``a`` within ``before`` before contacting,
   against the same share for the contacts outside every episode; lift = ratio of the two
   (add-half smoothed), with a one-sided binomial p-value.

>>> import numpy as np, pandas as pd, journeylab as jl
>>> rng = np.random.default_rng(0)
>>> hours = pd.date_range("2025-01-06", periods=24 * 7 * 6, freq="h")
>>> n = rng.poisson(3, len(hours))
>>> n[(hours >= "2025-02-05 09:00") & (hours < "2025-02-05 15:00")] += 40
>>> t = np.repeat(hours, n) + pd.to_timedelta(rng.uniform(0, 3600, n.sum()), unit="s")
>>> df = pd.DataFrame({"case": [f"c{i}" for i in range(len(t))], "activity": "call", "t": t,
...                    "channel": "call_centre"})
>>> peaks = contact_peaks(jl.from_pandas(df, case="case", activity="activity", timestamp="t",
...                                      channel="channel"))
>>> [str(d) for d in peaks.days]
['2025-02-05']

Where it runs: on a log that lives in DuckDB or Spark, the engine sends back the distinct (activity,
channel) pairs (to check the names), the contact events only (the columns read: kind (c) of the
push-down rule), and - when there are episodes - the (contact, activity) pairs of step 5, found by one
join of the contacts with the other events of the same unit within ``before`` (at most contacts x
activities rows). The series, the z-scores and the lifts are computed in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ._core.backend import execute, micros
from ._core.warn import warn
from ._core.formatting import cut, duration_spec
from ._core.names import did_you_mean
from ._core.results import FrozenMap, Result
from ._core.validation import LOG, Choice, Int, Optional, Real, Texts, checked, to_timedelta
from ._kernels.events import events
from ._kernels.survey import events_where, known_table
from ._kernels.units import known_customers
from .exceptions import DataQualityWarning, EmptyLogError, InvalidParameterError, SchemaError

__all__ = ["ContactPeaks", "contact_peaks"]

_WEEK = pd.Timedelta(days=7)
_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True, eq=False)
class ContactPeaks(Result):
    """Periods of unusually high inbound contact volume, from :func:`contact_peaks`.

    ``series``: every period at every scale - ``scale`` ("1h", "1d"...), ``period`` (start,
    in the log's zone), ``end``, ``volume``, ``expected``, ``z``, ``peak`` (bool),
    ``episode`` (number, or -1). :meth:`to_frame` gives the peak periods only.
    ``episodes``: one row per episode - ``episode``, ``start``, ``end``, ``scales`` (where it
    was detected), ``volume``, ``expected``, ``excess`` (volume - expected), ``max_z``,
    ``likely_causes`` (text: the top over-represented activities before the contacts).
    ``drivers``: tidy table per episode and activity - ``contacts``, ``contacts_with``
    (contacts whose customer did it within ``before``), ``share``, ``baseline_share``,
    ``lift``, ``p_value``; only those with lift >= ``min_lift`` and p < ``alpha``.
    """

    series: pd.DataFrame
    episodes: pd.DataFrame
    drivers: pd.DataFrame
    channel: tuple[str, ...]
    params: FrozenMap = field(default_factory=FrozenMap)

    def to_frame(self) -> pd.DataFrame:
        """The peak periods (rows of ``series`` with ``peak`` true)."""
        return self.series[self.series["peak"]].reset_index(drop=True)

    @property
    def days(self) -> list:
        """The calendar days (datetime.date, in the log's zone) that a peak period overlaps."""
        out = set()
        for st, en in zip(self.series.loc[self.series["peak"], "period"], self.series.loc[self.series["peak"], "end"]):
            out.update(pd.date_range(st.normalize(), en - pd.Timedelta(microseconds=1), freq="D").date)
        return sorted(out)

    @property
    def summary(self) -> pd.DataFrame:
        e = self.episodes
        if e.empty:
            return pd.DataFrame(columns=["start", "end", "volume", "expected", "max z", "likely causes"])
        return pd.DataFrame({
            "start": e["start"].dt.strftime("%Y-%m-%d %H:%M"),
            "end": e["end"].dt.strftime("%Y-%m-%d %H:%M"),
            "volume": e["volume"].map("{:,}".format),
            "expected": e["expected"].map("{:,.0f}".format),
            "max z": e["max_z"].map("{:.1f}".format),
            "likely causes": e["likely_causes"],
        })

    def __repr__(self) -> str:
        n_p = int(self.series["peak"].sum())
        return (f"ContactPeaks: {len(self.episodes):,} episode(s) on {len(self.days):,} day(s), {n_p:,} peak "
                f"period(s) at scales {', '.join(self.params['scales'])}; contacts = {', '.join(self.channel)} "
                f"(z >= {self.params['threshold']:g})")

    def plot(self, ax=None, **kw):
        """Volume per period against the expected volume, peaks marked and labelled with their likely cause."""
        from .plotting.kpi import plot_contact_peaks

        return plot_contact_peaks(self, ax=ax, **kw)


_NAMES = Texts(example="['call_centre', 'chat']")


def _contact_mask(log, df: pd.DataFrame, channel, activities) -> tuple[pd.Series, tuple[str, ...], object]:
    """The contact events of ``df``, the label of the contacts, and the same filter for a ``where`` callable
    (:func:`journeylab._kernels.survey.events_where`; an engine runs it). ``df`` may be the distinct
    (activity, channel) pairs of a lazy log: the checks and the label only read those."""
    channels = None if channel is None else _NAMES(channel, "channel")
    acts = None if activities is None else _NAMES(activities, "activities")
    mask = pd.Series(True, index=df.index)
    if channels is not None:
        if not log.has_role("channel"):
            raise SchemaError(f"channel={cut(channel)} needs a channel column, and the log has none; build the log "
                              f"with channel=... or pick the contact events with activities=[...] and channel=None.")
        present = sorted(df["channel"].dropna().unique().tolist())
        unknown = [c for c in channels if c not in present]
        if unknown:
            raise InvalidParameterError(f"channel {cut(unknown[0])} does not occur in the log. Channels: "
                                        f"{cut(present, 300)}." + did_you_mean(unknown[0], present))
        mask &= df["channel"].isin(channels)
    if acts is not None:
        present = sorted(df["activity"].unique().tolist())
        unknown = [a for a in acts if a not in present]
        if unknown:
            raise InvalidParameterError(f"activity {cut(unknown[0])} does not occur in the log."
                                        + did_you_mean(unknown[0], present) + " See log.activities.")
        mask &= df["activity"].isin(acts)
    if channels is None and acts is None:
        raise InvalidParameterError("give channel=... (e.g. 'call_centre') and/or activities=[...] to say which "
                                    "events are inbound contacts.")
    if not mask.any():
        raise EmptyLogError(f"no event matches channel={cut(channel)} and activities={cut(activities)} together.")
    label = tuple(channels) if channels is not None else tuple(acts)

    def where(c):
        conds = ([c("channel").isin(channels)] if channels is not None else []) + \
            ([c("activity").isin(acts)] if acts is not None else [])
        return conds[0] & conds[1] if len(conds) == 2 else conds[0]

    return mask, label, where


def _engine_had_before(log, who: str, where, contacts: pd.DataFrame, other_acts: list, before: pd.Timedelta):
    """Lazy log: :func:`_had_before` as one join in the engine - the (contact, activity) pairs where the same
    unit did the activity (outside the contacts) at most ``before`` before the contact; only those pairs
    come back (at most contacts x activities rows)."""
    t = known_table(log, quiet=True) if who == "customer" else log.table
    key = t[who]
    m = where(lambda name: t[name]).fill_null(False)
    us = micros(t.timestamp)
    c = t.filter(m).select(_k=key, _cus=us, _cseq=t._seq)
    o = t.filter(~m).select(_k2=key, _ous=us, _act=t.activity)
    j = c.join(o, [c._k == o._k2, o._ous <= c._cus, c._cus - o._ous <= int(before / pd.Timedelta(microseconds=1))])
    hits = execute(j.select("_cseq", "_act").distinct())
    H = pd.DataFrame(False, index=contacts.index, columns=pd.Index(other_acts))
    if len(hits):
        rows = pd.Index(contacts["_seq"].to_numpy()).get_indexer(hits["_cseq"].to_numpy())
        cols = H.columns.get_indexer(hits["_act"].to_numpy())
        arr = H.to_numpy(copy=True)
        ok = (rows >= 0) & (cols >= 0)
        arr[rows[ok], cols[ok]] = True
        H = pd.DataFrame(arr, index=contacts.index, columns=H.columns)
    return H


def _robust_z(counts: pd.Series, slot: pd.Series | None, window: pd.Timedelta):
    y = 2 * np.sqrt(counts.astype(float) + 3 / 8)
    seasonal = y.groupby(slot.to_numpy()).transform("median") if slot is not None else y * 0
    r = y - seasonal
    level = r.rolling(window, center=True, min_periods=1).median()
    mad = (r - level).abs().rolling(window, center=True, min_periods=1).median()
    sigma = np.maximum(1.4826 * mad, 1.0)
    z = (r - level) / sigma
    expected = np.maximum((((seasonal + level) / 2) ** 2) - 3 / 8, 0)
    return z, expected


def _had_before(contacts: pd.DataFrame, others: pd.DataFrame, who: str, before: pd.Timedelta) -> pd.DataFrame:
    """Boolean matrix contact x activity: did the same customer do the activity within ``before`` before?"""
    c = contacts[[who, "timestamp"]].reset_index().rename(columns={"index": "_row"}).sort_values("timestamp")
    out = {}
    for act, grp in others.groupby("activity", sort=True):
        g = grp[[who, "timestamp"]].rename(columns={"timestamp": "_t_act"}).sort_values("_t_act")
        m = pd.merge_asof(c, g, left_on="timestamp", right_on="_t_act", by=who, direction="backward",
                          allow_exact_matches=True)
        hit = (m["timestamp"] - m["_t_act"]) <= before
        out[act] = pd.Series(hit.fillna(False).to_numpy(), index=m["_row"].to_numpy())
    if not out:
        return pd.DataFrame(index=contacts.index)
    return pd.DataFrame(out).reindex(contacts.index).fillna(False).astype(bool)


def _lift_table(H: pd.DataFrame, in_ep: np.ndarray, base: np.ndarray) -> pd.DataFrame:
    n, nb = int(in_ep.sum()), int(base.sum())
    if n == 0 or nb == 0 or H.shape[1] == 0:
        return pd.DataFrame(columns=["activity", "contacts", "contacts_with", "share", "baseline_share", "lift",
                                     "p_value"])
    k = H[in_ep].sum().to_numpy()
    kb = H[base].sum().to_numpy()
    share = k / n
    base_share = kb / nb
    lift = ((k + 0.5) / (n + 1)) / ((kb + 0.5) / (nb + 1))
    p0 = np.clip((kb + 0.5) / (nb + 1), 1e-12, 1)
    p = stats.binom.sf(k - 1, n, p0)
    return pd.DataFrame({"activity": H.columns, "contacts": n, "contacts_with": k.astype(int), "share": share,
                         "baseline_share": base_share, "lift": lift, "p_value": p})


@checked(log=LOG, season=Choice("week", "day", None),
         threshold=Real(0, low_open=True, example=5, what="a positive number (a robust z)"),
         run_z=Optional(Real(0, low_open=True, what="a positive number (e.g. 3) or None")),
         min_volume=Int(minimum=0, example=5), top=Int(minimum=0, example=3), min_lift=Real(0, example=1.5),
         alpha=Real(0, 1, low_open=True, high_open=True, example=0.01, what="a number between 0 and 1"),
         unit=Optional(Choice("case", "customer")))
def contact_peaks(log, *, channel="call_centre", activities=None, freq="1h", scales=("1d",),
                  season: str | None = "week", window="56d", threshold: float = 5.0, run_z: float | None = 3.0,
                  min_volume: int = 5, before="1d", top: int = 3, min_lift: float = 1.5, alpha: float = 0.01,
                  unit: str | None = None, tz: str | None = None) -> ContactPeaks:
    """Find the periods whose inbound contact volume is a robust outlier, and their likely causes.

    See the module docstring for the method.

    Parameters
    ----------
    log : EventLog
        The events, the inbound contacts among them.
    channel : str or list of str, default "call_centre"
        The channel value(s) of inbound contacts; None to use ``activities`` alone.
    activities : str or list of str, optional
        Restrict the contacts to these activities (e.g. ``["inbound_call"]``).
    freq : str or Timedelta, default "1h"
        Period length (``"1h"``, ``"30min"``, ``"1d"``); must divide the season.
    scales : sequence of str, default ("1d",)
        Coarser period lengths also tested (multiples of ``freq``): a sustained surge - an
        incident adding two calls an hour all day - hides in the hour-by-hour noise but is plain
        in the daily volume. ``()`` tests ``freq`` only.
    season : {"week", "day", None}, default "week"
        The seasonal slot (``"week"``: hour of week for hourly periods). Needs three full
        seasons of history; with less, it falls back (with a warning).
    window : str or Timedelta, default "56d"
        Length of the rolling median / MAD (centred; eight weeks, so that an incident of a week
        barely moves the level).
    threshold : float, default 5.0
        Robust z from which a base period is a peak; coarser scales use the equivalent threshold
        described in the module docstring.
    run_z : float or None, default 3.0
        The z each period of a sustained run must reach (None: no run detection).
    min_volume : int, default 5
        Periods with fewer contacts are never peaks.
    before : str or Timedelta, default "1d"
        How far back from each contact the customer's other activities are looked at.
    top : int, default 3
        How many likely causes are named per episode.
    min_lift : float, default 1.5
        The lift a likely cause needs.
    alpha : float, default 0.01
        The one-sided binomial p-value a likely cause must stay below.
    unit : {"customer", "case"}, optional
        Whose activities are looked at (default: the customer when the log has one).
    tz : str, optional
        Time zone for the wall-clock periods and slots (default: the log's zone).

    Returns
    -------
    ContactPeaks
        Every period at every scale with its expected volume and z, the episodes with their likely
        causes, and the over-represented activities before the contacts of each episode.

    Examples
    --------
    >>> import numpy as np, pandas as pd, journeylab as jl
    >>> hours = pd.date_range("2025-01-06", periods=24 * 7 * 4, freq="h")
    >>> n = np.random.default_rng(1).poisson(2, len(hours))
    >>> n[hours == "2025-01-22 10:00"] += 60
    >>> df = pd.DataFrame({"case": [f"c{i}" for i in range(n.sum())], "activity": "call",
    ...                    "t": np.repeat(hours, n), "channel": "call_centre"})
    >>> log = jl.from_pandas(df, case="case", activity="activity", timestamp="t", channel="channel")
    >>> peaks = contact_peaks(log, channel="call_centre", window="14d")
    >>> peaks.to_frame()[["scale", "period", "volume"]].head(1)
      scale                    period  volume
    0    1h 2025-01-22 10:00:00+00:00      64
    """
    freq_td = to_timedelta(freq, name="freq")
    window_td = to_timedelta(window, name="window")
    before_td = to_timedelta(before, name="before")
    who = unit or ("customer" if log.has_role("customer") else "case")
    if who == "customer" and not log.has_role("customer"):
        raise SchemaError("unit='customer' needs a customer column; the log has none. Use unit='case'.")
    cols = (["channel"] if log.has_role("channel") else []) + (["customer"] if who == "customer" else [])
    if log.is_lazy:  # the checks read the distinct (activity, channel) pairs; only the contacts come back
        pairs = execute(log.table.select("activity", *(["channel"] if log.has_role("channel") else [])).distinct())
        pair_mask, label, where = _contact_mask(log, pairs, channel, activities)
        other_acts = sorted(pairs.loc[~pair_mask.to_numpy(), "activity"].unique().tolist())
        df = events_where(log, cols, where)
        if who == "customer":
            df = known_customers(df)
        mask = pd.Series(True, index=df.index)
    else:
        df = events(log, cols)
        if who == "customer":
            df = known_customers(df)  # a case without a customer id is its own customer
        mask, label, _ = _contact_mask(log, df, channel, activities)
    zone = tz or str(df["timestamp"].dt.tz)
    try:
        wall = df["timestamp"].dt.tz_convert(zone).dt.tz_localize(None)
    except (KeyError, ValueError, TypeError):
        raise InvalidParameterError(f"tz={cut(tz)} is not a time zone name; use e.g. 'Europe/Paris' or "
                                    "'UTC'.") from None
    cycle = {"week": _WEEK, "day": _DAY, None: None}[season]
    if _DAY % freq_td != pd.Timedelta(0) and freq_td % _DAY != pd.Timedelta(0):
        raise InvalidParameterError(f"freq={freq!r} must divide a day (e.g. '1h', '30min') or be whole days ('1d').")
    if cycle is not None and freq_td < cycle and cycle % freq_td != pd.Timedelta(0):
        raise InvalidParameterError(f"freq={freq!r} does not divide one {season} into periods; use e.g. '1h' or "
                                    f"'30min'{' or 1d' if season == 'week' else ''}, or season=None.")
    scale_list = [freq_td]
    for sc in ([] if scales is None else [scales] if isinstance(scales, str) else list(scales)):
        sc_td = to_timedelta(sc, name="scales")
        if sc_td <= freq_td:
            continue
        if sc_td % freq_td != pd.Timedelta(0) or (_DAY % sc_td != pd.Timedelta(0) and sc_td % _DAY != pd.Timedelta(0)) \
                or (cycle is not None and sc_td < cycle and cycle % sc_td != pd.Timedelta(0)):
            raise InvalidParameterError(f"scales: {sc!r} must be a multiple of freq={freq!r} that divides "
                                        f"one {season or 'day'}, e.g. '6h' or '1d'.")
        scale_list.append(sc_td)
    scale_list = sorted(set(scale_list))
    t = wall[mask]
    start = t.min().normalize()
    span = max(scale_list)
    n_periods = int(-(-((t.max() - start) // freq_td + 1) // (span // freq_td)) * (span // freq_td))
    periods = ((t - start) // freq_td).astype("int64")
    base_counts = np.bincount(periods.to_numpy(), minlength=n_periods)
    history = n_periods * freq_td
    if cycle is not None and history < 3 * cycle:
        fallback = "day" if season == "week" and history >= 3 * _DAY and freq_td < _DAY else None
        warn(f"only {history} of contacts: too short for season={season!r} (needs 3 full {season}s); "
                      f"using season={fallback!r}.", DataQualityWarning)  # past @checked
        cycle = {"day": _DAY, None: None}[fallback]
        season = fallback

    frames = []
    for sc in scale_list:
        k = sc // freq_td
        counts_sc = base_counts.reshape(-1, k).sum(axis=1)
        index = pd.date_range(start, periods=len(counts_sc), freq=sc)
        counts_s = pd.Series(counts_sc, index=index)
        slot = None
        if cycle is not None and sc < cycle:  # a scale as long as the season has no seasonal slots
            anchor = index.normalize() - pd.to_timedelta(index.day_of_week if season == "week" else 0, unit="D")
            slot = pd.Series(((index - anchor) // sc).astype("int64"), index=index)
        z, expected = _robust_z(counts_s, slot, window_td)
        thr = _scale_threshold(threshold, k)
        peak = (z >= thr) & (counts_s >= min_volume)
        if run_z is not None:
            peak |= _sustained(z.to_numpy(), run_z, thr) & (counts_s >= min_volume)
        frames.append(pd.DataFrame({"scale": duration_spec(sc), "period": index, "end": index + sc,
                                    "volume": counts_sc, "expected": expected.to_numpy(), "z": z.to_numpy(),
                                    "threshold": thr, "peak": peak.to_numpy()}))
    series = pd.concat(frames, ignore_index=True)
    hits = series[series["peak"]].sort_values(["period", "end"])
    # episodes: union of the flagged intervals (any scale), merged when at most one base period apart
    intervals = []
    for st, en in zip(hits["period"], hits["end"]):
        if intervals and st <= intervals[-1][1] + freq_td:
            intervals[-1][1] = max(intervals[-1][1], en)
        else:
            intervals.append([st, en])
    series["episode"] = -1
    for e, (st, en) in enumerate(intervals):
        series.loc[series["peak"] & (series["period"] >= st) & (series["end"] <= en), "episode"] = e

    # likely causes: what the contacting customers did just before
    contacts = df[mask]
    others = df[~mask]
    c_episode = np.full(len(contacts), -1)
    tv = t.to_numpy()
    for e, (st, en) in enumerate(intervals):
        c_episode[(tv >= np.datetime64(st)) & (tv < np.datetime64(en))] = e
    base = c_episode == -1
    if not intervals:
        H = pd.DataFrame(index=contacts.index)
    elif log.is_lazy:
        H = _engine_had_before(log, who, where, contacts, other_acts, before_td)
    else:
        H = _had_before(contacts, others, who, before_td)
    base_series = frames[0].set_index("period")
    driver_rows, ep_rows = [], []
    for e, (st, en) in enumerate(intervals):
        in_ep = c_episode == e
        lifts = _lift_table(H, in_ep, base)
        if not lifts.empty:
            lifts = lifts[(lifts["lift"] >= min_lift) & (lifts["p_value"] < alpha) & (lifts["contacts_with"] >= 3)]
            lifts = lifts.sort_values(["p_value", "lift"], ascending=[True, False]).head(top)
            lifts.insert(0, "episode", e)
            driver_rows.append(lifts)
        causes = "; ".join(f"{a} ({sh:.0%} of contacts vs {bs:.1%} usually)" for a, sh, bs in
                           zip(lifts["activity"], lifts["share"], lifts["baseline_share"])) if len(lifts) else "-"
        inside = base_series.loc[(base_series.index >= st) & (base_series.index < en)]
        rows = series[series["episode"] == e]
        ep_rows.append({"episode": e, "start": st, "end": en,
                        "scales": ", ".join(sorted(rows["scale"].unique(), key=lambda x: pd.Timedelta(
                            x.replace("d", "D")))),
                        "volume": int(inside["volume"].sum()), "expected": float(inside["expected"].sum()),
                        "excess": float((inside["volume"] - inside["expected"]).sum()),
                        "max_z": float(rows["z"].max()), "likely_causes": causes})
    episodes = pd.DataFrame(ep_rows, columns=["episode", "start", "end", "scales", "volume", "expected", "excess",
                                              "max_z", "likely_causes"])
    drivers = (pd.concat(driver_rows, ignore_index=True) if driver_rows and any(len(d) for d in driver_rows)
               else pd.DataFrame(columns=["episode", "activity", "contacts", "contacts_with", "share",
                                          "baseline_share", "lift", "p_value"]))
    # periods back in the zone (wall clock -> aware)
    for frame, cols in ((series, ("period", "end")), (episodes, ("start", "end"))):
        for c in cols:
            frame[c] = pd.DatetimeIndex(frame[c]).tz_localize(zone, ambiguous="NaT", nonexistent="shift_forward")
    params = {"channel": channel, "activities": activities, "freq": str(freq), "run_z": run_z,
              "scales": [duration_spec(x) for x in scale_list], "season": season, "window": str(window),
              "threshold": float(threshold), "min_volume": min_volume, "before": str(before), "top": top,
              "min_lift": min_lift, "alpha": alpha, "unit": who, "tz": zone}
    return ContactPeaks(series=series, episodes=episodes, drivers=drivers, channel=label, params=params)


def _sustained(z: np.ndarray, run_z: float, thr: float) -> np.ndarray:
    """Periods in a run of >= 2 consecutive periods each with z >= run_z whose Stouffer z
    (sum / sqrt(length)) reaches thr."""
    high = np.nan_to_num(z, nan=-np.inf) >= run_z
    out = np.zeros(len(z), dtype=bool)
    i = 0
    while i < len(z):
        if not high[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(z) and high[j + 1]:
            j += 1
        if j > i and z[i:j + 1].sum() / np.sqrt(j - i + 1) >= thr:
            out[i:j + 1] = True
        i = j + 1
    return out


def _scale_threshold(threshold: float, k: int) -> float:
    """The z threshold for periods k times longer than the base period: the one that keeps the
    expected number of false alarms per unit of time equal (under a normal tail)."""
    if k == 1:
        return float(threshold)
    return float(stats.norm.isf(min(k * stats.norm.sf(threshold), 0.5)))

