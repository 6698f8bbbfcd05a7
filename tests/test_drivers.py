"""jl.drivers: hand-computed 2x2 tables (against scipy), the rules (minimum support, skew, at=, refused
candidates), known answers (the simulator's planted A/B recovery, a planted confounder), the deviations
against jl.compare, and the engine paths (DuckDB parity, what comes back, Spark)."""

from __future__ import annotations

import re

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from scipy.stats.contingency import odds_ratio

import journeylab as jl
from journeylab._core.backend import fetched
from journeylab.drivers import odds_table
from tests.conftest import lazy_copy, spark_session_or_skip

matplotlib.use("Agg")


def _tiny():
    """10 cases; won: c0..c5; 'help' in c0, c6, c7, c8 -> a=1, b=3, c=5, d=1."""
    rows = []
    for i in range(10):
        t = pd.Timestamp("2025-01-01") + pd.Timedelta(days=i)
        rows.append((f"c{i}", "start", t, i < 6))
        if i in (0, 6, 7, 8):
            rows.append((f"c{i}", "help", t + pd.Timedelta(hours=1), i < 6))
    df = pd.DataFrame(rows, columns=["case", "activity", "timestamp", "won"])
    return jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp")


def test_odds_ratio_interval_and_p_value_match_the_hand_computation_and_scipy():
    d = jl.drivers(_tiny(), outcome="won", candidates="activities", adjust=False)
    row = d.table.set_index("candidate").loc["help"]
    a, b, c, dd = 1, 3, 5, 1
    assert (row["support"], row["rate_with"], row["rate_without"]) == (4, a / 4, c / 6)
    assert row["odds_ratio"] == pytest.approx((2 / 4) / (6 / 2))  # +1 smoothed: 1/6
    se = math.sqrt(1 / 2 + 1 / 4 + 1 / 6 + 1 / 2)  # Woolf on the smoothed table
    assert row["or_low"] == pytest.approx(math.exp(math.log(1 / 6) - 1.959964 * se), rel=1e-6)
    assert row["or_high"] == pytest.approx(math.exp(math.log(1 / 6) + 1.959964 * se), rel=1e-6)
    ref = odds_ratio([[a + 1, b + 1], [c + 1, dd + 1]], kind="sample")  # scipy on the smoothed table
    assert row["odds_ratio"] == pytest.approx(ref.statistic)
    ci = ref.confidence_interval(0.95)
    assert (row["or_low"], row["or_high"]) == pytest.approx((ci.low, ci.high), rel=1e-6)
    assert row["test"] == "fisher" and row["p_value"] == pytest.approx(fisher_exact([[a, b], [c, dd]])[1])
    assert row["p_adjusted"] == pytest.approx(row["p_value"])  # one test: BH changes nothing
    assert "start" not in d.table["candidate"].tolist()  # every case has it: nothing to compare with
    assert d.n_cases == 10 and d.n_success == 6 and d.min_support == 1


def test_odds_table_vectorised_equals_scipy_per_table():
    from scipy.stats import chi2_contingency

    rng = np.random.default_rng(4)
    cells = np.concatenate([rng.integers(0, 30, size=(4, 12)), rng.integers(0, 9, size=(4, 4)),
                            rng.integers(200, 5000, size=(4, 4))], axis=1)
    got = odds_table(*cells, confidence=0.9)
    assert set(got["test"]) == {"fisher", "chi2"}
    for k in range(cells.shape[1]):
        a, b, c, d = cells[:, k]
        ref = odds_ratio([[a + 1, b + 1], [c + 1, d + 1]], kind="sample")
        assert got["odds_ratio"][k] == pytest.approx(ref.statistic)
        assert (got["or_low"][k], got["or_high"][k]) == pytest.approx(tuple(ref.confidence_interval(0.9)), rel=1e-6)
        table = [[a, b], [c, d]]
        small = chi2_contingency(table, correction=False).expected_freq.min() < 5
        assert got["test"][k] == ("fisher" if small else "chi2")
        expect = fisher_exact(table)[1] if small else chi2_contingency(table, correction=False).pvalue
        assert got["p_value"][k] == pytest.approx(expect, rel=1e-9)


