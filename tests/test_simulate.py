"""The journey simulator: the planted structure is really in the events, it is deterministic,
the bundled sample is what the recipe makes, and bad parameters are refused with advice."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import journeylab as jl
from journeylab.datasets import RETAIL_SETTINGS, _simulate_frame, make_journeys
from journeylab.datasets._params import ACTIVITIES, CHANNELS, MILESTONE_ACTIVITIES, MILESTONES
from journeylab.exceptions import InvalidParameterError
from journeylab.journey import Journey

N = 10_000
SEED = 11
MILESTONE_OF = {a: i + 1 for i, m in enumerate(MILESTONES) for a in MILESTONE_ACTIVITIES[m]}
ID_COLUMNS = ["cookie_id", "email_id", "phone_id", "loyalty_id"]


@pytest.fixture(scope="module")
def sim():
    """One simulation with the default parameters: (events, journey dict, truth)."""
    return _simulate_frame(N, random_state=SEED)


@pytest.fixture(scope="module")
def quiet():
    """Every deviation, incident, segment of support and campaign effect turned off."""
    return _simulate_frame(3000, random_state=SEED, p_skip=0, p_out_of_order=0, p_loop=0, p_support=0, p_stall=0,
                           ab_lift=0, p_excluded=0, p_suppressed=0, p_late_purchase=0, p_in_progress=0,
                           incidents=None, reentry=0)


def assert_same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Exactly the same frame (dtypes, index, values) - fast for large categoricals, where
    pandas' assert_frame_equal compares value by value."""
    assert list(a.columns) == list(b.columns)
    assert a.index.equals(b.index) and a.index.dtype == b.index.dtype
    for col in a.columns:
        x, y = a[col], b[col]
        assert x.dtype == y.dtype, col
        if isinstance(x.dtype, pd.CategoricalDtype):
            assert x.cat.categories.equals(y.cat.categories), col
            assert np.array_equal(x.cat.codes.to_numpy(), y.cat.codes.to_numpy()), col
        else:
            assert x.equals(y), col


def sessions_of(df: pd.DataFrame) -> pd.DataFrame:
    """Per journey session, from the events only: first position of each milestone and more."""
    ev = df[df["session_id"].notna()].copy()
    ev["session_id"] = ev["session_id"].astype(str)
    ev["pos"] = ev.groupby("session_id", sort=False).cumcount()
    ev["m"] = ev["activity"].astype(str).map(MILESTONE_OF).fillna(0).astype(int)
    g = ev.groupby("session_id", sort=False)
    out = pd.DataFrame({"furthest": g["m"].max(), "version": g["version"].first().astype(object),
                        "customer_id": g["customer_id"].first().astype(str)})
    for k in range(1, 6):
        out[f"first{k}"] = ev[ev["m"] == k].groupby("session_id", sort=False)["pos"].min()
    # a milestone event after a later milestone: rework (a loop back)
    ev["seen"] = ev.groupby("session_id", sort=False)["m"].cummax()
    out["back"] = (ev["m"].between(1, 4) & (ev["m"] < ev["seen"])).groupby(ev["session_id"], sort=False).any()
    return out


# --------------------------------------------------------------------------- the events


def test_columns_types_and_order(sim):
    df, _, _ = sim
    assert list(df.columns[:6]) == ["customer_id", "session_id", "timestamp", "activity", "channel", "amount"]
    assert str(df["timestamp"].dt.tz) == "UTC"
    assert set(df["activity"].astype(str)) <= set(ACTIVITIES)
    assert all(a == a.lower() and " " not in a for a in ACTIVITIES)
    assert set(df["channel"].astype(str)) == set(CHANNELS)
    # sorted by customer, then time
    key = df["customer_id"].cat.codes.to_numpy()
    assert (np.diff(key) >= 0).all()
    t = df["timestamp"].to_numpy()
    same = key[1:] == key[:-1]
    assert (t[1:][same] >= t[:-1][same]).all()
    # amounts only on purchases, positive
    buy = df["activity"] == "purchase"
    assert df.loc[buy, "amount"].gt(0).all() and df.loc[~buy, "amount"].isna().all()
    per_customer = df.groupby("customer_id", observed=True).size()
    assert len(per_customer) == N
    assert 10 <= per_customer.median() <= 40
    # survey scales
    assert df["nps"].dropna().between(0, 10).all()
    assert df["csat"].dropna().between(1, 5).all()
    assert df["ces"].dropna().between(1, 7).all()


