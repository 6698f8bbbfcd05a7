"""Time: when sessions start (hour-of-week seasonality), opening hours, incidents, the data end.

Internally a time is a float number of seconds since ``monday0``, the Monday 00:00 UTC on or
before the start of the window, so the hour of the week is ``(t // 3600) % 168``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._params import APP, CALL, EMAIL, FRICTION, STORE, WEB, A, SimulationParams
from ._plan import DAY, MIN_SESSION_GAP_DAYS, PURCHASE, first_in_run

WEEK = 7 * DAY
HOUR = 3600.0


def _profile(day_w, hour_w) -> np.ndarray:
    p = np.outer(np.asarray(day_w, float), np.asarray(hour_w, float)).ravel()
    return p / p.sum()


_WEB_HOURS = [1, .6, .4, .3, .3, .4, .8, 1.5, 2.2, 2.6, 2.8, 3, 3.2, 3, 2.8, 2.8, 3, 3.3, 3.8, 4.5, 5, 4.6, 3.5, 2]
_APP_HOURS = [1.2, .7, .4, .3, .3, .5, 1.2, 2.8, 3.2, 2.4, 2.2, 2.6, 3.4, 3, 2.4, 2.4, 2.8, 3.4, 4, 4.8, 5.5, 5.2, 4,
              2.4]
_STORE_HOURS = [0] * 9 + [1.5, 2.5, 3, 3.5, 3.5, 3, 3, 3.2, 3.5, 3.2, 1.5] + [0] * 4


def _store_profile() -> np.ndarray:
    day_w = [0.8, 0.8, 0.85, 0.9, 1.1, 1.7, 0.7]
    p = np.outer(day_w, _STORE_HOURS)
    p[6] = 0
    p[6, 10:16] = 0.7 * 2.5  # Sunday 10-16
    return (p / p.sum()).ravel()


#: start-of-session hour-of-week profiles, by session channel (web, app, store)
START_PROFILES = {
    WEB: _profile([1, 1, 1, 1, .95, 1.05, 1.15], _WEB_HOURS),
    APP: _profile([1, 1, 1, 1, 1.1, 1.2, 1.15], _APP_HOURS),
    STORE: _store_profile(),
}


def _open_mask(days: str, first: int, last: int, sunday: tuple[int, int] | None = None) -> np.ndarray:
    m = np.zeros((7, 24), dtype=bool)
    n_days = 6 if days == "mon-sat" else 7
    m[:n_days, first:last] = True
    if sunday is not None:
        m[6, sunday[0]:sunday[1]] = True
    return m.ravel()


#: opening hours (hour-of-week masks): 1 call centre, 2 stores, 3 deliveries
OPEN = {1: _open_mask("mon-sat", 8, 20), 2: _open_mask("mon-sat", 9, 20, (10, 16)), 3: _open_mask("mon-sat", 8, 20)}


def _next_open(mask: np.ndarray) -> np.ndarray:
    """Hours from each hour-of-week slot to the next open slot (0 when open)."""
    out = np.zeros(168, dtype=np.int64)
    for h in range(168):
        d = 0
        while not mask[(h + d) % 168]:
            d += 1
        out[h] = d
    return out


NEXT_OPEN = {r: _next_open(m) for r, m in OPEN.items()}


def grid(params: SimulationParams) -> tuple[pd.Timestamp, float, float]:
    """(monday0, start, end): the week grid origin and the window in seconds since it."""
    start = params.start
    monday0 = start.normalize() - pd.Timedelta(days=start.weekday())
    return monday0, (start - monday0).total_seconds(), (params.end - monday0).total_seconds()


def rule_of(act: np.ndarray, chan: np.ndarray) -> np.ndarray:
    """Which opening hours an event must respect: 0 none, 1 call centre, 2 store, 3 delivery."""
    r = np.zeros(len(act), dtype=np.int8)
    r[chan == CALL] = 1
    r[chan == STORE] = 2
    r[act == A["order_delivered"]] = 3
    return r


_CLOSED = np.zeros((4, 168), dtype=bool)  # rule x hour of the week; rule 0 is always open
for _r, _mask in OPEN.items():
    _CLOSED[_r] = ~_mask


def _closed(t: np.ndarray, rule: np.ndarray) -> np.ndarray:
    """Whether each time falls outside the opening hours of its rule."""
    return _CLOSED[rule, (np.floor(t / HOUR).astype(np.int64)) % 168]


def snap_one(t: np.ndarray, rule: np.ndarray, jitter: np.ndarray) -> np.ndarray:
    """Move each closed-hours time to the next opening (plus ``jitter`` seconds)."""
    t = t.copy()
    closed = _closed(t, rule)
    hours = np.floor(t / HOUR).astype(np.int64)
    for r in OPEN:
        sel = closed & (rule == r)
        t[sel] = (hours[sel] + NEXT_OPEN[r][hours[sel] % 168]) * HOUR + jitter[sel]
    return t


def session_cumsum(delta: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``delta`` restarting at each session (events contiguous per session)."""
    cs = np.cumsum(delta)
    first = np.ones(len(s), dtype=bool)
    first[1:] = s[1:] != s[:-1]
    f = np.maximum.accumulate(np.where(first, np.arange(len(s)), 0))
    return cs - (cs[f] - delta[f])


