"""Touches around the sessions: promo waves, unsubscribes, late store purchases; then the
identifiers on each event and the survey answers (vectorised)."""

from __future__ import annotations

import numpy as np

from ._params import APP, CALL, EMAIL, SMS, STORE, WEB, A, SimulationParams
from ._plan import DAY, LOGGED_BLOCKS, lut, seg_values
from ._timing import HOUR, grid, snap_one

PROMO_EVERY_DAYS = 21
PROMO_SHARE = 0.35
LINK_WINDOW = 48 * HOUR

_BROWSING = ("view_product", "search", "view_offer", "read_reviews", "compare_products", "add_to_wishlist",
             "check_stock")
_NOT_TOUCHPOINT = ("email_sent", "email_open", "email_click", "sms_sent", "sms_click", "unsubscribe",
                   "delivery_delayed")
_CES_AT = ("register", "checkout", "payment_failed", "purchase", "click_and_collect", "chat", "call_centre_contact",
           "return_request", "cancel_order")
CSAT_THRESHOLDS = np.array([-1.7, -0.9, -0.25, 0.45])
CES_THRESHOLDS = np.array([-2.0, -1.4, -0.8, -0.25, 0.3, 0.9])


def _is(act: np.ndarray, names) -> np.ndarray:
    """Whether each activity code is one of ``names``."""
    return lut([A[a] for a in names], len(A))[act]


def promo_waves(params: SimulationParams) -> np.ndarray:
    """Send times of the promo waves (every 21 days from the 7th day, 09:00 UTC)."""
    _, t0, t1 = grid(params)
    first = np.floor(t0 / DAY) * DAY + 6 * DAY + 9 * HOUR
    return np.arange(first, t1, PROMO_EVERY_DAYS * DAY)


def promos(params, cust, c_first, sup_at, s_start, s_c, s_alive, rng) -> tuple[dict, np.ndarray]:
    """Promo e-mails / SMS sent to random customers in waves, and the clicks that open sessions.

    The sends are random and do not change what customers do: their causal effect on the goal
    is zero, but a session that starts within 48 hours of a send is often opened by clicking it.
    Returns the events and, per session, the wave number that opened it (-1 if none).
    """
    _, _, t1 = grid(params)
    waves = promo_waves(params)
    n, W = params.n_customers, len(waves)
    ev = {k: [] for k in ("s", "c", "act", "chan", "t", "camp")}
    s_link = np.full(len(s_c), -1, dtype=np.int16)
    if W == 0:
        return {k: np.zeros(0) for k in ev}, s_link
    entered = ~cust["excluded"]
    send_t = waves[None, :] + np.floor(rng.random((n, W)) * HOUR)
    target = (entered[:, None] & (rng.random((n, W)) < PROMO_SHARE)
              & (~cust["new"][:, None] | (send_t >= c_first[:, None])) & (send_t < sup_at[:, None]))
    sms = cust["phone"][:, None] & (rng.random((n, W)) < seg_values("sms_promo")[cust["seg"]][:, None])
    # sessions opened by the last send before them
    w = np.searchsorted(waves, s_start, side="right") - 1
    ok = s_alive & (w >= 0)
    wi = np.maximum(w, 0)
    dt = s_start - send_t[s_c, wi]
    click = ok & target[s_c, wi] & (dt >= 1800) & (dt <= LINK_WINDOW)
    click &= rng.random(len(s_c)) < seg_values("promo_click")[cust["seg"][s_c]]
    s_link[click] = wi[click]
    linked = np.zeros((n, W), dtype=bool)
    linked[s_c[click], wi[click]] = True
    cc, ww = np.nonzero(target)
    st = send_t[cc, ww]
    is_sms = sms[cc, ww]

    def add(s, c, act, chan, t, camp):
        n_ev = len(c)
        values = (np.broadcast_to(s, n_ev), c, np.broadcast_to(np.asarray(act, dtype=np.int16), n_ev),
                  np.broadcast_to(np.asarray(chan, dtype=np.int8), n_ev), t, camp)
        for key, value in zip(ev, values, strict=True):
            ev[key].append(np.array(value))

    add(-1, cc, np.where(is_sms, A["sms_sent"], A["email_sent"]), np.where(is_sms, SMS, EMAIL), st, ww + 2)
    # opens of the sends that opened no session
    op = ~is_sms & ~linked[cc, ww] & (rng.random(len(cc)) < 0.2)
    t_open = st + 600 + rng.exponential(5 * HOUR, len(cc))
    op &= t_open < t1
    add(-1, cc[op], A["email_open"], EMAIL, t_open[op], ww[op] + 2)
    # clicks that open a session (and the open before an e-mail click)
    sess = np.flatnonzero(click)
    ls = sms[s_c[sess], wi[sess]]
    start = s_start[sess]
    add(sess, s_c[sess], np.where(ls, A["sms_click"], A["email_click"]), np.where(ls, SMS, EMAIL), start - 60,
        wi[sess] + 2)
    e = ~ls
    add(sess[e], s_c[sess[e]], A["email_open"], EMAIL, start[e] - 120 - np.floor(rng.random(int(e.sum())) * 600),
        wi[sess[e]] + 2)
    out = {k: np.concatenate(v) for k, v in ev.items()}
    out["camp"] = out["camp"].astype(np.int8)
    return out, s_link


