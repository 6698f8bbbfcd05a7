"""jl.predict: in-flight predictions - no leakage, time split, known answers of the simulator, the baseline,
calibration, lazy logs, errors.

Cheap by design: one simulated log of 900 customers over 120 days, cut-offs every 7 days, and the features
of each cut-off kept in the log's cache, so that the targets share them."""

from __future__ import annotations

from html import escape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from journeylab._kernels import prefixes as P
from journeylab.exceptions import InvalidParameterError, JourneyDefinitionError

OPTS = {"horizon": "7d", "every": "7d", "random_state": 0}


@pytest.fixture(scope="module")
def small():
    """Planted: half the carts and checkouts stall before going on, and 60% of the journeys that end at cart
    or checkout end with a store purchase 0.5-6 days later - what happens next depends on where the
    customer is (progress) and for how long (timing)."""
    return jl.datasets.make_journeys(900, days=120, random_state=11, p_stall=0.5, p_late_purchase=0.6)


@pytest.fixture(scope="module")
def pl(small):
    """The journey's own events of ``small`` (read by the tests of single cut-offs; never modified)."""
    return P.journey_log(small.log, small.journey)


@pytest.fixture(scope="module")
def goal(small):
    return jl.predict(small.log, small.journey, target="goal", **OPTS)


@pytest.fixture(scope="module")
def nxt(small):
    return jl.predict(small.log, small.journey, target="next_milestone", **OPTS)


# --------------------------------------------------------------------------- no leakage, time split


def test_features_at_a_cutoff_are_those_of_the_log_cut_before_it(small, pl):
    """Only what was known: the features at cut-off c from the whole log equal those from the log with every
    event at or after c removed (a feature read after the cut-off would differ)."""
    c = pd.Timestamp("2025-03-15 12:00", tz="UTC")
    full = pl
    df = small.log.to_pandas()
    before = jl.from_pandas(df[df["timestamp"] < c], case="case", activity="activity", timestamp="timestamp",
                            channel="channel", value="value")
    cut = P.journey_log(before, small.journey)
    cut = P.PrefixLog(cut.log, cut.attributes, cut.start, cut.end, full.levels, cut.marks)
    a, _ = P.features_at(full, small.journey, c)
    b, _ = P.features_at(cut, small.journey, c)
    pd.testing.assert_frame_equal(a, b)
    # and the state is that of the rules at the same date (one implementation)
    assert len(a) > 50


def test_a_leaky_column_does_not_leak(small):
    """A column that tells the outcome (set only on the goal events) would make a perfect feature if events at
    or after a cut-off reached the features: read at c + horizon it separates the labels perfectly; read at c
    (what the examples do) it is never set for anyone in flight."""
    from sklearn.metrics import roc_auc_score

    df = small.log.to_pandas()
    df["outcome"] = pd.Series(np.where(df["activity"] == "purchase", "bought", "none"), dtype="category")
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp", channel="channel",
                         value="value")
    pl = P.journey_log(log, small.journey)
    h = pd.Timedelta(days=7)
    for c in pd.to_datetime(["2025-02-15", "2025-03-10", "2025-04-01"], utc=True):
        X, st = P.features_at(pl, small.journey, c)
        y = P.labels_at(pl, small.journey, c, h, "goal", st)
        assert 0 < y.sum() < len(y)
        assert not (X["attributes:outcome"] == "bought").any()  # nothing after the cut-off
        # the same column read up to c + horizon (what a leak would see) is a perfect feature
        seen = df[(df["timestamp"] >= c) & (df["timestamp"] < c + h) & (df["outcome"] == "bought")]["case"]
        assert roc_auc_score(y, X.index.isin(set(seen)).astype(float)) > 0.95


def test_the_split_is_by_time(goal):
    cut = goal.cutoffs
    order = {"train": 0, "calibrate": 1, "evaluate": 2}
    kept = cut[cut["set"] != "dropped"]
    assert kept["set"].map(order).is_monotonic_increasing
    assert set(kept["set"]) == {"train", "calibrate", "evaluate"}
    horizon = pd.to_timedelta(OPTS["horizon"].replace("d", "D"))
    first_cal = kept.loc[kept["set"] == "calibrate", "cutoff"].min()
    first_eval = kept.loc[kept["set"] == "evaluate", "cutoff"].min()
    assert (kept.loc[kept["set"] == "train", "cutoff"] + horizon <= first_cal).all()
    assert (kept.loc[kept["set"] == "calibrate", "cutoff"] + horizon <= first_eval).all()
    assert cut["cutoff"].max() + horizon <= goal.as_of


