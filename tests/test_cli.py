"""The ``journeylab`` command line: summary, validate, variants, conformance, drivers, report.

Real logs: the running example (6 cases, 42 events), the bundled retail sample and its
journey, and small hand-made CSVs whose answers are computed by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab._core.vocabulary import MODEL_SAMPLE
from journeylab import cli

EXAMPLE = str(jl.datasets.example_path())
FILES = jl.datasets.retail_files()
RETAIL = [str(FILES["events"]), "--case", "customer_id", "--activity", "activity", "--timestamp", "timestamp",
          "--channel", "channel"]
RETAIL_JOURNEY = str(FILES["journey"])
COMMANDS = ("summary", "validate", "variants", "conformance", "drivers", "report")

CLAIM_YAML = """\
name: claim
milestones:
  - {name: register, activities: [register request]}
  - {name: examine, activities: [examine casually, examine thoroughly]}
  - {name: check, activities: [check ticket]}
  - {name: decide, activities: [decide]}
  - {name: pay, activities: [pay compensation]}
  - {name: reject, activities: [reject request], kind: negative, optional: true}
"""


def run(capsys, *argv):
    """Run the command in-process: (exit code, stdout, stderr)."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, out, err, *needles):
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("journeylab: error: ")
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], lines[0]


@pytest.fixture()
def claim(tmp_path):
    p = tmp_path / "claim.yaml"
    p.write_text(CLAIM_YAML)
    return p


@pytest.fixture()
def small_csv(tmp_path):
    """3 cases: 1 and 2 follow a > b > c (1 h and 3 h), 3 follows a > c (30 min); naive times."""
    p = tmp_path / "small.csv"
    p.write_text("id,step,ts\n"
                 "1,a,2025-01-01 10:00\n1,b,2025-01-01 10:30\n1,c,2025-01-01 11:00\n"
                 "2,a,2025-01-02 08:00\n2,b,2025-01-02 09:00\n2,c,2025-01-02 11:00\n"
                 "3,a,2025-01-03 12:00\n3,c,2025-01-03 12:30\n")
    return [str(p), "--case", "id", "--activity", "step", "--timestamp", "ts"]


# --------------------------------------------------------------------------- help