def test_make_journeys_returns_a_sample(sim):
    s = make_journeys(800, random_state=3)
    assert isinstance(s, jl.datasets.JourneySample)
    assert isinstance(s.log, jl.EventLog) and s.log.n_cases == 800
    assert s.log.roles["value"] == "amount" and s.log.roles["channel"] == "channel"
    assert s.journey.happy_path == MILESTONES
    assert s.journey.goal.activity == "purchase" and s.journey.goal.window == pd.Timedelta(days=3)
    assert repr(s).startswith("JourneySample: 800 customers")
    assert "JourneyTruth" in repr(s.truth)
    _, journey, _ = sim
    assert Journey.from_yaml_string(Journey.from_dict(journey).to_yaml()) == Journey.from_dict(journey)


def test_same_seed_same_data_other_seed_other_data():
    a, ja, ta = _simulate_frame(600, random_state=5)
    b, jb, tb = _simulate_frame(600, random_state=5)
    assert_same(a, b)
    assert_same(ta.customers, tb.customers)
    assert_same(ta.sessions, tb.sessions)
    assert ja == jb and ta.effects == tb.effects
    c, _, _ = _simulate_frame(600, random_state=6)
    assert not a["timestamp"].equals(c["timestamp"])


# --------------------------------------------------------------------------- planted deviations


def test_skip_and_out_of_order_rates(sim, quiet):
    df, _, truth = sim
    s = sessions_of(df)
    deep = s[s["furthest"] >= 3]
    skipped = (deep["first2"].isna() | (deep["furthest"] >= 4) & deep["first3"].isna())
    assert skipped.mean() == pytest.approx(truth.params.p_skip, abs=0.02)
    ooo = (deep["first2"] < deep["first1"]) | (deep["first3"] < deep["first2"])
    assert ooo.mean() == pytest.approx(truth.params.p_out_of_order, abs=0.015)
    # the truth names the same sessions
    t = truth.sessions.reindex(deep.index)
    assert (t["out_of_order"].notna() == ooo).mean() > 0.99
    q = sessions_of(quiet[0])
    qd = q[q["furthest"] >= 3]
    assert not (qd["first2"].isna() | (qd["furthest"] >= 4) & qd["first3"].isna()).any()
    assert not ((qd["first2"] < qd["first1"]) | (qd["first3"] < qd["first2"])).any()


def test_loops_are_back_edges(sim, quiet):
    df, _, truth = sim
    s = sessions_of(df)
    t = truth.sessions.reindex(s.index)
    plain = t["out_of_order"].isna()
    looped = t["loop_at"].notna()
    assert (s.loc[plain, "back"] == looped[plain]).mean() > 0.99
    possible = t[t["loop_possible"]]
    assert possible["loop_at"].notna().mean() == pytest.approx(truth.params.p_loop, abs=0.015)
    assert not sessions_of(quiet[0])["back"].any()