def _shop():
    """A journey view > cart > pay with a 'review' only after paying and 'chat' before."""
    rows = []
    for i in range(40):
        t = pd.Timestamp("2025-02-01") + pd.Timedelta(days=i % 20, hours=i)
        acts = ["view"] + (["chat"] if i % 3 == 0 else []) + ["cart"]
        if i % 2 == 0:
            acts += ["pay", "review"]
        for k, a in enumerate(acts):
            rows.append((f"k{i:02d}", a, t + pd.Timedelta(minutes=k), "web" if k % 2 else "app"))
    df = pd.DataFrame(rows, columns=["case", "activity", "timestamp", "channel"])
    log = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp", channel="channel")
    journey = jl.Journey.from_dict({"name": "shop", "milestones": [
        {"name": "view", "activities": ["view"]}, {"name": "cart", "activities": ["cart"]},
        {"name": "pay", "activities": ["pay"]}]})
    return log, journey


def test_at_counts_only_what_happened_before_the_milestone_and_refuses_the_outcome():
    log, journey = _shop()
    full = jl.drivers(log, journey, outcome="pay", adjust=False)
    assert "review" in full.table["candidate"].tolist()  # after paying: a leak without at
    why = full.excluded.set_index("candidate")["why"]
    assert why["pay"] == "is the outcome's own event" and "cart → pay" in why.index
    assert "incomplete: pay" in why.index and "defined from reaching it" in why["incomplete: pay"]
    before = jl.drivers(log, journey, outcome="pay", at="pay", adjust=False)
    names = before.table["candidate"].tolist() + before.excluded["candidate"].tolist()
    assert "review" not in names and "pay → review" not in names
    assert "chat" in before.table["candidate"].tolist()
    # channels before the milestone: every case's 'cart' is its only 'web'-or-'app' event before 'pay' counts
    assert before.params["at"] == "pay" and full.params["at"] is None


def test_default_min_support_is_posthog_rule_and_a_skewed_outcome_warns():
    log, journey = _shop()
    d = jl.drivers(log, journey, outcome="pay", adjust=False)
    assert d.min_support == 1  # min(25, 2 % of 40) -> 0.8, at least 1
    strict = jl.drivers(log, journey, outcome="pay", adjust=False, min_support=15)
    assert (strict.table["support"] >= 15).all() and (40 - strict.table["support"] >= 15).all()
    assert strict.n_below_support > 0
    df = log.to_pandas()
    keep = [c for c in sorted(df["case"].unique()) if int(c[1:]) % 2 == 1 or int(c[1:]) == 0]  # 1 payer in 21
    with pytest.warns(jl.DataQualityWarning, match="skewed"):
        jl.drivers(log.filter_cases(keep), journey, outcome="pay", adjust=False)


def test_bad_input_is_refused_with_advice():
    log, journey = _shop()
    with pytest.raises(jl.InvalidParameterError, match="outcome='payed' is neither 'goal'.*Did you mean"):
        jl.drivers(log, journey, outcome="payed")
    with pytest.raises(jl.InvalidParameterError, match="at='checkout' is not a milestone of journey 'shop'"):
        jl.drivers(log, journey, outcome="pay", at="checkout")
    with pytest.raises(jl.InvalidParameterError, match="at='pay' is a milestone, so it needs a journey"):
        jl.drivers(log, outcome="pay", at="pay")
    with pytest.raises(jl.InvalidParameterError, match="outcome='conversion' needs a journey"):
        jl.drivers(log, outcome="conversion")
    with pytest.raises(jl.InvalidParameterError, match="names unknown kinds \\['steps'\\]"):
        jl.drivers(log, journey, outcome="pay", candidates=["activities", "steps"])
    with pytest.raises(jl.JourneyDefinitionError, match="has no goal"):
        jl.drivers(log, journey, outcome="goal")
    with pytest.raises(jl.InvalidParameterError, match="is not a boolean column"):
        jl.drivers(jl.datasets.load_example(), outcome="Resource")
    with pytest.raises(jl.InvalidParameterError, match="missed by all 40 cases"):
        jl.drivers(log.filter_values("activity", ["view", "cart"], level="event"), journey, outcome="pay",
                   candidates="activities")
    with pytest.raises(jl.InvalidParameterError, match="wrap it with jl.from_pandas"):
        jl.drivers(log.to_pandas(), journey)


@pytest.fixture(scope="module")
def planted():
    # a strong A/B lift (version B's SMS reminder brings abandoners back) and many abandoners
    return jl.datasets.make_journeys(600, random_state=7, ab_lift=0.2,
                                     abandonment={"explore": .3, "cart": .5, "checkout": .4, "purchase": .03})


