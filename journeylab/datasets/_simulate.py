"""The journey simulator: an omnichannel retailer's event log with known answers.

:func:`generate` runs the stages (customers, session plans, events, time, incidents, the
data end, campaigns, identifiers, surveys) on numpy arrays - no Python loop per customer
or event - and returns the events DataFrame, the journey definition (dict) and the truth.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._params import (
    ACTIVITIES,
    AGE_BANDS,
    CHANNELS,
    DEVICES,
    EMAIL,
    MILESTONE_ACTIVITIES,
    MILESTONES,
    REGIONS,
    STALL_AFTER,
    A,
    SimulationParams,
)
from ._plan import blocks, customers, expand, sessions
from ._timing import (
    fit_window,
    grid,
    incidents,
    place_sessions,
    rule_of,
    session_bounds,
    session_cumsum,
    shift_weeks_no_overlap,
    snap_sessions,
)
from ._touches import id_strings, identifiers, late_purchases, promo_waves, promos, suppression_times, surveys
from ._truth import STR, build_truth, names, str_index, to_timestamps

#: Event columns of the simulated log, in order.
COLUMNS = ("customer_id", "session_id", "timestamp", "activity", "channel", "amount", "campaign", "version",
           "nps", "csat", "ces", "cookie_id", "email_id", "phone_id", "loyalty_id", "age_band", "region", "device",
           "loyalty_member", "new_customer", "employee")
ID_COLUMNS = ("cookie_id", "email_id", "phone_id", "loyalty_id")
_ID_FORMAT = {"cookie_id": ("ck_", 0x9E3779B97F), "email_id": ("em_", 0xC2B2AE3D27), "phone_id": ("ph_", 0x165667B19F),
              "loyalty_id": ("ly_", 0xD6E8FEB866)}
PROGRESS_FROM = 200_000


def journey_definition() -> dict:
    """The designed journey of the simulated retailer, in the YAML/dict form of :class:`~journeylab.journey.Journey`."""
    milestones = [{"name": m, "activities": list(MILESTONE_ACTIVITIES[m])} for m in MILESTONES]
    milestones.append({"name": "complaint", "activities": ["complaint"], "kind": "negative", "optional": True})
    return {
        "name": "omnichannel purchase",
        "milestones": milestones,
        "entry": {"activities": [*MILESTONE_ACTIVITIES["explore"], "add_to_cart"]},
        "exit": {"activities": ["order_delivered", "click_and_collect", "cancel_order"]},
        "stall_after": {k: f"{v.days}d" for k, v in STALL_AFTER.items()},
        "phases": {
            "awareness": ["email_sent", "email_open", "email_click", "sms_sent", "sms_click", "view_offer",
                          "unsubscribe"],
            "consideration": ["view_product", "search", "read_reviews", "compare_products", "add_to_wishlist",
                              "check_stock", "store_visit"],
            "purchase": ["add_to_cart", "apply_coupon", "register", "checkout", "payment_failed", "purchase",
                         "cancel_order"],
            "delivery": ["order_delivered", "click_and_collect", "delivery_delayed"],
            "service": ["faq_view", "chat", "call_centre_contact", "complaint", "return_request"],
            "loyalty": ["review", "loyalty_redemption"],
        },
        "goal": {"type": "purchase", "activity": "purchase", "target": "50%", "window": "3d"},
    }


class _Stages:
    """A tqdm.auto progress bar over the generation stages (silent for small samples)."""

    def __init__(self, total: int, show: bool):
        self.bar = None
        if show:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="make_journeys", unit="stage", leave=False)

    def step(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(name)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _concat(parts: list[dict], defaults: dict) -> dict[str, np.ndarray]:
    """Concatenate event tables; a column a table lacks takes its default value."""
    return {k: np.concatenate([np.asarray(p[k], dtype=d.dtype) if k in p else np.full(len(p["c"]), d)
                               for p in parts]) for k, d in defaults.items()}


def _categorical(codes: np.ndarray, categories) -> pd.Categorical:
    """Integer codes (-1 = missing) as a categorical with ``str`` categories."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(np.asarray(categories), dtype=STR))