def test_support_detours_by_segment(sim, quiet):
    df, _, truth = sim
    ss = truth.sessions
    assert (ss["n_support"] > 0).mean() == pytest.approx(truth.params.p_support, abs=0.02)
    by_seg = (ss["n_support"] > 0).groupby(ss["segment"], observed=True).mean()
    for seg, row in truth.segments.iterrows():
        assert by_seg[seg] == pytest.approx(row["p_support"], abs=0.03), seg
    contacts = df[df["activity"].isin(["call_centre_contact", "chat"])]
    per = contacts.groupby(truth.customers["segment"].reindex(contacts["customer_id"].astype(str)).to_numpy()).size()
    per = per / truth.customers["segment"].value_counts()
    assert per["support_heavy"] > 3 * per.drop("support_heavy").max()
    # without detours, the only calls are about returns, right after the return request
    qdf = quiet[0]
    assert not qdf["activity"].isin(["chat", "complaint"]).any()
    before = qdf["activity"].shift().astype(object)
    assert (before[qdf["activity"] == "call_centre_contact"] == "return_request").all()


def test_abandonment_at_each_milestone(sim):
    df, _, truth = sim
    s = sessions_of(df)
    t = truth.sessions.reindex(s.index)
    done = s[~t["in_progress"].to_numpy() & (s["version"] != "B")]
    for k, name in enumerate(MILESTONES[:-1], start=1):
        reached = done["furthest"] >= k
        rate = (done.loc[reached, "furthest"] == k).mean()
        assert rate == pytest.approx(truth.params.abandonment[name], abs=0.03), name


def test_stalls_wait_longer_than_the_threshold(sim, quiet):
    df, journey, truth = sim
    ev = df[df["session_id"].notna()]
    ss = truth.sessions[~truth.sessions["in_progress"]]  # in-progress sessions may stall after the end
    for name, limit in (("cart", pd.Timedelta(days=2)), ("checkout", pd.Timedelta(days=1))):
        col = f"stalled_{name}"
        ids = ss.index[ss[col]][:200]
        sub = ev[ev["session_id"].astype(str).isin(ids)]
        gaps = sub.groupby("session_id", observed=True)["timestamp"].apply(lambda t: t.diff().max())
        assert (gaps > limit).all(), name
        assert ss[col].mean() > 0.02
    assert journey["stall_after"] == {"cart": "2d", "checkout": "1d"}
    assert not quiet[2].sessions[["stalled_cart", "stalled_checkout"]].any().any()


def test_reentry_and_in_progress(sim, quiet):
    df, _, truth = sim
    n_sess = df.groupby("customer_id", observed=True)["session_id"].nunique()
    assert n_sess.mean() - 1 == pytest.approx(truth.params.reentry, abs=0.08)
    assert truth.customers["in_progress"].mean() == pytest.approx(truth.params.p_in_progress, abs=0.01)
    # in-progress sessions are cut by the end of the data
    end = truth.params.end
    prog = truth.sessions[truth.sessions["in_progress"]]
    assert (prog["end"] < end).all() and (prog["end"] > end - pd.Timedelta(days=30)).all()
    qdf, _, qtruth = quiet
    assert (qdf.groupby("customer_id", observed=True)["session_id"].nunique() == 1).all()
    assert qtruth.customers["in_progress"].mean() < 0.01


# --------------------------------------------------------------------------- segments and attributes


def test_segments_travel_differently_and_are_recoverable(sim):
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    df, _, truth = sim
    ev = df[df["session_id"].notna()]
    acts = pd.crosstab(ev["customer_id"].astype(str), ev["activity"].astype(str))
    chans = pd.crosstab(ev["customer_id"].astype(str), ev["channel"].astype(str))
    seg = truth.customers["segment"].reindex(acts.index).astype(str)
    main = chans.div(chans.sum(axis=1), axis=0).groupby(seg).mean().idxmax(axis=1)
    assert main.to_dict() == {"deal_seeker": "app", "researcher": "web", "store_loyal": "store",
                              "support_heavy": "web"}
    x = np.hstack([np.sqrt(acts.div(acts.sum(axis=1), axis=0)), 0.3 * np.sqrt(chans.div(chans.sum(axis=1), axis=0))])
    labels = KMeans(4, n_init=5, random_state=0).fit_predict(x)
    assert adjusted_rand_score(seg, labels) >= 0.8
    # attributes correlate with the segment, but only partly
    attrs = df.drop_duplicates("customer_id").set_index(df.drop_duplicates("customer_id")["customer_id"].astype(str))
    attrs_seg = truth.customers["segment"].reindex(attrs.index).astype(str)
    for col in ("age_band", "device"):
        tab = pd.crosstab(attrs_seg, attrs[col].astype(str), normalize="index")
        assert (tab.max() - tab.min()).max() > 0.1, col  # they differ between segments
        best = pd.crosstab(attrs[col].astype(str), attrs_seg).max(axis=1).sum() / len(attrs)
        assert best < 0.6, col  # but predict the segment poorly