def test_help_lists_the_five_commands(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"    {name} " in out and cli._COMMANDS[name][0] in out  # listed with its one-line description


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_help_has_a_description_and_an_example(capsys, name):
    with pytest.raises(SystemExit) as exc:
        cli.main([name, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    _, description, _ = cli._COMMANDS[name]
    assert " ".join(out.split()).count(description) == 1  # the description
    assert "examples:" in out and f"journeylab {name}" in out.split("examples:")[1]


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["conformance", EXAMPLE])  # --journey is required
    assert exc.value.code == 2
    assert "--journey" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        cli.main(["variants", EXAMPLE, "--top", "0"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        cli.main(["variants", EXAMPLE, "--coverage", "150%"])
    assert exc.value.code == 2


# --------------------------------------------------------------------------- summary


def test_summary_table(capsys):
    code, out, err = run(capsys, "summary", EXAMPLE)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["events", "42"] and lines[1].split() == ["cases", "6"]
    # the activity table: 'decide' has 9 events in 6 cases
    row = next(line for line in lines if line.startswith("decide "))
    assert row.split() == ["decide", "9", "6", "100.0%"]
    assert "No data-quality warnings." in out


def test_summary_json_numbers(capsys):
    code, out, err = run(capsys, "summary", EXAMPLE, "--json")
    assert code == 0
    data = json.loads(out)
    log = jl.datasets.load_example()
    assert (data["events"], data["cases"], data["activities"]) == (42, 6, 8)
    assert data["events_per_case_median"] == 5
    start, end = log.time_span
    assert data["time_span_seconds"] == (end - start).total_seconds()
    assert pd.Timestamp(data["first_event"]) == start
    assert sum(a["events"] for a in data["activity_counts"]) == 42
    assert {a["activity"] for a in data["activity_counts"]} == set(log.activities)
    assert data["resources"] == 6 and data["warnings"] == []


def test_summary_quality_warnings(tmp_path, capsys):
    p = tmp_path / "dirty.csv"
    p.write_text("id,step,ts\n1,a,2025-01-01 10:00\n1,a,2025-01-01 10:00\n1,b,2025-01-01 11:00\n"
                 "2,,2025-01-02 10:00\n2,b,2025-01-02 10:30\n")
    roles = ["--case", "id", "--activity", "step", "--timestamp", "ts"]
    # a missing activity: refused, with the command-line fix
    assert_one_line_error(*run(capsys, "summary", p, *roles), "missing values", "--drop-invalid")

    code, out, err = run(capsys, "summary", p, *roles, "--drop-invalid", "--json")
    assert code == 0
    data = json.loads(out)  # the warnings went to stderr, stdout is pure JSON
    assert (data["events"], data["invalid_dropped"], data["duplicates_kept"]) == (4, 1, 1)
    assert len(data["warnings"]) == 3  # duplicates kept, invalid dropped, naive timestamps
    assert any("--deduplicate" in w for w in data["warnings"])
    assert any("no zone" in w for w in data["warnings"])
    assert all(line.startswith("journeylab: warning: ") for line in err.strip().splitlines())
    assert "duplicate" in err and "dropped 1 event" in err

    code, out, err = run(capsys, "summary", p, *roles, "--drop-invalid", "--deduplicate")
    assert code == 0
    assert "Data-quality warnings:" in out
    assert "1 exact duplicate events were dropped." in out
    assert "1 events with a missing case, activity or timestamp were dropped." in out


# --------------------------------------------------------------------------- variants


def test_variants_json_matches_the_library(capsys):
    code, out, _ = run(capsys, "variants", EXAMPLE, "--json")
    assert code == 0
    data = json.loads(out)
    v = jl.variants(jl.datasets.load_example())
    assert data["n_cases"] == 6 and data["n_variants"] == 6 and data["shown"] == 6
    assert sum(r["count"] for r in data["variants"]) == 6
    assert data["variants"][0]["count"] == int(v.table["count"].iloc[0])
    assert [tuple(r["variant"]) for r in data["variants"]] == list(v.table["variant"])
    assert [r["median_duration_seconds"] for r in data["variants"]] == \
        [td.total_seconds() for td in v.table["duration_median"]]
    assert data["variants"][-1]["cumulative_share"] == pytest.approx(1.0)


def test_variants_hand_computed(capsys, small_csv):
    code, out, _ = run(capsys, "variants", *small_csv, "--json")
    data = json.loads(out)
    assert [(r["variant"], r["count"]) for r in data["variants"]] == [(["a", "b", "c"], 2), (["a", "c"], 1)]
    assert data["variants"][0]["share"] == pytest.approx(2 / 3)
    assert data["variants"][0]["median_duration_seconds"] == 2 * 3600  # median of 1 h and 3 h
    assert data["variants"][1]["median_duration_seconds"] == 1800
    code, out, _ = run(capsys, "variants", *small_csv)
    assert code == 0
    row = next(line for line in out.splitlines() if line.startswith("1 "))
    assert row.split() == ["1", "a", ">", "b", ">", "c", "3", "2", "66.7%", "66.7%", "2.0", "h"]
    row = next(line for line in out.splitlines() if line.startswith("2 "))
    assert row.split() == ["2", "a", ">", "c", "2", "1", "33.3%", "100.0%", "30.0", "min"]


def test_variants_top_and_coverage(capsys):
    data = json.loads(run(capsys, "variants", EXAMPLE, "--top", "2", "--json")[1])
    assert data["shown"] == 2 and data["n_variants"] == 6
    data = json.loads(run(capsys, "variants", EXAMPLE, "--coverage", "50%", "--json")[1])
    assert data["shown"] == 3 and data["coverage"] == pytest.approx(0.5)
    assert json.loads(run(capsys, "variants", EXAMPLE, "--coverage", "0.5", "--top", "1", "--json")[1])["shown"] == 1
    out = run(capsys, "variants", EXAMPLE, "--top", "2")[1]
    assert "4 more variants" in out and "top 2 of 6 variants" in out


def test_variants_default_top_10_on_the_retail_sample(capsys):
    code, out, _ = run(capsys, "variants", *RETAIL, "--json")
    data = json.loads(out)
    assert code == 0 and data["shown"] == 10 and data["n_cases"] == 20_000
    assert data["variants"][0]["count"] == int(jl.variants(jl.datasets.load_retail().log, top=1).table["count"][0])


def test_long_variants_are_shortened_in_the_table_only():
    from journeylab._cli_text import steps  # the output helpers of the command line

    text = steps([f"step{i}" for i in range(40)], 60)
    assert len(text) <= 60 and text.endswith("more)") and text.startswith("step0 > step1")
    n_shown = text.count(">")  # the steps shown, then "> ..."
    assert text.endswith(f"> ... (+{40 - n_shown} more)")


# --------------------------------------------------------------------------- validate


def test_validate_the_sample_with_its_journey(capsys):
    code, out, err = run(capsys, "validate", *RETAIL, "--journey", RETAIL_JOURNEY)
    assert code == 0, err
    assert "fits" in out and "explore > cart > checkout > purchase > receive" in out
    code, out, _ = run(capsys, "validate", *RETAIL, "--journey", RETAIL_JOURNEY, "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] is True and data["problems"] == []
    cart = next(m for m in data["milestones"] if m["milestone"] == "cart")
    log = jl.datasets.load_retail().log
    assert cart["events"] == int((log.to_pandas()["activity"] == "add_to_cart").sum())


def test_validate_lists_the_problems_with_the_closest_name(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(CLAIM_YAML.replace("[decide]", "[decidee]").replace(
        "[pay compensation]}", "[pay compensation], when: 'amout > 3'}"))
    code, out, err = run(capsys, "validate", EXAMPLE, "--journey", bad)
    assert code == 1 and err == ""
    assert "2 problems" in out
    assert "activity 'decidee' (milestone 'decide') is not in the log; closest: 'decide'." in out
    assert "condition column 'amout'" in out
    code, out, _ = run(capsys, "validate", EXAMPLE, "--journey", bad, "--json")
    data = json.loads(out)
    assert code == 1 and data["ok"] is False
    assert data["problems"] == jl.Journey.from_yaml(bad).problems(jl.datasets.load_example())


def test_validate_fits_the_example(capsys, claim):
    code, out, _ = run(capsys, "validate", EXAMPLE, "--journey", claim, "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"]
    assert {m["milestone"]: m["cases"] for m in data["milestones"]} == \
        {"register": 6, "examine": 6, "check": 6, "decide": 6, "pay": 3, "reject": 3}
    assert data["activities_not_in_journey"] == ["reinitiate request"]


def test_validate_a_milestone_that_matches_nothing(tmp_path, capsys):
    never = "[pay compensation], when: \"Resource == 'Nobody'\"}"
    on_path = tmp_path / "on.yaml"
    on_path.write_text(CLAIM_YAML.replace("[pay compensation]}", never))
    code, out, _ = run(capsys, "validate", EXAMPLE, "--journey", on_path)
    assert code == 1  # compare() could not align with that happy path
    assert "milestone 'pay' (happy path) matches no event of the log" in out
    optional = tmp_path / "optional.yaml"
    optional.write_text(CLAIM_YAML.replace("name: pay, activities: [pay compensation]}",
                                           "name: pay, optional: true, activities: " + never))
    code, out, _ = run(capsys, "validate", EXAMPLE, "--journey", optional, "--json")
    data = json.loads(out)
    assert code == 0 and data["ok"] and data["warnings"] == [
        "milestone 'pay' matches no event of the log; check its conditions."]
    assert next(m for m in data["milestones"] if m["milestone"] == "pay")["events"] == 0


# --------------------------------------------------------------------------- conformance


def test_conformance_json_equals_compare(capsys, claim):
    code, out, err = run(capsys, "conformance", EXAMPLE, "--journey", claim, "--json")
    assert code == 0 and err == ""
    data = json.loads(out)
    c = jl.compare(jl.datasets.load_example(), jl.Journey.from_yaml(claim))
    assert data["cases"] == c.n_cases == 6
    assert data["conforming"] == int(c.cases["conforms"].sum()) == 1
    assert data["conformance_rate"] == pytest.approx(c.conformance_rate)
    assert data["mean_fitness"] == pytest.approx(c.mean_fitness)
    assert data["mean_cost"] == pytest.approx(c.mean_cost)
    assert data["happy_path"] == list(c.happy_path)
    types = {t["type"]: t for t in data["deviation_types"]}
    for t, r in c.effects.iterrows():
        assert types[t]["cases"] == r["cases"] and types[t]["occurrences"] == r["occurrences"]
    d = c.deviations
    for top in data["top_deviations"]:
        rows = d[(d["type"] == top["type"]) & (d["milestone"] == top["milestone"])]
        assert top["cases"] == rows["case"].nunique() and top["occurrences"] == len(rows)
    assert [s["cases"] for s in data["top_sequences"]] == c.variants["count"].head(10).tolist()
    for m in data["milestones"]:  # counts are whole numbers in JSON, equal to the comparison's
        assert isinstance(m["in_order"], int) and m["in_order"] == c.path.loc[m["milestone"], "in_order"]


def test_conformance_table(capsys, claim):
    code, out, _ = run(capsys, "conformance", EXAMPLE, "--journey", claim, "--top", "3")
    assert code == 0
    assert "happy path: register > examine > check > decide > pay" in out
    assert "conformance rate              16.7%" in out
    assert "Top 3 deviations" in out and "Top 3 milestone sequences" in out
    for section in ("Deviation types", "Happy-path milestones"):
        assert section in out


def test_conformance_on_the_retail_sample(capsys):
    code, out, _ = run(capsys, "conformance", *RETAIL, "--journey", RETAIL_JOURNEY, "--json", "--top", "3")
    data = json.loads(out)
    sample = jl.datasets.load_retail()
    c = jl.compare(sample.log, sample.journey)
    assert code == 0 and data["cases"] == 20_000
    assert data["conforming"] == int(c.cases["conforms"].sum())
    # the sample's journey has a goal: goal rates are numbers, the undefined intervals null
    inc = next(t for t in data["deviation_types"] if t["type"] == "incomplete")
    assert 0 <= inc["goal_rate"] <= 1 and inc["duration_diff_seconds"] is None
    assert len(data["top_deviations"]) == 3 and len(data["top_sequences"]) == 3


def test_conformance_warns_when_the_journey_does_not_fit(tmp_path, capsys):
    # an unknown activity off the happy path: compared, with a one-line warning on stderr
    off = tmp_path / "off.yaml"
    off.write_text(CLAIM_YAML.replace("[reject request]", "[reject requestt]"))
    code, out, err = run(capsys, "conformance", EXAMPLE, "--journey", off, "--json")
    assert code == 0
    problems = json.loads(out)["journey_problems"]
    assert problems == jl.Journey.from_yaml(off).problems(jl.datasets.load_example())
    assert len(problems) == 1
    assert "'reject requestt' (milestone 'reject') is not in the log; closest: 'reject request'" in problems[0]
    assert len(err.strip().splitlines()) == 1 and err.startswith("journeylab: warning: ")  # compare's own warning
    assert "'reject requestt'" in err
    # a goal activity that is not in the log: compare says nothing, the command does
    goal = tmp_path / "goal.yaml"
    goal.write_text(CLAIM_YAML + "goal: {type: custom, activity: pay compensationn}\n")
    code, out, err = run(capsys, "conformance", EXAMPLE, "--journey", goal)
    assert code == 0 and "happy path" in out
    assert err.startswith("journeylab: warning: journey 'claim' does not fit the log (1 problem, first: activity "
                          "'pay compensationn' (goal)")
    assert len(err.strip().splitlines()) == 1 and "journeylab validate" in err
    # on the happy path: compare refuses, one line
    on = tmp_path / "on.yaml"
    on.write_text(CLAIM_YAML.replace("[decide]", "[decidee]"))
    assert_one_line_error(*run(capsys, "conformance", EXAMPLE, "--journey", on), "closest: 'decide'")


# --------------------------------------------------------------------------- report


def test_report_passes_its_options(monkeypatch, tmp_path, capsys):
    calls = []

    def fake(log=None, **kwargs):
        calls.append((log, kwargs))
        return Path(kwargs["out"])

    monkeypatch.setattr(jl.reporting, "report", fake)
    out, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    code, stdout, _ = run(capsys, "report", "events.csv", "--journey", "j.yaml", "--case", "id", "--activity", "step",
                          "--timestamp", "ts", "--channel", "ch", "--customer", "cust", "--sep", ";",
                          "--tz", "Europe/Paris", "--segment-by", "region", "--title", "T", "--out", out,
                          "--pdf", pdf, "--resource", "who", "--drop-invalid", "--timeout", "600")
    assert code == 0
    assert calls == [("events.csv", dict(journey="j.yaml", out=str(out), pdf=str(pdf), title="T", segment_by="region",
                                         case="id", activity="step", timestamp="ts", channel="ch", customer="cust",
                                         resource="who", lifecycle=None, value=None, sep=";", tz="Europe/Paris",
                                         on_invalid="drop", classifier=None, encoding=None, deduplicate=False,
                                         timeout=600, progress=True, engine=None, engine_threshold="500MB",
                                         model_sample=MODEL_SAMPLE))]
    assert stdout.splitlines() == [f"wrote {out}", f"wrote {pdf}"]

    calls.clear()
    assert run(capsys, "report", "big.parquet", "--engine", "duckdb", "--engine-threshold", "2GB")[0] == 0
    assert calls[0][1]["engine"] == "duckdb" and calls[0][1]["engine_threshold"] == "2GB"

    calls.clear()
    code, stdout, _ = run(capsys, "report")
    assert code == 0
    log, kwargs = calls[0]
    assert log is None and kwargs["journey"] is None and kwargs["out"] == "build/report.html"
    assert kwargs["pdf"] is None and stdout == "wrote build/report.html\n"
    assert kwargs["timeout"] == 1800 and kwargs["on_invalid"] is None

    calls.clear()
    assert run(capsys, "report", "--timeout", "0")[0] == 0
    assert calls[0][1]["timeout"] is None  # 0: no limit


def test_report_options_fit_the_real_report(monkeypatch, capsys):
    import inspect

    real = inspect.signature(jl.reporting.report)
    seen = []
    monkeypatch.setattr(jl.reporting, "report", lambda *a, **k: seen.append((a, k)) or Path("r.html"))
    run(capsys, "report", "log.xes", "--pdf", "r.pdf")
    args, kwargs = seen[0]
    real.bind(*args, **kwargs)  # raises TypeError if the command passes an option report() does not take


def test_report_errors_are_one_line(monkeypatch, capsys):
    def fake(log=None, **kwargs):
        raise jl.JourneylabError("no browser to print the PDF;\ninstall Chromium or set JOURNEYLAB_CHROMIUM.")

    monkeypatch.setattr(jl.reporting, "report", fake)
    assert_one_line_error(*run(capsys, "report", "--pdf", "x.pdf"), "install Chromium")

    def denied(log=None, **kwargs):
        raise PermissionError(13, "Permission denied", "/root/out.html")

    monkeypatch.setattr(jl.reporting, "report", denied)
    assert_one_line_error(*run(capsys, "report", "--out", "/root/out.html"), "Permission denied", "/root/out.html")


# --------------------------------------------------------------------------- errors


def test_errors_are_one_line_with_the_fix(tmp_path, capsys, claim):
    assert_one_line_error(*run(capsys, "summary", tmp_path / "missing.xes"), "No file at", "Check the path")
    (tmp_path / "log.json").write_text("{}")
    assert_one_line_error(*run(capsys, "variants", tmp_path / "log.json"), "unknown file type", ".xes")
    csv = tmp_path / "x.csv"
    csv.write_text("a,b,c\n1,x,2025-01-01\n")
    assert_one_line_error(*run(capsys, "summary", csv), "--case --activity --timestamp")
    assert_one_line_error(*run(capsys, "summary", csv, "--case", "id", "--activity", "b", "--timestamp", "c"),
                          "case='id' is not a column")
    assert_one_line_error(*run(capsys, "validate", EXAMPLE, "--journey", tmp_path / "nope.yaml"),
                          "does not exist", "claim.yaml")  # suggests the file next to it
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: j\nmilestone: []\n")
    assert_one_line_error(*run(capsys, "conformance", EXAMPLE, "--journey", broken), "unknown key 'milestone'")


def test_library_advice_in_command_line_words(tmp_path, capsys):
    csv = tmp_path / "clash.csv"
    csv.write_text("id,step,ts,channel\n1,a,2025-01-01 10:00,web\n1,a,2025-01-01 10:00,web\n")
    code, out, err = run(capsys, "summary", csv, "--case", "id", "--activity", "step", "--timestamp", "ts")
    assert code == 0 and "--deduplicate" in out + err and "deduplicate=True" not in out + err
    # a column named like a role is an attribute unless it is given as the role (issue 13)
    code, out, _ = run(capsys, "summary", csv, "--case", "id", "--activity", "step", "--timestamp", "ts", "--json")
    assert code == 0 and json.loads(out)["attributes"] == ["channel"] and "channels" not in json.loads(out)
    code, out, _ = run(capsys, "summary", csv, "--case", "id", "--activity", "step", "--timestamp", "ts",
                       "--channel", "channel", "--json")
    assert code == 0 and json.loads(out)["channels"] == 1


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"journeylab {jl.__version__}"


def test_doctests():
    import doctest

    from journeylab import _cli_commands, _cli_text  # the command line's commands and output helpers

    attempted = 0
    for module in (cli, _cli_text, _cli_commands):
        res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0
        attempted += res.attempted
    assert attempted >= 5


def test_unexpected_errors_are_one_line_too(monkeypatch, capsys):
    def boom(*a, **k):
        raise RuntimeError("kaput")

    from journeylab import _cli_commands  # where the commands read their log

    monkeypatch.setattr(_cli_commands, "load_log", boom)
    assert_one_line_error(*run(capsys, "summary", EXAMPLE), "unexpected RuntimeError: kaput", "--debug")


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_reraises(tmp_path, capsys, where):
    argv = ["summary", str(tmp_path / "missing.xes")]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    with pytest.raises(jl.FileFormatError):
        cli.main(argv)


# --------------------------------------------------------------------------- the installed command


def _command() -> list[str]:
    script = Path(sys.executable).with_name("journeylab")
    return [str(script)] if script.exists() else [sys.executable, "-m", "journeylab"]


def test_installed_command_end_to_end(tmp_path):
    """Exit codes through the real console script (each call imports journeylab: ~2 s)."""

    def call(*argv):
        return subprocess.run([*_command(), *map(str, argv)], capture_output=True, text=True, timeout=120)

    r = call("variants", EXAMPLE, "--json")
    assert r.returncode == 0 and r.stderr == ""
    assert sum(v["count"] for v in json.loads(r.stdout)["variants"]) == 6
    r = call("summary", tmp_path / "missing.xes")
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_resource_lifecycle_and_value_roles_can_be_named(tmp_path, capsys):
    csv = tmp_path / "bpic_like.csv"
    csv.write_text("id,step,ts,resource,value\n1,a,2025-01-01 10:00,ann,5\n1,b,2025-01-01 11:00,bob,7\n"
                   "2,a,2025-01-02 10:00,ann,1\n")
    base = ["summary", csv, "--case", "id", "--activity", "step", "--timestamp", "ts"]
    code, out, _ = run(capsys, *base, "--json")  # issue 13: columns named like roles load as attributes
    assert code == 0 and json.loads(out)["attributes"] == ["resource", "value"] and "resources" not in json.loads(out)
    code, out, _ = run(capsys, *base, "--resource", "resource", "--value", "value", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["events"] == 3 and data["resources"] == 2


# --------------------------------------------------------------------------- hostile values, output paths

HOSTILE = {"clear": "\x1b[2J\x1b[Hfake prompt $", "colour": "\x1b[31mred\x1b[0m", "title": "\x1b]0;owned\x07t",
           "cr": "over\rwrite", "nl": "fake\nline", "bidi": "pay\u202eyap", "csi": "c1\x9b31m", "tab": "a\tb"}


@pytest.fixture()
def hostile_csv(tmp_path):
    """Activity names and case ids with ANSI escape sequences and other control characters."""
    acts = list(HOSTILE.values())
    rows = [(f"case\x1b[1m{i}", a, f"2025-01-01 10:{j:02d}") for i in range(2) for j, a in enumerate(acts)]
    path = tmp_path / "hostile.csv"
    pd.DataFrame(rows, columns=["id", "step", "ts"]).to_csv(path, index=False, lineterminator="\r\n")
    return [str(path), "--case", "id", "--activity", "step", "--timestamp", "ts"]


def assert_inert(text: str) -> None:
    for bad in ("\x1b", "\x07", "\r", "\x9b", "\u202e", "\t"):
        assert bad not in text, repr(bad)


def test_hostile_values_cannot_rewrite_the_terminal(capsys, hostile_csv):
    code, out, err = run(capsys, "summary", *hostile_csv)
    assert code == 0
    assert_inert(out + err)
    table = out.split("share of cases\n", 1)[1].split("\n\n")[0].splitlines()
    assert len(table) == 1 + len(HOSTILE)  # the rule, then one line per activity: no line was faked
    assert "\\x1b[2J\\x1b[Hfake prompt $" in out and "fake\\nline" in out and "pay\\u202eyap" in out
    code, out, err = run(capsys, "variants", *hostile_csv, "--width", "400")
    assert code == 0
    assert_inert(out + err)
    assert [line for line in out.splitlines() if line.startswith("1 ")][0].count("fake\\nline") == 1
    assert not any(line.startswith("line") for line in out.splitlines())  # no line was faked


def test_json_keeps_hostile_values_exact(capsys, hostile_csv):
    code, out, _ = run(capsys, "summary", *hostile_csv, "--json")
    assert code == 0 and "\x1b" not in out  # JSON escapes them
    assert {a["activity"] for a in json.loads(out)["activity_counts"]} == set(HOSTILE.values())
    code, out, _ = run(capsys, "variants", *hostile_csv, "--json")
    assert json.loads(out)["variants"][0]["variant"] == list(HOSTILE.values())


def test_errors_and_tables_escape_control_characters(capsys, tmp_path):
    print(cli.format_table(["a\x1bb"], [["x\ny"]]))
    assert capsys.readouterr().out.splitlines() == ["a\\x1bb", "------", "x\\ny"]
    assert_one_line_error(*run(capsys, "summary", tmp_path / "no\x1b[2Jsuch\nlog.xes"), "no\\x1b[2Jsuch log.xes")


def test_report_output_path_errors_are_one_line_before_any_work(capsys, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    assert_one_line_error(*run(capsys, "report", "--out", a_file / "r.html"),
                          f"out='{a_file / 'r.html'}' cannot be written", "is a file, not a folder")
    assert_one_line_error(*run(capsys, "report", "--out", tmp_path), "is a folder; give a file name")
    assert_one_line_error(*run(capsys, "report", EXAMPLE, "--out", EXAMPLE), "is the log file the report reads")
    assert a_file.read_text() == "keep me"


def test_names_that_moved_out_of_the_cli_module_warn_for_one_release():
    from journeylab._core.formatting import format_duration

    with pytest.warns(DeprecationWarning, match=r"journeylab.cli.format_timedelta is deprecated .*format_duration"):
        assert cli.format_timedelta is format_duration
    assert cli.load_log and cli.format_table and cli.printable and cli.EXIT_PROBLEMS == 1  # still public here
