"""The explorer base (journeylab.widgets._common.Explorer) and what every explorer keeps: the code on screen
reproduces the result, and errors are shown by the one error display, in the output area."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import journeylab as jl  # noqa: E402
from journeylab.exceptions import InvalidParameterError  # noqa: E402
from journeylab.widgets import Explorer, happy_path_explorer, process_explorer, segment_explorer  # noqa: E402
from journeylab.widgets import _common  # noqa: E402


@pytest.fixture(scope="module")
def sample():
    return jl.datasets.make_journeys(200, random_state=6)


def test_the_error_display_names_the_error_and_escapes_its_advice():
    html = Explorer.error_view(InvalidParameterError("window='<b>' is not a duration; write it like '30min'."))
    assert "<b>InvalidParameterError</b>" in html.data and "&lt;b&gt;" in html.data and "<b>'" not in html.data


def test_code_reproduces_every_explorer(sample):
    log, journey = sample.log, sample.journey
    ns = {"jl": jl, "log": log, "journey": journey}
    ex = happy_path_explorer(log, journey, window="7d", by="channel")
    again = eval(ex.code.removesuffix(f".plot(relative={ex.relative.value!r})"), ns)
    pd.testing.assert_frame_equal(again.table, ex.result.table)
    ex = process_explorer(log, activities=0.6, paths=0.4, column="channel", values=["app"])
    again = eval(ex.code.split(").plot(")[0] + ")", ns)
    pd.testing.assert_frame_equal(again.edges, ex.result.edges)
    ex = segment_explorer(log, journey=journey, n_clusters=3, random_state=2)
    pd.testing.assert_series_equal(eval(ex.code, ns).labels, ex.result.labels)


def test_inside_a_kernel_results_and_errors_go_to_the_output_area(sample, monkeypatch):
    shown = []
    monkeypatch.setattr(Explorer, "_in_kernel", staticmethod(lambda: True))
    monkeypatch.setattr(_common, "_display", lambda *items: shown.extend(items))
    ex = happy_path_explorer(sample.log, sample.journey)
    assert ex.error is None and any(isinstance(x, matplotlib.figure.Figure) for x in shown) and ex.result in shown
    shown.clear()
    ex.window.value = "soon"
    assert ex.result is None and "not a duration" in ex.error
    assert len(shown) == 1 and "InvalidParameterError" in shown[0].data and "not a duration" in shown[0].data
    shown.clear()
    seg = segment_explorer(sample.log, n_clusters=2, random_state=0)
    assert seg.result is not None and seg.result in shown and "cluster_journeys" in shown[-1].data
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("module", ["journeylab.widgets._common", "journeylab.widgets.process",
                                    "journeylab.widgets.happy_path", "journeylab.widgets.segments"])
def test_doctests(module):
    import doctest
    import importlib

    res = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0 and res.failed == 0


def _typed_log():
    """60 cases with a boolean, an integer, a float, a date and a text attribute (constant per case)."""
    rows = []
    for c in range(60):
        for k, act in enumerate(["a", "b", "c"]):
            rows.append({"case": f"c{c}", "activity": act, "ts": pd.Timestamp("2025-01-01") + pd.Timedelta(hours=5 * c + k),
                         "flag": c % 3 == 0, "n": c % 4, "x": [0.1, 0.25, 1 / 3][c % 3],
                         "day": pd.Timestamp("2025-01-01", tz="UTC") + pd.Timedelta(days=c % 2), "s": ["web", "app"][c % 2]})
    return jl.from_pandas(pd.DataFrame(rows), case="case", activity="activity", timestamp="ts")


@pytest.mark.parametrize("column, expected", [("flag", {False: 40, True: 20}), ("n", {0: 15, 1: 15, 2: 15, 3: 15}),
                                              ("x", {0.1: 20, 0.25: 20, 1 / 3: 20}), ("s", {"web": 30, "app": 30}),
                                              ("day", {pd.Timestamp("2025-01-01", tz="UTC"): 30,
                                                       pd.Timestamp("2025-01-02", tz="UTC"): 30})])
def test_process_explorer_code_reproduces_the_segment_for_every_column_type(column, expected):
    log = _typed_log()
    ns = {"jl": jl, "pd": pd, "log": log}
    ex = process_explorer(log, column=column)
    assert len(ex.values.options) == len(expected)
    for label in ex.values.options:
        ex.values.value = (label,)
        value = ex.params["segment"]["values"][0]
        assert type(value) is type(next(iter(expected)))  # the column's own type, not its label
        assert ex.result.n_cases == expected[value]
        again = eval(ex.code.split(").plot(")[0] + ")", ns)  # the code on screen, run as a user would
        assert again.n_cases == ex.result.n_cases
        pd.testing.assert_frame_equal(again.edges, ex.result.edges)
    # the initial values may be given typed or as the labels of the menu
    assert process_explorer(log, column=column, values=[next(iter(expected))]).result.n_cases == next(iter(expected.values()))


def test_switching_the_segment_column_clears_the_selection_before_the_options():
    ex = process_explorer(_typed_log(), column="s", values=["web"])
    seen = []
    ex.values.observe(lambda ch: seen.append((ch["name"], ch["new"], tuple(ex.values.options))), names=["value", "options"])
    ex.column.value = "(all cases)"
    assert ex.values.value == () and ex.values.options == ()
    # the selection went first, while its options still existed (the front end then never sets a missing option)
    assert seen[0][0] == "value" and seen[0][1] == () and seen[0][2] == ("web", "app")
    assert ex.params["segment"] is None and ex.result.n_cases == 60


def test_explorers_offer_only_columns_fit_for_a_breakdown(sample):
    log = sample.log
    offered = set(happy_path_explorer(log, sample.journey).by.options)
    for ident in ("cookie_id", "email_id", "session_id"):
        assert ident in log.columns and ident not in offered
    assert {"channel", "region", "version"} <= offered
    assert set(process_explorer(log).column.options) == offered - {"(none)"} | {"(all cases)"}
    # counted in the engine for a lazy log, the same columns
    from conftest import lazy_copy

    assert _common.groupable_columns(lazy_copy(log)) == _common.groupable_columns(log)


def test_the_run_button_is_disabled_and_says_so_while_clustering(sample, monkeypatch):
    monkeypatch.setattr(Explorer, "_in_kernel", staticmethod(lambda: True))
    shown = []
    monkeypatch.setattr(_common, "_display", lambda *items: shown.extend(items))
    seg = segment_explorer(sample.log, n_clusters=2, random_state=0)
    states = []
    real = seg.compute

    def watching(params):
        states.append((seg.run_button.disabled, seg.run_button.description))
        return real(params)

    seg.compute = watching
    shown.clear()
    seg.run()
    assert states == [(True, "Running...")]
    assert "clustering into 2 segments" in shown[0].data  # said before the work starts
    assert (seg.run_button.disabled, seg.run_button.description) == (False, "Run") and seg.result is not None
    seg.k.value = 99  # out of range: an error, and the button still comes back
    seg.auto.value = False
    seg.run()
    assert (seg.run_button.disabled, seg.run_button.description) == (False, "Run")
    matplotlib.pyplot.close("all")


def test_a_saved_explorer_shows_its_figure_and_a_line_to_run_it_never_the_widget_repr(sample):
    from IPython.core.formatters import DisplayFormatter

    explorers = [process_explorer(sample.log, activities=0.5), happy_path_explorer(sample.log, sample.journey),
                 segment_explorer(sample.log, n_clusters=2, random_state=0)]
    for ex in explorers:
        data, _ = DisplayFormatter().format(ex)  # what IPython puts in the notebook
        assert "application/vnd.jupyter.widget-view+json" in data  # live where Jupyter can draw it
        assert "VBox(" not in data["text/plain"] and "run this cell" in data["text/plain"]
        html = data["text/html"]
        assert html.count('src="data:image/png;base64,') == 1 and "Run this cell to explore" in html
    # a failed view shows its error, escaped
    bad = happy_path_explorer(sample.log, sample.journey, window="<b>soon</b>")
    html = DisplayFormatter().format(bad)[0]["text/html"]
    assert "InvalidParameterError" in html and "&lt;b&gt;soon" in html and "data:image/png" not in html
    matplotlib.pyplot.close("all")
