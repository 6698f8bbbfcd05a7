"""Journey: the designed customer journey as code, with YAML in and out.

A :class:`Journey` is what the business *intends* a customer journey to be: an ordered
list of **milestones** (the order of the required, positive ones is the **happy path**),
the **entry** and **exit** criteria of a journey session, how long a customer may stay
at a milestone before counting as **stalled**, the **phases** a journey map groups the
touchpoints by, and the journey's **goal** with its target and attribution window (see
DOMAIN.md for the vocabulary). Analyses compare the events of an EventLog with it.

Everything is frozen (immutable, hashable) and validated when built, whether from code
or from a YAML file; errors are :class:`~journeylab.exceptions.JourneyDefinitionError`
and say what is wrong, where, what is allowed and how to fix it.

The YAML format
---------------
::

    name: online purchase               # required
    milestones:                         # required, in the designed order
      - name: browse                    # unique
        activities: [view_product, search]   # the events that mark the milestone
      - name: cart
        activities: [add_to_cart]
      - name: payment
        activities: [payment]
        when: "amount > 50"             # optional attribute conditions, joined by 'and'
      - name: complaint
        activities: [complaint]
        kind: negative                  # positive (default) or negative
        optional: true                  # default false
    entry: {activities: [view_product]} # what starts a session (activities and/or 'when')
    exit: {activities: [purchase, unsubscribe]}   # what ends it
    stall_after: {cart: 2d, payment: 1d}          # per milestone; durations need a unit
    phases:                             # journey-map phases, in order: phase -> touchpoints
      awareness: [ad_click, email_open]
      consideration: [view_product, search]
    goal:
      type: purchase    # purchase, engagement, loyalty, onboarding, notification, custom
      activity: purchase
      when: "amount > 50"
      target: 1000      # a count of people, or "25%" of the people in the journey, or omitted
      window: 3d        # attribution window after the journey ends (default 3d)

The happy path is the non-optional positive milestones in order (here browse > cart >
payment). ``entry``/``exit`` also accept a plain list of activities
(``exit: [purchase, unsubscribe]``) and ``when`` a list of conditions.

Conditions
----------
A condition compares an event attribute (a column of the log) with a literal:
``amount > 50``, ``channel == 'web'``, ``channel in ['web', 'app']``, ``is_member == true``,
``timestamp >= '2025-01-01'``. Operators: ``==, !=, >, >=, <, <=, in, not in``; literals:
numbers (``-3.5``, ``+5``), quoted text (also for dates and durations: ``'2d'``),
``true``/``false``, lists (for ``in``). Several conditions are joined
with ``and``. Column names that are not plain identifiers go in backticks
(`` `order amount` > 5 ``). Conditions are read by a small parser of their own - nothing
is ever evaluated as Python - and an event whose attribute is missing never matches.

Hostile files are refused with a clear error before they can cost time or memory: a file
over 2 MB, more than 50,000 values, nesting deeper than 50 levels, or YAML aliases
(``*name``) that would repeat anchored values into more than 10,000 values (a "billion
laughs" document). Aliases are allowed within that budget, to repeat small values.

Examples
--------
>>> from journeylab.journey import Journey
>>> journey = Journey.from_dict({
...     "name": "online purchase",
...     "milestones": [
...         {"name": "browse", "activities": ["view_product", "search"]},
...         {"name": "cart", "activities": ["add_to_cart"]},
...         {"name": "payment", "activities": ["payment"], "when": "amount > 50"},
...         {"name": "complaint", "activities": ["complaint"], "kind": "negative", "optional": True},
...     ],
...     "stall_after": {"cart": "2d"},
...     "goal": {"type": "purchase", "activity": "purchase", "target": "25%"},
... })
>>> journey
Journey 'online purchase': 4 milestones, happy path browse > cart > payment, goal purchase
>>> journey.stall_after["cart"]
Timedelta('2 days 00:00:00')
>>> Journey.from_yaml_string(journey.to_yaml()) == journey
True
"""

from __future__ import annotations

import html
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ._core.validation import register as register_kind
from ._core.formatting import cut, duration_spec
from ._core.io import atomic_write
from ._core.names import closest, did_you_mean
from .exceptions import InvalidParameterError, JourneyDefinitionError

