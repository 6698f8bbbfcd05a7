"""Does a journey fit a log? The one check, behind :meth:`Journey.problems <journeylab.Journey.problems>`
and :meth:`Journey.check <journeylab.Journey.check>`, that every analysis of a journey uses.

A journey names activities (in its milestones, entry, exit, goal and phases) and condition columns
(in the ``when`` of its milestones, entry, exit and goal). Each name the log lacks is one
:class:`JourneyProblem`: an advice line with the closest names the log has, and its parts as
attributes, so that an analysis can decide what is fatal for it and word its own advice.

A problem is **fatal** when it makes a part of the journey impossible to match: a happy-path milestone
none of whose activities occurs, an entry none of whose activities occurs (nobody enters), an absent
goal trigger (nobody can attain the goal), or a condition on a column the log does not have. Other
absent activities (an optional or negative milestone's, one of several of a milestone, an exit, a
phase) are **minor**: they simply never match.

>>> from types import SimpleNamespace
>>> import journeylab as jl
>>> journey = jl.Journey("j", [jl.Milestone("cart", ["add_to_kart"]), jl.Milestone("pay", ["pay", "paypal"])])
>>> log = SimpleNamespace(activities=("add_to_cart", "pay"), columns=("case", "activity"))
>>> [(p.name, p.fatal, p.closest) for p in find_problems(journey, log)]
[('add_to_kart', True, ('add_to_cart',)), ('paypal', False, ('pay',))]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ._core.warn import warn
from ._core.formatting import cut
from ._core.names import closest
from .exceptions import DataQualityWarning, InvalidParameterError, JourneyDefinitionError

__all__ = ["JourneyProblem", "PARTS", "find_problems", "activity_places", "check_fit"]

#: The parts of a journey a check can be limited to.
PARTS = ("milestones", "entry", "exit", "goal", "phases")


class JourneyProblem(str):
    """One way a journey does not fit a log: the advice line (a ``str``, as ``Journey.problems`` always
    gave) with its parts as attributes.

    Attributes
    ----------
    kind : str
        ``"activity"`` (the log has no such activity) or ``"column"`` (no such column, for a condition).
    name : str
        The activity or column the journey names.
    places : tuple of str
        Where the journey names it: ``"milestone 'cart'"``, ``"entry"``, ``"exit"``, ``"goal"``,
        ``"phase 'awareness'"``.
    closest : tuple of str
        The closest names the log has (may be empty).
    hint : str
        The advice after the semicolon of the line: ``"closest: 'add_to_cart'"``, ``"nothing close; the
        log has 9 activities (...)"``, or how to name a role column.
    fatal : bool
        True when it makes a part of the journey impossible to match (see the module docstring).
    why : str
        For a fatal problem, what can never happen ("the happy-path milestone 'cart' matches no event",
        "nobody enters the journey", "nobody can attain the goal", "the condition cannot be evaluated");
        else "".
    """

    def __new__(cls, text: str = "", *, kind: str = "activity", name: str = "", places: tuple[str, ...] = (),
                closest: tuple[str, ...] = (), hint: str = "", fatal: bool = False, why: str = ""):
        self = super().__new__(cls, text)
        self.kind, self.name, self.places, self.closest = kind, name, tuple(places), tuple(closest)
        self.hint, self.fatal, self.why = hint, bool(fatal), why
        return self


def _check_parts(parts) -> tuple[str, ...]:
    if parts is None:
        return PARTS
    chosen = (parts,) if isinstance(parts, str) else tuple(parts) if isinstance(parts, Iterable) else None
    if not chosen or any(p not in PARTS for p in chosen):
        raise InvalidParameterError(f"parts={cut(parts)} must name parts of a journey: one or several of "
                                    f"{list(PARTS)}, e.g. parts=['milestones'] (or None for all).")
    return chosen


def _groups(journey, parts: tuple[str, ...]) -> list[tuple[str, tuple, tuple, str]]:
    """(place, activities, conditions, what never happens when none of the activities occurs - or "")."""
    out = []
    if "milestones" in parts:
        happy = set(journey.happy_path)
        for m in journey.milestones:
            place = f"milestone {cut(m.name)}"
            out.append((place, m.activities, m.conditions,
                        f"the happy-path milestone {cut(m.name)} matches no event" if m.name in happy else ""))
    for key, why in (("entry", "nobody enters the journey"), ("exit", "")):
        crit = getattr(journey, key)
        if key in parts and crit is not None:
            out.append((key, crit.activities, crit.conditions, why if crit.activities else ""))
    if "goal" in parts and journey.goal is not None:
        out.append(("goal", (journey.goal.activity,), journey.goal.conditions, "nobody can attain the goal"))
    if "phases" in parts:
        out.extend((f"phase {cut(phase)}", acts, (), "") for phase, acts in journey.phases.items())
    return out


def activity_places(journey, parts=None) -> dict[str, list[str]]:
    """Every activity the journey names (in ``parts``), first mention first, with the places that name it.

    >>> import journeylab as jl
    >>> activity_places(jl.Journey("j", [jl.Milestone("a", ["x"])], exit=["x", "z"]))
    {'x': ["milestone 'a'", 'exit'], 'z': ['exit']}
    """
    places: dict[str, list[str]] = {}
    for place, acts, _conds, _why in _groups(journey, _check_parts(parts)):
        for a in acts:
            where = places.setdefault(a, [])
            if place not in where:
                where.append(place)
    return places


def find_problems(journey, log, *, parts=None) -> list[JourneyProblem]:
    """The problems of ``journey`` on ``log`` (``.activities`` and ``.columns`` are all it reads; its
    ``.roles``, when present, explain a condition that names an input column): activities first, then
    condition columns, each in the order the journey first names it. See :meth:`journeylab.Journey.problems`.
    """
    groups = _groups(journey, _check_parts(parts))
    present = tuple(str(a) for a in log.activities)
    present_set = set(present)
    absent_acts: dict[str, list[str]] = {}
    whys: dict[str, list[str]] = {}
    for place, acts, _conds, why in groups:
        for a in acts:
            if a not in present_set and place not in absent_acts.setdefault(a, []):
                absent_acts[a].append(place)
        if why and acts and not any(a in present_set for a in acts):
            for a in acts:
                whys.setdefault(a, []).append(why)
    out = []
    for activity, places in absent_acts.items():
        hits = closest(activity, present)
        if hits:
            hint = "closest: " + ", ".join(cut(h) for h in hits)
        else:
            shown = ", ".join(cut(a) for a in present[:8]) + (", ..." if len(present) > 8 else "")
            hint = f"nothing close; the log has {len(present)} activities ({shown})"
        why = "; ".join(dict.fromkeys(whys.get(activity, ())))
        out.append(JourneyProblem(f"activity {cut(activity)} ({', '.join(places)}) is not in the log; {hint}.",
                                  kind="activity", name=activity, places=places, closest=hits, hint=hint,
                                  fatal=bool(why), why=why))
    columns = tuple(str(c) for c in log.columns)
    roles = getattr(log, "roles", None)
    renamed = {str(v): str(k) for k, v in roles.items()} if isinstance(roles, Mapping) else {}
    column_places: dict[str, list[str]] = {}
    for place, _acts, conds, _why in groups:
        for c in conds:
            if c.column not in columns and place not in column_places.setdefault(c.column, []):
                column_places[c.column].append(place)
    for column, places in column_places.items():
        hits = closest(column, columns)
        if renamed.get(column) in columns:
            hint = (f"the log names its {renamed[column]} role {renamed[column]!r} (canonical name): write "
                    f"{renamed[column]} instead of {cut(column, quote=False)}")
        elif hits:
            hint = "closest: " + ", ".join(cut(h) for h in hits)
        else:
            more = ", ..." if len(columns) > 40 else ""
            hint = "columns: " + ", ".join(cut(c, quote=False) for c in columns[:40]) + more
        out.append(JourneyProblem(
            f"condition column {cut(column)} ({', '.join(places)}) is not a column of the log; {hint}.",
            kind="column", name=column, places=places, closest=hits, hint=hint, fatal=True,
            why="the condition cannot be evaluated"))
    return out


def check_fit(journey, log, *, parts=None, minor: str = "raise") -> None:
    """Raise a JourneyDefinitionError for the problems of ``journey`` on ``log`` (see
    :meth:`journeylab.Journey.check`); with ``minor="warn"`` only for fatal ones, the minor ones
    then warn (pointing at the user's call)."""
    if minor not in ("raise", "warn", "ignore"):
        raise InvalidParameterError(f"minor={cut(minor)} is not allowed; use 'raise', 'warn' or 'ignore'.")
    found = find_problems(journey, log, parts=parts)
    fatal = [p for p in found if p.fatal]
    if found and (minor == "raise" or fatal):
        so = ""
        if minor != "raise":
            so = "\nSo " + "; ".join(dict.fromkeys(w for p in fatal for w in p.why.split("; "))) + "."
        raise JourneyDefinitionError(
            f"journey {cut(journey.name)} does not fit the log ({len(found)} "
            f"problem{'s' if len(found) > 1 else ''}):\n"
            + "\n".join(f"  - {p}" for p in found) + so
            + "\nFix the names in the journey definition, or rename the log's activities/columns.")
    if found and minor == "warn":
        warn(f"journey {cut(journey.name)}: some of its activities never occur in the log, so they never "
                      "match:\n" + "\n".join(f"  - {p}" for p in found), DataQualityWarning)
