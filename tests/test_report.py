"""The report: papermill runs the packaged notebook, nbconvert exports it, the page is safe and
self-contained, sections adapt to the input, outputs are atomic."""

from __future__ import annotations

import doctest
import hashlib
import importlib
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import journeylab as jl
from journeylab._report import sections as _sections
from journeylab.reporting import overview

from conftest import ROOT, hostile_log, shared_log

UNSHARE = shutil.which("unshare")

JOURNEY_2012 = ROOT / "tests" / "data" / "bpic2012_journey.yaml"


def headings(html: str) -> list[str]:
    return re.findall(r"<h2>(.*?)</h2>", html)


def assert_self_contained(html: str) -> None:
    assert "<script" not in html.lower()
    # every image inline; links only to anchors of the page; nothing loaded from elsewhere
    assert not re.search(r'\b(src|href)\s*=\s*"(?!data:|#)', html)
    assert "url(" not in html and "@import" not in html
    assert "default-src 'none'" in html


@pytest.fixture(scope="module")
def example_report(tmp_path_factory):
    return jl.report(jl.datasets.load_example(), out=tmp_path_factory.mktemp("ex") / "r.html",
                     segment_by="Resource").read_text(encoding="utf-8")


def test_report_escapes_everything_from_the_data(tmp_path):
    out = jl.report(hostile_log(), out=tmp_path / "r.html", title="<script>alert('t')</script>")
    html = out.read_text(encoding="utf-8")
    assert_self_contained(html)
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in html  # the title
    assert "&lt;i&gt;app&lt;/i&gt;" in html
    assert "pay &amp; go" in html


def test_report_sections_numbers_and_appendix(example_report):
    html = example_report
    assert_self_contained(html)
    h = headings(html)
    for heading in ("Overview", "Process map", "Top variants", "Top paths", "Comparison with the happy path",
                    "Goals and A/B test", "Drivers of the goal", "Journey map and KPIs", "Appendix: reproducibility"):
        assert heading in h
    assert h[0] == "Overview" and h[-1] == "Appendix: reproducibility"
    assert ">42<" in html and ">6<" in html  # events and cases cards
    # no journey: one sentence per section saying what to add, not an error
    # (happy path, goals, drivers of the goal, journey map)
    assert html.count("No journey definition was given: add one (--journey JOURNEY.yaml") == 4
    # segments by the attribute asked for: the example's 6 cases all start with Pete, Mike or Ellen
    assert "Segments by Resource" in h
    first = jl.datasets.load_example()._frame().sort_values("timestamp").groupby("case")["Resource"].first()
    for name in first.unique():
        assert f"<td class=\"\">{name}</td>" in html
    # appendix: the hash of the events, versions and parameters
    assert _sections.frame_sha256(jl.datasets.load_example()) in html
    assert f"<td class=\"\">pandas</td><td class=\"\">{pd.__version__}</td>" in html
    assert "<td class=\"\">segment_by</td><td class=\"\">Resource</td>" in html
    # no code, no prompts, no stderr made it into the page
    assert "import journeylab" not in html and "In&nbsp;[" not in html and "output_stderr" not in html
    data = overview(jl.datasets.load_example())
    assert data["variants"]["count"].sum() == 6
    assert data["activities"]["events"].sum() == 42


@pytest.fixture(scope="module")
def bpic2012():
    return shared_log("bpic2012.xes.gz")


def test_report_on_bpic2012_without_a_journey(bpic2012, tmp_path):
    html = jl.report(bpic2012, out=tmp_path / "r.html").read_text(encoding="utf-8")
    assert_self_contained(html)
    assert ">13,087<" in html and ">262,200<" in html  # published: 13,087 cases, 262,200 events
    h = headings(html)
    assert h[:4] == ["Overview", "Process map", "Top variants", "Top paths"]
    assert "Segments" in h and "Drivers of the goal" in h and "Retention by segment" in h
    # happy path, goals, drivers of the goal, journey map: one sentence each saying what to add
    assert html.count("No journey definition was given") == 4
    assert hashlib.sha256(bpic2012.read_bytes()).hexdigest() in html
    assert html.count('<img alt="figure" src="data:image/png;base64,') >= 5


def test_report_on_bpic2012_with_its_journey(bpic2012, tmp_path):
    html = jl.report(bpic2012, journey=JOURNEY_2012, out=tmp_path / "r.html", title="Loans 2012",
                     top_variants=5).read_text(encoding="utf-8")
    assert_self_contained(html)
    h = headings(html)
    for heading in ("Comparison with the happy path", "Milestone funnel", "Milestones: stalls, fallout and attrition",
                    "Goal attainment", "A/B test", "Journey map and KPIs"):
        assert heading in h
    # 2,246 applications are approved in BPIC 2012 (A_APPROVED once per approved case)
    assert "2,246 of 13,087 people credited" in html
    assert "The log has no 'version' column" in html.replace("&#x27;", "'")
    assert "The log has no survey column" in html
    assert "<h1>Loans 2012</h1>" in html
    assert html.count("<tr><td class=\"\">") >= 5


