"""Safe YAML for journey definitions and rules files: read without constructing objects, refusing what
could cost time or memory, and written so that it reads back the same.

Hostile input is refused with a :class:`~journeylab.exceptions.JourneyDefinitionError` before it can
cost time or memory: a file over 2 MB, more than 50,000 values, nesting deeper than 50 levels, YAML
aliases (``*name``) that would repeat anchored values into more than 10,000 values (a "billion
laughs" document), duplicate keys, tags, over-long numbers and values PyYAML cannot read. Aliases are
allowed within that budget, to repeat small values.

:func:`read_yaml_file` and :func:`load_yaml` read (the journey and :mod:`journeylab.rules` use them);
:func:`dump_yaml` writes.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ._core.formatting import cut, show_path
from .exceptions import JourneyDefinitionError

__all__ = ["read_yaml_file", "load_yaml", "dump_yaml"]

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


def read_yaml_file(path: Path, what: str) -> str:
    """The text of a YAML file, refusing one over ``_MAX_YAML_SIZE`` bytes before reading it all."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_YAML_SIZE + 1)
    except OSError as err:
        raise JourneyDefinitionError(f"{what} {show_path(path)} cannot be read ({err.strerror or err}); check the "
                                     f"path and its permissions.") from None
    if len(data) > _MAX_YAML_SIZE:
        raise JourneyDefinitionError(f"{what} {show_path(path)} is larger than {_MAX_YAML_SIZE:,} bytes; a journey or "
                                     f"rules file is a few KB. Check that this is the right file, or split it.")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise JourneyDefinitionError(f"{what} {show_path(path)} is not UTF-8 text; save it as UTF-8 YAML.") from None


def load_yaml(text: str, source: str):
    """Parse YAML text safely (see ``_SafeLoader``); every problem is a JourneyDefinitionError naming ``source``.

    >>> load_yaml("name: j\\nmilestones: [{name: a, activities: [x]}]", "<yaml>")
    {'name': 'j', 'milestones': [{'name': 'a', 'activities': ['x']}]}
    >>> load_yaml("a: 1\\na: 2", "rules.yaml")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.JourneyDefinitionError: rules.yaml, line 2, column 1: duplicate key 'a' ...
    """
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


def dump_yaml(data) -> str:
    """YAML text of plain data (dicts, lists, text, numbers), keys in their order, lists of plain values
    in flow style (``activities: [a, b]``), awkward text double-quoted so that it reads back the same.

    >>> print(dump_yaml({"name": "j", "activities": ["x", "y"]}), end="")
    name: j
    activities: [x, y]
    """
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100)
