"""The simulator's vocabulary (activities, channels, segments) and its validated parameters.

Everything the generator draws from is defined here, so that the README of the bundled
sample, the truth and the tests all read the same numbers.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._core.names import did_you_mean
from ..exceptions import InvalidParameterError

# --------------------------------------------------------------------------- vocabulary

#: Channels, in the order of their codes.
CHANNELS = ("web", "app", "email", "sms", "store", "call_centre")
WEB, APP, EMAIL, SMS, STORE, CALL = range(6)

#: Activities, in the order of their codes (lower_snake_case).
ACTIVITIES = (
    # consideration / explore
    "view_product", "search", "view_offer", "read_reviews", "compare_products", "add_to_wishlist", "check_stock",
    "store_visit",
    # purchase
    "add_to_cart", "apply_coupon", "register", "checkout", "payment_failed", "purchase", "cancel_order",
    # fulfilment / after-sales
    "order_delivered", "click_and_collect", "delivery_delayed", "review", "loyalty_redemption", "return_request",
    # service
    "faq_view", "chat", "call_centre_contact", "complaint",
    # campaigns
    "email_sent", "email_open", "email_click", "sms_sent", "sms_click", "unsubscribe",
)
A = {name: i for i, name in enumerate(ACTIVITIES)}

#: Milestones of the designed journey (the happy path), in order; index + 1 is the milestone number.
MILESTONES = ("explore", "cart", "checkout", "purchase", "receive")
MILESTONE_ACTIVITIES = {
    "explore": ("view_product", "search", "view_offer", "read_reviews", "compare_products", "add_to_wishlist",
                "check_stock", "store_visit"),
    "cart": ("add_to_cart",),
    "checkout": ("checkout",),
    "purchase": ("purchase",),
    "receive": ("order_delivered", "click_and_collect"),
}
#: Milestones at which a session can be abandoned (the last one completes the journey).
ABANDON_AT = MILESTONES[:-1]
#: Milestones that can be skipped and that loops go back to.
SKIPPABLE = ("cart", "checkout")
STALL_AFTER = {"cart": pd.Timedelta(days=2), "checkout": pd.Timedelta(days=1)}

#: Campaign names (the ``campaign`` column).
CAMPAIGNS = ("cart_reminder", "sms_reminder")  # promo waves are named promo_01, promo_02, ...

#: Customer attributes and their levels.
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
REGIONS = ("north", "south", "east", "west", "central")
DEVICES = ("ios", "android", "desktop")
GLOBAL_AGE = (0.12, 0.22, 0.20, 0.18, 0.15, 0.13)
GLOBAL_REGION = (0.22, 0.24, 0.18, 0.16, 0.20)
GLOBAL_DEVICE = (0.30, 0.30, 0.40)

# --------------------------------------------------------------------------- segments

#: The behavioural segments: how each travels. Rates marked "mult" multiply the population
#: parameter (normalised so that the population average equals the parameter).
SEGMENTS: dict[str, dict[str, Any]] = {
    "deal_seeker": dict(
        description="app-first deal seekers: search and offers on the app, coupons, promo clicks, many short visits",
        weight=0.30, channels={"web": 0.13, "app": 0.85, "store": 0.02}, explore_mean=3.0,
        explore={"search": 0.35, "view_product": 0.20, "view_offer": 0.45},
        support_mult=0.5, loop_mult=1.0, reentry_mult=1.8, coupon=0.75, amount_median=35.0, amount_sigma=0.45,
        review=0.05, redeem=0.15, returns=0.05, promo_click=0.75, sms_promo=0.7, quality=0.3,
        support={"faq_view": 0.5, "chat": 0.4, "call_centre_contact": 0.1}, complaint=0.1, collect=0.1,
        member=0.30, app_card=0.3, age=(0.30, 0.35, 0.15, 0.10, 0.06, 0.04), device=(0.45, 0.47, 0.08),
        region=(0.20, 0.26, 0.18, 0.16, 0.20),
    ),
    "store_loyal": dict(
        description="store-loyal members: stock checks online, visits and purchases in store, click & collect, "
                    "loyalty redemptions",
        weight=0.25, channels={"web": 0.08, "app": 0.10, "store": 0.82}, explore_mean=2.0,
        explore={"view_product": 0.35, "check_stock": 0.55, "view_offer": 0.10},
        support_mult=0.4, loop_mult=0.5, reentry_mult=0.9, coupon=0.05, amount_median=75.0, amount_sigma=0.55,
        review=0.05, redeem=0.60, returns=0.05, promo_click=0.25, sms_promo=0.2, quality=0.8,
        support={"faq_view": 0.2, "chat": 0.1, "call_centre_contact": 0.7}, complaint=0.1, collect=0.6,
        member=0.85, app_card=0.5, age=(0.03, 0.10, 0.17, 0.25, 0.25, 0.20), device=(0.30, 0.40, 0.30),
        region=(0.32, 0.20, 0.16, 0.14, 0.18),
    ),
    "support_heavy": dict(
        description="support-heavy: help pages, chats and calls around every step, rework, returns and complaints",
        weight=0.20, channels={"web": 0.85, "app": 0.05, "store": 0.10}, explore_mean=2.5,
        explore={"view_product": 0.30, "search": 0.10, "faq_view": 0.60},
        support_mult=3.5, loop_mult=2.2, reentry_mult=1.0, coupon=0.1, amount_median=60.0, amount_sigma=0.55,
        review=0.10, redeem=0.10, returns=0.30, promo_click=0.2, sms_promo=0.2, quality=-0.2,
        support={"faq_view": 0.15, "chat": 0.30, "call_centre_contact": 0.55}, complaint=0.3, collect=0.15,
        member=0.30, app_card=0.3, age=(0.08, 0.15, 0.20, 0.22, 0.20, 0.15), device=(0.25, 0.30, 0.45),
        region=(0.20, 0.24, 0.20, 0.16, 0.20),
    ),
    "researcher": dict(
        description="web researchers: long browsing on the web, reviews, comparisons and wish lists, big baskets",
        weight=0.25, channels={"web": 0.90, "app": 0.08, "store": 0.02}, explore_mean=4.0,
        explore={"view_product": 0.25, "read_reviews": 0.35, "compare_products": 0.30, "add_to_wishlist": 0.10},
        support_mult=0.6, loop_mult=0.8, reentry_mult=0.5, coupon=0.05, amount_median=130.0, amount_sigma=0.5,
        review=0.35, redeem=0.10, returns=0.08, promo_click=0.4, sms_promo=0.1, quality=0.5,
        support={"faq_view": 0.6, "chat": 0.3, "call_centre_contact": 0.1}, complaint=0.08, collect=0.1,
        member=0.25, app_card=0.3, age=(0.10, 0.30, 0.28, 0.17, 0.10, 0.05), device=(0.20, 0.15, 0.65),
        region=(0.20, 0.24, 0.18, 0.18, 0.20),
    ),
}
SEGMENT_NAMES = tuple(SEGMENTS)

# --------------------------------------------------------------------------- defaults

DEFAULT_ABANDONMENT = {"explore": 0.40, "cart": 0.35, "checkout": 0.20, "purchase": 0.03}
#: Friction points added by the events that carry friction (they lower survey answers).
FRICTION = {
    "loop": 0.6, "stall": 0.8, "faq_view": 0.3, "chat": 0.8, "call_centre_contact": 1.2, "complaint": 2.0,
    "return_request": 1.0, "cancel_order": 1.0, "payment_failed": 2.5, "incident_call": 2.0,
    "delivery_delayed": 1.0, "late_delivery": 1.5,
}
INCIDENT_KINDS = ("payment_outage", "delivery_delay")
INCIDENT_KEYS = ("name", "kind", "start", "end", "p_affected", "p_contact")
#: Survey answer scales.
NPS_SCALE, CSAT_SCALE, CES_SCALE = (0, 10), (1, 5), (1, 7)


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class SimulationParams:
    """The resolved parameters of one simulation (what :func:`make_journeys` was given, validated).

    Probabilities are per journey session unless stated. ``to_dict()`` gives a JSON-ready dict.
    """

    n_customers: int
    start: pd.Timestamp
    days: int
    random_state: int | None
    segment_weights: dict[str, float]
    abandonment: dict[str, float]
    p_skip: float
    p_out_of_order: float
    p_loop: float
    p_support: float
    p_stall: float
    reentry: float
    p_in_progress: float
    ab_lift: float
    p_excluded: float
    p_suppressed: float
    p_late_purchase: float
    incidents: tuple[dict, ...]
    p_panel: float
    peak_weight: float
    end_weight: float
    friction_effect: float
    attribute_strength: float
    p_new_cookie: float
    p_phone: float
    window: pd.Timedelta = field(default=pd.Timedelta(days=3))

    @property
    def end(self) -> pd.Timestamp:
        """When the data ends (``start + days``); events after it are not in the log."""
        return self.start + pd.Timedelta(days=self.days)

    def to_dict(self) -> dict:
        """A JSON-ready dict (timestamps and durations as ISO text)."""
        d = asdict(self)
        d["start"] = self.start.isoformat()
        d["window_seconds"] = self.window.total_seconds()
        del d["window"]
        d["incidents"] = [
            {**inc, "start": pd.Timestamp(inc["start"]).isoformat(), "end": pd.Timestamp(inc["end"]).isoformat()}
            for inc in self.incidents
        ]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SimulationParams:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d["start"] = pd.Timestamp(d["start"])
        d["window"] = pd.Timedelta(seconds=d.pop("window_seconds", 3 * 86400))
        d["incidents"] = tuple(
            {**inc, "start": pd.Timestamp(inc["start"]), "end": pd.Timestamp(inc["end"])} for inc in d["incidents"]
        )
        return cls(**d)


def _prob(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise InvalidParameterError(f"{name}={value!r} is not a probability; give a number between 0 and 1.")
    v = float(value)
    if not 0.0 <= v <= 1.0:
        raise InvalidParameterError(
            f"{name}={value!r} is outside [0, 1]; a probability must be between 0 and 1 (0 turns it off)."
        )
    return v


def _nonneg(value, name: str, *, upper: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
        raise InvalidParameterError(f"{name}={value!r} is not a number; give a number >= 0.")
    v = float(value)
    if v < 0 or (upper is not None and v > upper):
        allowed = f"between 0 and {upper:g}" if upper is not None else ">= 0"
        raise InvalidParameterError(f"{name}={value!r} is out of range; it must be {allowed}.")
    return v


def _timestamp(value, name: str) -> pd.Timestamp:
    if isinstance(value, bool) or isinstance(value, numbers.Number) or value is None:
        raise InvalidParameterError(
            f"{name}={value!r} is not a date; give a date like '2025-01-01' or a pd.Timestamp."
        )
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise InvalidParameterError(
            f"{name}={value!r} is not a date; give a date like '2025-01-01' or a pd.Timestamp."
        ) from None
    if pd.isna(ts):
        raise InvalidParameterError(f"{name}={value!r} is not a date; give a date like '2025-01-01'.")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if not pd.Timestamp("1971-01-01", tz="UTC") <= ts <= pd.Timestamp("2200-01-01", tz="UTC"):
        raise InvalidParameterError(f"{name}={value!r} is out of range; give a date between 1971 and 2200.")
    return ts.as_unit("s")


def _int(value, name: str, *, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise InvalidParameterError(f"{name}={value!r} must be a whole number >= {low}.")
    v = int(value)
    if v < low or (high is not None and v > high):
        allowed = f">= {low:,}" if high is None else f"between {low:,} and {high:,}"
        raise InvalidParameterError(f"{name}={value!r} is out of range; it must be {allowed}.")
    return v


def _mapping(value, name: str, keys: tuple[str, ...], default: dict, check) -> dict[str, float]:
    if value is None:
        return dict(default)
    if not isinstance(value, dict):
        raise InvalidParameterError(f"{name}={value!r} must be a dict, e.g. {default!r}.")
    out = dict(default)
    for k, v in value.items():
        if k not in keys:
            raise InvalidParameterError(
                f"{name} has the unknown key {k!r}. Allowed: {list(keys)}.{did_you_mean(str(k), keys)}"
            )
        out[k] = check(v, f"{name}[{k!r}]")
    return out


def default_incidents(start: pd.Timestamp, days: int) -> tuple[dict, ...]:
    """The planted incidents for a window: a payment outage (08:00 UTC on a day about a quarter
    into the window to 20:00 the next day) and a carrier delay (three days, about 70% into it)."""
    if days < 14:
        return ()
    d1 = start.normalize() + pd.Timedelta(days=round(0.24 * days))
    d2 = start.normalize() + pd.Timedelta(days=round(0.70 * days))
    return (
        dict(name="payment_outage", kind="payment_outage", start=d1 + pd.Timedelta(hours=8),
             end=d1 + pd.Timedelta(days=1, hours=20), p_affected=0.95, p_contact=0.8),
        dict(name="delivery_delay", kind="delivery_delay", start=d2, end=d2 + pd.Timedelta(days=3),
             p_affected=0.9, p_contact=0.6),
    )


def _incidents(value, start: pd.Timestamp, days: int) -> tuple[dict, ...]:
    if isinstance(value, str) and value == "default":
        return default_incidents(start, days)
    if value is None:
        return ()
    if isinstance(value, dict) or not isinstance(value, (list, tuple)):
        raise InvalidParameterError(
            f"incidents={value!r} must be 'default', None or a list of dicts with keys {list(INCIDENT_KEYS)}."
        )
    end = start + pd.Timedelta(days=days)
    out, names = [], set()
    for i, inc in enumerate(value):
        where = f"incidents[{i}]"
        if not isinstance(inc, dict):
            raise InvalidParameterError(f"{where}={inc!r} must be a dict with keys {list(INCIDENT_KEYS)}.")
        unknown = [k for k in inc if k not in INCIDENT_KEYS]
        if unknown:
            raise InvalidParameterError(
                f"{where} has the unknown key {unknown[0]!r}. Allowed: {list(INCIDENT_KEYS)}."
                + did_you_mean(str(unknown[0]), INCIDENT_KEYS)
            )
        kind = inc.get("kind", inc.get("name"))
        if kind not in INCIDENT_KINDS:
            raise InvalidParameterError(
                f"{where}: kind={kind!r} is not an incident kind. Allowed: {list(INCIDENT_KINDS)}."
                + did_you_mean(str(kind), INCIDENT_KINDS)
            )
        for key in ("start", "end"):
            if key not in inc:
                raise InvalidParameterError(f"{where} needs a '{key}' time, e.g. '2025-02-13 08:00'.")
        s, e = _timestamp(inc["start"], f"{where}['start']"), _timestamp(inc["end"], f"{where}['end']")
        if e <= s:
            raise InvalidParameterError(f"{where}: end={inc['end']!r} must be after start={inc['start']!r}.")
        if s < start or e > end:
            raise InvalidParameterError(
                f"{where}: {s} .. {e} is outside the simulated window {start} .. {end}; move it inside."
            )
        name = str(inc.get("name", kind))
        if name in names:
            raise InvalidParameterError(f"{where}: the incident name {name!r} is used twice; names must be unique.")
        names.add(name)
        out.append(dict(name=name, kind=kind, start=s, end=e,
                        p_affected=_prob(inc.get("p_affected", 0.9), f"{where}['p_affected']"),
                        p_contact=_prob(inc.get("p_contact", 0.6), f"{where}['p_contact']")))
    return tuple(out)


def _seed(random_state) -> int | None:
    if random_state is None:
        return None
    if isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral):
        raise InvalidParameterError(
            f"random_state={random_state!r} must be None or a whole number >= 0 (the seed), e.g. random_state=0."
        )
    if random_state < 0:
        raise InvalidParameterError(f"random_state={random_state!r} must be >= 0 (numpy seeds are non-negative).")
    return int(random_state)


def resolve(
    n_customers, *, start, days, random_state, segment_weights, abandonment, p_skip, p_out_of_order, p_loop,
    p_support, p_stall, reentry, p_in_progress, ab_lift, p_excluded, p_suppressed, p_late_purchase, incidents,
    p_panel, peak_weight, end_weight, friction_effect, attribute_strength, p_new_cookie, p_phone,
) -> SimulationParams:
    """Validate every argument of :func:`make_journeys`; raise InvalidParameterError with advice."""
    n = _int(n_customers, "n_customers", low=1, high=50_000_000)
    start_ts = _timestamp(start, "start")
    days_i = _int(days, "days", low=7, high=3650)
    seed = _seed(random_state)

    # a given dict lists the segments wanted: the segments it does not name get weight 0
    default = {k: (s["weight"] if segment_weights is None else 0.0) for k, s in SEGMENTS.items()}
    sw = _mapping(segment_weights, "segment_weights", SEGMENT_NAMES, default, _nonneg)
    total = sum(sw.values())
    if total <= 0:
        raise InvalidParameterError(
            f"segment_weights={segment_weights!r} gives every segment weight 0; give at least one a positive weight."
        )
    sw = {k: v / total for k, v in sw.items()}
    ab = _mapping(abandonment, "abandonment", ABANDON_AT, DEFAULT_ABANDONMENT, _prob)
    probs = dict(p_skip=p_skip, p_out_of_order=p_out_of_order, p_loop=p_loop, p_support=p_support,
                 p_stall=p_stall, p_in_progress=p_in_progress, p_excluded=p_excluded, p_suppressed=p_suppressed,
                 p_late_purchase=p_late_purchase, p_panel=p_panel, peak_weight=peak_weight, end_weight=end_weight,
                 attribute_strength=attribute_strength, p_new_cookie=p_new_cookie, p_phone=p_phone)
    p = {k: _prob(v, k) for k, v in probs.items()}
    if p["p_skip"] + p["p_out_of_order"] > 1:
        raise InvalidParameterError(
            f"p_skip + p_out_of_order = {p['p_skip'] + p['p_out_of_order']:g} > 1; a session has at most one of "
            "these deviations, so their sum must be at most 1."
        )
    if p["peak_weight"] + p["end_weight"] > 1:
        raise InvalidParameterError(
            f"peak_weight + end_weight = {p['peak_weight'] + p['end_weight']:g} > 1; the overall rating is "
            "peak_weight * worst + end_weight * last + (rest) * mean, so the two must sum to at most 1."
        )
    lift = _nonneg(ab_lift, "ab_lift", upper=1.0)
    return SimulationParams(
        n_customers=n, start=start_ts, days=days_i, random_state=seed, segment_weights=sw, abandonment=ab,
        reentry=_nonneg(reentry, "reentry", upper=5.0), ab_lift=lift,
        incidents=_incidents(incidents, start_ts, days_i),
        friction_effect=_nonneg(friction_effect, "friction_effect", upper=10.0), **p,
    )


def segment_table(params: SimulationParams) -> pd.DataFrame:
    """Per-segment planted rates: weight, expected sessions, support and loop probabilities, ...

    The population rates (``p_support``, ``p_loop``, ``reentry``) are split over the segments
    with their multipliers, normalised so that the session-weighted average equals the parameter.
    """
    names = list(SEGMENT_NAMES)
    w = np.array([params.segment_weights[s] for s in names])
    re_mult = np.array([SEGMENTS[s]["reentry_mult"] for s in names])
    re_norm = (w * re_mult).sum()
    reentry = params.reentry * re_mult / re_norm if re_norm > 0 else np.zeros(len(names))
    sessions = 1.0 + reentry
    out = {"weight": w, "reentry": reentry, "expected_sessions": sessions}
    for key, par in (("support_mult", params.p_support), ("loop_mult", params.p_loop)):
        mult = np.array([SEGMENTS[s][key] for s in names])
        norm = (w * sessions * mult).sum() / (w * sessions).sum()
        out["p_" + key[: -len("_mult")]] = np.minimum(1.0, par * mult / norm)
    df = pd.DataFrame(out, index=pd.Index(names, name="segment"))
    df["amount_median"] = [SEGMENTS[s]["amount_median"] for s in names]
    df["main_channel"] = [max(SEGMENTS[s]["channels"], key=SEGMENTS[s]["channels"].get) for s in names]
    df["description"] = [SEGMENTS[s]["description"] for s in names]
    return df