def test_segment_weights_parameter():
    df, _, truth = _simulate_frame(1500, random_state=1, segment_weights={"store_loyal": 1, "researcher": 3})
    shares = truth.customers["segment"].astype(str).value_counts(normalize=True)
    assert set(shares.index) == {"store_loyal", "researcher"}
    assert shares["researcher"] == pytest.approx(0.75, abs=0.04)


# --------------------------------------------------------------------------- goals, A/B, campaigns


def test_conversion_truth_follows_the_counting_rules(sim):
    df, _, truth = sim
    cu = truth.customers
    ev = df[df["session_id"].notna()]
    g = ev.groupby("customer_id", observed=True)["timestamp"]
    first, last = g.min(), g.max()
    first.index, last.index = first.index.astype(str), last.index.astype(str)
    unsub = df[df["activity"] == "unsubscribe"].set_index(df.loc[df["activity"] == "unsubscribe", "customer_id"]
                                                          .astype(str))["timestamp"]
    buys = df[df["activity"] == "purchase"]
    who = buys["customer_id"].astype(str).to_numpy()
    t = buys["timestamp"]
    entered = buys["version"].notna().to_numpy()
    ok = (entered & (t.to_numpy() >= first.reindex(who).to_numpy())
          & (t.to_numpy() <= (last.reindex(who) + pd.Timedelta(days=3)).to_numpy())
          & ~(t.to_numpy() >= unsub.reindex(who).to_numpy()))
    converted = pd.Series(False, index=cu.index)
    converted[np.unique(who[ok])] = True
    pd.testing.assert_series_equal(converted, cu["converted"], check_names=False)
    # the rules matter: some purchases are outside the window or after the suppression
    assert (cu["purchased"] & ~cu["converted"] & cu["entered"]).sum() > 20
    assert cu.loc[cu["excluded"], "converted"].sum() == 0


def test_ab_lift_is_planted(sim, quiet):
    _, _, truth = sim
    cu = truth.customers[truth.customers["entered"]]
    rate = cu.groupby("version", observed=True)["converted"].mean()
    assert rate["B"] - rate["A"] == pytest.approx(truth.params.ab_lift, abs=0.03)
    assert truth.effects["realized_lift"] == pytest.approx(rate["B"] - rate["A"])
    q = quiet[2].customers
    qr = q.groupby("version", observed=True)["converted"].mean()
    assert abs(qr["B"] - qr["A"]) < 0.05
    assert not q["recovered"].any()


def test_exclusion_and_suppression(sim):
    df, _, truth = sim
    cu = truth.customers
    assert cu["excluded"].mean() == pytest.approx(truth.params.p_excluded, abs=0.01)
    sends = df[df["activity"].isin(["email_sent", "sms_sent"])]
    excluded = cu.index[cu["excluded"]]
    assert not sends["customer_id"].astype(str).isin(excluded).any()
    assert df.loc[df["customer_id"].astype(str).isin(excluded), "version"].isna().all()
    assert (df.groupby("customer_id", observed=True)["employee"].first().to_numpy()
            == cu["excluded"].to_numpy()).all()
    sup = cu[cu["suppressed"]]
    assert sup["suppressed_at"].notna().all() and len(sup) > 50
    s_at = sup["suppressed_at"].reindex(sends["customer_id"].astype(str)).to_numpy()
    assert not (sends["timestamp"].to_numpy() > s_at).any()  # NaT compares False
    unsub = df[df["activity"] == "unsubscribe"]
    assert set(unsub["customer_id"].astype(str)) == set(sup.index)


