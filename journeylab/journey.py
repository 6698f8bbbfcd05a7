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
from collections.abc import Iterable, Mapping
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._core.formatting import cut, duration_spec, show_path
from ._core.io import atomic_write
from ._core.deprecation import moved_names
from ._core import names as _names
from ._core.names import did_you_mean
from ._core.results import FrozenMap
from ._core.validation import register as register_kind
from ._fit import JourneyProblem, activity_places, check_fit, find_problems
from ._journey_parts import Criteria, Goal, Milestone, _activity_tuple, _check_keys, _duration, _located
from ._yaml import dump_yaml, load_yaml, read_yaml_file
from .conditions import GOAL_TYPES, MILESTONE_KINDS, Condition, _events, _fail, _text, parse_conditions
from .exceptions import InvalidParameterError, JourneyDefinitionError

#: Transitional names (issue 14): rules.py reads its files with load_yaml / read_yaml_file of journeylab._yaml,
#: and the exact duration text is journeylab._core.formatting.duration_spec.
_load_yaml, _read_yaml_file, _format_duration = load_yaml, read_yaml_file, duration_spec

__all__ = [
    "Journey",
    "Milestone",
    "Goal",
    "Criteria",
    "Condition",
    "JourneyProblem",
    "FrozenMap",
    "parse_conditions",
    "GOAL_TYPES",
    "MILESTONE_KINDS",
]
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
            raise JourneyDefinitionError(f"journey file {show_path(p)} cannot be read "
                                         f"({cut(str(err), 60, quote=False)}); check the path.") from None
        if not exists:
            siblings = [f.name for f in p.parent.glob("*.y*ml")] if p.parent.is_dir() else []
            raise JourneyDefinitionError(
                f"journey file {show_path(p)} does not exist (working directory: {Path.cwd()})."
                f"{did_you_mean(p.name, siblings)} Check the path.")
        if p.is_dir():
            raise JourneyDefinitionError(f"journey file {show_path(p)} is a folder; give the path of a .yaml file.")
        return cls.from_yaml_string(read_yaml_file(p, "journey file"), source=str(p))

    @classmethod
    def from_yaml_string(cls, text: str, *, source: str = "<yaml>") -> Journey:
        """Build a journey from YAML text (``source`` names it in error messages).

        >>> Journey.from_yaml_string("name: j\\nmilestones: [{name: a, activities: [x]}]").name
        'j'
        """
        data = load_yaml(text, source)
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
        text = dump_yaml(self.to_dict())
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
        return tuple(activity_places(self))

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

    def problems(self, log, *, parts=None) -> list[JourneyProblem]:
        """What in the journey does not fit ``log``: the activities it names that the log does not
        contain and the condition columns it lacks, each with the closest names the log has.

        This is the one "does the journey fit the log" check: the analyses use it (through
        :meth:`check`) and ``journeylab validate`` prints it.

        Parameters
        ----------
        log : EventLog
            Only ``.activities`` and ``.columns`` are read (and ``.roles``, when present, to explain a
            condition that uses an input column name such as ``where`` for the canonical ``channel``).
        parts : str or list of str, optional
            Check only these parts of the journey: ``"milestones"``, ``"entry"``, ``"exit"``, ``"goal"``,
            ``"phases"`` (conditions included). Default: all.

        Returns
        -------
        list of JourneyProblem
            Empty when the journey fits. Each problem is the advice line (a ``str``) with its parts as
            attributes: ``kind`` ("activity" or "column"), ``name``, ``places`` (where the journey names
            it), ``closest`` (the log's closest names), ``hint`` (the advice after the semicolon),
            ``fatal`` (it makes a part of the journey impossible to match: a happy-path milestone or an
            entry none of whose activities occurs, the goal trigger, a condition column) and ``why`` (what
            can then never happen). Activities come first, then columns, in the order the journey names them.

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> log = SimpleNamespace(activities=("view_product", "add_to_cart"), columns=("case", "activity"))
        >>> found = Journey("j", [Milestone("cart", ["add_to_kart"])]).problems(log)
        >>> found
        ["activity 'add_to_kart' (milestone 'cart') is not in the log; closest: 'add_to_cart'."]
        >>> found[0].fatal, found[0].why, found[0].closest
        (True, "the happy-path milestone 'cart' matches no event", ('add_to_cart',))
        """
        return find_problems(self, log, parts=parts)

    def check(self, log, *, parts=None, minor: str = "raise") -> Journey:
        """Check the journey against ``log`` (see :meth:`problems`) and return it, so it can be chained.

        Parameters
        ----------
        log : EventLog
            The log (only ``.activities``, ``.columns`` and ``.roles`` are read).
        parts : str or list of str, optional
            Check only these parts: ``"milestones"``, ``"entry"``, ``"exit"``, ``"goal"``, ``"phases"``.
        minor : {"raise", "warn", "ignore"}, default "raise"
            ``"raise"``: any problem raises. ``"warn"``: only a fatal problem raises (the message then
            lists every problem and says what can never happen); minor ones give one
            :class:`~journeylab.exceptions.DataQualityWarning`. ``"ignore"``: only fatal problems raise.

        Returns
        -------
        Journey
            This journey.

        Raises
        ------
        JourneyDefinitionError
            Listing every problem, with the closest names, and how to fix them.

        Examples
        --------
        >>> from types import SimpleNamespace
        >>> log = SimpleNamespace(activities=("add_to_cart",), columns=("case", "activity"))
        >>> Journey("j", [Milestone("cart", ["add_to_cart"])]).check(log).name
        'j'
        >>> Journey("j", [Milestone("cart", ["add_to_kart"])]).check(log)
        Traceback (most recent call last):
        ...
        journeylab.exceptions.JourneyDefinitionError: journey 'j' does not fit the log (1 problem):
          - activity 'add_to_kart' (milestone 'cart') is not in the log; closest: 'add_to_cart'.
        Fix the names in the journey definition, or rename the log's activities/columns.
        """
        check_fit(self, log, parts=parts, minor=minor)
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


# a name that lived here before the journey check moved to _fit.py (issue 14): one more release
__getattr__ = moved_names(__name__, {"closest": (_names.closest, "journeylab._core.names.closest")})
