"""Rules and actions: which customers a rule applies to now, and the action it names.

A **rule** pairs a data condition on the customer's journey state with an **action**
("stalled at payment for more than 2 days -> send_reminder"). :func:`evaluate_rules`
computes every customer's journey state at ``as_of`` and returns, for each rule, the
customers whose state satisfies its condition, as a table an activation system can
consume (:meth:`RuleActions.to_csv`, :meth:`RuleActions.to_parquet`). journeylab sends
nothing. On a log in DuckDB or Spark the engine sends back the journey's entry, exit and goal events (the
columns their conditions read) and per-customer tables (milestone state of the current entry, latest event,
profile and session values), never every event; the milestone events come back only when a milestone's
conditions do not compile to the engine (then pandas matches them).

Writing rules
-------------
Rules are a list of mappings (or the same list in YAML, at the top level or under
``rules:``)::

    - name: payment reminder
      when: "stalled_at == 'payment' and stalled_for > '2d'"
      action: send_reminder
    - name: win back
      when: "in_journey == false and goal_reached == false and `session.channel` == 'app'"
      action: push_offer

``when`` uses the condition language of journey definitions (see
:mod:`journeylab.journey`): ``field op value`` joined by ``and``, operators ``==, !=, >,
>=, <, <=, in, not in``, quoted text, numbers, ``true``/``false``; durations are quoted
with a unit (``'2d'``, ``'36h'``) and positive (``stalled_for`` and ``since_last_event``
are never negative). Nothing is ever evaluated as Python. For alternatives
(``or``) write several rules with the same action. ``when`` may also be a Python callable
taking the state table and returning a boolean Series.

The state fields
----------------
Rules apply to the customers who entered the journey (the same model as
:func:`~journeylab.goals.goal_attainment`), except the excluded and those suppressed by
``as_of``. Their *current entry* is their latest one.

``in_journey``
    still in the journey (the current entry has not ended).
``entries``, ``entered_at``, ``left``, ``left_at``
    number of entries; when the current entry started; how and when it ended
    (``exited``, ``timed_out``, ``active``).
``milestone``, ``milestone_at``
    the latest milestone reached in the current entry and when the customer arrived there
    (first event of their latest visit to it).
``reached_<milestone>``
    the milestone was reached in the current entry (``reached_payment == true``; names
    that are not identifiers go in backticks: `` `reached_my step` == true``).
``stalled_at``, ``stalled_for``
    while in the journey: the milestone they are at, and for how long (``as_of -
    milestone_at``); empty when out of the journey.
``stalled``
    ``stalled_for`` exceeds the journey's ``stall_after`` threshold of that milestone.
``goal_reached``, ``goal_at``
    credited with the journey's goal (counting rules of ``goal_attainment``).
``last_activity``, ``last_event_at``, ``since_last_event``
    the customer's latest event and the time since it.
attributes by name
    every other column of the log (``channel``, ``amount``, ``loyalty_member``, ...): the
    customer's latest known value (profile).
``session.<name>``
    session variables: the latest value of the column within the current entry (empty
    when not set since the entry began - variables are cleared when a new entry starts).
    Write them in backticks: `` `session.channel` == 'app' ``.

Examples
--------
>>> import pandas as pd, journeylab as jl
>>> from journeylab.journey import Journey
>>> df = pd.DataFrame({
...     "who": ["a", "a", "a", "b", "b", "b"],
...     "what": ["view", "cart", "payment", "view", "cart", "payment"],
...     "when": ["2025-05-01", "2025-05-01", "2025-05-02", "2025-05-01", "2025-05-03", "2025-05-05"],
... })
>>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
>>> journey = Journey.from_dict({"name": "checkout", "entry": ["view"], "milestones": [
...     {"name": "browse", "activities": ["view"]}, {"name": "cart", "activities": ["cart"]},
...     {"name": "payment", "activities": ["payment"]}, {"name": "purchase", "activities": ["purchase"]}]})
>>> rules = [{"name": "reminder", "when": "stalled_at == 'payment' and stalled_for > '2d'",
...           "action": "send_reminder"}]
>>> due = evaluate_rules(log, journey, rules)
>>> due.actions[["customer", "rule", "action", "reason"]].values.tolist()
[['a', 'reminder', 'send_reminder', "stalled_at = 'payment', stalled_for = 3.0 d"]]
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._core.formatting import cut, format_duration, show_path
from ._core.io import atomic_write, check_output, csv_text
from ._core.names import closest, did_you_mean
from ._core.results import FrozenMap, Result
from ._core.validation import JOURNEY, LOG, checked, to_timedelta
from ._kernels.crediting import milestones_compile
from ._kernels.entries import JOURNEYS, TIMEOUT, follow, other_entries
from ._kernels.journey_state import journey_state
from ._yaml import load_yaml, read_yaml_file
from .exceptions import InvalidParameterError, JourneyDefinitionError
from .journey import parse_conditions

__all__ = ["STATE_FIELDS", "Rule", "RuleActions", "evaluate_rules"]

#: The journey-state fields a rule can use (besides attributes, ``reached_<milestone>`` and
#: ``session.<column>``).
STATE_FIELDS = ("in_journey", "entries", "entered_at", "left", "left_at", "milestone", "milestone_at",
                "stalled_at", "stalled_for", "stalled", "goal_reached", "goal_at", "last_activity",
                "last_event_at", "since_last_event")
_KEYS = ("name", "when", "action", "description", "model")
#: State fields that are lengths of time up to ``as_of``, never negative.
_ELAPSED = ("stalled_for", "since_last_event")
_ALIASES = {"if": "when", "condition": "when", "conditions": "when", "then": "action", "do": "action",
            "title": "name", "rule": "name"}


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class Rule:
    """One rule: a ``name``, a condition ``when`` (text in the condition language, or a
    callable on the state table) and the ``action`` due when it holds.

    >>> Rule("reminder", "stalled_at == 'payment' and stalled_for > '2d'", "send_reminder").conditions
    (Condition("stalled_at == 'payment'"), Condition("stalled_for > '2d'"))
    """

    name: str
    when: Any
    action: str
    description: str = ""
    model: str = ""

    def __post_init__(self):
        for key in ("name", "action"):
            value = getattr(self, key)
            if not isinstance(value, str) or not value.strip():
                raise InvalidParameterError(f"rule {cut(self.name)}: {key}={cut(value)} must be a non-empty text, e.g. "
                                            f"{key}: {'send_reminder' if key == 'action' else 'payment reminder'}.")
        if callable(self.when):
            return
        if not isinstance(self.when, str) or not self.when.strip():
            raise InvalidParameterError(f"rule {cut(self.name)}: when={cut(self.when)} must be a condition such as "
                                        "\"stalled_at == 'payment' and stalled_for > '2d'\" (or a callable).")
        try:
            conditions = parse_conditions(self.when, where=f"rule {cut(self.name)}")
        except JourneyDefinitionError as err:
            raise InvalidParameterError(str(err)) from None
        for cond in conditions:
            if cond.column in _ELAPSED and isinstance(cond.value, str) and cond.value.strip().startswith("-"):
                raise InvalidParameterError(
                    f"rule {cut(self.name)}: {cut(str(cond), 120, quote=False)} compares with a negative duration; "
                    f"{cond.column} is the time elapsed up to as_of, never negative, so the comparison would hold "
                    f"for everyone or no one. Write a positive duration, e.g. {cond.column} {cond.op} '2d'.")

    @property
    def conditions(self) -> tuple:
        """The parsed conditions (empty for a callable ``when``)."""
        return () if callable(self.when) else parse_conditions(self.when)

    @classmethod
    def from_dict(cls, d: Mapping) -> Rule:
        """Build from ``{name, when, action, description?}``, refusing unknown keys."""
        if not isinstance(d, Mapping):
            raise InvalidParameterError(f"a rule is a mapping with keys name, when, action; got {cut(d)}.")
        for key in d:
            if key not in _KEYS:
                alias = _ALIASES.get(key.lower()) if isinstance(key, str) else None
                hint = (f" Did you mean {alias!r}?" if alias
                        else did_you_mean(key, _KEYS) if isinstance(key, str) else "")
                raise InvalidParameterError(f"rule {cut(d.get('name', '?'))}: unknown key {cut(key)}.{hint} Allowed "
                                            f"keys: {', '.join(_KEYS)}.")
        missing = [k for k in ("name", "when", "action") if k not in d]
        if missing:
            raise InvalidParameterError(f"rule {cut(d.get('name', '?'))}: missing {', '.join(map(repr, missing))}; a "
                                        "rule needs name, when and action.")
        return cls(d["name"], d["when"], d["action"], d.get("description", "") or "", d.get("model", "") or "")

    def to_dict(self) -> dict:
        """The YAML form (a callable ``when`` is shown by its name)."""
        when = getattr(self.when, "__name__", "<callable>") if callable(self.when) else self.when
        out = {"name": self.name, "when": when, "action": self.action}
        if self.description:
            out["description"] = self.description
        if self.model:
            out["model"] = self.model
        return out


def _rules(rules, name: str = "rules") -> tuple[Rule, ...]:
    """The ``rules`` parameter kind: a list of rules (mappings or Rule objects), or YAML text or a file."""
    if isinstance(rules, Path) or (isinstance(rules, str) and "\n" not in rules
                                   and rules.strip().lower().endswith((".yaml", ".yml"))):
        p = Path(rules)
        try:
            is_file = p.is_file()
        except (OSError, ValueError):  # a name too long for the file system
            is_file = False
        if not is_file:
            raise InvalidParameterError(f"rules file {show_path(p)} does not exist (working directory: {Path.cwd()}).")
        rules = load_yaml(read_yaml_file(p, "rules file"), str(p))
    elif isinstance(rules, str):
        rules = load_yaml(rules, "<rules>")
    model = ""
    if isinstance(rules, Mapping) and "rules" in rules and set(rules) <= {"rules", "model"}:
        model = rules.get("model") or ""  # the target of the scores the rules read (jl.predict)
        if not isinstance(model, str):
            raise InvalidParameterError(f"rules file: model={cut(model)} must name a prediction target, e.g. "
                                        "model: goal.")
        rules = rules["rules"]
    if isinstance(rules, (Rule, Mapping)):
        rules = [rules]
    if rules is None or isinstance(rules, str) or not isinstance(rules, Iterable):
        raise InvalidParameterError(f"rules={cut(rules)} must be a list of rules such as [{{'name': 'reminder', "
                                    "'when': \"stalled_at == 'payment' and stalled_for > '2d'\", "
                                    "'action': 'send_reminder'}].")
    out = [r if isinstance(r, Rule) else Rule.from_dict({**({"model": model} if model else {}), **r})
           if isinstance(r, Mapping) else Rule.from_dict(r) for r in rules]
    if not out:
        raise InvalidParameterError("rules is empty; give at least one rule (name, when, action).")
    seen = set()
    for r in out:
        if r.name in seen:
            raise InvalidParameterError(f"two rules are named {cut(r.name)}; rule names must be unique.")
        seen.add(r.name)
    return tuple(out)


# --------------------------------------------------------------------------- evaluation


def _with_scores(state: pd.DataFrame, scores, rules) -> pd.DataFrame:
    """The state with the score columns of ``scores`` (results of :func:`~journeylab.predict`, one per
    target); customers without a score (not in flight at the prediction's date) get none (no rule on a
    score holds for them)."""
    given = [] if scores is None else list(scores) if isinstance(scores, (list, tuple)) else [scores]
    by_target = {}
    for p in given:
        if not all(hasattr(p, a) for a in ("scores", "target", "column")):
            raise InvalidParameterError(f"scores={cut(p)} must be the result of jl.predict(log, journey, target=...) "
                                        "(or a list of them).")
        by_target[p.target] = p
    for r in rules:
        if r.model and r.model not in by_target:
            have = f"scores for {sorted(by_target)}" if by_target else "no scores"
            raise InvalidParameterError(f"rule {cut(r.name)} reads the model {cut(r.model)} but evaluate_rules got "
                                        f"{have}; pass scores=jl.predict(log, journey, target={r.model!r}).")
    if not by_target:
        return state
    state = state.copy()
    for p in by_target.values():
        cols = [c for c in p.scores.columns if c == p.column or c in ("remaining_low", "remaining_high",
                                                                           "p_next_milestone")]
        for c in cols:
            state[c] = p.scores[c].reindex(state.index).array
    return state


def _fields_help(state: pd.DataFrame) -> str:
    cols = list(state.columns)
    shown = ", ".join(cut(c, 60, quote=False) for c in cols[:40]) + (", ..." if len(cols) > 40 else "")
    return f"Fields: {shown}."


def _evaluate(rule: Rule, state: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Boolean mask over the state rows, and the fields the rule reads (for the reason)."""
    if callable(rule.when):
        try:
            mask = rule.when(state.copy())
        except Exception as err:
            raise InvalidParameterError(f"rule {cut(rule.name)}: the callable 'when' failed on the state table "
                                        f"({type(err).__name__}: {cut(str(err), 200, quote=False)}).") from err
        mask = pd.Series(mask, index=state.index) if not isinstance(mask, pd.Series) else mask.reindex(state.index)
        if not pd.api.types.is_bool_dtype(mask.dtype):
            raise InvalidParameterError(f"rule {cut(rule.name)}: the callable 'when' must return a boolean Series over "
                                        f"the state table, got dtype {mask.dtype}.")
        return mask.to_numpy(dtype=bool, na_value=False), []
    mask = np.ones(len(state), dtype=bool)
    used = []
    for cond in rule.conditions:
        col = cond.column
        if col not in state.columns:
            hits = closest(col, state.columns)
            near = f" Did you mean {' or '.join(map(repr, hits))}?" if hits else ""
            session = " Session variables are written `session.<column>` (in backticks)." \
                if col.startswith("session") else ""
            score = (" Scores of a model (p_goal, p_conversion, p_attrition, remaining_time, next_milestone) "
                     "need scores=jl.predict(log, journey, target=...) and model: <target> in the rule."
                     if col.startswith("p_") or col in ("remaining_time", "next_milestone") else "")
            raise InvalidParameterError(f"rule {cut(rule.name)}: {cut(col)} is not a state field.{near}{session}"
                                        f"{score} " + _fields_help(state))
        used.append(col)
        values = state[col]
        if pd.api.types.is_timedelta64_dtype(values.dtype):
            if cond.op in ("in", "not in"):
                raise InvalidParameterError(f"rule {cut(rule.name)}: {col} is a duration; compare it with <, >, <=, >= "
                                            f"and a duration such as '2d'.")
            try:
                ref = to_timedelta(cond.value, name=col)
            except InvalidParameterError as err:
                raise InvalidParameterError(f"rule {cut(rule.name)}: {cut(str(err), 400, quote=False)}") from None
            ops = {"==": np.equal, "!=": np.not_equal, ">": np.greater, ">=": np.greater_equal, "<": np.less,
                   "<=": np.less_equal}
            m = ops[cond.op](values, ref).to_numpy(dtype=bool, na_value=False) & values.notna().to_numpy()
        else:
            try:
                m = cond.matches(state).to_numpy(dtype=bool)
            except JourneyDefinitionError as err:
                raise InvalidParameterError(f"rule {cut(rule.name)}: {cut(str(err), 400, quote=False)}") from None
        mask &= m
    return mask, list(dict.fromkeys(used))


