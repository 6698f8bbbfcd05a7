"""The parts of a journey definition: :class:`Criteria` (entry, exit), :class:`Milestone` and :class:`Goal`,
and the checks of the definition language they share (keys, names, activity lists, durations).

Each part is frozen, validated when built, and has a dict (YAML) form; :class:`journeylab.journey.Journey`
puts them together (its module docstring documents the YAML format). Errors are
:class:`~journeylab.exceptions.JourneyDefinitionError` and say where, what is wrong, what is allowed and
how to fix it. Import them from :mod:`journeylab.journey` (or ``journeylab``).

>>> Milestone.from_dict({"name": "cart", "activities": "add_to_cart", "when": "amount > 5"})
Milestone(name='cart', activities=('add_to_cart',), conditions=(Condition('amount > 5'),), optional=False, kind='positive')
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import KW_ONLY, dataclass

import numpy as np
import pandas as pd

from ._core.formatting import cut, duration_spec
from ._core.names import did_you_mean
from ._core.validation import BARE_NUMBER, parse_duration
from .conditions import (
    GOAL_TYPES,
    MILESTONE_KINDS,
    Condition,
    _conditions,
    _events,
    _fail,
    _format_literal,
    _text,
)
from .exceptions import JourneyDefinitionError

__all__ = ["Criteria", "Milestone", "Goal"]

#: How long after the journey ends a goal still counts, unless its definition says otherwise.
_DEFAULT_WINDOW = pd.Timedelta(days=3)


# --------------------------------------------------------------------------- the definition language


@contextmanager
def _located(generic: str, where: str):
    """Re-raise a JourneyDefinitionError whose message starts with ``generic`` as starting with ``where``."""
    try:
        yield
    except JourneyDefinitionError as err:
        msg = str(err)
        if msg.startswith(generic):
            raise JourneyDefinitionError(where + msg[len(generic):]) from None
        raise



def _activity_tuple(value, where: str, *, allow_empty: bool = False) -> tuple[str, ...]:
    if value is None:
        value = ()
    if isinstance(value, str):
        value = (value,)
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise _fail(where, f"activities must be a list of activity names, got {cut(value)}.")
    out = tuple(dict.fromkeys(_text(a, where, "activity") for a in value))
    if not out and not allow_empty:
        raise _fail(where, "no activities; list the activities that mark it, e.g. activities: [add_to_cart].")
    return out


#: Words people write for a key, and the key they mean (used for "Did you mean" hints).
_KEY_ALIASES = {
    "condition": "when", "conditions": "when", "where": "when", "if": "when", "filter": "when",
    "activity": "activities", "events": "activities", "touchpoints": "activities",
    "steps": "milestones", "stages": "milestones", "trigger": "activity", "event": "activity",
    "attribution_window": "window", "start": "entry", "end": "exit", "stall": "stall_after",
    "stalled_after": "stall_after", "goals": "goal", "phase": "phases", "title": "name",
}


def _check_keys(d, allowed: tuple[str, ...], where: str, required: tuple[str, ...] = ()) -> None:
    if not isinstance(d, Mapping):
        raise _fail(where, f"expected a mapping (key: value) with keys {', '.join(allowed)}; got {cut(d)}.")
    unknown = [key for key in d if key not in allowed]
    if unknown:
        problems = []
        for key in unknown[:5]:
            alias = _KEY_ALIASES.get(key.lower()) if isinstance(key, str) else None
            hint = (f" Did you mean {alias!r}?" if alias in allowed
                    else did_you_mean(key, allowed) if isinstance(key, str) else "")
            problems.append(f"unknown key {cut(key, 60)}.{hint}")
        if len(unknown) > 5:
            problems.append(f"({len(unknown) - 5:,} more unknown keys.)")
        raise _fail(where, " ".join(problems) + f" Allowed keys: {', '.join(allowed)}.")
    missing = [k for k in required if k not in d]
    if missing:
        raise _fail(where, f"missing key {', '.join(repr(k) for k in missing)}. Required keys: {', '.join(required)}.")


def _duration(value, where: str, *, allow_zero: bool = False) -> pd.Timedelta:
    """Parse '2d', '36h', '90min', '1d12h', '2 days' or a Timedelta; refuse bare numbers."""
    example = "'30min', '12h', '2d' or '1d12h'"
    if isinstance(value, (bool, numbers.Number)) and not isinstance(value, (np.timedelta64, _dt.timedelta)):
        raise _fail(where, f"{cut(value)} is a bare number; give a duration with a unit, e.g. "
                           f"'{cut(value, 20)}d' or '{cut(value, 20)}h'.")
    if isinstance(value, (pd.Timedelta, _dt.timedelta, np.timedelta64)):
        try:
            td = pd.Timedelta(value)
        except (ValueError, OverflowError):
            raise _fail(where, f"{cut(value)} is too long a duration (the longest is about 292 years).") from None
    elif isinstance(value, str):
        s = value.strip()
        if BARE_NUMBER.fullmatch(s):
            raise _fail(where, f"{cut(value)} is a bare number; give a duration with a unit, e.g. "
                               f"{cut(s + 'd')} or {cut(s + 'h')}.")
        try:
            td = parse_duration(s)
        except ValueError:
            raise _fail(where, f"{cut(value)} is not a duration; write it like {example}.") from None
    else:
        raise _fail(where, f"{cut(value)} is not a duration; write it like {example}.")
    if pd.isna(td):
        raise _fail(where, f"{cut(value)} is not a duration; write it like {example}.")
    if td < pd.Timedelta(0):
        raise _fail(where, f"{cut(value)} must be a positive duration: it is a length of time, which cannot be "
                           f"negative; write it like {example}.")
    if td == pd.Timedelta(0) and not allow_zero:
        raise _fail(where, f"{cut(value)} must be a positive duration, e.g. {example}.")
    return td



# --------------------------------------------------------------------------- criteria, milestones, goal


@dataclass(frozen=True)
class Criteria:
    """Which events qualify: one of ``activities`` (any activity when empty) and all ``conditions``.

    Used for a journey's ``entry`` and ``exit``. Conditions may be given as text.

    >>> import pandas as pd
    >>> exit_ = Criteria(["purchase", "unsubscribe"], conditions="channel == 'web'")
    >>> df = pd.DataFrame({"activity": ["purchase", "purchase", "view"], "channel": ["web", "app", "web"]})
    >>> exit_.matches(df).tolist()
    [True, False, False]
    >>> Criteria.from_dict(["purchase"]) == Criteria(("purchase",))
    True
    """

    activities: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()

    def __post_init__(self):
        where = "criteria"
        activities = _activity_tuple(self.activities, where, allow_empty=True)
        conditions = _conditions(self.conditions, where)
        if not activities and not conditions:
            raise _fail(where, "neither activities nor conditions; give at least one, e.g. "
                                    "{activities: [view_product]} or {when: \"channel == 'web'\"}.")
        object.__setattr__(self, "activities", activities)
        object.__setattr__(self, "conditions", conditions)

    @classmethod
    def from_dict(cls, d) -> Criteria:
        """Build from ``{activities: [...], when: "..."}``, or a plain list / name of activities."""
        if isinstance(d, (str, list, tuple)):
            return cls(d)
        _check_keys(d, ("activities", "when"), "criteria")
        return cls(d.get("activities", ()), d.get("when"))

    def to_dict(self) -> dict:
        """``{activities: [...], when: "..."}`` (keys omitted when empty).

        >>> Criteria(["purchase"], "amount > 5").to_dict()
        {'activities': ['purchase'], 'when': 'amount > 5'}
        """
        out: dict = {}
        if self.activities:
            out["activities"] = list(self.activities)
        if self.conditions:
            out["when"] = " and ".join(str(c) for c in self.conditions)
        return out

    def matches(self, events: pd.DataFrame) -> pd.Series:
        """Boolean Series over the events (a DataFrame with canonical columns, or an EventLog)."""
        return _match(events, self.activities, self.conditions, name="criteria")

    def __str__(self) -> str:
        acts = " | ".join(self.activities) or "any activity"
        if not self.conditions:
            return acts
        return f"{acts} where " + " and ".join(str(c) for c in self.conditions)


def _match(events, activities, conditions, *, name: str) -> pd.Series:
    df = _events(events, need_activity=bool(activities))
    if activities:
        mask = df["activity"].isin(list(activities)).to_numpy(dtype=bool, na_value=False)
    else:
        mask = np.ones(len(df), dtype=bool)
    for cond in conditions:
        mask = mask & cond.matches(df).to_numpy()
    return pd.Series(mask, index=df.index, name=name)


@dataclass(frozen=True)
class Milestone:
    """A moment of the journey, marked by one of its ``activities`` (and all its ``conditions``).

    ``kind`` is ``"positive"`` or ``"negative"`` (a complaint, a cancellation); an
    ``optional`` milestone is not part of the happy path.

    >>> m = Milestone("payment", ["payment"], conditions="amount > 50")
    >>> m.to_dict()
    {'name': 'payment', 'activities': ['payment'], 'when': 'amount > 50'}
    >>> import pandas as pd
    >>> m.matches(pd.DataFrame({"activity": ["payment", "payment"], "amount": [20, 90]})).tolist()
    [False, True]
    """

    name: str
    activities: tuple[str, ...]
    _: KW_ONLY
    conditions: tuple[Condition, ...] = ()
    optional: bool = False
    kind: str = "positive"

    _KEYS = ("name", "activities", "when", "optional", "kind")

    def __post_init__(self):
        name = _text(self.name, "milestone", "milestone name")
        where = f"milestone {cut(name)}"
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "activities", _activity_tuple(self.activities, where))
        object.__setattr__(self, "conditions", _conditions(self.conditions, where))
        if not isinstance(self.optional, (bool, np.bool_)):
            raise _fail(where, f"optional={cut(self.optional)} must be true or false.")
        object.__setattr__(self, "optional", bool(self.optional))
        if self.kind not in MILESTONE_KINDS:
            raise _fail(where, f"kind={cut(self.kind)} is not allowed; use 'positive' or 'negative'."
                        + (did_you_mean(self.kind, MILESTONE_KINDS) if isinstance(self.kind, str) else ""))

    @classmethod
    def from_dict(cls, d) -> Milestone:
        """Build from ``{name, activities, when?, optional?, kind?}``.

        >>> Milestone.from_dict({"name": "cart", "activities": "add_to_cart"}).activities
        ('add_to_cart',)
        """
        named = isinstance(d, Mapping) and isinstance(d.get("name"), str)
        where = f"milestone {cut(d['name'])}" if named else "milestone"
        _check_keys(d, cls._KEYS, where, required=("name", "activities"))
        return cls(d["name"], d["activities"], conditions=d.get("when"), optional=d.get("optional", False),
                   kind=d.get("kind", "positive"))

    def to_dict(self) -> dict:
        """The YAML form (defaults omitted)."""
        out: dict = {"name": self.name, "activities": list(self.activities)}
        if self.conditions:
            out["when"] = " and ".join(str(c) for c in self.conditions)
        if self.kind != "positive":
            out["kind"] = self.kind
        if self.optional:
            out["optional"] = True
        return out

    @property
    def criteria(self) -> Criteria:
        """The milestone's activities and conditions as :class:`Criteria`."""
        return Criteria(self.activities, self.conditions)

    def matches(self, events: pd.DataFrame) -> pd.Series:
        """Boolean Series: the events that mark this milestone."""
        return _match(events, self.activities, self.conditions, name=self.name)