def test_campaigns_and_goal_events(sim):
    df, _, truth = sim
    camp = df["campaign"].astype(object)
    assert {"cart_reminder", "sms_reminder", "promo_01"} <= set(camp.dropna())
    assert (df.loc[camp == "sms_reminder", "version"] == "B").all()
    for a in ("purchase", "register", "loyalty_redemption", "email_click", "sms_click"):
        assert (df["activity"] == a).sum() > 50, a
    assert truth.effects["campaign_effects"] == {"sms_reminder": truth.params.ab_lift, "cart_reminder": 0.0,
                                                 "promo": 0.0}


# --------------------------------------------------------------------------- surveys


def test_scores_fall_with_friction_and_peak_end_wins(sim, quiet):
    from sklearn.linear_model import LinearRegression

    df, _, truth = sim
    cs = df[df["csat"].notna()]
    pain = cs["activity"].isin(["payment_failed", "complaint", "call_centre_contact", "chat", "return_request"])
    assert cs.loc[pain, "csat"].mean() < cs.loc[~pain, "csat"].mean() - 1
    per = df.groupby("customer_id", observed=True)["csat"].mean()
    per.index = per.index.astype(str)
    fr = pd.qcut(truth.customers["friction"].rank(method="first"), 3, labels=False)
    by_friction = per.groupby(fr.reindex(per.index)).mean()
    assert by_friction.is_monotonic_decreasing and by_friction[0] - by_friction[2] > 0.4
    ces = df[df["ces"].notna()]
    assert ces.loc[ces["activity"].isin(["call_centre_contact", "chat"]), "ces"].mean() \
        < ces.loc[ces["activity"].isin(["checkout", "purchase"]), "ces"].mean()
    # peak-end: the worst and the last touchpoint predict the session's NPS better than the mean
    sv = df[df["session_id"].notna() & df["csat"].notna()]
    g = sv.groupby("session_id", observed=True)["csat"]
    x = pd.DataFrame({"peak": g.min(), "end": g.last(), "mean": g.mean()})
    y = df[df["nps"].notna()].set_index("session_id")["nps"].astype(float)
    x = x.join(y, how="inner")
    r2 = {cols: LinearRegression().fit(x[list(cols)], x["nps"]).score(x[list(cols)], x["nps"])
          for cols in (("peak", "end"), ("mean",))}
    assert r2[("peak", "end")] > r2[("mean",)] + 0.03
    assert truth.effects["survey"]["peak_weight"] == 0.4
    # without friction effect, the painful touchpoints score about like the others (what is left is
    # who has them: the support-heavy segment is less satisfied to begin with)
    gap = cs.loc[~pain, "csat"].mean() - cs.loc[pain, "csat"].mean()
    q = _simulate_frame(3000, random_state=3, friction_effect=0)[0]
    qc = q[q["csat"].notna()]
    qpain = qc["activity"].isin(["payment_failed", "complaint", "call_centre_contact", "chat", "return_request"])
    assert qc.loc[~qpain, "csat"].mean() - qc.loc[qpain, "csat"].mean() < gap / 3


# --------------------------------------------------------------------------- incidents