def test_report_from_a_csv_path_and_errors_from_the_kernel(tmp_path, small_df):
    csv = tmp_path / "events.csv"
    small_df.to_csv(csv, index=False)
    before = csv.read_bytes()
    # the kernel's journeylab error comes back as the same class, nothing written
    with pytest.raises(jl.JourneylabError, match="name the columns with --case --activity --timestamp"):
        jl.report(csv, out=tmp_path / "none.html")
    assert not (tmp_path / "none.html").exists()
    out = jl.report(csv, case="client", activity="step", timestamp="ts", channel="where", out=tmp_path / "r.html")
    html = out.read_text(encoding="utf-8")
    assert ">3<" in html and ">6<" in html and "events.csv" in html
    assert hashlib.sha256(before).hexdigest() in html
    assert csv.read_bytes() == before  # the input is never modified


def test_report_bad_arguments_fail_before_running(tmp_path):
    with pytest.raises(jl.InvalidParameterError, match="top_variants=0"):
        jl.report(jl.datasets.load_example(), out=tmp_path / "r.html", top_variants=0)
    with pytest.raises(jl.InvalidParameterError, match="segment_by"):
        jl.report(jl.datasets.load_example(), out=tmp_path / "r.html", segment_by=3)
    with pytest.raises(jl.FileFormatError, match="no such file"):
        jl.report(tmp_path / "missing.xes", out=tmp_path / "r.html")
    with pytest.raises(jl.InvalidParameterError, match="EventLog, the path"):
        jl.report(pd.DataFrame(), out=tmp_path / "r.html")
    bad = tmp_path / "j.yaml"
    bad.write_text("name: j\nmilestones: []\n")
    with pytest.raises(jl.JourneyDefinitionError):
        jl.report(jl.datasets.load_example(), journey=bad, out=tmp_path / "r.html")
    assert list(tmp_path.iterdir()) == [bad]


