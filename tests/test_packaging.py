"""The installed package carries its data and templates: the report works without the source tree."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        capture_output=True, text=True,
    )
    if proc.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{proc.stderr[-2000:]}")
    (whl,) = out.glob("journeylab-*.whl")
    return whl


def test_wheel_contains_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "journeylab/templates/report.html" in names
    assert "journeylab/templates/report.ipynb" in names
    assert "journeylab/datasets/data/running-example.xes" in names
    data = {n for n in names if n.startswith("journeylab/datasets/data/")}
    assert any(n.endswith(".parquet") for n in data), sorted(data)
    assert not any(n.endswith(".md") for n in data)


def test_wheel_contains_every_subpackage(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    source = ROOT / "journeylab"
    for init in source.rglob("__init__.py"):
        rel = init.relative_to(ROOT).as_posix()
        assert rel in names, f"{rel} is missing from the wheel: list its package in pyproject.toml"


def test_report_from_non_editable_install(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    out = tmp_path / "report.html"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import journeylab as jl; "
        "assert jl.__file__.startswith(sys.argv[1]), jl.__file__; "
        "jl.report(out=sys.argv[2]); print(jl.datasets.load_default_log().n_cases)"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(site), str(out)], capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert int(proc.stdout.strip().splitlines()[-1]) > 0
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_import_and_help_load_nothing_heavy():
    """``import journeylab`` and ``journeylab --help`` answer without pandas, DuckDB, scikit-learn or pm4py
    (what made --help take 1.8 s); names load on first use."""
    import subprocess
    import sys

    probe = ("import sys, runpy\n"
             "import journeylab\n"
             "sys.argv = ['journeylab', '--help']\n"
             "try:\n"
             "    runpy.run_module('journeylab', run_name='__main__')\n"
             "except SystemExit as e:\n"
             "    assert e.code == 0, e.code\n"
             "heavy = sorted(m for m in ('pandas', 'numpy', 'duckdb', 'ibis', 'sklearn', 'pm4py', 'matplotlib', 'scipy')"
             " if m in sys.modules)\n"
             "print('HEAVY', heavy)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "usage: journeylab" in out.stdout and "HEAVY []" in out.stdout, out.stdout[-500:]


def test_functions_named_like_their_module_stay_functions():
    """``jl.funnel`` / ``jl.milestones`` / ``jl.attribution`` are the functions, also after their modules are
    imported (Python sets a package attribute to the submodule it imports)."""
    import importlib
    import sys

    import journeylab as jl

    for name in ("funnel", "milestones", "attribution"):
        module = importlib.import_module(f"journeylab.{name}")
        assert callable(getattr(jl, name)) and getattr(jl, name) is getattr(module, name)
        assert sys.modules[f"journeylab.{name}"] is module and hasattr(module, "__file__")
        from journeylab import funnel  # noqa: F401  (the same via from-import)
        assert jl.funnel is sys.modules["journeylab.funnel"].funnel
    assert all(hasattr(jl, n) for n in jl.__all__) and set(jl.__all__) <= set(dir(jl))
    assert jl.datasets.__name__ == "journeylab.datasets" and jl.engine.__name__ == "journeylab.engine"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        jl.nope  # noqa: B018


def test_public_submodules_are_attributes_of_the_package():
    """``jl.segments.attribute_segmentation``, ``jl.kpi``, ``jl.plotting`` work in a fresh interpreter, as they
    did when the package imported everything at once."""
    import subprocess
    import sys

    probe = ("import journeylab as jl\n"
             "assert callable(jl.segments.attribute_segmentation) and jl.kpi.__name__ == 'journeylab.kpi'\n"
             "assert jl.plotting.__name__ == 'journeylab.plotting' and callable(jl.funnel)\n"
             "print('OK')\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "OK" in out.stdout, out.stderr[-800:]
