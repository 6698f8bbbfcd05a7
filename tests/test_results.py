"""Every public result class keeps one contract (CONTRIBUTING.md, journeylab/_core/results.py):
``to_frame()`` a DataFrame, ``summary`` a DataFrame, a one-line ``repr``, an escaped ``_repr_html_``,
read-only ``params``, ``plot()`` returning Axes or a Figure, and it pickles."""

from __future__ import annotations

import pickle
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import journeylab as jl  # noqa: E402
from journeylab._core.results import FrozenMap, Result  # noqa: E402

HOSTILE = "<script>alert(1)</script>"


@lru_cache(maxsize=1)
def _sample():
    sample = jl.datasets.load_retail()
    keep = sorted(sample.log.to_pandas()["case"].unique())[:1500]
    log = sample.log.filter_cases(keep)
    ev = log.to_pandas()
    # a hostile activity name everywhere an activity is shown
    ev.loc[ev["activity"] == "newsletter_open", "activity"] = HOSTILE
    log = jl.from_pandas(ev, case="case", activity="activity", timestamp="timestamp", channel="channel",
                         value="value")
    inside = ev[ev["session_id"].notna()]
    sessions = jl.from_pandas(inside, case="session_id", customer="case", activity="activity",
                              timestamp="timestamp", channel="channel", value="value")
    return log, sessions, sample.journey


RULES = dict(exclusion=jl.Criteria(conditions="employee == true"), suppression="unsubscribe", timeout="2d")


@lru_cache(maxsize=1)
def _predictions():
    log, _, journey = _sample()
    return jl.predict(log, journey, horizon="14d", every="21d", random_state=0)


def _make(name):
    log, sessions, journey = _sample()
    goal = journey.goal.activity if hasattr(journey.goal, "activity") else "purchase"
    makers = {
        "ProcessMap": lambda: jl.discover(sessions, activities=0.8, paths=0.3),  # the full map is too large to draw
        "Variants": lambda: jl.variants(sessions, top=10),
        "Paths": lambda: jl.paths(sessions, anchor="checkout"),
        "Model": lambda: jl.discover_model(sessions.filter_variants(top=40), quality=False),
        "Conformance": lambda: jl.compare(sessions, journey),
        "Funnel": lambda: jl.funnel(sessions, journey, window="14d"),
        "Milestones": lambda: jl.milestones(sessions, journey),
        "Segmentation": lambda: jl.cluster_journeys(log, n_clusters=3, method="kmeans", random_state=0),
        "SegmentComparison": lambda: jl.compare_segments(
            jl.cluster_journeys(log, n_clusters=3, method="kmeans", random_state=0)),
        "GoalAttainment": lambda: jl.goal_attainment(log, journey, **RULES),
        "ABTest": lambda: jl.ab_test(log, journey, version="version", control="A", **RULES),
        "RuleActions": lambda: jl.evaluate_rules(log, journey, [jl.Rule(name="nudge", when="stalled == true",
                                                                         action="send_reminder")]),
        "SurveyScore": lambda: jl.nps(log.to_pandas()["nps"]),
        "TouchpointScores": lambda: jl.touchpoint_scores(log, score="nps", kind="nps"),
        "PeakEnd": lambda: jl.peak_end(log, score="csat", overall="nps", random_state=0, n_boot=20),
        "ContactPeaks": lambda: jl.contact_peaks(log),
        "Attribution": lambda: jl.attribution(log, conversion=goal, random_state=0, n_boot=20),
        "AttributionComparison": lambda: jl.compare_attribution(log, conversion=goal, random_state=0, n_boot=20),
        "ChannelMix": lambda: jl.channel_mix(log),
        "JourneyMap": lambda: jl.journey_map(log, journey, kpi="nps"),
        "Drivers": lambda: jl.drivers(log, journey, at="purchase", n_boot=10, random_state=0),
        "Retention": lambda: jl.retention(log, by="version"),
        "Predictions": lambda: _predictions(),
        "PredictionEvaluation": lambda: _predictions().evaluate(),
    }
    return makers[name]()


RESULTS = ["ProcessMap", "Variants", "Paths", "Model", "Conformance", "Funnel", "Milestones", "Segmentation",
           "SegmentComparison", "GoalAttainment", "ABTest", "RuleActions", "SurveyScore", "TouchpointScores",
           "PeakEnd", "ContactPeaks", "Attribution", "AttributionComparison", "ChannelMix", "JourneyMap",
           "Drivers", "Retention", "Predictions", "PredictionEvaluation"]

@lru_cache(maxsize=None)
def result(name):
    return _make(name)


def test_every_public_result_class_is_listed():
    public = {n for n in jl.__all__ if isinstance(getattr(jl, n, None), type)
              and getattr(jl, n).__module__.startswith("journeylab") and n[0].isupper()
              and not issubclass(getattr(jl, n), (Exception, Warning))}
    not_results = {"EventLog", "Journey", "Milestone", "Goal", "Condition", "Criteria", "Rule", "JourneyVectorizer"}
    assert public - not_results <= set(RESULTS), sorted(public - not_results - set(RESULTS))


@pytest.mark.parametrize("name", RESULTS)
def test_result_contract(name):
    res = result(name)
    assert isinstance(res, Result) and isinstance(res, getattr(jl, name))
    frame = res.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame.columns) > 0
    assert isinstance(res.summary, pd.DataFrame)
    text = repr(res)
    assert "\n" not in text and text.startswith(name.replace("AttributionComparison", "Attribution")[:5])
    html = res._repr_html_()
    assert "<script>" not in html and "<table" in html
    assert isinstance(res.params, FrozenMap)
    with pytest.raises(TypeError):
        res.params["new"] = 1  # read-only
    back = pickle.loads(pickle.dumps(res))
    pd.testing.assert_frame_equal(back.to_frame(), frame)
    drawn = res.plot()
    assert isinstance(drawn, (matplotlib.axes.Axes, matplotlib.figure.Figure, np.ndarray))
    plt.close("all")


def test_readable_formats_any_table_as_results_show_theirs():
    import numpy as np

    df = pd.DataFrame({"conversion": [1.0, np.nan], "at": pd.to_timedelta(["20min 46s", "0s"]),
                       "effect": [-56.013746, 0.19999999999999996], "n": [1200, 3], "p_adjusted": [0.0001, 0.2]})
    shown = jl.readable(df)
    assert shown.to_dict("list") == {"conversion": ["100.0%", "-"], "at": ["20.8 min", "0 s"],
                                     "effect": ["-56.01", "0.20"], "n": ["1,200", "3"],
                                     "p_adjusted": ["<0.001", "0.200"]}
    assert df["effect"].iloc[0] == -56.013746  # the input is not changed
    assert jl.readable(df, formats={"effect": "score"}, max_rows=1)["effect"].tolist() == ["-56.0"]
    assert jl.readable(df["n"]).columns.tolist() == ["n"]
    with pytest.raises(jl.InvalidParameterError, match="takes a pandas DataFrame, got list"):
        jl.readable([1, 2])