def test_report_write_is_atomic(tmp_path, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("previous report")
    rep = importlib.import_module("journeylab.reporting")

    def boom(nb):
        raise RuntimeError("disk full")

    monkeypatch.setattr(rep, "_export", boom)
    with pytest.raises(RuntimeError):
        jl.report(jl.datasets.load_example(), out=out)
    assert out.read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_pdf_without_a_browser_says_how_to_install_one(tmp_path, monkeypatch):
    browser = importlib.import_module("journeylab._report.browser")
    monkeypatch.setattr(browser, "find_chromium", lambda: None)
    with pytest.raises(jl.JourneylabError, match="apt-get install chromium"):
        jl.report(jl.datasets.load_example(), out=tmp_path / "r.html", pdf=tmp_path / "r.pdf")
    assert list(tmp_path.iterdir()) == []  # checked before anything ran


def test_report_with_pdf(tmp_path):
    from journeylab._report.browser import find_chromium

    if find_chromium() is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    out = jl.report(jl.datasets.load_example(), out=tmp_path / "r.html", pdf=tmp_path / "r.pdf")
    assert out.exists()
    pdf = (tmp_path / "r.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000


def test_attribute_segmentation_counts():
    log = jl.datasets.load_retail().log
    seg = jl.segments.attribute_segmentation(log, "region")
    first = log._frame().sort_values(["case", "timestamp"]).groupby("case")["region"].first()
    assert seg.labels.astype(str).value_counts().to_dict() == first.value_counts().to_dict()
    small = jl.segments.attribute_segmentation(log, "region", max_segments=3)
    assert len(small.segments) == 3 and "other" in small.segments
    assert small.labels.value_counts()["other"] == first.value_counts().iloc[2:].sum()
    with pytest.raises(jl.SchemaError, match="Did you mean 'region'"):
        jl.segments.attribute_segmentation(log, "regoin")


@pytest.mark.parametrize("module", ["journeylab._report.sections", "journeylab.segments"])
def test_doctests(module):
    res = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def test_hostile_journey_and_file_name_are_escaped(tmp_path):
    log_path = tmp_path / "<img src=x onerror=alert(4)>.xes"
    log_path.write_bytes(jl.datasets.example_path().read_bytes())
    yaml = tmp_path / "j.yaml"
    yaml.write_text("name: '<b>claims</b>'\nmilestones:\n"
                    "  - {name: '<script>alert(3)</script>', activities: [register request]}\n"
                    "  - {name: decide & pay, activities: [decide]}\n"
                    "phases:\n  '<i>intake</i>': [register request]\n")
    html = jl.report(log_path, journey=yaml, out=tmp_path / "r.html").read_text(encoding="utf-8")
    assert_self_contained(html)
    assert "<img src=x" not in html and "<b>claims" not in html and "<i>intake" not in html
    assert "&lt;img src=x onerror=alert(4)&gt;.xes" in html  # the file name, in the header and the appendix
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in html  # a milestone name in the happy-path sections
    assert "decide &amp; pay" in html
    assert "Comparison with the happy path" in headings(html)


def test_lazy_logs_folders_and_timeouts_fail_clearly(tmp_path, bpic2012):
    import ibis

    ex = jl.datasets.load_example().to_pandas()
    lazy = jl.from_ibis(ibis.memtable(ex[["case", "activity", "timestamp"]]), case="case", activity="activity",
                        timestamp="timestamp")
    # a lazy log is no longer refused (issue 15): its report runs in this process, in its engine
    lazy_out = jl.report(lazy, out=tmp_path / "lazy" / "r.html", progress=False)
    assert "Engine: DuckDB" in lazy_out.read_text(encoding="utf-8")
    shutil.rmtree(tmp_path / "lazy")
    with pytest.raises(jl.InvalidParameterError, match="is a folder"):
        jl.report(jl.datasets.load_example(), out=tmp_path)
    with pytest.raises(jl.InvalidParameterError, match="timeout=0"):
        jl.report(jl.datasets.load_example(), out=tmp_path / "r.html", timeout=0)
    rep = importlib.import_module("journeylab.reporting")
    with pytest.raises(rep.ReportError, match=r"longer than timeout=1 s .*--timeout"):
        jl.report(bpic2012, out=tmp_path / "r.html", timeout=1, progress=False)
    assert list(tmp_path.iterdir()) == []


def test_report_file_is_replaced_atomically(tmp_path, monkeypatch):
    out = tmp_path / "r.html"
    out.write_text("previous report")
    util = importlib.import_module("journeylab._core.io")

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(util.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        jl.report(jl.datasets.load_example(), out=out, progress=False)
    assert out.read_text() == "previous report"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # the half-done temporary file is gone


def test_journey_without_phases_says_what_to_add():
    sample = jl.datasets.load_retail()
    spec = sample.journey.to_dict()
    spec.pop("phases")
    (html,) = _sections.experience_sections(sample.log, jl.Journey.from_dict(spec))
    assert "has no phases: add a &#x27;phases:&#x27; block" in html


def test_attribute_segments_use_the_first_event_and_never_merge_a_real_value():
    rows = []
    for i in range(30):
        rows += [(f"o{i}", "a", "2025-01-01", "other"), (f"o{i}", "b", "2025-01-02", "zzz")]
    for i in range(40):
        rows.append((f"v{i}", "a", "2025-01-01", f"value{i // 2}"))
    rows += [("m", "a", "2025-01-01", None), ("m", "b", "2025-01-02", "late")]
    df = pd.DataFrame(rows, columns=["c", "act", "t", "src"])
    log = jl.from_pandas(df, case="c", activity="act", timestamp="t")
    seg = jl.segments.attribute_segmentation(log, "src", max_segments=3)
    sizes = seg.labels.astype(str).value_counts().to_dict()
    # 'other' is a real value (30 cases, the largest): it keeps its own segment; the pool gets another name
    assert sizes == {"other": 30, "value0": 2, "other (pooled)": 39}
    m = jl.segments.attribute_segmentation(log, "src", max_segments=30)
    assert m.labels["m"] == "(missing)"  # the first event has no value; a later one does not count
    retail = jl.datasets.load_retail().log
    by_channel = jl.segments.attribute_segmentation(retail, "channel")  # a role column is a fine attribute
    assert by_channel.labels.notna().all() and len(by_channel.segments) > 1


# --------------------------------------------------------------------------- outputs and the kernel (no kernel starts)


def test_report_checks_its_outputs_before_any_work(tmp_path, monkeypatch):
    rep = importlib.import_module("journeylab.reporting")

    def no_kernel(*a, **k):
        raise AssertionError("the report started a kernel for an output it cannot write")

    monkeypatch.setattr(rep, "_execute", no_kernel)
    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    log = tmp_path / "log.xes"
    log.write_bytes(jl.datasets.example_path().read_bytes())
    before = log.read_bytes()
    link = tmp_path / "link.html"
    link.symlink_to(log)
    cases = [
        (dict(out=a_file / "r.html"), r"out='.*a_file/r\.html' cannot be written: '.*a_file' is a file, not a folder"),
        (dict(out=tmp_path / "r.html", pdf=a_file / "r.pdf"), r"pdf='.*a_file/r\.pdf' cannot be written"),
        (dict(out=tmp_path / "r.html", pdf=tmp_path / "r.html"), r"pdf='.*r\.html' is the same file as out="),
        (dict(out=log), r"out='.*log\.xes' is the log file the report reads; .* would replace it"),
        (dict(out=link), r"out='.*link\.html' is the log file the report reads"),  # through a symbolic link
        (dict(out=tmp_path / "r.html", pdf=log), r"pdf='.*log\.xes' is the log file"),
    ]
    for kwargs, match in cases:
        with pytest.raises(jl.OutputError, match=match):
            jl.report(log, **kwargs, progress=False)
    assert log.read_bytes() == before and a_file.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "link.html", "log.xes"]


def test_report_without_loopback_fails_at_once_with_what_to_do(tmp_path):
    """In a network namespace whose `lo` is down the kernel cannot answer: a ReportError at once
    (the hang guard is the subprocess timeout), from the Python API and from the command line."""
    if UNSHARE is None or subprocess.run([UNSHARE, "-n", "true"], capture_output=True).returncode:
        pytest.skip("`unshare -n` is not permitted here (it needs root or unprivileged user namespaces)")
    code = ("import journeylab as jl, sys\n"
            "try:\n    jl.report(out=sys.argv[1], progress=False)\n"
            "except jl.reporting.ReportError as err:\n    print(err)\n")
    res = subprocess.run([UNSHARE, "-n", sys.executable, "-c", code, str(tmp_path / "r.html")],
                         capture_output=True, text=True, cwd=ROOT, timeout=90)
    assert res.returncode == 0, res.stderr
    assert "local Jupyter kernel" in res.stdout and "TCP on 127.0.0.1" in res.stdout
    assert "ip link set lo up" in res.stdout and "unexpected" not in res.stdout
    cli = subprocess.run([UNSHARE, "-n", sys.executable, "-m", "journeylab", "report", "--out",
                          str(tmp_path / "r.html")], capture_output=True, text=True, cwd=ROOT, timeout=90)
    assert cli.returncode == 2 and cli.stdout == ""
    lines = cli.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("journeylab: error: The report runs its notebook in a local "
                                                   "Jupyter kernel") and "127.0.0.1" in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_a_kernel_that_does_not_answer_is_a_report_error(tmp_path, monkeypatch):
    import papermill

    rep = importlib.import_module("journeylab.reporting")

    def silent(*a, **k):
        raise RuntimeError("Kernel didn't respond in 120 seconds")

    monkeypatch.setattr(papermill, "execute_notebook", silent)
    with pytest.raises(rep.ReportError, match=r"did not answer within 120 s of starting\. The report runs its "
                                              r"notebook in a local Jupyter kernel.*127\.0\.0\.1"):
        jl.report(out=tmp_path / "r.html", progress=False)

    def other(*a, **k):
        raise RuntimeError("something else")

    monkeypatch.setattr(papermill, "execute_notebook", other)
    with pytest.raises(RuntimeError, match="something else"):  # not disguised as a kernel problem
        jl.report(out=tmp_path / "r.html", progress=False)


def test_report_segments_by_an_attribute_when_nobody_reaches_the_goal(tmp_path):
    # three regions, a goal nobody reaches: the goal rate is the same (0) in every segment; the report used to
    # die on scipy's "expected frequencies has a zero element" and write nothing
    rows = []
    for i in range(75):
        t0 = pd.Timestamp("2025-01-01") + pd.Timedelta(hours=i)
        for j, act in enumerate(["visit"] * (1 + i % 3) + ["cart", "buy"]):
            rows.append((f"c{i:03d}", act, t0 + pd.Timedelta(minutes=5 * j), ("north", "south", "west")[i % 3],
                         10.0 if act == "buy" else None))
    df = pd.DataFrame(rows, columns=["c", "act", "t", "region", "amount"])
    log = jl.from_pandas(df, case="c", activity="act", timestamp="t")
    journey = jl.Journey.from_dict({"name": "shop", "milestones": [{"name": "cart", "activities": ["cart"]},
                                                                   {"name": "buy", "activities": ["buy"]}],
                                    "goal": {"type": "purchase", "activity": "buy", "when": "amount > 100"}})
    html = jl.report(log, journey=journey, out=tmp_path / "r.html", segment_by="region",
                     progress=False).read_text(encoding="utf-8")
    assert "Segments by region" in headings(html)
    assert "Tested differences" in html
    assert "no variation, not tested: every case has the value no" in html
