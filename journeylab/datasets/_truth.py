"""What was planted in a simulated sample: per customer, per session, and the effect sizes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._params import (
    ACTIVITIES,
    CHANNELS,
    FRICTION,
    MILESTONE_ACTIVITIES,
    MILESTONES,
    SEGMENT_NAMES,
    A,
    SimulationParams,
    segment_table,
)
from ._plan import first_in_run

#: The text dtype of the simulated data: pandas' default ``str`` with Arrow storage, spelled out
#: so that a changed ``mode.string_storage`` option does not change the data.
STR = pd.StringDtype(storage="pyarrow", na_value=np.nan)


def to_timestamps(t: np.ndarray, monday0: pd.Timestamp) -> pd.Series:
    """Seconds since ``monday0`` (NaN / inf allowed) as a tz-aware UTC datetime64[ms] Series (rounded to seconds)."""
    base = int(monday0.timestamp())
    ok = np.isfinite(t)
    ms = np.zeros(len(t), dtype=np.int64)
    ms[ok] = (np.rint(t[ok]).astype(np.int64) + base) * 1000
    arr = ms.view("datetime64[ms]").copy()
    arr[~ok] = np.datetime64("NaT")
    return pd.Series(arr).dt.tz_localize("UTC")


def str_index(fixed: np.ndarray, name: str | None = None) -> pd.Index:
    """A ``str`` Index from a numpy bytes array (``S`` dtype, ASCII), through Arrow (fast)."""
    import pyarrow as pa

    arr = pa.array(np.ascontiguousarray(fixed), type=pa.binary()).cast(pa.string())
    return pd.Index(pd.array(arr, dtype=STR), name=name)


def ascii_rows(*parts) -> np.ndarray:
    """Join byte columns into one fixed-width bytes array: each part is a ``(n, k)`` uint8 array
    or a ``bytes`` constant."""
    n = max(len(p) for p in parts if not isinstance(p, bytes))
    cols = [np.broadcast_to(np.frombuffer(p, dtype=np.uint8), (n, len(p))) if isinstance(p, bytes) else p
            for p in parts]
    full = np.ascontiguousarray(np.concatenate(cols, axis=1))
    return full.view(f"S{full.shape[1]}").ravel()


def digits(numbers: np.ndarray, width: int) -> np.ndarray:
    """Zero-padded decimal digits of non-negative integers as a ``(n, width)`` uint8 array of ASCII."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return ((np.asarray(numbers, dtype=np.int64)[:, None] // powers) % 10 + 48).astype(np.uint8)


def names(n: int, c: np.ndarray, k: np.ndarray) -> tuple[pd.Index, pd.Index]:
    """Customer ids ``C000001`` ... and session ids ``C000001-1`` ... (sessions of customer ``c``, number ``k + 1``)."""
    width = max(6, len(str(n)))
    cust = digits(np.arange(1, n + 1), width)
    customers = str_index(ascii_rows(b"C", cust), "customer_id")
    sessions = str_index(ascii_rows(b"C", cust[c], b"-", digits(k + 1, 1)), "session_id")
    return customers, sessions


def milestone_number(act: np.ndarray) -> np.ndarray:
    """1..5 for the activities that mark a milestone of the happy path, 0 otherwise."""
    table = np.zeros(len(ACTIVITIES), dtype=np.int8)
    for i, m in enumerate(MILESTONES):
        for a in MILESTONE_ACTIVITIES[m]:
            table[A[a]] = i + 1
    return table[act]


def _names(values: np.ndarray, names, none_below: int = 1, ordered: bool = False) -> pd.Categorical:
    """Codes as a categorical of ``names`` (code ``none_below`` is the first name; lower codes are missing)."""
    codes = np.asarray(values, dtype=np.int64) - none_below
    return pd.Categorical.from_codes(np.where(codes >= 0, codes, -1), ordered=ordered,
                                     categories=pd.Index(list(names), dtype=STR))


