"""Journey map, channel mix and the experience sections of the report."""

from __future__ import annotations

import doctest
import warnings

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from journeylab import channels as channels_module
from journeylab import journeymap as journeymap_module
from journeylab.channels import channel_mix
from journeylab.exceptions import InvalidParameterError, JourneyDefinitionError, SchemaError
from journeylab.journey import Journey, Milestone
from journeylab._report import experience as report_experience
from journeylab._report.experience import experience_sections
from journeylab.journeymap import journey_map
from journeylab.plotting import _style as plotting_style
from journeylab.plotting import journeymap as plotting_journeymap


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("module", [journeymap_module, channels_module, plotting_journeymap, plotting_style,
                                    report_experience])
def test_docstring_examples(module):
    res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0 and res.attempted > 0


ROWS = [
    # case, activity, hour, channel, csat, amount, tier
    ("a", "ad", 0, "web", 5, None, "gold"), ("a", "view", 1, "web", 4, None, "gold"),
    ("a", "buy", 2, "app", 5, 30.0, "gold"),
    ("b", "ad", 3, "web", 2, None, "basic"), ("b", "view", 4, "web", 1, None, "basic"),
    ("c", "view", 5, "web", 5, None, "gold"), ("c", "buy", 6, "app", 4, 70.0, "gold"),
    ("d", "ad", 7, "web", None, None, "basic"),
]