def _show(v) -> str:
    if v is None or (not isinstance(v, (list, tuple, np.ndarray)) and pd.isna(v)):
        return "-"
    if isinstance(v, pd.Timedelta):
        return format_duration(v)
    if isinstance(v, pd.Timestamp):
        return f"{v:%Y-%m-%d %H:%M}"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, str):
        return repr(v)
    return f"{v:g}" if isinstance(v, (float, np.floating)) else str(v)


# --------------------------------------------------------------------------- the result


@dataclass(frozen=True, eq=False)
class RuleActions(Result):
    """The actions due at ``as_of`` (see :func:`evaluate_rules`).

    Attributes
    ----------
    actions : one row per (customer, rule) whose condition holds: ``customer``, ``rule``,
        ``action``, ``reason`` (the values of the fields the condition reads), ``as_of``.
        This is the table to hand to an activation system.
    state : the journey state of every customer the rules were evaluated on (index
        ``customer``; the fields of the module docstring).
    rules : the rules, in order.
    as_of : the evaluation date.
    params : the inputs (read-only).
    """

    actions: pd.DataFrame
    state: pd.DataFrame
    rules: tuple
    as_of: pd.Timestamp
    params: FrozenMap = field(default_factory=FrozenMap)

    @property
    def summary(self) -> pd.DataFrame:
        """Per rule (index): ``action``, ``when`` and the number of ``customers`` due."""
        counts = self.actions.groupby("rule", sort=False).size()
        return pd.DataFrame({
            "action": [r.action for r in self.rules],
            "when": [r.to_dict()["when"] for r in self.rules],
            "customers": [int(counts.get(r.name, 0)) for r in self.rules],
        }, index=pd.Index([r.name for r in self.rules], name="rule"))

    def to_frame(self) -> pd.DataFrame:
        """The actions table (a copy)."""
        return self.actions.copy()

    def to_csv(self, path, *, safe_formulas: bool = True) -> Path:
        """Write the actions as CSV (UTF-8, ISO timestamps) atomically; return the path.

        Parameters
        ----------
        path : str or path
            The file to write (its folder is created; a symbolic link is followed and its
            target replaced, keeping its permissions). A folder, a FIFO or device, or a
            read-only place raises :class:`~journeylab.exceptions.OutputError`.
        safe_formulas : bool, default True
            Text cells that a spreadsheet would run as a formula - starting with ``=``, ``+``,
            ``-``, ``@``, a tab or a carriage return, e.g. a customer id ``=HYPERLINK(...)``
            from the log - are written with a leading ``'`` (OWASP's advice against CSV
            injection). Numbers, timestamps and plain numbers written as text (``-5``,
            ``+3312345678``) are unchanged. ``False`` writes every value exactly, for a system
            that is no spreadsheet.

        Returns
        -------
        Path
            The file written. Cells with line breaks, quotes or commas are quoted, so
            ``pd.read_csv(path)`` gives the values back (with ``safe_formulas=False``: exactly).

        Examples
        --------
        >>> import pandas as pd, tempfile, os, journeylab as jl
        >>> from journeylab.journey import Journey
        >>> df = pd.DataFrame({"who": ["=cmd()"], "what": ["view"], "when": ["2025-05-01"]})
        >>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
        >>> j = Journey.from_dict({"name": "j", "milestones": [{"name": "browse", "activities": ["view"]}]})
        >>> due = evaluate_rules(log, j, [{"name": "r", "when": "stalled_at == 'browse'", "action": "nudge"}])
        >>> path = due.to_csv(os.path.join(tempfile.mkdtemp(), "actions.csv"))
        >>> pd.read_csv(path)["customer"].tolist()
        ["'=cmd()"]
        >>> pd.read_csv(due.to_csv(path, safe_formulas=False))["customer"].tolist()
        ['=cmd()']
        """
        check_output(path, example="actions.csv")  # before the work
        text = csv_text(self.actions, safe_formulas=bool(safe_formulas), index=False,
                        date_format="%Y-%m-%dT%H:%M:%S%z")
        return atomic_write(path, text, example="actions.csv")

    def to_parquet(self, path) -> Path:
        """Write the actions as Parquet atomically.

        Parameters
        ----------
        path : str or path
            The file to write (see :meth:`to_csv`).

        Returns
        -------
        Path
            The file written.

        Examples
        --------
        >>> import pandas as pd, tempfile, os, journeylab as jl
        >>> from journeylab.journey import Journey
        >>> df = pd.DataFrame({"who": ["a"], "what": ["view"], "when": ["2025-05-01"]})
        >>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
        >>> j = Journey.from_dict({"name": "j", "milestones": [{"name": "browse", "activities": ["view"]}]})
        >>> due = evaluate_rules(log, j, [{"name": "r", "when": "stalled_at == 'browse'", "action": "nudge"}])
        >>> pd.read_parquet(due.to_parquet(os.path.join(tempfile.mkdtemp(), "actions.parquet")))["action"].tolist()
        ['nudge']
        """
        check_output(path, example="actions.parquet")
        buf = io.BytesIO()
        self.actions.to_parquet(buf, index=False)
        return atomic_write(path, buf.getvalue(), example="actions.parquet")

    def __repr__(self) -> str:
        n = len(self.actions)
        who = self.actions["customer"].nunique() if n else 0
        return (f"RuleActions: {len(self.rules)} rule{'s' if len(self.rules) != 1 else ''}, {n:,} action"
                f"{'s' if n != 1 else ''} due for {who:,} of {len(self.state):,} customers as of "
                f"{self.as_of:%Y-%m-%d %H:%M}")

    def _html_tables(self) -> list[tuple[str, pd.DataFrame]]:
        return [("", self.summary), ("actions due", self.actions)]

    def plot(self, ax=None, **kw):
        """Customers due per rule, bars labelled ``rule -> action`` (see
        :func:`~journeylab.plotting.plot_rule_actions`).

        Parameters
        ----------
        ax : Axes, optional
            Where to draw (default: a new figure).

        Returns
        -------
        Axes
        """
        from .plotting.goals import plot_rule_actions

        return plot_rule_actions(self, ax=ax, **kw)