def test_one_example_per_customer_and_cutoff_only_in_flight(small, pl):
    c = pd.Timestamp("2025-03-01", tz="UTC")
    X, _ = P.features_at(pl, small.journey, c)
    assert X.index.is_unique
    # in flight: entered before c and not credited with the goal before c (simulator's truth)
    truth = small.truth.customers
    entered = truth.loc[X.index, "entered_at"]
    assert ((entered < c) | truth.loc[X.index, "excluded"]).all()  # (exclusion is not given to predict here)
    assert not (truth.loc[X.index, "first_purchase_at"] < c - pd.Timedelta(days=3)).any()


def test_goal_labels_match_the_simulators_purchases(small, pl):
    """Known answer: a customer in flight is labelled positive exactly when the simulator recorded a purchase
    for them in [c, c + horizon)."""
    c, h = pd.Timestamp("2025-03-01", tz="UTC"), pd.Timedelta(days=7)
    _, st = P.features_at(pl, small.journey, c)
    y = P.labels_at(pl, small.journey, c, h, "goal", st)
    df = small.log.to_pandas()
    buys = df[(df["activity"] == "purchase") & (df["timestamp"] >= c) & (df["timestamp"] < c + h)]["case"]
    assert y.sum() > 5
    np.testing.assert_array_equal(y, st.index.isin(set(buys)).astype(int))
    fp = small.truth.customers["first_purchase_at"].reindex(st.index)
    assert ((fp >= c) & (fp < c + h)).to_numpy()[y == 1].mean() > 0.9  # first purchases, mostly


# --------------------------------------------------------------------------- known answers: baseline, calibration


def test_goal_beats_the_baseline_is_calibrated_and_ranks_the_planted_drivers(goal):
    ev = goal.evaluate()
    assert ev.value("auc") > ev.value("auc", "baseline") + 0.02
    assert set(goal.importance["group"][:2]) == {"progress", "timing"}
    assert ev.value("brier") <= ev.value("brier", "baseline")
    cal = ev.calibration[ev.calibration["source"] == "model"]
    w = cal["examples"] / cal["examples"].sum()
    ece = float((w * (cal["predicted"] - cal["observed"]).abs()).sum())
    assert ece < 0.06
    mean_gap = abs((w * cal["predicted"]).sum() - (w * cal["observed"]).sum())
    assert mean_gap < 0.04


def test_next_milestone_ranks_the_planted_drivers_on_top(nxt):
    """Stalls (timing) and where the customer is (progress) drive what comes next in the simulator; the
    customer's attributes barely do (attribute_strength acts through the segment)."""
    ev = nxt.evaluate()
    assert ev.value("auc") > ev.value("auc", "baseline")
    assert set(nxt.importance["group"][:2]) == {"timing", "progress"}
    assert nxt.importance.set_index("group").loc["timing", "importance"] > 0.02


def test_scores_reasons_and_effects(goal, small):
    sc = goal.scores
    assert goal.column == "p_goal" and sc["p_goal"].between(0, 1).all()
    assert sc.index.is_unique and len(sc) > 100
    effects = [c for c in sc.columns if c.startswith("effect:")]
    assert {c.split(":")[1] for c in effects} <= set(P.GROUPS) and effects
    # the reasons name the groups with the largest effects, signed
    row = sc.iloc[0]
    first = row["reasons"].split(",")[0].split()[0]
    assert abs(row[f"effect:{first}"]) == max(abs(row[c]) for c in effects)
    # the customers scored are those in flight at as_of
    st = jl.evaluate_rules(small.log, small.journey, [{"name": "x", "when": "in_journey == true",
                                                       "action": "a"}], timeout="30d").state
    flight = st.index[st["in_journey"] & ~st["goal_reached"]]
    assert set(sc.index) == set(flight)


def test_remaining_time_has_intervals(small):
    p = jl.predict(small.log, small.journey, target="remaining_time", **OPTS)
    sc = p.scores
    assert (sc["remaining_low"] <= sc["remaining_time"]).all() and (sc["remaining_time"] <= sc["remaining_high"]).all()
    assert sc["remaining_high"].max() <= pd.to_timedelta(OPTS["horizon"].replace("d", "D")) * 1.05
    ev = p.evaluate()
    assert ev.value("mae_h") <= ev.value("mae_h", "baseline") * 1.05
    assert 0.6 <= ev.value("coverage") <= 1.0