def _log(rows=ROWS):
    df = pd.DataFrame(rows, columns=["case", "activity", "h", "channel", "csat", "amount", "tier"])
    df["t"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(df["h"], unit="h")
    return jl.from_pandas(df.drop(columns="h"), case="case", activity="activity", timestamp="t", channel="channel",
                          value="amount")


JOURNEY = Journey("shop", [Milestone("browse", ["view"]), Milestone("buy", ["buy"])],
                  phases={"awareness": ["ad"], "consideration": ["view"], "purchase": ["buy", "return"]},
                  goal={"type": "purchase", "activity": "buy"})


def test_journey_map_hand_computed():
    m = journey_map(_log(), JOURNEY, kpi="csat", min_answers=1)
    t = m.touchpoints[m.touchpoints["segment"] == "all"].set_index("activity")
    assert t["phase"].tolist() == ["awareness", "consideration", "purchase"]
    assert t["events"].tolist() == [3, 3, 2] and t["units"].tolist() == [3, 3, 2]
    assert t["reach"].tolist() == pytest.approx([0.75, 0.75, 0.5])
    assert t["conversion"].tolist() == pytest.approx([1 / 3, 2 / 3, 1.0])   # a / a, c / a, c
    assert t["drop_off"].tolist() == pytest.approx([1 / 3, 1 / 3, 0.0])     # d ended at ad, b at view
    assert t["answers"].tolist() == [2, 3, 2]
    assert t["score"].tolist() == pytest.approx([50.0, 200 / 3, 100.0])     # top-2-box of (5,2), (4,1,5), (5,4)
    assert m.overall.value == pytest.approx(500 / 7) and m.overall.n == 7
    assert m.missing == ("return",) and m.goal == "buy"
    ph = m.phase_scores[m.phase_scores["segment"] == "all"].set_index("phase")
    assert ph["units"].tolist() == [3, 3, 2] and ph["score"].tolist() == pytest.approx([50.0, 200 / 3, 100.0])
    assert (t["gap"] == t["score"] - 500 / 7).all()
    assert not t["act"].any()  # far too few answers for a significant gap
    assert repr(m) == "JourneyMap 'shop': 3 phases, 3 touchpoints, CSAT overall 71.4%; 0 touchpoint(s) to act on"
    assert m.summary.shape == (3, 4) and "<table" in m._repr_html_()


def test_journey_map_insufficient_and_act():
    rows = list(ROWS)
    for i in range(40):  # many unhappy answers at 'view', many happy ones at 'buy'
        rows += [(f"x{i}", "view", 10 + i, "web", 1, None, "basic"), (f"y{i}", "buy", 10 + i, "app", 5, 9.0, "gold")]
    m = journey_map(_log(rows), JOURNEY, kpi="csat", min_answers=5)
    t = m.touchpoints[m.touchpoints["segment"] == "all"].set_index("activity")
    assert t.loc["ad", "status"] == "insufficient" and np.isnan(t.loc["ad", "score"])
    assert bool(t.loc["view", "act"]) and not bool(t.loc["buy", "act"])
    act = m.where_to_act()
    assert act["activity"].tolist() == ["view"] and act["gap"].iloc[0] < 0
    assert m.summary.set_index("phase").loc["consideration", "act on"] == "view"
    assert m.summary.set_index("phase").loc["awareness", "CSAT"] == "insufficient (n=2)"


def test_journey_map_ces_lower_is_better_flags_high_effort():
    rows = []
    for i in range(40):
        rows += [(f"u{i}", "ad", 2 * i, "web", None, None, "a"), (f"u{i}", "view", 2 * i + 1, "web", None, None, "a")]
    df = pd.DataFrame(rows, columns=["case", "activity", "h", "channel", "csat", "amount", "tier"])
    df["ces"] = np.where(df["activity"] == "view", 6, 1)
    df["t"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(df["h"], unit="h")
    log = jl.from_pandas(df.drop(columns=["h", "csat", "amount"]), case="case", activity="activity", timestamp="t",
                         channel="channel")
    m = journey_map(log, JOURNEY, kpi="ces", min_answers=5)
    assert m.better == "lower" and m.where_to_act()["activity"].tolist() == ["view"]


def test_journey_map_segments():
    m = journey_map(_log(), JOURNEY, kpi="csat", min_answers=1, segment="tier")
    assert m.segments == ("all", "basic", "gold")
    gold = m.touchpoints[m.touchpoints["segment"] == "gold"].set_index("activity")
    assert gold.loc["view", "units"] == 2 and gold.loc["view", "score"] == 100.0
    assert gold.loc["view", "reach"] == 1.0
    ax = m.plot(segment="gold")
    assert "segment gold" in ax.get_title(loc="left")
    with pytest.raises(InvalidParameterError, match="segment='platinum' is not in this map; segments: \\['all'"):
        m.plot(segment="platinum")


def test_journey_map_plot_is_drawn_on_the_given_axes_without_touching_rcparams():
    m = journey_map(_log(), JOURNEY, kpi="csat", min_answers=1)
    before = dict(matplotlib.rcParams)
    ax = m.plot()
    assert ax.get_title(loc="left") == "Journey map: shop"
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "AWARENESS" in texts and "CSAT 50.0%" in texts and "conv. 33%" in texts
    _, ax2 = plt.subplots(figsize=(9, 6))
    assert m.plot(ax=ax2) is ax2
    assert dict(matplotlib.rcParams) == before


def test_journey_map_errors():
    log = _log()
    with pytest.raises(JourneyDefinitionError, match="defines no phases; a journey map needs them"):
        journey_map(log, Journey("flat", [Milestone("b", ["buy"])]), kpi="csat")
    with pytest.raises(SchemaError, match="score='nps' is not a column of the log"):
        journey_map(log, JOURNEY, kpi="nps")
    with pytest.raises(InvalidParameterError, match="kpi='nsp' is not allowed.*Did you mean 'nps'"):
        journey_map(log, JOURNEY, kpi="nsp")
    other = Journey("o", [Milestone("b", ["zzz"])], phases={"p": ["zzz"]})
    with pytest.raises(JourneyDefinitionError, match="none of the activities of journey 'o'"):
        journey_map(log, other, kpi="csat", score="csat")


# --------------------------------------------------------------------------- channel mix


def test_channel_mix_hand_computed():
    mix = channel_mix(_log(), JOURNEY)
    assert mix.switches.loc["web", "web"] == 2 and mix.switches.loc["web", "app"] == 2
    assert mix.switches.to_numpy().sum() == 4 and mix.switch_rate == 0.5
    assert mix.switch_probabilities.loc["web"].tolist() == [0.5, 0.5]
    sh = mix.share.set_index(["phase", "channel"])["share"]
    assert sh[("awareness", "web")] == 1.0 and sh[("purchase", "app")] == 1.0
    assert mix.cases.loc["a"].tolist() == [2, 1, 2] and mix.cases.loc["d"].tolist() == [0, 0, 1]
    sp = mix.spend_by_channel.set_index("channel")
    assert sp.loc["app", "spend"] == 100.0 and sp.loc["app", "share"] == 1.0
    assert mix.share_of_customer is None
    assert repr(mix) == "ChannelMix: 2 channels, 4 steps, switch rate 50.0%, 50.0% of cases use more than one channel"
    assert mix.summary.loc["awareness", "web"] == 100.0


def test_share_of_customer_with_a_wallet():
    wallet = pd.Series({"a": 60.0, "c": 70.0})
    mix = channel_mix(_log(), wallet=wallet)
    soc = mix.share_of_customer.set_index("segment")
    assert soc.loc["all", "mean_share"] == pytest.approx((30 / 60 + 70 / 70) / 2)
    assert soc.loc["all", "share_of_total"] == pytest.approx(100 / 130)
    mix = channel_mix(_log(), segment="tier", wallet=pd.Series({"a": 20.0, "c": 140.0}))
    soc = mix.share_of_customer.set_index("segment")
    assert soc.loc["gold", "over_wallet"] == 1 and soc.loc["gold", "mean_share"] == pytest.approx((1 + 0.5) / 2)
    assert set(mix.switches_by_segment["segment"]) == {"gold", "basic"}
    with pytest.raises(InvalidParameterError, match="wallet: 1 customers have a category spend <= 0"):
        channel_mix(_log(), wallet=pd.Series({"a": 0.0}))


def test_channel_mix_plots_and_errors():
    mix = channel_mix(_log(), JOURNEY, segment="tier")
    for kind in ("share", "switches", "spend"):
        assert mix.plot(kind=kind) is not None
    with pytest.raises(InvalidParameterError, match="kind='pie' is not allowed"):
        mix.plot(kind="pie")
    no_channel = jl.from_pandas(pd.DataFrame({"c": ["a"], "a": ["x"], "t": ["2025-01-01"]}), case="c", activity="a",
                                timestamp="t")
    with pytest.raises(SchemaError, match="channel_mix needs a channel column"):
        channel_mix(no_channel)
    with pytest.raises(JourneyDefinitionError, match="defines no phases"):
        channel_mix(_log(), Journey("flat", [Milestone("b", ["buy"])]))
    with pytest.raises(SchemaError, match="spend='amt' is not a column"):
        channel_mix(_log(), spend="amt")


# --------------------------------------------------------------------------- the sample and the report


@pytest.fixture(scope="module")
def sample():
    from journeylab.datasets import make_journeys

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_journeys(4000, random_state=11)


def test_sample_journey_map_points_at_the_service_phase(sample):
    m = journey_map(sample.log, sample.journey, kpi="csat", unit="session_id")
    ph = m.phase_scores[m.phase_scores["segment"] == "all"].set_index("phase")
    assert ph["score"].idxmin() == "service"
    act = m.where_to_act()
    assert len(act) and set(act["phase"]) <= {"service", "purchase", "delivery"}
    assert m.plot() is not None


def test_experience_sections(sample):
    sections = experience_sections(sample.log, sample.journey, kpi="csat", unit="session_id")
    titles = [t for t, _ in sections]
    assert titles == ["Journey map", "CSAT per touchpoint", "Contact peaks"]
    for _, body in sections:
        assert "<script" not in body
    assert all('src="data:image/png;base64,' in b for _, b in sections)
    assert experience_sections(sample.log, None) == []


def test_experience_sections_old_name_warns():
    # the report's HTML moved to journeylab._report.experience; the old name works for one release
    with pytest.warns(DeprecationWarning, match="journeymap.experience_sections is deprecated.*_report.experience"):
        old = journeymap_module.experience_sections
    assert old is experience_sections
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        journeymap_module.nope


def test_map_plot_draws_an_interval_that_excludes_its_score():
    # one NPS answer of 0: score -100, adjusted Wald interval about -98 .. +48 (it does not contain the score);
    # the plot used to compute negative error-bar lengths and matplotlib refused them
    df = pd.DataFrame({"case": [f"c{i}" for i in range(3)], "activity": "visit",
                       "t": pd.Timestamp("2025-03-01 08:00"), "nps": [np.nan, np.nan, 0.0]})
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="t")
    j = Journey("j", [Milestone("m", ["visit"])], phases={"explore": [], "decide": ["visit"]})
    m = journey_map(log, j, kpi="nps", min_answers=1)
    row = m.phase_scores.set_index("phase").loc["decide"]
    assert row["score"] == -100 and not row["ci_low"] <= row["score"] <= row["ci_high"]
    ax = m.plot()
    assert ax.figure is not None


def test_channel_mix_without_any_channel_value_says_so():
    # every channel missing: the result used to be empty and its plot failed inside matplotlib (a legend of 0 columns)
    df = pd.DataFrame({"case": ["c0", "c1", "c1"], "activity": ["visit", "visit", "buy"],
                       "t": pd.date_range("2025-03-01", periods=3, freq="h"), "channel": [None, None, None],
                       "tier": [None, None, None]})
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="t", channel="channel")
    with pytest.raises(SchemaError, match="channel_mix needs channel values, and the channel of every one of the "
                                          "log's 3 events is missing; fill the channel column"):
        channel_mix(log)
    df["channel"] = ["web", "app", None]
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="t", channel="channel")
    with pytest.raises(InvalidParameterError, match="no event has both a channel and a segment"):
        channel_mix(log, segment="tier")
    assert channel_mix(log).plot() is not None


def test_anonymous_customer_warning_points_at_the_callers_line():
    # the @checked wrapper adds a frame between the user and the analysis: the warning still names the user's line
    df = pd.DataFrame({"case": ["a", "a", "b"], "activity": ["view", "buy", "buy"], "customer": ["u1", "u1", None],
                       "t": pd.date_range("2025-01-01", periods=3, freq="h"), "channel": ["web", "store", "web"]})
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="t", channel="channel", customer="customer")
    with pytest.warns(jl.DataQualityWarning, match="counts as its own customer") as caught:
        channel_mix(log, unit="customer")
    assert [w.filename for w in caught] == [__file__]
    with pytest.warns(jl.DataQualityWarning, match="counts as its own customer") as caught:
        jl.conversion_paths(log, conversion="buy", touchpoints="channel", unit="customer")
    assert [w.filename for w in caught] == [__file__]