from .conditions import (  # the condition language lives in conditions.py
    parse_conditions,
    Condition,
    FrozenMap,
    GOAL_TYPES,
    MILESTONE_KINDS,
    _DEFAULT_WINDOW,
    _activity_tuple,
    _check_keys,
    _conditions,
    _duration,
    _events,
    _fail,
    _format_duration,
    _format_literal,
    _located,
    _text,
)

__all__ = [
    "Journey",
    "Milestone",
    "Goal",
    "Criteria",
    "Condition",
    "FrozenMap",
    "parse_conditions",
    "GOAL_TYPES",
    "MILESTONE_KINDS",
]
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


# --------------------------------------------------------------------------- YAML loading


#: Limits on a YAML journey or rules file: hostile input gets a clear error, never a hang or a
#: RecursionError. A journey file is a few KB and nests 4 levels deep (journey > milestones >
#: milestone > activities); PyYAML reads about 30,000 values a second.
_MAX_YAML_SIZE = 2_000_000  # characters of text, bytes of a file; refused before parsing
_MAX_YAML_VALUES = 50_000  # values (scalars, lists, mappings) in the document
_MAX_YAML_DEPTH = 50  # nesting levels, also counted through aliases
_MAX_ALIAS_VALUES = 10_000  # values that aliases (*name) may add by repeating anchored ones
_MAX_NUMBER_CHARS = 100  # characters of one number


class _Refused(yaml.MarkedYAMLError):
    """A YAML document refused by journeylab (too big, too deep, an alias bomb, an unreadable value);
    ``problem`` is the whole message after the location."""

    def __init__(self, problem: str, mark=None):
        super().__init__(problem=problem, problem_mark=mark)


class _SafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses duplicate keys (which PyYAML silently overwrites), documents
    that are too big or too deep, alias bombs, over-long numbers and unreadable values."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._values = 0
        self._aliases: list = []  # (anchor, mark, node) of every alias used

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)
            self._aliases.append((event.anchor, event.start_mark, node))
            return node
        mark = self.peek_event().start_mark
        self._values += 1
        if self._values > _MAX_YAML_VALUES:
            raise _Refused(f"the YAML holds more than {_MAX_YAML_VALUES:,} values; a journey or rules file holds a "
                           f"few hundred. Check that this is the right file, or split it.", mark)
        if self._depth >= _MAX_YAML_DEPTH:
            raise _Refused(f"the YAML is nested more than {_MAX_YAML_DEPTH} levels deep; a journey definition "
                           f"needs 4 (journey > milestones > milestone > activities). Remove the extra nesting.",
                           mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def compose_document(self):
        node = super().compose_document()
        _check_aliases(node, self._aliases)
        self._aliases = []
        return node

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, IndexError, KeyError, AttributeError, TypeError) as err:
            # PyYAML's scalar constructors fail so on a date such as 2025-02-30, on `!!int abc`, or on
            # an empty or odd value with an explicit tag (`!!float`, `!!bool maybe`, `!!timestamp 2025`)
            what = node.tag.replace("tag:yaml.org,2002:", "")
            why = f" ({cut(str(err), 100, quote=False)})" if isinstance(err, ValueError) else ""
            raise _Refused(f"the value {cut(node.value, 60)} is not a valid {cut(what, 40, quote=False)}{why}; correct "
                           f"it, or quote it if it is text.", node.start_mark) from None


