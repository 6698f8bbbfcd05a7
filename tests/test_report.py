"""The HTML report and the command line."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import journeylab as jl
from journeylab import cli
from journeylab.reporting import overview


def hostile_log():
    df = pd.DataFrame({
        "c": ["<b>1</b>", "<b>1</b>", "2"],
        "act": ["<script>alert(1)</script>", "pay & go", "<img src=x onerror=alert(2)>"],
        "t": ["2025-01-01", "2025-01-02", "2025-01-03"],
        "ch": ["web", "<i>app</i>", "web"],
    })
    return jl.from_pandas(df, case="c", activity="act", timestamp="t", channel="ch")


def test_report_escapes_everything_from_the_data(tmp_path):
    out = jl.report(hostile_log(), out=tmp_path / "r.html", title="<script>alert('t')</script>")
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;i&gt;app&lt;/i&gt;" in html
    assert "pay &amp; go" in html
    # self-contained: every image inline, no outside address
    assert not re.search(r'(src|href)="(?!data:)', html)
    assert "default-src 'none'" in html


def test_report_sections_and_numbers(tmp_path):
    log = jl.datasets.load_example()
    html = jl.report(log, out=tmp_path / "sub" / "r.html").read_text(encoding="utf-8")
    for heading in ("Overview", "Top variants", "Activities"):
        assert f"<h2>{heading}</h2>" in html
    assert ">42<" in html and ">6<" in html  # events and cases cards
    data = overview(log)
    assert data["variants"]["count"].sum() == 6
    assert data["activities"]["events"].sum() == 42


def test_report_write_is_atomic(tmp_path, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("previous report")
    import journeylab.reporting as rep

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rep, "_discovery_sections", boom)
    with pytest.raises(RuntimeError):
        jl.report(jl.datasets.load_example(), out=out)
    assert out.read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_report_bad_parameter(tmp_path):
    with pytest.raises(jl.InvalidParameterError, match="top_variants=0"):
        jl.report(jl.datasets.load_example(), out=tmp_path / "r.html", top_variants=0)


def test_cli_summary_and_json(capsys):
    path = str(jl.datasets.example_path())
    assert cli.main(["summary", path]) == 0
    assert "cases" in capsys.readouterr().out
    assert cli.main(["summary", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["cases"] == "6"


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    assert cli.main(["summary", str(tmp_path / "missing.xes")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("journeylab: error: No file at") and "\n" not in err
    csv = tmp_path / "x.csv"
    csv.write_text("a,b,c\n1,x,2025-01-01\n")
    assert cli.main(["summary", str(csv)]) == 2
    assert "--case --activity --timestamp" in capsys.readouterr().err
    assert cli.main(["summary", str(csv), "--case", "a", "--activity", "b", "--timestamp", "c"]) == 0
    with pytest.raises(jl.FileFormatError):
        cli.main(["--debug", "summary", str(tmp_path / "missing.xes")])


def test_cli_report(tmp_path, capsys):
    out = tmp_path / "cli.html"
    assert cli.main(["report", str(jl.datasets.example_path()), "--out", str(out), "--title", "t"]) == 0
    assert out.exists() and "wrote" in capsys.readouterr().out