def suppression_times(params, cust, c_first, c_last, rng) -> np.ndarray:
    """When each suppressed customer unsubscribes (inf for the others): uniformly inside their journey."""
    _, _, t1 = grid(params)
    hi = np.minimum(c_last, t1 - 1)
    t = c_first + rng.random(len(c_first)) * np.maximum(hi - c_first, 0)
    return np.where(cust["suppressed"], np.floor(t), np.inf)


def late_purchases(params, plan, cust, s_hi, s_in_progress, rng) -> dict:
    """Store purchases 0.5-6 days after an abandoned last session (attribution-window cases)."""
    _, _, t1 = grid(params)
    last = np.cumsum(cust["n_sessions"]) - 1
    who = np.flatnonzero(plan["late"] & ~np.isnan(s_hi[last]) & ~s_in_progress[last])
    t = s_hi[last[who]] + DAY * (0.5 + 5.5 * rng.random(len(who)))
    t = snap_one(t, np.full(len(who), 2, dtype=np.int8), np.floor(rng.random(len(who)) * 2700))
    keep = t < t1
    who, t = who[keep], t[keep]
    return dict(s=np.full(len(who), -1), c=who, act=np.full(len(who), A["purchase"], dtype=np.int16),
                chan=np.full(len(who), STORE, dtype=np.int8), t=t, amount=plan["amount"][last[who]])


# --------------------------------------------------------------------------- identifiers


def identifiers(params, cust, plan, c, s, act, chan, block, rng) -> dict[str, np.ndarray]:
    """Serial numbers (or -1) of the cookie, e-mail, phone and loyalty ids each event carries."""
    E = len(c)
    S = len(plan["c"])
    n_cookies = cust["n_cookies"]
    slots = n_cookies + cust["n_sessions"]
    base = np.cumsum(slots) - slots
    sc = plan["c"]
    fresh = rng.random(S) < params.p_new_cookie
    idx = np.floor(rng.random(S) * n_cookies[sc]).astype(np.int64)
    s_cookie = base[sc] + np.where(fresh, n_cookies[sc] + plan["k"], idx)
    s_login = rng.random(S) < np.where(plan["chan"] == APP, 0.8, 0.4)
    member = cust["member"]
    s_store_card = member[sc] & (rng.random(S) < 0.85)
    s_app_card = member[sc] & (rng.random(S) < seg_values("app_card")[plan["seg"]])
    in_s = s >= 0
    ss = np.where(in_s, s, 0)
    u = [rng.random(E) for _ in range(3)]
    digital = (chan == WEB) | (chan == APP)
    phone = cust["phone"][c]
    logged = lut(LOGGED_BLOCKS, 16)[block] | (act == A["register"]) | (act == A["payment_failed"])
    has_email = (digital & in_s & (s_login[ss] | logged)) | (chan == EMAIL)
    has_email |= (chan == CALL) & ((u[0] < 0.7) | ~phone)
    # e-receipts and click & collect orders are looked up by e-mail
    has_email |= (chan == STORE) & (((act == A["purchase"]) & (u[0] < 0.5)) | (act == A["click_and_collect"]))
    has_phone = (chan == SMS) | ((chan == CALL) & phone)
    # phone numbers typed in at registration and checkout
    has_phone |= phone & digital & ((act == A["register"]) | ((act == A["checkout"]) & (u[1] < 0.5)))
    # a click in an e-mail / SMS lands on the site: the tracking link ties it to the session's cookie
    click = in_s & ((act == A["email_click"]) | (act == A["sms_click"]))
    cookie = np.where((digital | click) & in_s, s_cookie[ss], -1)
    card = np.where(in_s, s_store_card[ss], u[1] < 0.85)
    has_loyalty = member[c] & (((chan == STORE) & card) | ((chan == APP) & in_s & s_app_card[ss])
                               | ((chan == CALL) & (u[2] < 0.4)))
    return dict(cookie_id=cookie.astype(np.int32), email_id=np.where(has_email, c, -1).astype(np.int32),
                phone_id=np.where(has_phone, c, -1).astype(np.int32),
                loyalty_id=np.where(has_loyalty, c, -1).astype(np.int32))


def id_strings(serial: np.ndarray, prefix: str, key: int, mult: int) -> tuple[np.ndarray, np.ndarray]:
    """Category codes (-1 stays -1) and the sorted ids (bytes) of serial numbers.

    A serial maps to 40 bits by an affine bijection modulo 2**40, written as 10 hex digits,
    so ids look random, never collide, and sort like their numbers.
    """
    present = serial >= 0
    size = int(serial.max()) + 1 if present.any() else 0
    used = np.flatnonzero(np.bincount(serial[present], minlength=size) > 0)
    x = (used.astype(np.uint64) * np.uint64(mult) + np.uint64(key)) & np.uint64((1 << 40) - 1)
    order = np.argsort(x, kind="stable")
    code_of = np.full(size, -1, dtype=np.int32)
    code_of[used[order]] = np.arange(len(used), dtype=np.int32)
    codes = np.where(present, code_of[np.maximum(serial, 0)], -1).astype(np.int32)
    x = x[order]
    shifts = np.arange(36, -1, -4, dtype=np.uint64)
    digits = ((x[:, None] >> shifts[None, :]) & np.uint64(15)).astype(np.uint8)
    chars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[digits]
    pre = np.frombuffer(prefix.encode(), dtype=np.uint8)
    full = np.concatenate([np.broadcast_to(pre, (len(x), len(pre))), chars], axis=1)
    return codes, np.ascontiguousarray(full).view(f"S{full.shape[1]}").ravel()