def snap_sessions(t: np.ndarray, s: np.ndarray, rule: np.ndarray, jitter: np.ndarray, max_iter: int = 40) -> np.ndarray:
    """Opening hours inside sessions: move the first closed-hours event of each session to the
    next opening and everything after it in the session by the same amount; repeat.

    Only the sessions that have a closed-hours event are touched (events contiguous per session).
    """
    closed = _closed(t, rule)
    if not closed.any():
        return t
    bad = np.zeros(int(s.max()) + 1, dtype=bool)
    bad[s[closed]] = True
    idx = np.flatnonzero(bad[s])
    sub_t, sub_s, sub_r, sub_j = t[idx], s[idx], rule[idx], jitter[idx]
    for _ in range(max_iter):
        cl = np.flatnonzero(_closed(sub_t, sub_r))
        if len(cl) == 0:
            break
        first = cl[first_in_run(sub_s[cl])]
        delta = np.zeros(len(sub_t))
        delta[first] = snap_one(sub_t[first], sub_r[first], sub_j[first]) - sub_t[first]
        sub_t = sub_t + session_cumsum(delta, sub_s)
    else:
        sub_t = snap_one(sub_t, sub_r, sub_j)
    out = t.copy()
    out[idx] = sub_t
    return out


def place_sessions(params: SimulationParams, plan: dict, n_sessions: np.ndarray, rng) -> np.ndarray:
    """Session start times: spread over the window, at least MIN_SESSION_GAP_DAYS apart before
    moving to an hour of the week drawn from the channel's profile."""
    _, t0, t1 = grid(params)
    c, k = plan["c"], plan["k"]
    S = len(c)
    v = rng.random(S)
    v_sorted = v[np.lexsort((v, c))]  # sessions are contiguous per customer: sorted within each customer
    gap = MIN_SESSION_GAP_DAYS * DAY
    span = (t1 - t0) - (n_sessions[c] - 1) * gap
    base = t0 + v_sorted * span + k * gap
    week = np.floor(base / WEEK) * WEEK
    t = np.full(S, np.nan)
    todo = np.arange(S)
    for _ in range(60):  # in a week cut by the window, draw again until the time is inside it
        t[todo] = week[todo] + _slots(plan["chan"][todo], rng) * HOUR + np.floor(rng.random(len(todo)) * HOUR)
        todo = todo[(t[todo] < t0) | (t[todo] >= t1)]
        if len(todo) == 0:
            break
    t = np.where(t < t0, t + np.ceil((t0 - t) / WEEK) * WEEK, t)
    return np.where(t >= t1, t - np.ceil((t - t1 + 1) / WEEK) * WEEK, t)


