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