def test_the_planted_drivers_are_ranked_first(planted):
    d = jl.drivers(planted.log, planted.journey, outcome="goal", at="purchase", adjust=False)
    t = d.table
    steps = {a for m in planted.journey.milestones for a in m.activities}
    raising = t[(t["odds_ratio"] > 1) & (t["kind"] == "activities") & ~t["candidate"].isin(steps)]
    assert raising["candidate"].iloc[0] == "sms_click"  # the reminder of version B: the planted recovery
    attrs = t[(t["kind"] == "attributes") & t["significant"]]
    assert attrs["candidate"].iloc[0] in ("version = B", "version = A")  # the planted A/B lift, either side
    b = t.set_index("candidate").loc["version = B"]
    truth = planted.truth.customers
    assert b["odds_ratio"] > 1 and b["significant"]
    seen = truth[truth["entered"]]
    planted_diff = seen.loc[seen["version"] == "B", "converted"].mean() - seen.loc[seen["version"] == "A",
                                                                                    "converted"].mean()
    assert b["rate_with"] - b["rate_without"] == pytest.approx(planted_diff, abs=0.06)


def _confounded(n=1500, seed=3):
    """tier drives the outcome and 'browse_deals'; browse_deals has no effect of its own."""
    rng = np.random.default_rng(seed)
    gold = rng.random(n) < 0.4
    deals = rng.random(n) < np.where(gold, 0.8, 0.2)
    won = rng.random(n) < np.where(gold, 0.7, 0.3)
    noise = rng.random(n) < 0.5
    rows = []
    for i in range(n):
        t = pd.Timestamp("2025-03-01") + pd.Timedelta(minutes=i)
        tier = "gold" if gold[i] else "basic"
        for k, a in enumerate(["visit"] + (["browse_deals"] if deals[i] else []) + (["faq"] if noise[i] else [])):
            rows.append((f"u{i:04d}", a, t + pd.Timedelta(seconds=k), tier, bool(won[i])))
    df = pd.DataFrame(rows, columns=["case", "activity", "timestamp", "tier", "won"])
    return jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp")


def test_a_planted_confounder_is_flagged_and_the_true_driver_is_not():
    d = jl.drivers(_confounded(), outcome="won", candidates=["activities", "attributes"], n_boot=30,
                   random_state=0)
    t = d.table.set_index("candidate")
    assert d.min_support == 25  # min(25, 2 % of 1,500 = 30)
    deals, tier = t.loc["browse_deals"], t.loc["tier = gold"]
    assert deals["significant"] and deals["odds_ratio"] > 2  # associated, through tier only
    assert deals["adjusted_low"] <= 1 <= deals["adjusted_high"] and deals["confounded"]
    assert tier["significant"] and tier["adjusted_low"] > 2 and not tier["confounded"]
    assert not t.loc["faq", "confounded"]


def test_deviation_candidates_are_the_deviations_of_compare(sim):
    d_cases = jl.compare(sim.log, sim.journey).deviations
    expect = set(zip(d_cases["case"], d_cases["type"].astype(str) + ": " + d_cases["milestone"]))
    from journeylab._kernels.indicators import candidate_matrix

    ind = candidate_matrix(sim.log, sim.journey, ("deviations",))
    i, j = np.nonzero(ind.matrix)
    got = set(zip(ind.cases[i], np.asarray(ind.labels, dtype=object)[j]))
    assert got == expect


def _same(a, b):
    cols = ["candidate", "kind", "support", "rate_with", "rate_without", "odds_ratio", "or_low", "or_high",
            "p_value", "p_adjusted"]
    pd.testing.assert_frame_equal(a.table[cols], b.table[cols], check_dtype=False)
    pd.testing.assert_frame_equal(a.excluded, b.excluded, check_dtype=False)


@pytest.mark.parametrize("kw", [dict(at="checkout"),                       # cut at a milestone: the flags
                                dict(candidates=["channels", "attributes"])])  # no cut: over all the events