def test_logistic_model(small):
    p = jl.predict(small.log, small.journey, target="attrition", model="logistic", **OPTS)
    assert p.scores["p_attrition"].between(0, 1).all()
    assert p.evaluate().value("auc") > 0.5


# --------------------------------------------------------------------------- lazy logs


def test_duckdb_gives_the_same_features_and_fetches_only_the_journeys_events(small, pl, tmp_path):
    from journeylab._core.backend import fetched
    from tests.conftest import lazy_copy

    lazy = lazy_copy(small.log, "duckdb", tmp_path=tmp_path)
    with fetched() as f:
        pl_lazy = P.journey_log(lazy, small.journey)
    pl_mem = pl
    n_journey = int(small.log.to_pandas()["activity"].isin(P._activities(small.journey)).sum())
    assert f.largest <= n_journey < small.log.n_events
    c = pd.Timestamp("2025-03-20", tz="UTC")
    a, _ = P.features_at(pl_mem, small.journey, c)
    b, _ = P.features_at(pl_lazy, small.journey, c)
    pd.testing.assert_frame_equal(a.sort_index(), b.sort_index(), check_categorical=False)


@pytest.mark.spark
def test_spark_gives_the_same_journey_events_and_predictions(small, pl, tmp_path):
    from tests.conftest import lazy_copy, spark_session_or_skip

    spark = spark_session_or_skip()
    lazy = lazy_copy(small.log, "pyspark", spark=spark, tmp_path=tmp_path)
    pl_spark = P.journey_log(lazy, small.journey)  # the one query: the journey's events, projected
    c = pd.Timestamp("2025-03-20", tz="UTC")
    a, _ = P.features_at(pl, small.journey, c)
    b, _ = P.features_at(pl_spark, small.journey, c)
    pd.testing.assert_frame_equal(a.sort_index(), b.sort_index(), check_categorical=False)
    mem, spk = (jl.predict(log, small.journey, target="goal", **OPTS) for log in (small.log, lazy))
    pd.testing.assert_series_equal(mem.scores["p_goal"].sort_index(), spk.scores["p_goal"].sort_index())


# --------------------------------------------------------------------------- errors


def test_errors(small, goal):
    with pytest.raises(InvalidParameterError, match="target='churn' is not allowed"):
        jl.predict(small.log, small.journey, target="churn")
    with pytest.raises(InvalidParameterError, match="model='logistic' is for the classification targets"):
        jl.predict(small.log, small.journey, target="remaining_time", model="logistic")
    with pytest.raises(InvalidParameterError, match="fewer than 5; use a shorter horizon"):
        jl.predict(small.log, small.journey, horizon="60d")
    with pytest.raises(InvalidParameterError, match="timeout"):
        jl.predict(small.log, small.journey, timeout="a while")
    with pytest.raises(InvalidParameterError, match="horizon"):
        jl.predict(small.log, small.journey, horizon="soon")
    d = small.journey.to_dict()
    d.pop("goal")
    with pytest.raises(JourneyDefinitionError, match="has no goal, so target='goal'"):
        jl.predict(small.log, jl.Journey.from_dict(d), target="goal")
    with pytest.raises(InvalidParameterError, match="not evaluated for target"):
        goal.evaluate().value("mae_h")


# --------------------------------------------------------------------------- rules read the scores

RULES = """
model: goal
rules:
  - name: call back
    when: "p_goal < 0.2 and stalled_for > '2d'"
    action: call_back
"""


def test_rules_read_the_scores(goal, small):
    due = jl.evaluate_rules(small.log, small.journey, RULES, scores=goal, timeout="30d")
    sc = goal.scores
    want = sc.index[(sc["p_goal"] < 0.2) & (sc["stalled_for"] > pd.Timedelta(days=2))]
    assert len(want) > 0
    assert sorted(due.actions["customer"]) == sorted(want)
    assert due.rules[0].model == "goal" and (due.actions["action"] == "call_back").all()
    assert due.actions["reason"].str.contains("p_goal = ").all()