def truth_categories(params: SimulationParams) -> dict[str, tuple[tuple[str, ...], bool]]:
    """Categories (and whether ordered) of the categorical columns of the truth tables."""
    m = (tuple(MILESTONES), True)
    return {"segment": (tuple(SEGMENT_NAMES), False), "version": (("A", "B"), False),
            "channel": (tuple(CHANNELS), False), "furthest": m, "furthest_planned": m, "abandoned_at": m,
            "skipped": m, "loop_at": m, "out_of_order": (("explore/cart", "cart/checkout"), False),
            "incident": (tuple(i["name"] for i in params.incidents), False)}


def _components(ids: dict[str, np.ndarray], c: np.ndarray, n: int) -> np.ndarray:
    """Per customer, how many separate identities their identifiers form (1 = fully stitchable).

    Each identifier value is a node; the identifiers seen on the same event are linked; the
    answer is the number of connected components among the customer's nodes.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    offsets, total = [], 0
    for v in ids.values():
        offsets.append(total)
        total += int(v.max()) + 1 if len(v) and v.max() >= 0 else 0
    used = np.zeros(total, dtype=bool)
    node_c = np.zeros(total, dtype=np.int32)
    n_ids = np.zeros(len(c), dtype=np.int8)
    for off, v in zip(offsets, ids.values(), strict=True):
        ok = v >= 0
        node = v[ok] + np.int32(off)
        used[node] = True
        node_c[node] = c[ok]
        n_ids += ok
    # links: on events with two or more ids, each id to the first one
    multi = np.flatnonzero(n_ids >= 2)
    del n_ids
    anchor = np.full(len(multi), -1, dtype=np.int32)
    rows, cols = [], []
    for off, v in zip(offsets, ids.values(), strict=True):
        vm = v[multi]
        ok = vm >= 0
        node = np.where(ok, vm + np.int32(off), -1)
        link = ok & (anchor >= 0)
        rows.append(anchor[link])
        cols.append(node[link])
        anchor = np.where(anchor < 0, node, anchor)
    r, q = np.concatenate(rows), np.concatenate(cols)
    del rows, cols, multi, anchor
    graph = coo_matrix((np.ones(len(r), dtype=np.int8), (r, q)), shape=(total, total)).tocsr()
    n_comp, labels = connected_components(graph, directed=False)
    nodes = np.flatnonzero(used)
    comp_used = np.zeros(n_comp, dtype=bool)
    comp_used[labels[nodes]] = True
    comp_c = np.zeros(n_comp, dtype=np.int64)
    comp_c[labels[nodes]] = node_c[nodes]
    return np.bincount(comp_c[comp_used], minlength=n)


def normalize_table(df: pd.DataFrame, index: str | None = None, categories: dict | None = None) -> pd.DataFrame:
    """Canonical dtypes of a truth table: categoricals with fixed categories, other text as ``str``,
    times in ms UTC, a ``str`` index."""
    out = df.set_index(index) if index is not None else df.copy()
    out.index = pd.Index(out.index.astype(STR), name=out.index.name, dtype=STR)
    categories = categories or {}
    for col in out.columns:
        s = out[col]
        if col in categories:
            names, ordered = categories[col]
            cats = pd.Index(list(names), dtype=STR)
            if isinstance(s.dtype, pd.CategoricalDtype):
                s = s.cat.rename_categories(s.cat.categories.astype(STR)).cat.set_categories(cats, ordered=ordered)
            else:
                s = pd.Series(pd.Categorical(s.astype(object).where(s.notna(), None), categories=cats,
                                             ordered=ordered), index=s.index)
            out[col] = s
        elif isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
            s = s.dt.tz_localize("UTC") if getattr(s.dt, "tz", None) is None else s.dt.tz_convert("UTC")
            out[col] = s.astype("datetime64[ms, UTC]")
        elif pd.api.types.is_string_dtype(s.dtype) or s.dtype == object:
            out[col] = s.astype(STR)
    return out


def build_truth(params: SimulationParams, cust: dict, plan: dict, ev: dict, ids: dict, extra: dict,
                monday0: pd.Timestamp, cust_names: pd.Index, sess_names: pd.Index) -> JourneyTruth:
    """Compute the truth tables from the plan and the final (sorted, cut) events."""
    n = params.n_customers
    S = len(plan["c"])
    s, c, t, act = ev["s"], ev["c"], ev["t"], ev["act"]
    in_s = s >= 0
    ss = s[in_s]
    # events by session, in time order: the first and last give the bounds
    order = extra["session_order"]
    order = order[s[order] >= 0]
    so = s[order]
    starts = np.flatnonzero(first_in_run(so))
    ends = np.r_[starts[1:], len(so)] - 1
    lo = np.full(S, np.inf)
    hi = np.full(S, -np.inf)
    lo[so[starts]] = t[order[starts]]
    hi[so[starts]] = t[order[ends]]
    alive = np.isfinite(lo)
    furthest = np.zeros(S, dtype=np.int8)
    furthest[so[starts]] = np.maximum.reduceat(milestone_number(act[order]), starts)
    del order, so
    friction_s = np.bincount(ss, weights=ev["fr"][in_s], minlength=S)
    in_prog = extra["s_in_progress"]
    sc = plan["c"]
    version = np.where(cust["excluded"], -1, cust["version_b"].astype(np.int64))

    # --- sessions
    info = extra["nps_info"]
    peak = np.full(S, np.nan)
    endx = np.full(S, np.nan)
    meanx = np.full(S, np.nan)
    peak[info["session"]], endx[info["session"]], meanx[info["session"]] = info["peak"], info["end"], info["mean"]
    stall = plan["stall"]
    cand = plan["present"][:, 1:3] & (plan["pos"][:, 1:3] >= 1)
    sess = pd.DataFrame({
        "customer_id": cust_names[sc].array,
        "session": plan["k"] + 1,
        "segment": _names(plan["seg"], SEGMENT_NAMES, 0),
        "version": _names(version[sc], ("A", "B"), 0),
        "channel": _names(plan["chan"], CHANNELS, 0),
        "start": to_timestamps(np.where(alive, lo, np.nan), monday0).array,
        "end": to_timestamps(np.where(alive, hi, np.nan), monday0).array,
        "furthest": _names(furthest, MILESTONES, ordered=True),
        "furthest_planned": _names(plan["L_planned"], MILESTONES, ordered=True),
        "abandoned_at": _names(np.where(~in_prog & (furthest < 5), furthest, 0), MILESTONES, ordered=True),
        "completed": furthest == 5,
        "in_progress": in_prog,
        "skipped": _names(plan["skipped"], MILESTONES, ordered=True),
        "out_of_order": _names(plan["swap_first"], ("explore/cart", "cart/checkout")),
        "loop_possible": cand.any(axis=1),
        "loop_at": _names(plan["loop_m"], MILESTONES, ordered=True),
        "n_loops": plan["n_loops"].astype(np.int64),
        "n_support": plan["n_support"].astype(np.int64),
        "stalled_cart": stall[:, 0],
        "stalled_checkout": stall[:, 1],
        "recovered": plan["recovered"],
        "promo_wave": np.where(extra["s_link"] >= 0, extra["s_link"] + 1, 0).astype(np.int64),
        "incident": _names(extra["s_incident"].astype(np.int64), [i["name"] for i in params.incidents], 0),
        "friction": friction_s,
        "experience_peak": peak,
        "experience_end": endx,
        "experience_mean": meanx,
    }, index=sess_names, copy=False)
    if not alive.all():
        sess = sess[alive]

    # --- customers
    entered = ~cust["excluded"]
    n_sess = np.bincount(sc[alive], minlength=n)
    c_first = np.full(n, np.inf)
    c_last = np.full(n, -np.inf)
    np.minimum.at(c_first, sc[alive], lo[alive])
    np.maximum.at(c_last, sc[alive], hi[alive])
    sup_at = extra["sup_at"]
    buy = act == A["purchase"]
    bc, bt = c[buy], t[buy]
    first_buy = np.full(n, np.inf)
    np.minimum.at(first_buy, bc, bt)
    window = params.window.total_seconds()
    ok = entered[bc] & (bt >= c_first[bc]) & (bt <= c_last[bc] + window) & (bt < sup_at[bc])
    conv_at = np.full(n, np.inf)
    np.minimum.at(conv_at, bc[ok], bt[ok])
    prog_c = np.zeros(n, dtype=bool)
    prog_c[sc[alive & in_prog]] = True
    rec_c = np.zeros(n, dtype=bool)
    rec_c[sc[alive & plan["recovered"]]] = True
    late_c = np.zeros(n, dtype=bool)
    late_c[c[buy & ~in_s]] = True
    customers = pd.DataFrame({
        "segment": _names(cust["seg"], SEGMENT_NAMES, 0),
        "version": _names(version, ("A", "B"), 0),
        "excluded": cust["excluded"],
        "entered": entered,
        "entered_at": to_timestamps(np.where(entered, c_first, np.nan), monday0).array,
        "journey_end": to_timestamps(c_last, monday0).array,
        "suppressed": np.isfinite(sup_at),
        "suppressed_at": to_timestamps(sup_at, monday0).array,
        "converted": np.isfinite(conv_at),
        "converted_at": to_timestamps(conv_at, monday0).array,
        "purchased": np.isfinite(first_buy),
        "first_purchase_at": to_timestamps(first_buy, monday0).array,
        "n_purchases": np.bincount(bc, minlength=n),
        "n_sessions": n_sess,
        "in_progress": prog_c,
        "recovered": rec_c,
        "late_purchase": late_c,
        "friction": np.bincount(c, weights=ev["fr"], minlength=n),
        "id_components": _components(ids, c, n),
        "panel": cust["panel"],
        "quality": cust["quality"],
    }, index=cust_names, copy=False)

    rates = customers[customers["entered"]].groupby("version", observed=True)["converted"].mean()
    incidents = pd.DataFrame(extra["incident_report"],
                             columns=["name", "kind", "start", "end", "affected", "contacts", "complaints"])
    effects = {
        "ab_lift": params.ab_lift,
        "realized_lift": float(rates.get("B", np.nan) - rates.get("A", np.nan)),
        "conversion_rate": {k: float(v) for k, v in rates.items()},
        "recovery_rate": float(plan["recovery_rate"]),
        "eligible_share": float(plan["eligible_share"]),
        "campaign_effects": {"sms_reminder": params.ab_lift, "cart_reminder": 0.0, "promo": 0.0},
        "deviation_rates": {"skip": params.p_skip, "out_of_order": params.p_out_of_order, "loop": params.p_loop,
                            "support_detour": params.p_support, "stall": params.p_stall},
        "abandonment": dict(params.abandonment),
        "survey": {"peak_weight": params.peak_weight, "end_weight": params.end_weight,
                   "mean_weight": round(1 - params.peak_weight - params.end_weight, 12),  # 0.2, not 0.19999999999999996
                   "friction_effect": params.friction_effect},
        "friction_points": dict(FRICTION),
        "incident_days": sorted({str(d.date()) for inc in params.incidents
                                 for d in pd.date_range(inc["start"].normalize(), inc["end"] - pd.Timedelta(seconds=1),
                                                        freq=pd.Timedelta(days=1))}),
        "goal": {"activity": "purchase", "window": "3d"},
        "exclusion": "employee == True (never enter the journey)",
        "suppression": "the unsubscribe event (removed from the journey at that time)",
        "promo_waves": [str(x) for x in to_timestamps(extra["waves"], monday0)],
    }
    return JourneyTruth(customers=customers, sessions=sess, params=params, segments=segment_table(params),
                        incidents=incidents, effects=effects)


@dataclass(frozen=True)
class JourneyTruth:
    """The known answers of a simulated sample.

    Attributes
    ----------
    customers : DataFrame indexed by ``customer_id`` - ``segment``, ``version`` (A/B, None when
        excluded), ``excluded``, ``entered``, ``entered_at``, ``journey_end`` (last event of the last
        session), ``suppressed`` / ``suppressed_at``, ``converted`` / ``converted_at`` (the goal under
        the counting rules: entered, first purchase between entry and ``journey_end`` + 3 days, before
        any suppression), ``purchased``, ``first_purchase_at``, ``n_purchases``, ``n_sessions``,
        ``in_progress``, ``recovered`` (brought back by version B's SMS), ``late_purchase``, ``friction``
        (sum of friction points), ``id_components`` (separate identities; 1 = fully stitchable),
        ``panel`` (survey panel), ``quality`` (baseline satisfaction).
    sessions : DataFrame indexed by ``session_id`` - planted deviations and realised outcome of each
        journey session (``furthest``, ``abandoned_at``, ``skipped``, ``out_of_order``, ``loop_at``,
        ``n_support``, ``stalled_cart``, ``incident``, ``experience_peak`` ...).
    params : the :class:`SimulationParams` that produced the sample.
    segments : per-segment planted rates (weight, expected sessions, p_support, p_loop, ...).
    incidents : one row per planted incident (window, affected events, extra contacts).
    effects : dict of effect sizes (A/B lift planted and realised, campaign effects, deviation
        rates, abandonment, survey weights, incident days, friction points).
    """

    customers: pd.DataFrame
    sessions: pd.DataFrame
    params: SimulationParams
    segments: pd.DataFrame
    incidents: pd.DataFrame
    effects: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        e = self.effects
        return (f"JourneyTruth: {len(self.customers):,} customers in {self.segments.shape[0]} segments, "
                f"{len(self.sessions):,} sessions, A/B lift {e.get('ab_lift', 0):+.3f} planted "
                f"({e.get('realized_lift', float('nan')):+.3f} realised), {len(self.incidents)} incident(s)")

    def summary(self) -> pd.DataFrame:
        """Planted parameter next to the value realised in this sample, one row per quantity.

        >>> from journeylab.datasets import make_journeys
        >>> s = make_journeys(2000, random_state=1).truth.summary()
        >>> list(s.columns)
        ['planted', 'realized', 'population']
        """
        p, ss, cu = self.params, self.sessions, self.customers
        done = ss[~ss["in_progress"]]
        rows = []
        deep = ss[ss["furthest_planned"].isin(["checkout", "purchase", "receive"])]
        rows.append(("p_skip", p.p_skip, deep["skipped"].notna().mean(), "sessions planned to reach checkout"))
        rows.append(("p_out_of_order", p.p_out_of_order, deep["out_of_order"].notna().mean(),
                     "sessions planned to reach checkout"))
        lp = ss[ss["loop_possible"]]
        rows.append(("p_loop", p.p_loop, lp["loop_at"].notna().mean(), "sessions where a loop is possible"))
        rows.append(("p_support", p.p_support, (ss["n_support"] > 0).mean(), "all sessions"))
        a_only = done[(done["version"] != "B") & ~done["recovered"]]
        order = list(MILESTONES)
        rank = a_only["furthest"].map({m: i for i, m in enumerate(order)})
        for i, m in enumerate(order[:-1]):
            reached = rank >= i
            rows.append((f"abandonment[{m}]", p.abandonment[m], float((rank[reached] == i).mean()),
                         "finished version-A / excluded sessions reaching it"))
        rows.append(("reentry", p.reentry, cu["n_sessions"].mean() - 1, "extra sessions per customer"))
        rows.append(("p_in_progress", p.p_in_progress, cu["in_progress"].mean(), "customers"))
        rows.append(("p_excluded", p.p_excluded, cu["excluded"].mean(), "customers"))
        rows.append(("p_suppressed", p.p_suppressed, cu.loc[cu["entered"], "suppressed"].mean(), "entered customers"))
        rows.append(("ab_lift", p.ab_lift, self.effects["realized_lift"], "goal rate B - A, entered customers"))
        out = pd.DataFrame(rows, columns=["quantity", "planted", "realized", "population"]).set_index("quantity")
        out["planted"] = out["planted"].astype(float)
        out["realized"] = out["realized"].astype(float)
        return out


@dataclass(frozen=True)
class JourneySample:
    """A simulated (or bundled) sample: ``log`` (EventLog), ``journey`` (Journey) and ``truth`` (JourneyTruth)."""

    log: Any
    journey: Any
    truth: JourneyTruth

    def __repr__(self) -> str:
        log = self.log
        name = getattr(self.journey, "name", "?")
        return (f"JourneySample: {log.n_cases:,} customers, {log.n_events:,} events, journey {name!r}; "
                f"attributes .log, .journey, .truth")