def test_contact_peaks_on_incident_days(sim, quiet):
    df, _, truth = sim
    calls = df[df["channel"] == "call_centre"]
    daily = calls.groupby(calls["timestamp"].dt.floor("D")).size()
    days = pd.to_datetime(truth.effects["incident_days"]).tz_localize("UTC")
    normal = daily.drop(days, errors="ignore")
    usual = normal.groupby(normal.index.day_of_week).median()
    for _, inc in truth.incidents.iterrows():
        inc_days = [d for d in days if inc["start"].normalize() <= d < inc["end"]]
        observed = sum(daily.get(d, 0) for d in inc_days)
        expected = sum(usual[d.day_of_week] for d in inc_days)
        assert observed > 2 * expected, inc["name"]
        for d in inc_days:
            assert daily.get(d, 0) > 1.2 * usual[d.day_of_week], d
    assert set(truth.incidents["name"]) == {"payment_outage", "delivery_delay"}
    assert (truth.incidents["contacts"] > 0).all()
    failed = df[df["activity"] == "payment_failed"]["timestamp"]
    inc = truth.incidents.set_index("name")
    assert failed.between(inc.loc["payment_outage", "start"], inc.loc["payment_outage", "end"]).all()
    assert not quiet[0]["activity"].isin(["payment_failed", "delivery_delayed"]).any()


def test_custom_incident():
    inc = [{"name": "big_outage", "kind": "payment_outage", "start": "2025-03-03 08:00", "end": "2025-03-05 20:00",
            "p_affected": 1.0, "p_contact": 1.0}]
    df, _, truth = _simulate_frame(2000, random_state=2, incidents=inc)
    assert truth.effects["incident_days"] == ["2025-03-03", "2025-03-04", "2025-03-05"]
    failed = df[df["activity"] == "payment_failed"]
    assert len(failed) == truth.incidents.loc[0, "affected"] > 0


# --------------------------------------------------------------------------- identities


def test_identifiers_are_stitchable(sim):
    df, _, truth = sim
    channels = {col: set(df.loc[df[col].notna(), "channel"].astype(str)) for col in ID_COLUMNS}
    assert channels["cookie_id"] <= {"web", "app", "email", "sms"}
    assert channels["loyalty_id"] <= {"store", "app", "call_centre"}
    assert "store" not in channels["phone_id"] and "web" not in channels["loyalty_id"]
    # no identifier value is shared by two customers
    for col in ID_COLUMNS:
        assert (df[df[col].notna()].groupby(col, observed=True)["customer_id"].nunique() == 1).all(), col
    # co-occurrence links them: stitching finds exactly the planted identity fragments
    sub_customers = truth.customers.index[:2500]
    sub = df[df["customer_id"].astype(str).isin(sub_customers)]
    # (another test module may leave pandas' string storage at "python"; stitching is checked
    # here with the default storage)
    with pd.option_context("mode.string_storage", "pyarrow"):
        log = jl.from_pandas(sub, case="customer_id", activity="activity", timestamp="timestamp", channel="channel")
        stitched, _ = jl.stitch(log, ID_COLUMNS)
    anonymous = sub[sub[ID_COLUMNS].isna().all(axis=1)]["customer_id"].astype(str).nunique()
    assert stitched.n_cases == truth.customers.loc[sub_customers, "id_components"].sum() + anonymous
    assert (truth.customers["id_components"] == 1).mean() > 0.5


# --------------------------------------------------------------------------- the bundled sample


def test_bundled_sample_is_what_the_recipe_makes():
    files = jl.datasets.retail_files()
    shipped = jl.datasets.load_retail(frame=True)
    fresh, journey, truth = _simulate_frame(**RETAIL_SETTINGS)
    assert_same(shipped, fresh)
    retail = jl.datasets.load_retail()
    assert_same(retail.truth.customers, truth.customers)
    assert_same(retail.truth.sessions, truth.sessions)
    assert retail.truth.params == truth.params
    assert retail.journey == Journey.from_dict(journey)
    assert retail.log.n_cases == RETAIL_SETTINGS["n_customers"]
    meta = json.loads(files["params"].read_text(encoding="utf-8"))
    assert meta["effects"]["ab_lift"] == 0.05
    assert sum(p.stat().st_size for p in files.values()) < 8e6