def test_duckdb_equals_memory_and_only_per_case_tables_come_back(sim, sim_duckdb, kw):
    kw = dict(outcome="conversion", adjust=False, **kw)
    mem = jl.drivers(sim.log, sim.journey, **kw)
    with fetched() as f:
        lazy = jl.drivers(sim_duckdb, sim.journey, **kw)
    _same(mem, lazy)
    assert {"attributes", "channels"} <= set(mem.table["kind"])
    assert f.largest <= sim.log.n_cases < sim.log.n_events


def test_duckdb_equals_memory_for_the_goal(sim, sim_duckdb):
    kw = dict(outcome="goal", candidates=["activities", "transitions"], adjust=False)
    goal_mem = jl.drivers(sim.log, sim.journey, **kw)
    with fetched() as g:
        goal_lazy = jl.drivers(sim_duckdb, sim.journey, **kw)
    _same(goal_mem, goal_lazy)
    assert g.largest < sim.log.n_events  # the goal kernel's journey events; the candidates are per case


# --------------------------------------------------------------------------- customers across cases


def _sessions():
    """Six customers, their sessions (hand-computed below); journey view > buy, goal 'buy'.

    u1: s1 view, help | s2 view, buy          credited, help before buying (in an earlier session)
    u2: s1 view, help                         not credited
    u3: s1 view, buy  | s2 help               credited, help only after buying (a later session)
    u4: s1 view                               not credited
    u5: s1 view, buy                          credited
    u6: s1 view, chat, buy, help              credited, help after buying (same session)
    """
    plan = {"u1": [["view", "help"], ["view", "buy"]], "u2": [["view", "help"]], "u3": [["view", "buy"], ["help"]],
            "u4": [["view"]], "u5": [["view", "buy"]], "u6": [["view", "chat", "buy", "help"]]}
    rows = []
    for i, (who, sessions) in enumerate(plan.items()):
        for k, acts in enumerate(sessions):
            t = pd.Timestamp("2025-03-01") + pd.Timedelta(days=i, hours=3 * k)
            rows += [(f"{who}#{k + 1}", who, a, t + pd.Timedelta(minutes=m)) for m, a in enumerate(acts)]
    df = pd.DataFrame(rows, columns=["session", "who", "activity", "timestamp"])
    log = jl.from_pandas(df, case="session", customer="who", activity="activity", timestamp="timestamp")
    journey = jl.Journey.from_dict({"name": "shop", "milestones": [
        {"name": "view", "activities": ["view"]}, {"name": "buy", "activities": ["buy"]}],
        "goal": {"type": "purchase", "activity": "buy"}})
    return log, journey


def test_goal_on_customers_across_sessions_is_compared_per_customer_by_hand():
    log, journey = _sessions()
    full = jl.drivers(log, journey, outcome="goal", candidates="activities", adjust=False)
    assert (full.unit, full.n_cases, full.n_success) == ("customer", 6, 4)  # u1 u3 u5 u6 credited
    help_ = full.table.set_index("candidate").loc["help"]
    # help: u1 u2 u3 u6 -> with: 3 of 4 credited; without: u4 u5 -> 1 of 2
    assert (help_["support"], help_["rate_with"], help_["rate_without"]) == (4, 3 / 4, 1 / 2)
    assert help_["odds_ratio"] == pytest.approx((4 / 2) / (2 / 2))
    assert "6 customers" in repr(full)
    before = jl.drivers(log, journey, outcome="goal", at="buy", candidates="activities", adjust=False)
    t = before.table.set_index("candidate")
    # before each customer first bought: help in u1 (earlier session) and u2 only (u3's later session and
    # u6's help after buying in the same session are left out) -> a=1, b=1, c=3 (u3 u5 u6), d=1 (u4)
    assert (t.loc["help", "support"], t.loc["help", "rate_with"], t.loc["help", "rate_without"]) == (2, 1 / 2, 3 / 4)
    assert t.loc["help", "odds_ratio"] == pytest.approx((2 / 2) / (4 / 2))
    assert t.loc["chat", "support"] == 1 and "buy" not in t.index  # cut before it
    assert full.excluded.set_index("candidate").loc["buy", "why"] == "is the outcome's own event"
    # per session, the milestone 'buy': the 7 sessions with a milestone event (u3#2 has none), help before
    # any buy in u1#1 and u2#1 (u6#1 is cut at its buy)
    per_case = jl.drivers(log, journey, outcome="buy", at="buy", unit="case", candidates="activities",
                          adjust=False)
    assert per_case.unit == "case" and per_case.n_cases == 7
    assert per_case.table.set_index("candidate").loc["help", "support"] == 2
    # conversion per customer: reached 'buy' in any session - the same four customers
    conv = jl.drivers(log, journey, outcome="conversion", candidates="activities", adjust=False)
    assert (conv.unit, conv.n_cases, conv.n_success) == ("customer", 6, 4)


