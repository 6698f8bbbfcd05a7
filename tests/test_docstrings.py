"""Public functions and result methods document themselves numpy-style: a summary, ``Parameters`` (when
they take any), ``Returns`` and an example (``Examples`` or a doctest)."""

from __future__ import annotations

import inspect

import pytest

import journeylab as jl


def _public_functions():
    out = {}
    for name in jl.__all__:
        obj = getattr(jl, name, None)
        if inspect.isfunction(obj):
            out[name] = obj
    for mod in (jl.engine, jl.datasets):
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if inspect.isfunction(obj):
                out[f"{mod.__name__.removeprefix('journeylab.')}.{name}"] = obj
    return out


FUNCTIONS = _public_functions()

def _missing(fn) -> list[str]:
    doc = inspect.getdoc(fn) or ""
    params = [p for p in inspect.signature(fn).parameters.values() if p.kind not in (p.VAR_POSITIONAL,)]
    need = []
    if params and "Parameters\n----------" not in doc:
        need.append("Parameters")
    if "Returns\n-------" not in doc and "Yields\n------" not in doc:
        need.append("Returns")
    if ">>>" not in doc:
        need.append("an example")
    return need


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_public_function_docstring(name):
    missing = _missing(FUNCTIONS[name])
    assert not missing, f"{name}: the docstring lacks {', '.join(missing)}"