@dataclass(frozen=True)
class Goal:
    """The journey's goal: its ``type``, the trigger (``activity`` and ``conditions``), a target and
    the attribution window.

    ``target`` is a count of people, ``target_pct`` a percentage of the people in the journey
    (0 < pct <= 100); at most one is given. ``window`` (default 3 days) is how long after the
    journey ends the goal still counts.

    >>> g = Goal("purchase", "purchase", conditions="amount > 50", target_pct=25)
    >>> g.to_dict()
    {'type': 'purchase', 'activity': 'purchase', 'when': 'amount > 50', 'target': '25%', 'window': '3d'}
    >>> import pandas as pd
    >>> g.matches(pd.DataFrame({"activity": ["purchase", "view"], "amount": [80, 80]})).tolist()
    [True, False]
    """

    type: str
    activity: str
    _: KW_ONLY
    conditions: tuple[Condition, ...] = ()
    target: int | None = None
    target_pct: float | None = None
    window: pd.Timedelta = _DEFAULT_WINDOW

    _KEYS = ("type", "activity", "when", "target", "window")

    def __post_init__(self):
        where = "goal"
        if self.type not in GOAL_TYPES:
            raise _fail(where, f"type={cut(self.type)} is not a goal type. Allowed: {', '.join(GOAL_TYPES)}."
                        + (did_you_mean(self.type, GOAL_TYPES) if isinstance(self.type, str) else ""))
        if isinstance(self.activity, (list, tuple)):
            raise _fail(where, f"activity={cut(list(self.activity))}: a goal has one trigger activity; give one name "
                               f"(add conditions with 'when').")
        object.__setattr__(self, "activity", _text(self.activity, where, "activity"))
        object.__setattr__(self, "conditions", _conditions(self.conditions, where))
        if self.target is not None and self.target_pct is not None:
            raise _fail(where, "give a target count or a target percentage, not both.")
        if self.target is not None:
            t = self.target
            if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t <= 0:
                raise _fail(where, f"target={cut(t)} must be a positive whole number of people (e.g. 1000), or a "
                                   f"percentage written as '25%'.")
            object.__setattr__(self, "target", int(t))
        if self.target_pct is not None:
            p = self.target_pct
            if isinstance(p, bool) or not isinstance(p, numbers.Real) or not math.isfinite(p) or not 0 < p <= 100:
                raise _fail(where, f"target percentage {cut(p)}% must be above 0 and at most 100 (a share of the "
                                   f"people in the journey).")
            object.__setattr__(self, "target_pct", float(p))
        object.__setattr__(self, "window", _duration(self.window, "goal window", allow_zero=True))

    @classmethod
    def from_dict(cls, d) -> Goal:
        """Build from ``{type, activity, when?, target?, window?}``; target is a count or ``"25%"``.

        >>> Goal.from_dict({"type": "custom", "activity": "signup", "target": "12.5%"}).target_pct
        12.5
        """
        _check_keys(d, cls._KEYS, "goal", required=("type", "activity"))
        target, pct = d.get("target"), None
        if isinstance(target, str):
            s = target.strip()
            if not s.endswith("%"):
                raise _fail("goal", f"target={cut(target)} must be a count (e.g. 1000) or a percentage ending in "
                                    f"'%' (e.g. '25%').")
            try:
                pct = float(s[:-1])
            except ValueError:
                raise _fail("goal", f"target={cut(target)} is not a percentage; write it like '25%'.") from None
            target = None
        elif isinstance(target, float) and not isinstance(target, bool):
            raise _fail("goal", f"target={cut(target)} must be a positive whole number of people (e.g. 1000), or a "
                                f"percentage written as '25%'.")
        return cls(d["type"], d["activity"], conditions=d.get("when"), target=target, target_pct=pct,
                   window=d.get("window", _DEFAULT_WINDOW))

    def to_dict(self) -> dict:
        """The YAML form (``target`` omitted when there is none)."""
        out: dict = {"type": self.type, "activity": self.activity}
        if self.conditions:
            out["when"] = " and ".join(str(c) for c in self.conditions)
        if self.target is not None:
            out["target"] = self.target
        elif self.target_pct is not None:
            text = repr(self.target_pct)
            out["target"] = (text[:-2] if text.endswith(".0") else text) + "%"
        out["window"] = duration_spec(self.window)
        return out

    @property
    def criteria(self) -> Criteria:
        """The goal trigger as :class:`Criteria`."""
        return Criteria((self.activity,), self.conditions)

    def matches(self, events: pd.DataFrame) -> pd.Series:
        """Boolean Series: the events that trigger the goal."""
        return _match(events, (self.activity,), self.conditions, name="goal")

    def __str__(self) -> str:
        if self.target is not None:
            target = f"target {self.target:,}"
        elif self.target_pct is not None:
            target = f"target {self.target_pct:g}%"
        else:
            target = "no target"
        trigger = " and ".join([f"activity == {_format_literal(self.activity)}"] + [str(c) for c in self.conditions])
        return f"{self.type} ({trigger}; {target}; window {duration_spec(self.window)})"
