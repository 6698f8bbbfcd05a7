"""The shape of the package (CONTRIBUTING.md): one way down.

Every module belongs to a layer; it imports only from lower layers or from modules earlier in its
own layer - at the top of the file or inside a function alike. No import cycles. An analysis never
imports another analysis's (or a kernel's, a plot's...) underscore names. The allowed exceptions
are listed below, each with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "journeylab"

#: The layers, lowest first; inside a layer, the order in which modules may import each other.
LAYERS: list[tuple[str, list[str]]] = [
    ("errors", ["exceptions"]),
    ("core", ["_core.warn", "_core.names", "_core.arrays", "_core.formatting", "_core.results", "_core.validation", "_core.progress",
              "_core.stats", "_core.io", "_core.backend", "_core.vocabulary", "_core.layout", "_core.version",
              "_core.deprecation", "_core"]),
    ("data", ["_timestamps", "_xes_values", "_xes_stream", "_xes", "_table", "log", "readers", "identity", "_yaml", "conditions",
              "_journey_parts", "_fit", "journey",
              "datasets._files", "datasets._params", "datasets._plan", "datasets._timing", "datasets._touches",
              "datasets._truth", "datasets._simulate", "datasets._bundle", "datasets._example", "datasets._write", "datasets"]),
    ("kernels", ["_kernels.units", "_kernels.events", "_kernels.scans", "_kernels.case_engine", "_kernels.cases", "_kernels.visits",
                 "_kernels.steps",
                 "_kernels.alignment", "_kernels.entries", "_kernels.crediting", "_kernels.journey_state", "_kernels.prefixes", "_kernels.prefix_examples", "_kernels.learners", "_kernels.survey",
                 "_kernels.conversion_paths", "_kernels.indicators", "_kernels.returns", "_kernels.pm4py", "_kernels"]),
    ("fronts", ["engine", "filters"]),
    ("analyses", ["discovery._map", "discovery._sequences", "discovery._model", "discovery", "milestones", "conformance", "funnel", "features", "segmentation", "clustering", "segment_compare",
                  "segments", "goals", "abtest", "rules", "predictions", "peakend", "kpi", "attribution", "channels", "contact",
                  "journeymap", "drivers", "retention"]),
    ("plotting", ["plotting._style", "plotting.process_map", "plotting.variants",
                  "plotting.paths", "plotting.model", "plotting.conformance", "plotting.segments", "plotting.goals",
                  "plotting.kpi", "plotting.journeymap", "plotting.drivers", "plotting.retention", "plotting.predictions", "plotting.notebook", "plotting"]),
    ("widgets", ["widgets._common", "widgets.process", "widgets.happy_path", "widgets.segments", "widgets"]),
    ("report", ["_report.html", "_report.data", "_report.experience", "_report.segments", "_report.happy_path", "_report.drivers", "_report.retention", "_report.predictions", "_report.sections",
                "_report.browser", "_report"]),
    ("top", ["reporting", "__init__", "_cli_text", "_cli_commands", "cli", "__main__", "templates"]),
]

#: Imports that go up on purpose (importer, imported, why). Keep this list short.
ALLOWED_UPWARD = {
    # a result's .plot() draws with the plotting layer: the result is computed below, drawn above
    ("*", "plotting*", "a result's plot() method"),
    # EventLog's filter methods are written out in log.py (signatures, docstrings) and run filters.py
    ("log", "filters", "EventLog filter methods"),
    # the report's experience sections moved up to _report; the old name works for one release, with a warning
    ("journeymap", "_report.experience", "deprecated alias journeymap.experience_sections"),
    # the report's segments section moved up to _report; the old name works for one release, with a warning
    ("segments", "_report.segments", "deprecated alias segments.report_section"),
}



def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1] or ["__init__"]
        out[".".join(parts)] = p
    return out


MODULES = _modules()
RANK: dict[str, tuple[int, int]] = {}
for li, (_, mods) in enumerate(LAYERS):
    for mi, m in enumerate(mods):
        RANK[m] = (li, mi)


def _imports(name: str, path: Path):
    """(imported module, imported names, the function it sits in or None, line) for each relative import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if name != "__init__" else []
    if not is_pkg:
        base = base[:-1]
    found = []

    def visit(node, func):
        for child in ast.iter_child_nodes(node):
            f = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            if isinstance(child, ast.ImportFrom) and child.level:
                pkg = base[: len(base) - (child.level - 1)] if child.level > 1 else base
                target = ".".join(pkg + ([child.module] if child.module else []))
                for alias in child.names:
                    sub = f"{target}.{alias.name}" if target else alias.name
                    if sub in MODULES:
                        found.append((sub, [], f, child.lineno))
                    else:
                        found.append((target or "__init__", [alias.name], f, child.lineno))
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.startswith("journeylab."):
                        found.append((alias.name.removeprefix("journeylab."), [], f, child.lineno))
            elif isinstance(child, ast.Call) and getattr(child.func, "attr", None) == "import_module" and child.args \
                    and isinstance(child.args[0], ast.Constant) and str(child.args[0].value).startswith("journeylab."):
                found.append((str(child.args[0].value).removeprefix("journeylab."), [], f, child.lineno))
            visit(child, f)

    visit(tree, None)
    return found