def _children(node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_aliases(root, aliases: list) -> None:
    """Refuse a document whose aliases repeat more than ``_MAX_ALIAS_VALUES`` values, nest it
    deeper than ``_MAX_YAML_DEPTH``, or refer to the value that contains them.

    Walks the node graph once (iteratively, each node once): a "billion laughs" document of a
    few hundred bytes, which would expand to 10**9 values, is measured, not expanded.
    """
    if not aliases:
        return
    done: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded values, expanded depth)
    active: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, closing = stack.pop()
        key = id(node)
        if closing:
            kids = [done[id(k)] for k in _children(node)]
            # saturated, so that the sums stay small numbers even for 10**100000 values
            done[key] = (min(1 + sum(k[0] for k in kids), 10**12), 1 + max((k[1] for k in kids), default=0))
            active.discard(key)
            continue
        if key in done:
            continue
        if key in active:
            anchor, mark = next(((a, m) for a, m, n in aliases if n is node), (None, None))
            raise _Refused(f"the alias *{cut(anchor, 40, quote=False)} is used inside the value it names, which "
                           f"would repeat forever; write the value out instead of the alias.", mark)
        active.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in done)
    values, depth = done[id(root)]
    if values - len(done) > _MAX_ALIAS_VALUES or depth > _MAX_YAML_DEPTH:
        anchor, mark, _ = max(aliases, key=lambda a: done[id(a[2])][0])
        if depth > _MAX_YAML_DEPTH:
            problem = f"the aliases nest the values more than {_MAX_YAML_DEPTH} levels deep"
        else:
            shown = f"{values:,}" if values < 10**12 else "more than 10**12"
            problem = (f"the aliases (*name) repeat anchored values into {shown} values (at most "
                       f"{_MAX_ALIAS_VALUES:,} may come from aliases: this is a 'billion laughs' document)")
        raise _Refused(f"{problem}; the largest is *{cut(anchor, 40, quote=False)}. A journey or rules file may use "
                       f"aliases only to repeat small values: write the values out, or use fewer aliases.", mark)


def _construct_mapping(loader: _SafeLoader, node: yaml.MappingNode, deep: bool = False):
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
        except TypeError:
            continue  # unhashable key: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {cut(key, 60)} (each key may appear once per mapping)", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


def _construct_number(loader: _SafeLoader, node: yaml.ScalarNode):
    """An int or float, refusing over-long ones (a number of 5,000 digits is no journey's)."""
    text = node.value if isinstance(node.value, str) else ""
    if len(text) > _MAX_NUMBER_CHARS:
        raise _Refused(f"the number {cut(text, 40)} has {len(text):,} characters (at most {_MAX_NUMBER_CHARS}); "
                       f"quote it if it is text.", node.start_mark)
    if node.tag.endswith(":int"):
        return loader.construct_yaml_int(node)
    return loader.construct_yaml_float(node)


_SafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_SafeLoader.add_constructor("tag:yaml.org,2002:int", _construct_number)
_SafeLoader.add_constructor("tag:yaml.org,2002:float", _construct_number)