def generate(params: SimulationParams, *, progress: bool | None = None):
    """Run the simulation for validated ``params``: (events DataFrame, journey dict, JourneyTruth)."""
    show = params.n_customers >= PROGRESS_FROM if progress is None else bool(progress)
    stages = _Stages(9, show)
    try:
        return _generate(params, stages)
    finally:
        stages.close()


def _generate(params: SimulationParams, stages: _Stages):
    rng = np.random.default_rng(params.random_state)
    n = params.n_customers
    monday0, t0, t1 = grid(params)

    cust = customers(params, rng)
    plan = sessions(params, cust, rng)
    S = len(plan["c"])
    tok, tok_s, stall_before = blocks(params, cust, plan)
    ev = expand(params, cust, plan, tok, tok_s, stall_before, rng)
    del tok, tok_s, stall_before
    stages.step("sessions planned")

    # --- time: starts, opening hours, no overlap, the window, incidents
    starts = place_sessions(params, plan, cust["n_sessions"], rng)
    t = starts[ev["s"]] + session_cumsum(ev.pop("gap"), ev["s"])
    rule = rule_of(ev["act"], ev["chan"])
    jitter = np.floor(rng.random(len(t)) * 2700)
    t = snap_sessions(t, ev["s"], rule, jitter)
    t = shift_weeks_no_overlap(t, ev["s"], plan)
    t, _ = fit_window(params, t, ev["s"], plan, n, rng)
    t, inserted, incident_report = incidents(params, ev, t, rng)
    t = snap_sessions(t, ev["s"], rule, jitter)
    ev_incident = inserted.pop("incident_of_session_event")
    s_incident = np.full(S, -1, dtype=np.int8)
    hit = ev_incident >= 0
    s_incident[ev["s"][hit]] = ev_incident[hit]
    del rule, jitter
    stages.step("times")

    # --- the data end: events after it are not in the log; their sessions are in progress
    ev["t"] = t
    beyond = t >= t1
    s_in_progress = np.zeros(S, dtype=bool)
    s_in_progress[ev["s"][beyond]] = True
    keep = ~beyond
    ev = {k: v[keep] for k, v in ev.items()}
    if len(inserted["t"]):
        keep_i = inserted["t"] < t1
        s_in_progress[inserted["s"][~keep_i].astype(np.int64)] = True
        inserted = {k: v[keep_i] for k, v in inserted.items()}
    s_lo, s_hi = session_bounds(ev["t"], ev["s"], S)
    s_alive = ~np.isnan(s_lo)
    assert np.bincount(plan["c"][s_alive], minlength=n).min() > 0, "a customer lost every session"
    stages.step("data end")

    # --- around the sessions: late purchases, unsubscribes, promo waves
    late = late_purchases(params, plan, cust, s_hi, s_in_progress, rng)
    c_first = np.full(n, np.inf)
    c_last = np.full(n, -np.inf)
    np.minimum.at(c_first, plan["c"][s_alive], s_lo[s_alive])
    np.maximum.at(c_last, plan["c"][s_alive], s_hi[s_alive])
    sup_at = suppression_times(params, cust, c_first, c_last, rng)
    unsub = cust["suppressed"] & (sup_at < t1)
    sup_at = np.where(unsub, sup_at, np.inf)
    unsub_ev = dict(c=np.flatnonzero(unsub), act=np.full(int(unsub.sum()), A["unsubscribe"], dtype=np.int16),
                    chan=np.full(int(unsub.sum()), EMAIL, dtype=np.int8), t=sup_at[unsub])
    promo_ev, s_link = promos(params, cust, c_first, sup_at, np.where(s_alive, s_lo, np.inf), plan["c"], s_alive, rng)
    # the journey stops its reminders once a customer is suppressed
    reminder = (ev["camp"] >= 0) & (ev["t"] > sup_at[ev["c"]])
    ev = {k: v[~reminder] for k, v in ev.items()}
    stages.step("campaigns")

    defaults = dict(s=np.int32(-1), c=np.int32(0), act=np.int16(0), chan=np.int8(0), t=np.float64(0),
                    amount=np.float64(np.nan), camp=np.int8(-1), fr=np.float32(0), block=np.int8(0))
    allev = _concat([ev, inserted, late, unsub_ev, promo_ev], defaults)
    del ev, inserted, late, unsub_ev, promo_ev
    order = np.argsort(allev["c"].astype(np.int64) * np.int64(1 << 34) + np.rint(allev["t"]).astype(np.int64),
                       kind="stable")
    for k in defaults:  # one column at a time: the old one is freed before the next is copied
        allev[k] = allev[k][order]
    del order
    stages.step("sorted")

    c, s, act, chan = allev["c"], allev["s"], allev["act"], allev["chan"]
    ids = identifiers(params, cust, plan, c, s, act, chan, allev["block"], rng)
    stages.step("identifiers")
    session_order = np.argsort(s, kind="stable")
    nps, csat, ces, nps_info = surveys(params, cust, c, s, act, allev["fr"], session_order, rng)
    stages.step("surveys")

    cust_names, sess_names = names(n, plan["c"], plan["k"])
    frame = _frame(params, cust, plan, allev, ids, nps, csat, ces, monday0, cust_names, sess_names, rng)
    del nps, csat, ces, c, s, act, chan
    for k in ("amount", "camp", "chan", "block"):
        del allev[k]
    stages.step("frame")
    extra = dict(session_order=session_order, s_in_progress=s_in_progress, s_link=s_link, s_incident=s_incident,
                 sup_at=sup_at, incident_report=incident_report, nps_info=nps_info, waves=promo_waves(params))
    truth = build_truth(params, cust, plan, allev, ids, extra, monday0, cust_names, sess_names)
    stages.step("truth")
    return frame, journey_definition(), truth