def _allowed(importer: str, imported: str, func: str | None) -> bool:
    for who, what, _why in ALLOWED_UPWARD:
        if who not in ("*", importer):
            continue
        if what.endswith("*") and imported.startswith(what[:-1]) and (who != "*" or func == "plot"):
            return True
        if what == imported:
            return True
    return False


def _layer_violations() -> set[tuple[str, str]]:
    bad = set()
    for name, path in MODULES.items():
        for imported, _names, func, _line in _imports(name, path):
            if imported == name or imported not in RANK or name not in RANK:
                continue
            if RANK[imported] >= RANK[name] and not _allowed(name, imported, func):
                bad.add((name, imported))
    return bad


#: What the drawing and wiring layers may import: plots draw results and know only _core; widgets wire
#: controls to the public functions a user calls.
ONLY = {
    "plotting": ("exceptions", "_core", "plotting"),
}


def _scope_violations() -> set[tuple[str, str]]:
    bad = set()
    for name, path in MODULES.items():
        allowed = ONLY.get(name.split(".")[0])
        if allowed is None:
            continue
        for imported, _names, _func, _line in _imports(name, path):
            if imported.split(".")[0] not in allowed:
                bad.add((name, imported))
    return bad


def _underscore_violations() -> set[tuple[str, str]]:
    """Underscore names imported from a module of another layer above core/data, or another analysis."""
    bad = set()
    for name, path in MODULES.items():
        for imported, names, _func, _line in _imports(name, path):
            if imported == name or imported.split(".")[0] == name.split(".")[0]:
                continue  # a package's own private modules
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and imported in RANK and RANK[imported][0] >= RANK["discovery"][0]:
                bad.add((name, f"{imported}.{private[0]}"))
    return bad


def test_every_module_has_a_layer():
    missing = sorted(m for m in MODULES if m not in RANK)
    assert not missing, f"modules without a layer in tests/test_architecture.py: {missing}"


def test_imports_go_one_way_down():
    violations = _layer_violations() | _underscore_violations() | _scope_violations()
    bad = sorted(violations)
    assert not bad, "upward or private imports (see CONTRIBUTING.md): " + ", ".join(f"{a} -> {b}" for a, b in bad)


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for name, path in MODULES.items():
        for imported, _n, func, _l in _imports(name, path):
            if imported in graph and imported != name and not _allowed(name, imported, func):
                graph[name].add(imported)
    seen, stack, cycles = set(), [], []

    def walk(m):
        if m in stack:
            cycles.append(stack[stack.index(m):] + [m])
            return
        if m in seen:
            return
        seen.add(m)
        stack.append(m)
        for n in sorted(graph[m]):
            walk(n)
        stack.pop()

    for m in sorted(graph):
        walk(m)
    real = cycles
    assert not real, "import cycles: " + "; ".join(" -> ".join(c) for c in real[:5])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_size(name):
    """Modules stay under ~600 lines (610 tolerated); a longer one says why at its top (a line 'Size: ...')."""
    text = MODULES[name].read_text(encoding="utf-8")
    n = text.count("\n")
    if n > 610:
        doc = ast.get_docstring(ast.parse(text)) or ""
        assert "Size:" in doc, f"{name} has {n} lines; split it by responsibility or say why at its top ('Size: ...')"