def test_one_case_per_customer_gives_the_case_level_table(sim):
    df = sim.log.to_pandas()  # columns named by their roles
    with_customer = jl.from_pandas(df.assign(who=df["case"]), case="case", customer="who", activity="activity",
                                   timestamp="timestamp", channel="channel", value="value")
    kw = dict(outcome="goal", at="purchase", candidates=["activities", "transitions", "channels"], adjust=False)
    by_case, by_customer = jl.drivers(sim.log, sim.journey, **kw), jl.drivers(with_customer, sim.journey, **kw)
    assert (by_case.unit, by_customer.unit) == ("case", "customer")
    _same(by_case, by_customer)


def test_sessions_in_duckdb_equal_memory_per_customer(sim, sim_duckdb):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jl.DataQualityWarning)  # events outside any session are dropped
        mem, lazy = sim.log.sessions(by="session_id"), sim_duckdb.sessions(by="session_id")
        kw = dict(outcome="goal", at="purchase", adjust=False)
        a = jl.drivers(mem, sim.journey, **kw)
        with fetched() as f:
            b = jl.drivers(lazy, sim.journey, **kw)
    assert a.unit == b.unit == "customer" and a.n_cases < mem.n_cases
    _same(a, b)
    assert f.largest < mem.n_events


def test_unit_is_checked_with_advice():
    log, journey = _sessions()
    with pytest.raises(jl.InvalidParameterError, match="credited once per customer"):
        jl.drivers(log, journey, outcome="goal", unit="case")
    with pytest.raises(jl.InvalidParameterError, match="unit='people' is not allowed"):
        jl.drivers(log, journey, outcome="goal", unit="people")
    one, j = _shop()
    with pytest.raises(jl.InvalidParameterError, match="unit='customer' needs a log that follows customers"):
        jl.drivers(one, j, outcome="pay", unit="customer")


@pytest.mark.spark
def test_spark_equals_memory(tmp_path):
    spark = spark_session_or_skip()
    s = jl.datasets.make_journeys(80, random_state=11)
    lazy = lazy_copy(s.log, "pyspark", spark=spark, tmp_path=tmp_path)
    # the one query of its own: channels and attribute values before the milestone (the rest are kernels')
    kw = dict(outcome="purchase", at="purchase", candidates=["channels", "attributes"], adjust=False)
    _same(jl.drivers(s.log, s.journey, **kw), jl.drivers(lazy, s.journey, **kw))


def test_plot_is_a_log_scale_forest_of_the_top_candidates(planted):
    import matplotlib.pyplot as plt

    d = jl.drivers(planted.log, planted.journey, outcome="goal", at="purchase", n_boot=5, random_state=1)
    ax = d.plot(n=4)
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == len(d.top(4, direction="positive")) + len(d.top(4, direction="negative"))
    assert labels[0].startswith(d.top(1, direction="positive")["candidate"].iloc[0])
    assert ax.get_legend() is not None and all(t.get_fontsize() >= 8 for t in ax.get_yticklabels())
    assert "Drivers of" in d._repr_html_() and "confounded" in repr(d)
    plt.close("all")


# --------------------------------------------------------------------------- the command line


@pytest.fixture()
def shop_files(tmp_path):
    log, journey = _shop()
    csv = tmp_path / "shop.csv"
    log.to_pandas().drop(columns="_seq", errors="ignore").to_csv(csv, index=False)
    yaml = tmp_path / "shop.yaml"
    journey.to_yaml(yaml)
    return [str(csv), "--case", "case", "--activity", "activity", "--timestamp", "timestamp", "--channel",
            "channel", "--journey", str(yaml)], log, journey