def test_bundled_parquet_bytes_are_reproducible(tmp_path):
    import pyarrow
    import pyarrow.parquet as pq

    from journeylab.datasets._bundle import parquet_bytes

    path = jl.datasets.retail_files()["events"]
    if f"parquet-cpp-arrow version {pyarrow.__version__}" != pq.ParquetFile(path).metadata.created_by:
        pytest.skip(f"the shipped file was written by another pyarrow ({pq.ParquetFile(path).metadata.created_by})")
    fresh, _, _ = _simulate_frame(**RETAIL_SETTINGS)
    assert parquet_bytes(fresh) == path.read_bytes()


def test_summary_compares_planted_and_realised(sim):
    s = sim[2].summary()
    assert {"p_skip", "p_loop", "ab_lift", "abandonment[cart]", "reentry"} <= set(s.index)
    assert (s["realized"] - s["planted"]).abs().max() < 0.05


def test_progress_bar_runs(capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df, _, _ = _simulate_frame(300, random_state=1, progress=True)
    assert len(df) > 0


# --------------------------------------------------------------------------- bad parameters


@pytest.mark.parametrize("kwargs, match", [
    ({"n_customers": -5}, r"n_customers=-5 is out of range; it must be between 1 and"),
    ({"n_customers": 0}, r"n_customers=0 is out of range"),
    ({"n_customers": 2.5}, r"n_customers=2.5 must be a whole number"),
    ({"n_customers": True}, r"n_customers=True must be a whole number"),
    ({"p_skip": 1.5}, r"p_skip=1.5 is outside \[0, 1\]; a probability must be between 0 and 1"),
    ({"p_loop": -0.1}, r"p_loop=-0.1 is outside \[0, 1\]"),
    ({"p_support": "high"}, r"p_support='high' is not a probability"),
    ({"start": "2025-13-45"}, r"start='2025-13-45' is not a date; give a date like '2025-01-01'"),
    ({"start": 20250101}, r"start=20250101 is not a date"),
    ({"days": 3}, r"days=3 is out of range; it must be between 7 and 3,650"),
    ({"random_state": -1}, r"random_state=-1 must be >= 0"),
    ({"random_state": "seed"}, r"random_state='seed' must be None or a whole number"),
    ({"abandonment": {"chekout": 0.2}}, r"abandonment has the unknown key 'chekout'.*Did you mean 'checkout'\?"),
    ({"abandonment": {"cart": 2}}, r"abandonment\['cart'\]=2 is outside \[0, 1\]"),
    ({"segment_weights": {"bargain_hunter": 1}}, r"segment_weights has the unknown key 'bargain_hunter'"),
    ({"segment_weights": {"researcher": 0}}, r"gives every segment weight 0"),
    ({"p_skip": 0.7, "p_out_of_order": 0.5}, r"p_skip \+ p_out_of_order = 1.2 > 1"),
    ({"peak_weight": 0.7, "end_weight": 0.5}, r"peak_weight \+ end_weight = 1.2 > 1"),
    ({"reentry": -1}, r"reentry=-1 is out of range; it must be between 0 and 5"),
    ({"ab_lift": 0.6, "n_customers": 2000}, r"ab_lift=0.6 is more than version B can add"),
    ({"incidents": [{"kind": "flood", "start": "2025-02-01", "end": "2025-02-02"}]},
     r"kind='flood' is not an incident kind"),
    ({"incidents": [{"kind": "payment_outage", "start": "2026-02-01", "end": "2026-02-02"}]},
     r"is outside the simulated window"),
    ({"incidents": [{"kind": "payment_outage", "start": "2025-02-02", "end": "2025-02-01"}]},
     r"end='2025-02-01' must be after start"),
    ({"incidents": "yes"}, r"incidents='yes' must be 'default', None or a list"),
])
def test_bad_parameters_are_refused(kwargs, match):
    kwargs = {"n_customers": 50, **kwargs}
    n = kwargs.pop("n_customers")
    with pytest.raises(InvalidParameterError, match=match):
        make_journeys(n, **kwargs)