# --------------------------------------------------------------------------- the analysis


@checked(rules=_rules, log=LOG, journey=JOURNEY, timeout=TIMEOUT, other_journeys=JOURNEYS)  # rules first
def evaluate_rules(log, journey, rules, *, as_of=None, exclusion=None, suppression=None, timeout=None,
                   other_journeys=(), scores=None) -> RuleActions:
    """The customers for whom each rule's condition holds at ``as_of``, and the action it names.

    Parameters
    ----------
    log : EventLog
        The events; a DataFrame is refused with advice (wrap it with ``jl.from_pandas``).
    journey : Journey
        Its entry/exit criteria, milestones, stall thresholds and goal define the state (see
        the module docstring for every field).
    rules : list of dict or Rule, str or path
        A list of rules - mappings ``{name, when, action, description?}`` or :class:`Rule`
        objects - or the same list as YAML (text, or the path of a ``.yaml`` file; at the
        top level or under ``rules:``).
    as_of : str or Timestamp, optional
        The evaluation date (default: the log's last timestamp). Events after it are
        ignored; durations (``stalled_for``, ``since_last_event``) are measured up to it.
    exclusion, suppression, timeout, other_journeys
        As in :func:`~journeylab.goals.goal_attainment`; excluded customers and customers
        suppressed by ``as_of`` get no action.
    scores : Predictions or list of Predictions, optional
        Results of :func:`~journeylab.predict`: their score columns (``p_goal``, ``remaining_time``...)
        become state fields, e.g. ``p_goal < 0.2 and stalled_for > '2d'``. A rule (or the rules file, at
        the top level: ``model: goal`` beside ``rules:``) names the target it reads with ``model:``; a
        named model without its scores is an error.

    Returns
    -------
    RuleActions
        ``.actions`` (customer, rule, action, reason, as_of), ready for
        :meth:`~RuleActions.to_csv` / :meth:`~RuleActions.to_parquet`; ``.state`` the
        journey state the rules were evaluated on.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> from journeylab.journey import Journey
    >>> df = pd.DataFrame({"who": ["a"], "what": ["view"], "when": ["2025-05-01"]})
    >>> log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
    >>> j = Journey.from_dict({"name": "j", "milestones": [{"name": "browse", "activities": ["view"]}]})
    >>> evaluate_rules(log, j, [{"name": "r", "when": "stalled_at == 'browse'", "action": "nudge"}])
    RuleActions: 1 rule, 1 action due for 1 of 1 customers as of 2025-05-01 00:00
    >>> evaluate_rules(log, j, [{"name": "r", "when": "staled_at == 'browse'", "action": "nudge"}])
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: rule 'r': 'staled_at' is not a state field. Did you mean 'stalled_at' ...
    """
    parsed = rules  # parsed by @checked
    lazy = log.is_lazy  # in memory every event and column; lazy: the journey's events, the rest per customer
    engine_ms = lazy and milestones_compile(journey, log)  # then no milestone event comes back
    followed = follow(log, journey, exclusion=exclusion, suppression=suppression, as_of=as_of, timeout=timeout,
                      other_journeys=other_journeys, columns=() if lazy else None,
                      milestones=(not engine_ms) if lazy else None)
    goal_ctx = None
    if journey.goal is not None:
        goal_ctx = (journey.goal, other_entries(followed, journey, other_journeys))
    state = _with_scores(journey_state(followed, journey, goal_ctx=goal_ctx, log=log, engine_milestones=engine_ms), scores, parsed)
    frames = []
    for rule in parsed:
        mask, used = _evaluate(rule, state)
        hit = state[mask]
        if used:
            reason = [", ".join(f"{c} = {_show(v)}" for c, v in zip(used, row))
                      for row in hit[used].itertuples(index=False, name=None)]
        else:
            reason = [f"{getattr(rule.when, '__name__', 'callable')}(state)"] * len(hit)
        frames.append(pd.DataFrame({"customer": hit.index.astype(str), "rule": rule.name, "action": rule.action,
                                    "reason": reason}))
    actions = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["customer", "rule", "action", "reason"])
    actions["customer"] = actions["customer"].astype(object)
    actions["reason"] = actions["reason"].astype(object)
    actions["as_of"] = pd.Series([followed.as_of] * len(actions), dtype=followed.events["timestamp"].dtype)
    params = {"journey": journey.name, "rules": [r.to_dict() for r in parsed], "as_of": followed.as_of,
              "exclusion": exclusion, "suppression": suppression, "timeout": followed.timeout, "unit": followed.unit}
    return RuleActions(actions=actions, state=state, rules=parsed, as_of=followed.as_of, params=params)

