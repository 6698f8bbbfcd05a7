"""Customers, journey sessions and the blocks each session is made of (vectorised).

A session is planned as a sequence of *blocks* (a milestone, a loop back, a support
detour, a reminder, after-sales...) before any event exists: the furthest milestone is
drawn with the abandonment probabilities, then the deviations are applied to the order
of the blocks. ``expand`` turns blocks into events with activities, channels, friction and
the gap (seconds) before each event.
"""

from __future__ import annotations

import numpy as np

from ..exceptions import InvalidParameterError
from ._params import (
    ABANDON_AT,
    APP,
    CALL,
    EMAIL,
    FRICTION,
    GLOBAL_AGE,
    GLOBAL_DEVICE,
    GLOBAL_REGION,
    SEGMENT_NAMES,
    SEGMENTS,
    SMS,
    STALL_AFTER,
    STORE,
    WEB,
    A,
    SimulationParams,
    segment_table,
)

# block (token) types
EXPLORE, CART, CHECKOUT, PURCHASE, RECEIVE = 1, 2, 3, 4, 5
SUPPORT, POST, CANCEL, SMS_REMINDER, EMAIL_REMINDER = 6, 7, 8, 9, 10
EXPLORE_LOOP, CART_LOOP, CHECKOUT_LOOP, SMS_RECOVERED = 11, 12, 13, 14
#: blocks whose events are made while the customer is logged in (they carry the e-mail id)
LOGGED_BLOCKS = (CHECKOUT, CHECKOUT_LOOP, PURCHASE, CANCEL, POST)
NO_KEY = np.int16(32767)
DAY = 86400.0
MIN_SESSION_GAP_DAYS = 10