def test_rules_without_their_scores_are_refused(goal, small):
    with pytest.raises(InvalidParameterError, match="reads the model 'goal' but evaluate_rules got no scores"):
        jl.evaluate_rules(small.log, small.journey, RULES)
    plain = [{"name": "r", "when": "p_goal < 0.2", "action": "a"}]
    with pytest.raises(InvalidParameterError, match="need scores=jl.predict"):
        jl.evaluate_rules(small.log, small.journey, plain)
    with pytest.raises(InvalidParameterError, match="must be the result of jl.predict"):
        jl.evaluate_rules(small.log, small.journey, plain, scores=pd.DataFrame())


# --------------------------------------------------------------------------- command line


def test_cli_predict_writes_the_scores(tmp_path, capsys):
    import json

    from journeylab import cli

    tiny = jl.datasets.make_journeys(200, days=56, random_state=2, p_stall=0.5, p_late_purchase=0.6)
    events = tmp_path / "events.parquet"
    tiny.log.to_pandas().to_parquet(events)
    journey = tmp_path / "journey.yaml"
    tiny.journey.to_yaml(journey)
    out = tmp_path / "scores.parquet"
    code = cli.main(["predict", str(events), "--case", "case", "--activity", "activity", "--timestamp",
                     "timestamp", "--channel", "channel", "--journey", str(journey), "--horizon", "7d",
                     "--out", str(out), "--json"])
    printed, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(printed)
    scores = pd.read_parquet(out)
    assert data["scored"] == len(scores) > 0 and data["target"] == "goal"
    assert {"customer", "p_goal", "baseline", "milestone", "reasons"} <= set(scores.columns)
    assert scores["p_goal"].between(0, 1).all()
    assert cli.main(["predict", str(events), "--case", "case", "--activity", "activity", "--timestamp",
                     "timestamp", "--journey", str(journey), "--horizon", "soon"]) == 2
    assert "horizon" in capsys.readouterr().err


def test_report_section_says_what_is_missing():
    from journeylab._report.sections import prediction_sections

    log = jl.datasets.load_example()
    assert "Give a journey" in prediction_sections(log, None)[0]
    j = jl.Journey.from_dict({"name": "claim", "milestones": [{"name": "register", "activities": ["register request"]},
                                                               {"name": "pay", "activities": ["pay compensation"]}],
                              "goal": {"type": "custom", "activity": "pay compensation"}})
    html = prediction_sections(log, j)[0]
    assert "Not computed" in html and "cut-off date" in html and "<h2>" in html


def test_cli_report_passes_predict(monkeypatch, tmp_path):
    from journeylab import cli

    calls = []
    monkeypatch.setattr(jl.reporting, "report", lambda log=None, **kw: calls.append(kw) or Path(kw["out"]))
    assert cli.main(["report", "--out", str(tmp_path / "r.html"), "--predict"]) == 0
    assert calls[0]["predict"] is True


def test_cli_report_passes_the_model_sample(monkeypatch, tmp_path, capsys):
    from journeylab import cli
    from journeylab._core.vocabulary import MODEL_SAMPLE

    real = jl.reporting.report
    with pytest.raises(jl.exceptions.InvalidParameterError, match="model_sample=0 must be a whole number >= 1"):
        real(out=str(tmp_path / "r.html"), model_sample=0)
    calls = []
    monkeypatch.setattr(jl.reporting, "report", lambda log=None, **kw: calls.append(kw) or Path(kw["out"]))
    out = str(tmp_path / "r.html")
    assert cli.main(["report", "--out", out]) == 0 and calls[-1]["model_sample"] == MODEL_SAMPLE
    assert cli.main(["report", "--out", out, "--model-sample", "50_000"]) == 0 and calls[-1]["model_sample"] == 50_000
    assert cli.main(["report", "--out", out, "--model-sample", "0"]) == 0 and calls[-1]["model_sample"] is None
    capsys.readouterr()
    for bad in ("-5", "many"):
        with pytest.raises(SystemExit) as err:
            cli.main(["report", "--out", out, "--model-sample", bad])
        assert err.value.code == 2 and "--model-sample" in capsys.readouterr().err


def test_report_section_learns_from_a_sample_of_customers():
    from journeylab._report.predictions import prediction_sections

    s = jl.datasets.make_journeys(1_200, random_state=3)
    html = prediction_sections(s.log, s.journey, sample=800)[0]
    assert "uniform random sample of 800 of the 1,200 customers" in html and "those of the sample" in html
    pred = jl.predict(s.log.sample_customers(800, random_state=0), s.journey, target="goal", horizon="14d",
                      random_state=0)
    assert escape(repr(pred)) in html  # the model of the drawn customers (seed 0)