def _run(capsys, *argv):
    from journeylab import cli

    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_drivers_json_equals_the_function(capsys, shop_files):
    import json

    args, log, journey = shop_files
    code, out, _ = _run(capsys, "drivers", *args, "--outcome", "pay", "--at", "pay", "--json", "--top", "50")
    assert code == 0
    data = json.loads(out)
    d = jl.drivers(log, journey, outcome="pay", at="pay", adjust=False)
    assert (data["outcome"], data["cases"], data["successes"], data["tested"]) == ("pay", 40, 20, len(d.table))
    got = pd.DataFrame(data["candidates"])
    assert got["candidate"].tolist() == d.table["candidate"].tolist()
    assert got["odds_ratio"].to_numpy() == pytest.approx(d.table["odds_ratio"].to_numpy())
    assert got["p_adjusted"].to_numpy() == pytest.approx(d.table["p_adjusted"].to_numpy())


def test_cli_drivers_table_and_one_line_errors(capsys, shop_files):
    args, _, _ = shop_files
    code, out, _ = _run(capsys, "drivers", *args, "--outcome", "pay", "--top", "3")
    assert code == 0 and out.startswith("Drivers of 'pay': 40 cases, 50.0% reach it")
    assert "odds ratio" in out and "more candidates (--top N shows more)" in out and "refused" in out
    code, out, err = _run(capsys, "drivers", *args, "--outcome", "payed")
    assert code == 2 and out == "" and err.startswith("journeylab: error: outcome='payed' is neither")


# --------------------------------------------------------------------------- the report section


def test_report_section_shows_the_forest_plot_and_both_directions_escaped(planted):
    from journeylab._report.sections import drivers_section

    html = drivers_section(planted.log, planted.journey)
    assert html.startswith("<section><h2>Drivers of the goal</h2>") and "<img" in html
    assert "Raise the goal rate" in html and "Lower the goal rate" in html and "sms_click" in html
    assert "before a customer first reached &#x27;purchase&#x27;" in html
    df = planted.log.to_pandas()
    df = df[df["case"].isin(sorted(df["case"].unique())[:250])]
    df.loc[df["activity"] == "sms_click", "activity"] = "<script>x</script>"
    hostile = jl.from_pandas(df, case="case", activity="activity", timestamp="timestamp")
    html = drivers_section(hostile, planted.journey)
    assert "<script>x" not in html and "&lt;script&gt;x" in html
    assert "add a &#x27;goal:&#x27; block" in drivers_section(planted.log, jl.Journey.from_dict(
        {"name": "j", "milestones": [{"name": "c", "activities": ["checkout"]}]}))


def test_report_section_fits_a_sample_of_customers_when_the_log_has_more(planted):
    from journeylab._report.drivers import drivers_section

    sampled = drivers_section(planted.log, planted.journey, sample=300)
    said = "Fitted on a uniform random sample of 300 of the 600 customers"
    assert said in sampled
    # the section is the one of the drawn customers (seed 0), with the sentence that says so
    drawn = drivers_section(planted.log.sample_customers(300, random_state=0), planted.journey)
    assert re.sub(r'<p class="note">Fitted on a uniform random sample[^<]*</p>', "", sampled) == drawn
    assert "300 cases" in drawn and drawn != drivers_section(planted.log, planted.journey)
    # a log of no more customers than the sample: every customer, no sentence
    assert drivers_section(planted.log, planted.journey, sample=600) == drivers_section(planted.log, planted.journey)


def test_cli_drivers_compares_customers_across_sessions(capsys, tmp_path):
    import json

    log, journey = _sessions()
    csv, yaml = tmp_path / "sessions.csv", tmp_path / "shop.yaml"
    log.to_pandas().drop(columns="_seq", errors="ignore").to_csv(csv, index=False)
    journey.to_yaml(yaml)
    args = [csv, "--case", "case", "--customer", "customer", "--activity", "activity", "--timestamp",
            "timestamp", "--journey", yaml, "--at", "buy", "--json"]
    code, out, _ = _run(capsys, "drivers", *args)
    assert code == 0
    data = json.loads(out)
    assert (data["unit"], data["cases"], data["successes"]) == ("customer", 6, 4)
    row = next(c for c in data["candidates"] if c["candidate"] == "help")
    assert (row["support"], row["rate_with"], row["rate_without"]) == (2, 0.5, 0.75)
    code, _, err = _run(capsys, "drivers", *args, "--unit", "case")
    assert code != 0 and "credited once per customer" in err


def test_report_section_on_sessions_compares_customers():
    from journeylab._report.drivers import drivers_section

    log, journey = _sessions()
    html = drivers_section(log, journey)
    assert "Not computed" not in html and "6 customers" in html and "before a customer first reached" in html