def _cat(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One categorical draw per row: ``probs[rows[i]]`` is the distribution of draw i (inverse CDF)."""
    cdf = np.cumsum(np.atleast_2d(probs), axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(rows))
    out = np.zeros(len(rows), dtype=np.int8)
    last = cdf.shape[1] - 1
    for g in range(cdf.shape[0]):
        sel = np.flatnonzero(rows == g) if cdf.shape[0] > 1 else slice(None)
        out[sel] = np.minimum(np.searchsorted(cdf[g], u[sel], side="right"), last)
    return out


def lut(codes, size: int) -> np.ndarray:
    """Boolean lookup table: ``lut(codes, n)[x]`` is ``x in codes`` (faster than np.isin)."""
    table = np.zeros(size, dtype=bool)
    table[list(codes)] = True
    return table


def first_in_run(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the first element of each run of equal values (``values`` grouped)."""
    out = np.ones(len(values), dtype=bool)
    out[1:] = values[1:] != values[:-1]
    return out


def seg_values(key: str) -> np.ndarray:
    """A per-segment setting of SEGMENTS as an array (indexed by segment code)."""
    return np.array([SEGMENTS[s][key] for s in SEGMENT_NAMES], dtype=float)


def _within(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., c-1 for every group of ``counts`` (position inside its group)."""
    total = int(counts.sum())
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - starts


def customers(params: SimulationParams, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-customer draws: segment, attributes, flags, planned number of sessions."""
    n = params.n_customers
    w = np.array([params.segment_weights[s] for s in SEGMENT_NAMES])
    seg = _cat(rng, w[None, :], np.zeros(n, dtype=np.int64))
    s = params.attribute_strength

    def mixed(key, glob):
        table = np.array([SEGMENTS[name][key] for name in SEGMENT_NAMES], dtype=float)
        return _cat(rng, s * table + (1 - s) * np.asarray(glob)[None, :], seg)

    age, region, device = mixed("age", GLOBAL_AGE), mixed("region", GLOBAL_REGION), mixed("device", GLOBAL_DEVICE)
    member_p = s * seg_values("member")[seg] + (1 - s) * 0.4
    member = rng.random(n) < member_p
    new = rng.random(n) < 0.35
    excluded = rng.random(n) < params.p_excluded
    phone = rng.random(n) < params.p_phone
    panel = rng.random(n) < params.p_panel
    version_b = (rng.random(n) < 0.5) & ~excluded
    suppressed = (rng.random(n) < params.p_suppressed) & ~excluded
    quality = seg_values("quality")[seg] + rng.normal(0.0, 0.35, n)
    reentry = segment_table(params)["reentry"].to_numpy()[seg]
    cap = min(8, 1 + (params.days - 1) // MIN_SESSION_GAP_DAYS)
    n_sessions = np.minimum(1 + rng.poisson(reentry), cap).astype(np.int64)
    n_cookies = 1 + np.minimum(rng.poisson(0.6, n), 3)
    return dict(seg=seg, age=age, region=region, device=device, member=member, new=new, excluded=excluded,
                phone=phone, panel=panel, version_b=version_b, suppressed=suppressed, quality=quality,
                n_sessions=n_sessions, n_cookies=n_cookies)


def sessions(params: SimulationParams, cust: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Per-session plan: channel, furthest milestone, deviations, reminders, recovery (version B)."""
    n_s = cust["n_sessions"]
    S = int(n_s.sum())
    c = np.repeat(np.arange(len(n_s), dtype=np.int64), n_s)
    k = _within(n_s)
    seg = cust["seg"][c]
    seg_tab = segment_table(params)
    chan_probs = np.array([[SEGMENTS[s]["channels"].get(ch, 0.0) for ch in ("web", "app", "store")]
                           for s in SEGMENT_NAMES])
    chan = np.array([WEB, APP, STORE], dtype=np.int8)[_cat(rng, chan_probs, seg)]

    # furthest milestone L (1..5) from the abandonment probabilities
    a = np.array([params.abandonment[m] for m in ABANDON_AT])
    cont = rng.random((S, 4)) >= a[None, :]
    L = (1 + np.cumprod(cont, axis=1).sum(axis=1)).astype(np.int8)

    # skip or out-of-order (exclusive), for sessions that reach checkout
    elig = L >= 3
    u = rng.random(S)
    skip = elig & (u < params.p_skip)
    ooo = elig & (u >= params.p_skip) & (u < params.p_skip + params.p_out_of_order)
    coin = rng.random(S) < 0.5
    skipped = np.where(skip, np.where((L == 3) | coin, 2, 3), 0).astype(np.int8)  # 2 cart, 3 checkout
    swap_first = np.where(ooo, np.where(coin, 1, 2), 0).astype(np.int8)  # swap (1,2) or (2,3)

    # milestone keys: 10, 20, ..., 50; absent milestones get NO_KEY
    m_idx = np.arange(1, 6, dtype=np.int16)
    keys = np.broadcast_to(10 * m_idx, (S, 5)).copy()
    present = (m_idx[None, :] <= L[:, None]) & (m_idx[None, :] != skipped[:, None])
    rows = np.flatnonzero(ooo)
    f = swap_first[rows].astype(np.int64) - 1
    keys[rows, f], keys[rows, f + 1] = keys[rows, f + 1].copy(), keys[rows, f].copy()
    keys = np.where(present, keys, NO_KEY)
    order = np.argsort(keys, axis=1, kind="stable")  # milestone ids (0-based) in travel order
    pos = np.argsort(order, axis=1, kind="stable")  # position of each milestone in travel order
    n_present = present.sum(axis=1)

    # loops: go back one block and redo cart or checkout (rework)
    cand = present[:, 1:3] & (pos[:, 1:3] >= 1)
    n_cand = cand.sum(axis=1)
    p_loop = seg_tab["p_loop"].to_numpy()[seg]
    loop = (n_cand > 0) & (rng.random(S) < p_loop)
    pick3 = np.where(n_cand == 2, rng.random(S) < 0.5, cand[:, 1])
    loop_m = np.where(loop, np.where(pick3, 3, 2), 0).astype(np.int8)  # milestone number
    lm0 = np.maximum(loop_m.astype(np.int64) - 1, 0)
    pred_pos = np.maximum(pos[np.arange(S), lm0] - 1, 0)
    loop_pred = (order[np.arange(S), pred_pos] + 1).astype(np.int8)  # milestone number of the predecessor
    heavy = np.array([s == "support_heavy" for s in SEGMENT_NAMES])[seg]
    n_loops = np.where(loop, 1 + (rng.random(S) < np.where(heavy, 0.45, 0.2)), 0).astype(np.int8)

    # support detours after a random milestone block
    p_sup = seg_tab["p_support"].to_numpy()[seg]
    n_support = np.where(rng.random(S) < p_sup, 1 + (rng.random(S) < np.where(heavy, 0.35, 0.1)), 0).astype(np.int8)
    sup_after = np.minimum((rng.random((S, 2)) * n_present[:, None]).astype(np.int64), n_present[:, None] - 1)

    # stalls: a long wait after cart / checkout before the next block
    stall = np.zeros((S, 2), dtype=bool)
    for j, m in enumerate((2, 3)):
        has_next = present[:, m - 1] & (pos[:, m - 1] < n_present - 1)
        stall[:, j] = has_next & (rng.random(S) < params.p_stall)

    coupon = rng.random(S) < seg_values("coupon")[seg]
    amount = np.round(seg_values("amount_median")[seg]
                      * rng.lognormal(0.0, seg_values("amount_sigma")[seg])
                      * np.where(coupon, 0.85, 1.0), 2)
    collect = rng.random(S) < np.where(chan == STORE, 0.7, seg_values("collect")[seg])
    plan = dict(c=c, k=k, seg=seg, chan=chan, L=L, L_planned=L.copy(), skipped=skipped, swap_first=swap_first,
                keys=keys, present=present, order=order, pos=pos, loop_m=loop_m, loop_pred=loop_pred,
                n_loops=n_loops, n_support=n_support, sup_after=sup_after, stall=stall, coupon=coupon,
                amount=amount, collect=collect)
    _plan_outcomes(params, cust, plan, rng)
    return plan


def _plan_outcomes(params: SimulationParams, cust: dict, plan: dict, rng: np.random.Generator) -> None:
    """Late purchases, and the version-B recovery that plants the A/B lift."""
    n = params.n_customers
    c, L = plan["c"], plan["L"]
    bought = np.zeros(n, dtype=bool)
    bought[c[L >= 4]] = True
    last = np.cumsum(cust["n_sessions"]) - 1
    cart_abandon = (L == 2) | (L == 3)
    late = ~bought & cart_abandon[last] & (rng.random(n) < params.p_late_purchase)
    has_cart_ab = np.zeros(n, dtype=bool)
    has_cart_ab[c[cart_abandon]] = True
    entered = ~cust["excluded"]
    eligible = entered & ~cust["suppressed"] & ~bought & ~late & cust["phone"] & has_cart_ab
    share = eligible.sum() / max(entered.sum(), 1)
    if params.ab_lift > share and entered.sum() >= 1000:
        raise InvalidParameterError(
            f"ab_lift={params.ab_lift:g} is more than version B can add: only {share:.3f} of the customers are "
            "abandoners that an SMS reminder can bring back with these parameters. Lower ab_lift, or raise the "
            "abandonment at cart/checkout or p_phone."
        )
    rho = min(1.0, params.ab_lift / share) if share > 0 else 0.0
    recovered_c = eligible & cust["version_b"] & (rng.random(n) < rho)
    # the first cart/checkout-abandoned session of a recovered customer is brought back
    cand = np.flatnonzero(cart_abandon & recovered_c[c])
    rec = np.zeros(len(c), dtype=bool)
    rec[cand[first_in_run(c[cand])]] = True
    plan.update(recovered=rec, late=late, recovery_rate=rho, eligible_share=share, eligible=eligible)


def blocks(params: SimulationParams, cust: dict, plan: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The blocks of every session in travel order: (block type, session index, stall-before flag)."""
    S = len(plan["c"])
    keys = np.full((S, 18), NO_KEY, dtype=np.int16)
    tok = np.zeros((S, 18), dtype=np.int8)
    stall_flag = np.zeros((S, 18), dtype=np.int8)  # 2 = after cart, 3 = after checkout
    mk = plan["keys"]
    keys[:, :5] = mk
    tok[:, :5] = np.arange(1, 6, dtype=np.int8)
    stall_flag[:, 1] = np.where(plan["stall"][:, 0], 2, 0)
    stall_flag[:, 2] = np.where(plan["stall"][:, 1], 3, 0)
    rows = np.arange(S)
    # loops: copies of (predecessor, milestone) right after the milestone
    lm, lp, nl = plan["loop_m"].astype(np.int64), plan["loop_pred"].astype(np.int64), plan["n_loops"]
    base = mk[rows, np.maximum(lm - 1, 0)]
    for it in range(2):
        on = nl > it
        keys[:, 5 + 2 * it] = np.where(on, base + 1 + 2 * it, NO_KEY)
        keys[:, 6 + 2 * it] = np.where(on, base + 2 + 2 * it, NO_KEY)
        tok[:, 5 + 2 * it] = 10 + lp
        tok[:, 6 + 2 * it] = 10 + lm
    # support detours after the milestone at a random travel position
    ns = plan["n_support"]
    for j in range(2):
        ms = plan["order"][rows, plan["sup_after"][:, j]]
        keys[:, 9 + j] = np.where(ns > j, mk[rows, ms] + 5 + j, NO_KEY)
        tok[:, 9 + j] = SUPPORT
    L = plan["L"]
    keys[:, 11] = np.where(L == 4, 45, NO_KEY)
    tok[:, 11] = CANCEL
    rec = plan["recovered"]
    entered = ~cust["excluded"][plan["c"]]
    cart_ab = ((L == 2) | (L == 3)) & entered
    sms = cart_ab & cust["version_b"][plan["c"]] & cust["phone"][plan["c"]]
    keys[:, 12] = np.where(sms, 93, NO_KEY)
    tok[:, 12] = np.where(rec, SMS_RECOVERED, SMS_REMINDER)
    keys[:, 13] = np.where(cart_ab & ~rec, 96, NO_KEY)
    tok[:, 13] = EMAIL_REMINDER
    for j, m in enumerate((3, 4, 5)):  # continuation of a recovered session
        keys[:, 14 + j] = np.where(rec & (m > L), 100 + 10 * m, NO_KEY)
        tok[:, 14 + j] = m
    keys[:, 17] = np.where(L == 5, 58, np.where(rec, 160, NO_KEY))
    tok[:, 17] = POST
    # present blocks, sorted by session then key (ties keep the slot order)
    here = keys != NO_KEY
    srow, _ = np.nonzero(here)
    order = np.argsort(srow.astype(np.int64) * 32768 + keys[here], kind="stable")
    t_flat = tok[here][order]
    s_flat = srow[order]
    st_flat = stall_flag[here][order]
    del keys, tok, stall_flag, here, srow, order
    # a stall delays the next block when it is a milestone, a loop or a support detour
    stall_before = np.zeros_like(st_flat)
    same = s_flat[1:] == s_flat[:-1]
    stall_before[1:] = np.where(same, st_flat[:-1], 0)
    nxt_ok = lut((CART, CHECKOUT, PURCHASE, RECEIVE, SUPPORT, EXPLORE_LOOP, CART_LOOP, CHECKOUT_LOOP), 16)[t_flat]
    stall_before = np.where(nxt_ok, stall_before, 0).astype(np.int8)
    # record the stalls that really happen
    realised = np.zeros((S, 2), dtype=bool)
    realised[s_flat[stall_before == 2], 0] = True
    realised[s_flat[stall_before == 3], 1] = True
    plan["stall"] = realised
    plan["L"] = np.where(rec, 5, L).astype(np.int8)
    return t_flat, s_flat, stall_before


def expand(params: SimulationParams, cust: dict, plan: dict, tok: np.ndarray, tok_s: np.ndarray,
           stall_before: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Events of the blocks: activity, channel, amount, campaign, friction, gap before the event."""
    T = len(tok)
    seg_t = plan["seg"][tok_s]
    c_t = plan["c"][tok_s]
    chan_t = plan["chan"][tok_s]
    u = [rng.random(T) for _ in range(4)]
    # register at the first checkout of a new customer
    reg = np.zeros(T, dtype=bool)
    is_co = np.flatnonzero(tok == CHECKOUT)
    firsts = is_co[first_in_run(c_t[is_co])]
    reg[firsts] = cust["new"][c_t[firsts]]
    extra_add = u[0] < 0.3
    coupon = plan["coupon"][tok_s]
    # after-sales items: review, loyalty redemption, return (+ call about it)
    amt = plan["amount"][tok_s]
    redeem_p = seg_values("redeem")[seg_t] * np.where(amt > 50, 1.4, 0.5)
    post = np.stack([u[0] < seg_values("review")[seg_t],
                     cust["member"][c_t] & (u[1] < redeem_p),
                     u[2] < seg_values("returns")[seg_t],
                     np.zeros(T, dtype=bool)], axis=1)
    post[:, 3] = post[:, 2] & (u[3] < 0.4)
    complaint = u[1] < seg_values("complaint")[seg_t]
    n_explore = 1 + np.minimum(rng.poisson(seg_values("explore_mean")[seg_t]), 7)
    counts = np.ones(T, dtype=np.int64)
    counts[tok == EXPLORE] = n_explore[tok == EXPLORE]
    counts[tok == EXPLORE_LOOP] = 1 + extra_add[tok == EXPLORE_LOOP]
    counts[tok == CART] = (1 + extra_add + coupon)[tok == CART]
    counts[tok == CHECKOUT] = (1 + reg)[tok == CHECKOUT]
    counts[tok == SUPPORT] = (1 + complaint)[tok == SUPPORT]
    counts[tok == POST] = post.sum(axis=1)[tok == POST]
    counts[tok == SMS_RECOVERED] = 2
    counts[tok == EMAIL_REMINDER] = (1 + (u[3] < 0.35))[tok == EMAIL_REMINDER]

    E = int(counts.sum())
    et = np.repeat(np.arange(T, dtype=np.int64), counts)
    j = _within(counts)
    ty = tok[et]
    seg = seg_t[et]
    schan = chan_t[et]
    act = np.full(E, -1, dtype=np.int16)
    chan = schan.copy()
    fr = np.zeros(E, dtype=np.float32)
    camp = np.full(E, -1, dtype=np.int8)
    v = rng.random(E)
    digital = np.where(schan == STORE, WEB, schan).astype(np.int8)

    def put(mask, activity, channel=None, friction=0.0):
        act[mask] = A[activity] if isinstance(activity, str) else activity[mask]
        if channel is not None:
            chan[mask] = channel if np.isscalar(channel) else channel[mask]
        if friction:
            fr[mask] = friction

    # explore: the segment's browsing mix; store sessions start with a store visit
    m = ty == EXPLORE
    names = sorted({a for s in SEGMENT_NAMES for a in SEGMENTS[s]["explore"]})
    probs = np.array([[SEGMENTS[s]["explore"].get(a, 0.0) for a in names] for s in SEGMENT_NAMES])
    codes = np.array([A[a] for a in names], dtype=np.int16)
    drawn = np.full(E, -1, dtype=np.int16)
    drawn[m] = codes[_cat(rng, probs, seg[m])]
    drawn[m & (j == 0) & (drawn == A["faq_view"])] = A["view_product"]  # a session opens on a milestone
    put(m, drawn)
    store_ev = m & (schan == STORE)
    put(store_ev & (j == 0), "store_visit")
    put(store_ev & (j > 0), "view_product")
    put(ty == EXPLORE_LOOP, "view_product", friction=FRICTION["loop"])
    m = ty == CART
    put(m & ((j == 0) | ((j == 1) & extra_add[et])), "add_to_cart")
    put(m & (act == -1), "apply_coupon")
    put(ty == CART_LOOP, "add_to_cart", friction=FRICTION["loop"])
    m = ty == CHECKOUT
    put(m & reg[et] & (j == 0), "register")
    put(m & (act == -1), "checkout")
    put(ty == CHECKOUT_LOOP, "checkout", friction=FRICTION["loop"])
    put(ty == PURCHASE, "purchase")
    m = ty == RECEIVE
    col = plan["collect"][tok_s][et]
    put(m & col, "click_and_collect", STORE)
    put(m & ~col, "order_delivered", EMAIL)
    # support detours: help page, chat or call, sometimes a complaint
    m = ty == SUPPORT
    sup_names = ("faq_view", "chat", "call_centre_contact")
    sprobs = np.array([[SEGMENTS[s]["support"][a] for a in sup_names] for s in SEGMENT_NAMES])
    first_sup = m & (j == 0)
    pick = np.full(E, -1, dtype=np.int8)
    pick[first_sup] = _cat(rng, sprobs, seg[first_sup])
    put(first_sup & (pick == 0), "faq_view", digital, FRICTION["faq_view"])
    put(first_sup & (pick == 1), "chat", digital, FRICTION["chat"])
    put(first_sup & (pick == 2), "call_centre_contact", CALL, FRICTION["call_centre_contact"])
    prev_call = np.zeros(E, dtype=bool)
    prev_call[1:] = act[:-1] == A["call_centre_contact"]
    put(m & (j == 1), "complaint", np.where(prev_call, CALL, digital), FRICTION["complaint"])
    # after-sales
    m = ty == POST
    pi = np.flatnonzero(m)
    pm = post[et[pi]]
    item = np.full(E, -1, dtype=np.int8)
    item[pi] = np.argmax((np.cumsum(pm, axis=1) == (j[pi] + 1)[:, None]) & pm, axis=1)
    del pm, pi
    redeem_store = (schan == STORE) | (v < 0.5)
    put(item == 0, "review", digital)
    put(item == 1, "loyalty_redemption", np.where(redeem_store, STORE, APP))
    put(item == 2, "return_request", np.where(schan == STORE, STORE, digital), FRICTION["return_request"])
    put(item == 3, "call_centre_contact", CALL, FRICTION["call_centre_contact"])
    put(ty == CANCEL, "cancel_order", friction=FRICTION["cancel_order"])
    # reminders (campaigns)
    m = (ty == SMS_REMINDER) | (ty == SMS_RECOVERED)
    put(m & (j == 0), "sms_sent", SMS)
    put(m & (j == 1), "sms_click", SMS)
    camp[m] = 1
    m = ty == EMAIL_REMINDER
    put(m & (j == 0), "email_sent", EMAIL)
    put(m & (j == 1), "email_open", EMAIL)
    camp[m] = 0
    assert (act >= 0).all()

    amount = np.where(act == A["purchase"], amt[et], np.nan)
    gap = _gaps(params, act, chan, ty, j, stall_before[et], rng.random(E), rng)
    first_of_session = np.ones(E, dtype=bool)
    s_ev = tok_s[et]
    first_of_session[1:] = s_ev[1:] != s_ev[:-1]
    gap[first_of_session] = 0.0
    stalled = stall_before[et] * (j == 0)
    fr[stalled > 0] += FRICTION["stall"]
    return dict(s=s_ev.astype(np.int32), c=plan["c"][s_ev].astype(np.int32), act=act, chan=chan, block=ty,
                amount=amount, camp=camp, fr=fr, gap=gap)


#: gap before an activity: low + span * U(0, 1) + scale * Exp(1), in seconds (others: by channel)
_GAP_RULES = {
    "chat": (60, 0, 300), "call_centre_contact": (300, 0, 1500), "complaint": (120, 0, 600),
    "order_delivered": (DAY, 3 * DAY, 0), "click_and_collect": (3 * 3600, 45 * 3600, 0),
    "review": (2 * DAY, 7 * DAY, 0), "loyalty_redemption": (DAY / 2, 9.5 * DAY, 0),
    "return_request": (2 * DAY, 8 * DAY, 0), "cancel_order": (3600, 19 * 3600, 0),
    "sms_sent": (1800, 9000, 0), "sms_click": (60, 0, 900), "email_sent": (3600, 19 * 3600, 0),
    "email_open": (300, 0, 3 * 3600),
}


def _gap_tables():
    n = len(A)
    tables = np.zeros((4, n))
    for name, (low, span, scale) in _GAP_RULES.items():
        tables[:, A[name]] = (1, low, span, scale)
    return tables


_GAPS = _gap_tables()


def _gaps(params, act, chan, ty, j, stall_before, v, rng) -> np.ndarray:
    """Seconds between an event and the one before it in the session."""
    ex = rng.exponential(1.0, len(act))
    store = chan == STORE
    gap = np.where(store, 60.0 + 240.0 * ex, 20.0 + 100.0 * ex)
    sp = np.flatnonzero(_GAPS[0][act] > 0)
    a = act[sp]
    gap[sp] = _GAPS[1][a] + _GAPS[2][a] * v[sp] + _GAPS[3][a] * ex[sp]
    del sp, a, store
    post_call = (ty == POST) & (act == A["call_centre_contact"])
    gap[post_call] = 600 + 3600 * ex[post_call]
    first = j == 0
    for m, name in ((2, "cart"), (3, "checkout")):
        sel = first & (stall_before == m)
        gap[sel] = STALL_AFTER[name].total_seconds() * (1.1 + 1.4 * v[sel])
    return gap