# --------------------------------------------------------------------------- surveys


def surveys(params, cust, c, s, act, fr, order, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Survey answers per event (``-1`` = not asked): NPS 0-10, CSAT 1-5, CES 1-7 (7 = very easy).

    Each event has an experience ``x = quality + noise - friction_effect * (friction + 0.5 *
    friction of the previous event of the session)``. Panel customers answer CSAT at most
    touchpoints and NPS at the last touchpoint of each session; the NPS follows
    ``peak_weight * worst + end_weight * last + rest * mean`` of the answered touchpoints'
    experiences. Others answer now and then after a purchase or a call.
    Returns nps, csat, ces and, per NPS session, the peak / end / mean experience (for the truth).
    """
    E = len(c)
    in_s = s >= 0
    # ``order``: events by session, in time order (np.argsort(s, kind="stable") of time-sorted events)
    so = s[order]
    same = np.zeros(E, dtype=bool)
    same[1:] = (so[1:] == so[:-1]) & (so[1:] >= 0)
    pf = np.zeros(E, dtype=np.float32)
    pf[1:] = np.where(same[1:], fr[order][:-1], 0)
    prev_fr = np.empty(E, dtype=np.float32)
    prev_fr[order] = pf
    del pf, same, so
    x = cust["quality"][c] + rng.normal(0.0, 0.45, E) - params.friction_effect * (fr + 0.5 * prev_fr)
    del prev_fr
    touch = in_s & ~_is(act, _NOT_TOUCHPOINT)
    eligible = touch & ~_is(act, _BROWSING)
    panel = cust["panel"][c]
    u = rng.random(E)
    asked = panel & eligible & (u < 0.85)
    asked |= ~panel & (((act == A["purchase"]) & (u < 0.08)) | ((act == A["call_centre_contact"]) & (u < 0.15)))
    del u, eligible
    # the last touchpoint of each panel session carries the NPS question (and CSAT)
    t_order = order[touch[order]]
    ts = s[t_order]
    last = np.ones(len(ts), dtype=bool)
    last[:-1] = ts[:-1] != ts[1:]
    end_idx = t_order[last]
    end_idx = end_idx[panel[end_idx] & (rng.random(len(end_idx)) < 0.9)]
    del t_order, ts, last, touch
    asked[end_idx] = True
    ai = np.flatnonzero(asked)
    csat = np.full(E, -1, dtype=np.int8)
    csat[ai] = 1 + np.searchsorted(CSAT_THRESHOLDS, x[ai] + rng.normal(0.0, 0.35, len(ai)))
    ci = ai[_is(act[ai], _CES_AT)]
    ces = np.full(E, -1, dtype=np.int8)
    ces[ci] = 1 + np.searchsorted(CES_THRESHOLDS, x[ci] + rng.normal(0.0, 0.35, len(ci)))
    # peak-end: overall rating of each NPS session from its answered touchpoints
    nps = np.full(E, -1, dtype=np.int8)
    info = dict(session=np.zeros(0, dtype=np.int64), peak=np.zeros(0), end=np.zeros(0), mean=np.zeros(0))
    if len(end_idx):
        nps_sess = np.zeros(s.max() + 1 if E else 0, dtype=bool)
        nps_sess[s[end_idx]] = True
        a_idx = order[asked[order] & in_s[order]]
        a_idx = a_idx[nps_sess[s[a_idx]]]
        sa = s[a_idx]
        starts = np.flatnonzero(np.r_[True, sa[1:] != sa[:-1]])
        peak = np.minimum.reduceat(x[a_idx], starts)
        mean = np.add.reduceat(x[a_idx], starts) / np.diff(np.r_[starts, len(sa)])
        sess = sa[starts]
        end_x = np.empty(s.max() + 1)
        end_x[s[end_idx]] = x[end_idx]
        end = end_x[sess]
        wp, we = params.peak_weight, params.end_weight
        y = wp * peak + we * end + (1 - wp - we) * mean + rng.normal(0.0, 0.25, len(sess))
        score = np.clip(np.rint(7.6 + 2.2 * y + rng.normal(0.0, 0.7, len(sess))), 0, 10).astype(np.int8)
        by_s = np.full(s.max() + 1, -1, dtype=np.int8)
        by_s[sess] = score
        nps[end_idx] = by_s[s[end_idx]]
        info = dict(session=sess, peak=peak, end=end, mean=mean)
    return nps, csat, ces, info