def _read_yaml_file(path: Path, what: str) -> str:
    """The text of a YAML file, refusing one over ``_MAX_YAML_SIZE`` bytes before reading it all."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_YAML_SIZE + 1)
    except OSError as err:
        raise JourneyDefinitionError(f"{what} {cut(str(path))} cannot be read ({err.strerror or err}); check the "
                                     f"path and its permissions.") from None
    if len(data) > _MAX_YAML_SIZE:
        raise JourneyDefinitionError(f"{what} {cut(str(path))} is larger than {_MAX_YAML_SIZE:,} bytes; a journey or "
                                     f"rules file is a few KB. Check that this is the right file, or split it.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise JourneyDefinitionError(f"{what} {cut(str(path))} is not UTF-8 text; save it as UTF-8 YAML.") from None


def _load_yaml(text: str, source: str):
    """Parse YAML text safely (see ``_SafeLoader``); every problem is a JourneyDefinitionError."""
    if not isinstance(text, str):
        raise JourneyDefinitionError(f"{source}: expected YAML text (a str), got {type(text).__name__}; pass the "
                                     f"text, or the path of the file to Journey.from_yaml().")
    if len(text) > _MAX_YAML_SIZE:
        raise JourneyDefinitionError(f"{source}: the YAML text has {len(text):,} characters (at most "
                                     f"{_MAX_YAML_SIZE:,}); a journey or rules file is a few KB. Check that this is "
                                     f"the right text, or split it.")
    try:
        return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        if isinstance(err, _Refused):
            raise JourneyDefinitionError(f"{source}{at}: {err.problem}") from None
        problem = cut(str(err.problem or err.context or err), 200, quote=False)
        tag = re.search(r"constructor for the tag '([^']*)", problem)
        if tag:
            name = tag.group(1).replace("tag:yaml.org,2002:", "!!")
            raise JourneyDefinitionError(
                f"{source}{at}: the tag {cut(name, 60)} is not allowed. Journey files are plain YAML (mappings, lists, "
                f"text, numbers) and are loaded safely, without constructing objects; remove the tag.") from None
        context = f" ({cut(err.context, 100, quote=False)})" if err.context and err.problem else ""
        if problem.startswith("duplicate key"):
            raise JourneyDefinitionError(f"{source}{at}: {problem}; remove or rename one of them.") from None
        raise JourneyDefinitionError(f"{source}{at}: invalid YAML: {problem}{context}. Fix the YAML syntax "
                                     f"(indent with spaces, quote text containing ': ' or '#').") from None
    except yaml.YAMLError as err:
        raise JourneyDefinitionError(f"{source}: invalid YAML: {cut(str(err), 200, quote=False)}.") from None


class _Dumper(yaml.SafeDumper):
    """yaml.SafeDumper writing lists of plain values in flow style: ``activities: [a, b]``."""


def _represent_list(dumper: _Dumper, data: list):
    flow = all(not isinstance(x, (list, dict)) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


def _represent_str(dumper: _Dumper, data: str):
    # YAML folds \x85, \u2028 and \u2029 into spaces unless they are escaped: double-quote such text
    awkward = not data.isprintable() or any(c in data for c in "\x85\u2028\u2029")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"' if awkward else None)


_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(str, _represent_str)


# --------------------------------------------------------------------------- the journey


@dataclass(frozen=True)
class Journey:
    """A designed customer journey: milestones (and the happy path), entry and exit criteria,
    stall thresholds, journey-map phases and the goal.

    Build it in code, from a dict (:meth:`from_dict`) or from YAML (:meth:`from_yaml`); the
    module docstring documents the YAML format. Milestones, entry, exit and goal may be
    given as objects or as dicts in the YAML form; durations as text ("2d") or Timedelta.

    >>> j = Journey("signup", [Milestone("visit", ["landing"]), Milestone("form", ["signup_form"])],
    ...             stall_after={"form": "36h"}, goal=Goal("onboarding", "signup_form", target=500))
    >>> j
    Journey 'signup': 2 milestones, happy path visit > form, goal onboarding
    >>> j.happy_path, j.stall_after["form"]
    (('visit', 'form'), Timedelta('1 days 12:00:00'))
    """

    name: str
    milestones: tuple[Milestone, ...]
    _: KW_ONLY
    entry: Criteria | None = None
    exit: Criteria | None = None
    stall_after: Mapping[str, pd.Timedelta] = field(default_factory=FrozenMap)
    phases: Mapping[str, tuple[str, ...]] = field(default_factory=FrozenMap)
    goal: Goal | None = None

    _KEYS = ("name", "milestones", "entry", "exit", "stall_after", "phases", "goal")

    def __post_init__(self):
        name = _text(self.name, "journey", "journey name")
        where = f"journey {cut(name)}"
        object.__setattr__(self, "name", name)

        # milestones
        ms = self.milestones
        if ms is None or isinstance(ms, (str, Mapping, Milestone)) or not isinstance(ms, Iterable):
            raise _fail(where, f"milestones must be a list of milestones, got {cut(ms)}.")
        built = []
        for i, m in enumerate(ms):
            if isinstance(m, Milestone):
                built.append(m)
            elif isinstance(m, Mapping):
                with _located("milestone:", f"milestones[{i}]:"):
                    built.append(Milestone.from_dict(m))
            else:
                raise _fail(where, f"milestones[{i}] must be a milestone (name, activities, ...), got {cut(m)}.")
        if not built:
            raise _fail(where, "the milestone list is empty; a journey needs at least one milestone "
                               "(usually 3-5), e.g. - {name: cart, activities: [add_to_cart]}.")
        seen: dict[str, int] = {}
        for i, m in enumerate(built):
            if m.name in seen:
                raise _fail(where, f"duplicate milestone name {cut(m.name)} (milestones[{seen[m.name]}] and "
                                   f"milestones[{i}]); milestone names must be unique.")
            seen[m.name] = i
        if not any(not m.optional and m.kind == "positive" for m in built):
            raise _fail(where, "no happy path: every milestone is optional or negative; mark at least one "
                               "positive milestone as required (optional: false).")
        object.__setattr__(self, "milestones", tuple(built))

        # entry / exit
        for key in ("entry", "exit"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, Criteria):
                with _located("criteria", key):
                    value = Criteria.from_dict(value)
            object.__setattr__(self, key, value)

        # stall_after
        stall = self.stall_after if self.stall_after is not None else {}
        if not isinstance(stall, Mapping):
            raise _fail(where, f"stall_after must map milestone names to durations, e.g. {{cart: 2d}}; got "
                               f"{cut(stall)}.")
        names = [m.name for m in built]
        parsed = {}
        for key, value in stall.items():
            if key not in seen:
                raise _fail(where, f"stall_after names {cut(key)}, which is not a milestone. Milestones: "
                                   f"{', '.join(names)}.{did_you_mean(str(key), names)}")
            parsed[key] = _duration(value, f"stall_after[{cut(key)}]")
        object.__setattr__(self, "stall_after", FrozenMap(parsed))

        # phases
        phases = self.phases if self.phases is not None else {}
        if not isinstance(phases, Mapping):
            raise _fail(where, f"phases must map phase names to activities, e.g. {{awareness: [ad_click]}}; "
                               f"got {cut(phases)}.")
        owner: dict[str, str] = {}
        parsed_phases = {}
        for phase, acts in phases.items():
            phase = _text(phase, "phases", "phase name")
            if acts is None:
                raise _fail(where, f"phase {cut(phase)} lists no activities; give a list, e.g. "
                                   f"{cut(phase, quote=False)}: [ad_click] "
                                   f"(or [] for an empty phase).")
            acts = _activity_tuple(acts, f"phase {cut(phase)}", allow_empty=True)
            for a in acts:
                if a in owner:
                    raise _fail(where, f"activity {cut(a)} is in two phases ({cut(owner[a])} and {cut(phase)}); a "
                                       f"touchpoint "
                                       f"belongs to one phase.")
                owner[a] = phase
            parsed_phases[phase] = acts
        object.__setattr__(self, "phases", FrozenMap(parsed_phases))

        # goal
        if self.goal is not None and not isinstance(self.goal, Goal):
            object.__setattr__(self, "goal", Goal.from_dict(self.goal))

    # ------------------------------------------------------------------ dict / YAML

    @classmethod
    def from_dict(cls, d: Mapping) -> Journey:
        """Build a journey from its dict (YAML) form, refusing unknown keys.

        >>> Journey.from_dict({"name": "j", "milestones": [{"name": "a", "activities": ["x"]}]}).happy_path
        ('a',)
        >>> Journey.from_dict({"name": "j", "milestone": []})
        Traceback (most recent call last):
        ...
        journeylab.exceptions.JourneyDefinitionError: journey: unknown key 'milestone'. Did you mean 'milestones'? ...
        """
        _check_keys(d, cls._KEYS, "journey", required=("name", "milestones"))
        return cls(d["name"], d["milestones"], entry=d.get("entry"), exit=d.get("exit"),
                   stall_after=d.get("stall_after"), phases=d.get("phases"), goal=d.get("goal"))

    def to_dict(self) -> dict:
        """The dict (YAML) form: plain lists, text and numbers; ``from_dict(j.to_dict()) == j``.

        >>> Journey("j", [Milestone("a", ["x"])], stall_after={"a": "90min"}).to_dict()
        {'name': 'j', 'milestones': [{'name': 'a', 'activities': ['x']}], 'stall_after': {'a': '90min'}}
        """
        out: dict = {"name": self.name, "milestones": [m.to_dict() for m in self.milestones]}
        if self.entry is not None:
            out["entry"] = self.entry.to_dict()
        if self.exit is not None:
            out["exit"] = self.exit.to_dict()
        if self.stall_after:
            out["stall_after"] = {k: duration_spec(v) for k, v in self.stall_after.items()}
        if self.phases:
            out["phases"] = {k: list(v) for k, v in self.phases.items()}
        if self.goal is not None:
            out["goal"] = self.goal.to_dict()
        return out

    @classmethod
    def from_yaml(cls, path) -> Journey:
        """Load a journey from a YAML file (read safely: no tags, no object construction).

        Hostile files get a JourneyDefinitionError before they cost time or memory: over
        2 MB, over 50,000 values, nested deeper than 50 levels, or with aliases that would
        repeat more than 10,000 values (see the module docstring).

        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "j.yaml"
        >>> _ = p.write_text("name: j\\nmilestones:\\n  - {name: cart, activities: [add_to_cart]}\\n")
        >>> Journey.from_yaml(p)
        Journey 'j': 1 milestone, happy path cart
        """
        try:
            p = Path(path)
        except TypeError:
            raise JourneyDefinitionError(f"path={cut(path)} is not a file path; give the path of a .yaml "
                                         f"file.") from None
        try:
            exists = p.exists()
        except (OSError, ValueError) as err:  # a name too long for the file system
            raise JourneyDefinitionError(f"journey file {cut(str(p))} cannot be read "
                                         f"({cut(str(err), 60, quote=False)}); check the path.") from None
        if not exists:
            siblings = [f.name for f in p.parent.glob("*.y*ml")] if p.parent.is_dir() else []
            raise JourneyDefinitionError(
                f"journey file {cut(str(p))} does not exist (working directory: {Path.cwd()})."
                f"{did_you_mean(p.name, siblings)} Check the path.")
        if p.is_dir():
            raise JourneyDefinitionError(f"journey file {cut(str(p))} is a folder; give the path of a .yaml file.")
        return cls.from_yaml_string(_read_yaml_file(p, "journey file"), source=str(p))

    @classmethod
    def from_yaml_string(cls, text: str, *, source: str = "<yaml>") -> Journey:
        """Build a journey from YAML text (``source`` names it in error messages).

        >>> Journey.from_yaml_string("name: j\\nmilestones: [{name: a, activities: [x]}]").name
        'j'
        """
        data = _load_yaml(text, source)
        if data is None:
            raise JourneyDefinitionError(f"{source}: the journey definition is empty; it needs at least 'name' and "
                                         f"'milestones'.")
        if not isinstance(data, Mapping):
            raise JourneyDefinitionError(f"{source}: a journey definition is a mapping with keys "
                                         f"{', '.join(cls._KEYS)}; got a {type(data).__name__}.")
        try:
            return cls.from_dict(data)
        except JourneyDefinitionError as err:
            raise JourneyDefinitionError(f"{source}: {err}") from None

    def to_yaml(self, path=None) -> str | Path:
        """Write the journey as YAML to ``path`` (atomically) and return the path; without a path,
        return the YAML text. ``Journey.from_yaml(j.to_yaml(p)) == j``.

        >>> print(Journey("j", [Milestone("a", ["x", "y"])]).to_yaml(), end="")
        name: j
        milestones:
        - name: a
          activities: [x, y]
        """
        text = yaml.dump(self.to_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                         default_flow_style=False, width=100)
        if path is None:
            return text
        return atomic_write(path, text, example="journey.yaml")

    # ------------------------------------------------------------------ vocabulary

    @property
    def happy_path(self) -> tuple[str, ...]:
        """Names of the non-optional positive milestones, in order: the business's preferred path.

        >>> Journey("j", [Milestone("a", ["x"]), Milestone("b", ["y"], optional=True),
        ...               Milestone("c", ["z"]), Milestone("d", ["w"], kind="negative")]).happy_path
        ('a', 'c')
        """
        return tuple(m.name for m in self.milestones if not m.optional and m.kind == "positive")

    @property
    def activities(self) -> tuple[str, ...]:
        """Every activity the journey names (milestones, entry, exit, goal, phases), first mention first.

        >>> Journey("j", [Milestone("a", ["x", "y"])], exit=["z"], phases={"p": ["x", "q"]}).activities
        ('x', 'y', 'z', 'q')
        """
        return tuple(self._activity_places())

    def _activity_places(self) -> dict[str, list[str]]:
        places: dict[str, list[str]] = {}

        def add(acts, place):
            for a in acts:
                places.setdefault(a, [])
                if place not in places[a]:
                    places[a].append(place)

        for m in self.milestones:
            add(m.activities, f"milestone {cut(m.name)}")
        for key in ("entry", "exit"):
            crit = getattr(self, key)
            if crit is not None:
                add(crit.activities, key)
        if self.goal is not None:
            add((self.goal.activity,), "goal")
        for phase, acts in self.phases.items():
            add(acts, f"phase {cut(phase)}")
        return places

    def _condition_places(self) -> dict[str, list[str]]:
        places: dict[str, list[str]] = {}
        groups = [(f"milestone {cut(m.name)}", m.conditions) for m in self.milestones]
        groups += [(k, getattr(self, k).conditions) for k in ("entry", "exit") if getattr(self, k) is not None]
        if self.goal is not None:
            groups.append(("goal", self.goal.conditions))
        for place, conds in groups:
            for c in conds:
                places.setdefault(c.column, [])
                if place not in places[c.column]:
                    places[c.column].append(place)
        return places

    def milestone(self, name: str) -> Milestone:
        """The milestone called ``name``.

        >>> Journey("j", [Milestone("cart", ["add_to_cart"])]).milestone("cart").activities
        ('add_to_cart',)
        """
        for m in self.milestones:
            if m.name == name:
                return m
        names = [m.name for m in self.milestones]
        shown = ", ".join(cut(n, 40, quote=False) for n in names[:20]) + (", ..." if len(names) > 20 else "")
        hint = did_you_mean(name, names) if isinstance(name, str) else ""
        raise JourneyDefinitionError(f"journey {cut(self.name)} has no milestone {cut(name)}. Milestones: "
                                     f"{shown}.{hint}")

    def phase_of(self, activity):
        """The phase of an activity (None if no phase lists it); given a Series of activities,
        an ordered categorical Series of phases.

        >>> j = Journey("j", [Milestone("a", ["view"])], phases={"awareness": ["ad_click"], "consideration": ["view"]})
        >>> j.phase_of("view"), j.phase_of("other")
        ('consideration', None)
        >>> import pandas as pd
        >>> j.phase_of(pd.Series(["ad_click", "other"])).tolist()
        ['awareness', nan]
        """
        lookup = {a: phase for phase, acts in self.phases.items() for a in acts}
        if isinstance(activity, pd.Series):
            dtype = pd.CategoricalDtype(list(self.phases), ordered=True)
            return activity.map(lookup).astype(dtype).rename("phase")
        return lookup.get(activity)

    # ------------------------------------------------------------------ events

    def milestone_of(self, events: pd.DataFrame) -> pd.Series:
        """For each event, the first milestone (in definition order) whose activities and
        conditions it matches, else NaN - an ordered categorical Series on the events' index.

        ``events`` is the canonical DataFrame of a log (``log.to_pandas()``) or the EventLog.

        >>> import pandas as pd
        >>> j = Journey("j", [Milestone("small", ["pay"], conditions="amount <= 50"), Milestone("big", ["pay"])])
        >>> j.milestone_of(pd.DataFrame({"activity": ["pay", "pay", "view"], "amount": [10, 90, 0]})).tolist()
        ['small', 'big', nan]
        """
        df = _events(events)
        codes = np.full(len(df), -1, dtype=np.int64)
        for i in range(len(self.milestones) - 1, -1, -1):
            codes[self.milestones[i].matches(df).to_numpy()] = i
        cat = pd.Categorical.from_codes(codes, categories=[m.name for m in self.milestones], ordered=True)
        return pd.Series(cat, index=df.index, name="milestone")

    # ------------------------------------------------------------------ checking against a log

    def problems(self, log) -> list[str]:
        """What in the journey does not fit ``log``: activities the log does not contain and
        condition columns it does not have, each with the closest names it does have.

        ``log`` needs only ``.activities`` and ``.columns`` (an EventLog; its ``.roles``, when
        present, explain a condition that uses an input column name such as ``where`` for the
        canonical ``channel``). An empty list means the journey fits.

        >>> from types import SimpleNamespace
        >>> log = SimpleNamespace(activities=("view_product", "add_to_cart"), columns=("case", "activity"))
        >>> Journey("j", [Milestone("cart", ["add_to_kart"])]).problems(log)
        ["activity 'add_to_kart' (milestone 'cart') is not in the log; closest: 'add_to_cart'."]
        """
        present = tuple(str(a) for a in log.activities)
        present_set = set(present)
        columns = tuple(str(c) for c in log.columns)
        out = []
        for activity, places in self._activity_places().items():
            if activity in present_set:
                continue
            hits = closest(activity, present)
            if hits:
                hint = "closest: " + ", ".join(cut(h) for h in hits)
            else:
                shown = ", ".join(cut(a) for a in present[:8]) + (", ..." if len(present) > 8 else "")
                hint = f"nothing close; the log has {len(present)} activities ({shown})"
            out.append(f"activity {cut(activity)} ({', '.join(places)}) is not in the log; {hint}.")
        roles = getattr(log, "roles", None)
        renamed = {str(v): str(k) for k, v in roles.items()} if isinstance(roles, Mapping) else {}
        for column, places in self._condition_places().items():
            if column in columns:
                continue
            hits = closest(column, columns)
            if renamed.get(column) in columns:
                hint = (f"the log names its {renamed[column]} role {renamed[column]!r} (canonical name): write "
                        f"{renamed[column]} instead of {cut(column, quote=False)}")
            elif hits:
                hint = "closest: " + ", ".join(cut(h) for h in hits)
            else:
                more = ", ..." if len(columns) > 40 else ""
                hint = "columns: " + ", ".join(cut(c, quote=False) for c in columns[:40]) + more
            out.append(f"condition column {cut(column)} ({', '.join(places)}) is not a column of the log; {hint}.")
        return out

    def check(self, log) -> Journey:
        """Check the journey against ``log``; raise :class:`JourneyDefinitionError` listing every
        problem (see :meth:`problems`), else return the journey (so it can be chained).

        >>> from types import SimpleNamespace
        >>> log = SimpleNamespace(activities=("add_to_cart",), columns=("case", "activity"))
        >>> Journey("j", [Milestone("cart", ["add_to_cart"])]).check(log).name
        'j'
        """
        found = self.problems(log)
        if found:
            raise JourneyDefinitionError(
                f"journey {cut(self.name)} does not fit the log ({len(found)} "
                f"problem{'s' if len(found) > 1 else ''}):\n"
                + "\n".join(f"  - {p}" for p in found)
                + "\nFix the names in the journey definition, or rename the log's activities/columns.")
        return self

    # ------------------------------------------------------------------ display

    def __repr__(self) -> str:
        n = len(self.milestones)
        text = f"Journey {self.name!r}: {n} milestone{'s' if n != 1 else ''}, happy path {' > '.join(self.happy_path)}"
        if self.goal is not None:
            text += f", goal {self.goal.type}"
        return text

    def _repr_html_(self) -> str:
        e = html.escape
        rows = []
        for i, m in enumerate(self.milestones[:50], start=1):
            stall = duration_spec(self.stall_after[m.name]) if m.name in self.stall_after else ""
            when = " and ".join(str(c) for c in m.conditions)
            rows.append(
                "<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in (
                    i, m.name, ", ".join(m.activities), when, m.kind, "yes" if m.optional else "", stall)) + "</tr>")
        more = f"<p>... {len(self.milestones) - 50} more milestones</p>" if len(self.milestones) > 50 else ""
        lines = [f"<b>Journey {e(repr(self.name))}</b>: happy path {e(' > '.join(self.happy_path))}"]
        if self.entry is not None:
            lines.append(f"entry: {e(str(self.entry))}")
        if self.exit is not None:
            lines.append(f"exit: {e(str(self.exit))}")
        if self.goal is not None:
            lines.append(f"goal: {e(str(self.goal))}")
        if self.phases:
            lines.append("phases: " + e(" > ".join(self.phases)))
        head = "".join(f"<th>{h}</th>" for h in ("#", "milestone", "activities", "when", "kind", "optional",
                                                   "stall after"))
        return ("<div>" + "<br>".join(lines) + "<table><thead><tr>" + head + "</tr></thead><tbody>"
                + "".join(rows) + "</tbody></table>" + more + "</div>")


def check_journey(value, name: str = "journey") -> Journey:
    """The ``journey`` parameter kind (see :mod:`journeylab._core.validation`): a Journey, or advice.

    >>> check_journey({"name": "j"})
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: journey must be a journeylab Journey, got a dict: build it with Journey.from_dict({...}).
    """
    if isinstance(value, Journey):
        return value
    if isinstance(value, Mapping):
        how = "a dict: build it with Journey.from_dict({...})"
    elif isinstance(value, (str, Path)):
        how = f"a path or text ({cut(str(value), 60)}): read it with Journey.from_yaml(path)"
    else:
        how = f"{type(value).__name__}: build one with Journey.from_yaml('journey.yaml') or Journey.from_dict({{...}})"
    raise InvalidParameterError(f"{name} must be a journeylab Journey, got {how}.")


register_kind("journey", check_journey)