def _slots(chan: np.ndarray, rng) -> np.ndarray:
    """An hour of the week for each session, from its channel's profile."""
    slot = np.empty(len(chan), dtype=np.int64)
    for ch, prof in START_PROFILES.items():
        sel = chan == ch
        cdf = np.cumsum(prof)
        slot[sel] = np.minimum(np.searchsorted(cdf, rng.random(int(sel.sum())) * cdf[-1], side="right"), 167)
    return slot


def session_bounds(t: np.ndarray, s: np.ndarray, S: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last event time of each session (events contiguous per session, every session has events)."""
    first = np.ones(len(s), dtype=bool)
    first[1:] = s[1:] != s[:-1]
    idx = np.flatnonzero(first)
    lo = np.full(S, np.nan)
    hi = np.full(S, np.nan)
    lo[s[idx]] = np.minimum.reduceat(t, idx)
    hi[s[idx]] = np.maximum.reduceat(t, idx)
    return lo, hi


def shift_weeks_no_overlap(t: np.ndarray, s: np.ndarray, plan: dict) -> np.ndarray:
    """Move a session (and the later ones of its customer) by whole weeks when it would start less
    than a day after the previous one ended; whole weeks keep the hour-of-week of every event."""
    c = plan["c"]
    S = len(c)
    lo, hi = session_bounds(t, s, S)
    same = np.zeros(S, dtype=bool)
    same[1:] = c[1:] == c[:-1]
    shift = np.zeros(S)
    for _ in range(8):  # a shift moves the customer's later sessions too (cumulative per customer)
        prev = np.roll(hi + shift, 1)
        over = same & (lo + shift < prev + DAY)
        if not over.any():
            break
        need = np.where(over, np.ceil((prev + DAY - lo - shift) / WEEK) * WEEK, 0.0)
        shift += session_cumsum(need, c)
    return t + shift[s]


def fit_window(params: SimulationParams, t: np.ndarray, s: np.ndarray, plan: dict, n: int, rng) -> tuple[
        np.ndarray, np.ndarray]:
    """Make about ``p_in_progress`` of the customers still in their last session when the data ends.

    Some last sessions run past the end by themselves. If that is more than asked, some of
    those customers are moved back by whole weeks (which keeps every hour of the week); if it
    is less, customers whose last session starts in the final 14 days are made to pause in it
    long enough that the rest of the session falls after the end. Session starts keep their
    even spread over the window. Returns the new times and the customers in progress.
    """
    _, t0, t1 = grid(params)
    c = plan["c"]
    S = len(c)
    lo, hi = session_bounds(t, s, S)
    first_s = np.zeros(n, dtype=np.int64)
    last_s = np.zeros(n, dtype=np.int64)
    first_s[c[::-1]] = np.arange(S)[::-1]
    last_s[c] = np.arange(S)
    c_lo, c_last_lo, c_last_hi = lo[first_s], lo[last_s], hi[last_s]
    over = c_last_hi >= t1
    natural = over.mean() if n else 0.0
    p = params.p_in_progress
    u = rng.random(n)
    if p < natural:
        back = np.ceil((c_last_hi - t1 + 1) / WEEK) * WEEK
        movable = over & (c_lo - back >= t0)
        share = movable.mean()
        sel = movable & (u < ((natural - p) / share if share > 0 else 0.0))
        return t - np.where(sel, back, 0.0)[c[s]], over & ~sel
    count = np.bincount(s, minlength=S)
    cand = ~over & (c_last_lo >= t1 - 14 * DAY) & (count[last_s] >= 2)
    share = cand.mean()
    sel = cand & (u < (min(1.0, (p - natural) / share) if share > 0 else 0.0))
    first_ev = np.cumsum(count) - count
    who = np.flatnonzero(sel)
    last = last_s[who]
    split = first_ev[last] + 1 + np.floor(rng.random(len(who)) * (count[last] - 1)).astype(np.int64)
    delta = np.zeros(len(t))
    delta[split] = (t1 - t[split]) + 60 + rng.random(len(who)) * 7 * DAY
    return t + session_cumsum(delta, s), over | sel


def incidents(params: SimulationParams, ev: dict, t: np.ndarray, rng) -> tuple[np.ndarray, dict, list[dict]]:
    """Apply the planted incidents to the session events (times ``t``).

    Returns the shifted times, the inserted events (payment failures, delay notices, contacts,
    complaints) and one summary dict per incident.
    """
    monday0, _, _ = grid(params)
    s, act, chan = ev["s"], ev["act"], ev["chan"]
    ins = {k: [] for k in ("s", "c", "act", "chan", "t", "fr", "block")}
    report = []
    ev_incident = np.full(len(t), -1, dtype=np.int8)
    for i, inc in enumerate(params.incidents):
        a = (inc["start"] - monday0).total_seconds()
        b = (inc["end"] - monday0).total_seconds()
        if inc["kind"] == "payment_outage":
            hit = (act == A["purchase"]) & ((chan == WEB) | (chan == APP)) & (t >= a) & (t < b)
        else:
            hit = (act == A["order_delivered"]) & (t >= a) & (t < b)
        idx = np.flatnonzero(hit)
        idx = idx[rng.random(len(idx)) < inc["p_affected"]]
        m = len(idx)
        ti = t[idx]
        contact = rng.random(m) < inc["p_contact"]
        comp = contact & (rng.random(m) < 0.3)
        if inc["kind"] == "payment_outage":
            err = np.full(m, A["payment_failed"])
            err_chan, err_fr = chan[idx], FRICTION["payment_failed"]
            t_call = ti + np.minimum(120 + rng.exponential(1200.0, m), 0.9 * (b - ti))
            delta = (b - ti) + 1800 + rng.exponential(7200.0, m)
        else:
            err = np.full(m, A["delivery_delayed"])
            err_chan, err_fr = np.full(m, EMAIL, dtype=np.int8), FRICTION["delivery_delayed"]
            t_call = ti + 1800 + rng.exponential(2 * HOUR, m)
            delta = (b - ti) + DAY * (0.5 + 1.5 * rng.random(m))
            ev["fr"][idx] += FRICTION["late_delivery"]
        t_call = snap_one(t_call, np.ones(m, dtype=np.int8), np.floor(rng.random(m) * 2700))
        t_comp = t_call + 120 + rng.exponential(300.0, m)
        again = contact & (rng.random(m) < 0.4)  # a second call to chase it up
        t_again = snap_one(t_call + HOUR + rng.exponential(2 * HOUR, m), np.ones(m, dtype=np.int8),
                           np.floor(rng.random(m) * 2700))
        parts = [(np.ones(m, bool), ti, err, err_chan, err_fr, PURCHASE),
                 (contact, t_call, np.full(m, A["call_centre_contact"]), np.full(m, CALL, np.int8),
                  FRICTION["incident_call"], 6),
                 (again, t_again, np.full(m, A["call_centre_contact"]), np.full(m, CALL, np.int8),
                  FRICTION["incident_call"], 6),
                 (comp, t_comp, np.full(m, A["complaint"]), np.full(m, CALL, np.int8), FRICTION["complaint"], 6)]
        for sel, tt, aa, cc, ff, blk in parts:
            ins["s"].append(s[idx][sel])
            ins["c"].append(ev["c"][idx][sel])
            ins["act"].append(aa[sel].astype(np.int16))
            ins["chan"].append(np.asarray(cc)[sel].astype(np.int8))
            ins["t"].append(tt[sel])
            ins["fr"].append(np.full(int(sel.sum()), ff, dtype=np.float32))
            ins["block"].append(np.full(int(sel.sum()), blk, dtype=np.int8))
        d = np.zeros(len(t))
        d[idx] = delta
        t = t + session_cumsum(d, s)
        ev_incident[idx] = i
        report.append(dict(name=inc["name"], kind=inc["kind"], start=inc["start"], end=inc["end"],
                           affected=int(m), contacts=int(contact.sum() + again.sum()),
                           complaints=int(comp.sum())))
    inserted = {k: np.concatenate(v) if v else np.zeros(0) for k, v in ins.items()}
    inserted["incident_of_session_event"] = ev_incident
    return t, inserted, report