def _frame(params, cust, plan, ev, ids, nps, csat, ces, monday0, cust_names, sess_names, rng) -> pd.DataFrame:
    c, s = ev["c"], ev["s"]
    waves = promo_waves(params)
    camp_names = ["cart_reminder", "sms_reminder"] + [f"promo_{i + 1:02d}" for i in range(len(waves))]
    version = np.where(cust["excluded"], -1, cust["version_b"].astype(np.int8))

    def survey(v):
        return pd.arrays.IntegerArray(np.where(v >= 0, v, 0).astype(np.int8), v < 0)

    data = {
        "customer_id": pd.Categorical.from_codes(c, categories=cust_names.rename(None)),
        "session_id": pd.Categorical.from_codes(s, categories=sess_names.rename(None)),
        "timestamp": to_timestamps(ev["t"], monday0).array,
        "activity": _categorical(ev["act"], ACTIVITIES),
        "channel": _categorical(ev["chan"], CHANNELS),
        "amount": ev["amount"],
        "campaign": _categorical(ev["camp"], camp_names),
        "version": _categorical(version[c], ["A", "B"]),
        "nps": survey(nps),
        "csat": survey(csat),
        "ces": survey(ces),
    }
    for col in ID_COLUMNS:
        prefix, mult = _ID_FORMAT[col]
        codes, strings = id_strings(ids[col], prefix, int(rng.integers(0, 1 << 40)), mult)
        data[col] = pd.Categorical.from_codes(codes, categories=str_index(strings))
    data["age_band"] = _categorical(cust["age"][c], AGE_BANDS)
    data["region"] = _categorical(cust["region"][c], REGIONS)
    data["device"] = _categorical(cust["device"][c], DEVICES)
    data["loyalty_member"] = cust["member"][c]
    data["new_customer"] = cust["new"][c]
    data["employee"] = cust["excluded"][c]
    return pd.DataFrame(data, columns=list(COLUMNS), copy=False)


def normalize_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The canonical dtypes of a simulated frame, restored after reading it back from Parquet
    (written without pandas metadata): Int8 survey answers, ms UTC timestamps, ``str`` categories."""
    out = df.copy()
    for col in ("nps", "csat", "ces"):
        out[col] = out[col].astype("Int8")
    out["timestamp"] = out["timestamp"].dt.tz_convert("UTC").astype("datetime64[ms, UTC]")
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype) and out[col].cat.categories.dtype != STR:
            out[col] = out[col].cat.rename_categories(pd.Index(out[col].cat.categories.astype(STR), dtype=STR))
    return out
