"""Every analysis on random small logs: a result or a documented refusal, never a crash.

Hypothesis builds small event logs with :func:`journeylab.from_pandas` (1-30 cases, 1-8
activities, optional channel / customer / value / survey columns, ties in time, cases of a
single event) and random small journeys built from the log's activities, then runs each
analysis and every view of its result (``to_frame()``, ``summary``, ``repr``,
``_repr_html_``, ``plot()``). Each call must give a result or raise a
:class:`~journeylab.JourneylabError`; any other exception is a bug. The input DataFrame must
come out unchanged.

The examples per analysis come from the Hypothesis profile (tests/conftest.py): "fast" by
default, ``JOURNEYLAB_FUZZ=thorough`` for a long run.
"""

from __future__ import annotations

import copy
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import journeylab as jl  # noqa: E402
from journeylab.attribution import MODELS  # noqa: E402
from journeylab.clustering import METHODS  # noqa: E402

#: examples per analysis: a share of the profile's (fast: 100 -> 14; thorough: 2,000 -> 285), half of that for the
#: analyses that run pm4py or permutations; each example runs an analysis and every view of its result
EXAMPLES = max(2, settings.default.max_examples // 7)
SLOW = max(2, EXAMPLES // 2)

ACTIVITIES = ["visit", "search", "add to cart", "pay & go", "call", "e-mail", "réclamation", "buy", "step > next", "42"]
CHANNELS = ["web", "app", "store", "call_centre", "sms/e-mail"]
BASE = pd.Timestamp("2025-03-01 08:00")


# --------------------------------------------------------------------------- the random inputs


@st.composite
def frames(draw, *, channel=None, customer=None, value=None, survey=None, version=False, min_cases=1,
           answers=0.4) -> pd.DataFrame:
    """A small event table: columns case, activity, t and the optional roles/attributes.

    ``None`` for an optional column lets Hypothesis decide whether it is there; ``answers`` is
    about the share of events with a survey answer.
    """
    n_cases = draw(st.integers(min_cases, 30))
    acts = draw(st.permutations(ACTIVITIES))[: draw(st.integers(1, 8))]
    # few distinct time offsets: ties within and across cases; a few long gaps
    offsets = st.one_of(st.integers(0, 6).map(lambda h: h * 60), st.integers(0, 60 * 24 * 40))
    rows = []
    for i in range(n_cases):
        length = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 7]))  # about one case in seven has a single event
        start = draw(offsets)
        for _ in range(length):
            step = draw(st.sampled_from([0, 0, 5, 60, 60 * 30]))
            start += step
            rows.append({"case": f"c{i}", "activity": draw(st.sampled_from(acts)),
                         "t": BASE + pd.Timedelta(minutes=start)})
    df = pd.DataFrame(rows)
    tz = draw(st.sampled_from([None, None, "UTC", "America/New_York"]))
    if tz is not None:
        df["t"] = df["t"].dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        df["t"] = df["t"].fillna(pd.Timestamp("2025-03-01 08:00", tz=tz))
    n = len(df)
    if channel if channel is not None else draw(st.booleans()):
        chans = draw(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=4, unique=True))
        values = st.sampled_from(chans) if draw(st.booleans()) else st.one_of(st.none(), st.sampled_from(chans))
        df["channel"] = draw(st.lists(values, min_size=n, max_size=n))
    if customer if customer is not None else draw(st.booleans()):
        n_cust = draw(st.integers(1, max(1, n_cases)))
        owner = {f"c{i}": f"u{draw(st.integers(0, n_cust - 1))}" for i in range(n_cases)}
        if draw(st.integers(0, 3)) == 0:  # anonymous cases: no customer id
            owner.update({f"c{i}": None for i in draw(st.sets(st.integers(0, n_cases - 1), max_size=3))})
        df["customer"] = df["case"].map(owner)
    if value if value is not None else draw(st.booleans()):
        amounts = st.one_of(st.none(), st.sampled_from([0.0, 5.0, 19.99, 80.0, 250.0, -20.0]))
        df["amount"] = pd.array(draw(st.lists(amounts, min_size=n, max_size=n)), dtype="Float64").astype(float)
    if survey if survey is not None else draw(st.booleans()):
        for col, top in (("nps", 10), ("csat", 5), ("ces", 7)):
            given = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
            scores = draw(st.lists(st.integers(0 if col == "nps" else 1, top), min_size=n, max_size=n))
            df[col] = pd.Series([float(v) if g < answers else np.nan for g, v in zip(given, scores)], dtype="float64")
    if version:
        arms = draw(st.sampled_from([["A"], ["A", "B"], ["A", "B", "C"]]))
        by_case = {f"c{i}": draw(st.sampled_from(arms)) for i in range(n_cases)}
        df["version"] = df["case"].map(by_case)
    if draw(st.integers(0, 3)) == 0:  # whole-number case ids
        df["case"] = df["case"].str[1:].astype(int)
    if draw(st.booleans()):  # row order never matters
        df = df.sample(frac=1.0, random_state=draw(st.integers(0, 9))).reset_index(drop=True)
    return df


ROLES = {"channel": "channel", "customer": "customer", "amount": "value"}


def to_log(df: pd.DataFrame) -> jl.EventLog:
    roles = {role: col for col, role in ROLES.items() if col in df.columns}
    return jl.from_pandas(df, case="case", activity="activity", timestamp="t", **roles)


@st.composite
def journeys(draw, df: pd.DataFrame, *, goal=None, phases=None, min_milestones=1) -> jl.Journey:
    """A small journey over the activities of ``df``: 1-4 milestones (maybe optional, negative or with a condition on
    the amount), maybe a goal, phases, entry/exit criteria and stall thresholds."""
    acts = sorted(df["activity"].unique())
    amount = "amount" in df.columns
    n = draw(st.integers(min(min_milestones, len(acts)), min(4, len(acts))))
    milestones = []
    for i in range(n):
        m = {"name": f"m{i}", "activities": draw(st.lists(st.sampled_from(acts), min_size=1, max_size=2, unique=True))}
        if i and draw(st.integers(0, 4)) == 0:
            m["optional"] = True
        elif i and draw(st.integers(0, 5)) == 0:
            m["kind"] = "negative"
        if amount and draw(st.integers(0, 4)) == 0:
            m["when"] = "value > 10"  # the amount column is the value role
        milestones.append(m)
    spec = {"name": "fuzz", "milestones": milestones}
    if goal if goal is not None else draw(st.booleans()):
        spec["goal"] = {"type": draw(st.sampled_from(["custom", "purchase"])), "activity": draw(st.sampled_from(acts)),
                        "window": draw(st.sampled_from(["0d", "3d", "12h"]))}
        if amount and draw(st.booleans()):
            spec["goal"]["when"] = "value >= 5"
        target = draw(st.sampled_from([None, 3, "50%"]))
        if target is not None:
            spec["goal"]["target"] = target
    if phases if phases is not None else draw(st.booleans()):
        shuffled = draw(st.permutations(acts))
        cut = draw(st.integers(0, len(acts)))
        spec["phases"] = {"explore": list(shuffled[:cut]), "decide": list(shuffled[cut:])}
    if draw(st.booleans()):
        spec["stall_after"] = {f"m{draw(st.integers(0, n - 1))}": draw(st.sampled_from(["1h", "2d"]))}
    if draw(st.integers(0, 3)) == 0:
        spec["entry"] = [draw(st.sampled_from(acts))]
    if draw(st.integers(0, 3)) == 0:
        spec["exit"] = [draw(st.sampled_from(acts))]
    return jl.Journey.from_dict(spec)


# --------------------------------------------------------------------------- the check


def _views(result) -> None:
    """Every view of a result: each gives a value or a documented refusal."""
    for name in ("to_frame", "summary"):
        attr = getattr(type(result), name, None)
        if attr is None:
            continue
        try:
            out = getattr(result, name)() if callable(attr) and not isinstance(attr, property) else \
                getattr(result, name)
        except jl.JourneylabError:
            continue
        assert isinstance(out, (pd.DataFrame, pd.Series)), f"{name} gave {type(out).__name__}"
    text = repr(result)
    assert isinstance(text, str) and text
    if hasattr(result, "_repr_html_"):
        assert isinstance(result._repr_html_(), str)
    if hasattr(result, "plot"):
        try:
            ax = result.plot()
        except jl.JourneylabError:
            ax = None
        finally:
            plt.close("all")
        if ax is not None:
            assert hasattr(ax, "figure") or isinstance(ax, np.ndarray)


def run(df: pd.DataFrame, call, *, views: bool = True):
    """Build the log from ``df``, run ``call(log)`` and the views of its result; the frame is never changed.

    Returns the result, or None when journeylab refused the input (a JourneylabError).
    """
    before = copy.deepcopy(df)
    result = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = call(to_log(df))
        except jl.JourneylabError:
            result = None
        if result is not None and views:
            _views(result)
    pd.testing.assert_frame_equal(df, before)
    return result


# --------------------------------------------------------------------------- discovery


@settings(max_examples=EXAMPLES)
@given(df=frames(), cov=st.floats(0.01, 1.0), act=st.floats(0.01, 1.0), top=st.one_of(st.none(), st.integers(1, 5)))
def test_fuzz_discover_and_variants(df, cov, act, top):
    run(df, lambda log: jl.discover(log, activities=act, paths=cov))
    run(df, lambda log: jl.variants(log, top=top))
    run(df, lambda log: jl.variants(log, coverage=cov))


@settings(max_examples=EXAMPLES)
@given(df=frames(), data=st.data())
def test_fuzz_paths(df, data):
    anchor = data.draw(st.sampled_from(sorted(df["activity"].unique())))
    direction = data.draw(st.sampled_from(["next", "previous"]))
    run(df, lambda log: jl.paths(log, anchor=anchor, direction=direction, steps=data.draw(st.integers(1, 4)),
                                 top=data.draw(st.one_of(st.none(), st.integers(1, 10)))))


@settings(max_examples=SLOW)
@given(df=frames(), algorithm=st.sampled_from(["inductive", "heuristics"]), noise=st.sampled_from([0.0, 0.2]))
def test_fuzz_discover_model(df, algorithm, noise):
    run(df, lambda log: jl.discover_model(log, algorithm=algorithm, noise=noise))


# --------------------------------------------------------------------------- the happy path


@settings(max_examples=SLOW)
@given(df=frames(), data=st.data())
def test_fuzz_compare(df, data):
    journey = data.draw(journeys(df))
    run(df, lambda log: jl.compare(log, journey, collapse=data.draw(st.booleans()), progress=False))


@settings(max_examples=EXAMPLES)
@given(df=frames(), data=st.data())
def test_fuzz_funnel(df, data):
    acts = sorted(df["activity"].unique())
    steps = data.draw(st.lists(st.sampled_from(acts), min_size=2, max_size=4))
    by = data.draw(st.sampled_from([None] + [c for c in ("channel", "customer") if c in df.columns]))
    kw = {"window": data.draw(st.sampled_from(["1h", "14d", pd.Timedelta(days=3)])),
          "order": data.draw(st.sampled_from(["sequential", "strict", "any"])),
          "count": data.draw(st.sampled_from(["uniques", "totals", "sessions"])),
          "exclude": data.draw(st.one_of(st.none(), st.sampled_from([a for a in acts if a not in steps] or acts))),
          "by": by}
    run(df, lambda log: jl.funnel(log, steps, progress=False, **kw))
    journey = data.draw(journeys(df, min_milestones=2))
    run(df, lambda log: jl.funnel(log, journey, progress=False))


@settings(max_examples=EXAMPLES)
@given(df=frames(), data=st.data())
def test_fuzz_milestones(df, data):
    journey = data.draw(journeys(df))
    lost = data.draw(st.sampled_from([None, "1d", "30d"]))
    as_of = data.draw(st.sampled_from([None, "2025-03-02", "2025-06-01"]))
    run(df, lambda log: jl.milestones(log, journey, lost_after=lost, as_of=as_of))


# --------------------------------------------------------------------------- goals, A/B tests, rules


@settings(max_examples=EXAMPLES)
@given(df=frames(), data=st.data())
def test_fuzz_goal_attainment(df, data):
    journey = data.draw(journeys(df, goal=True))
    timeout = data.draw(st.sampled_from([None, "2d"]))
    as_of = data.draw(st.sampled_from([None, "2025-03-02"]))
    run(df, lambda log: jl.goal_attainment(log, journey, timeout=timeout, as_of=as_of))


@settings(max_examples=EXAMPLES)
@given(df=frames(version=True), data=st.data())
def test_fuzz_ab_test(df, data):
    journey = data.draw(journeys(df, goal=True))
    metric = data.draw(st.sampled_from(["goal"] + (["amount"] if "amount" in df.columns else [])))
    run(df, lambda log: jl.ab_test(log, journey, version="version", metric=metric))


@settings(max_examples=EXAMPLES)
@given(df=frames(), data=st.data())
def test_fuzz_evaluate_rules(df, data):
    journey = data.draw(journeys(df))
    first = journey.milestones[0].name
    rules = [{"name": "stalled", "when": f"stalled_at == '{first}' and stalled_for > '1h'", "action": "nudge"},
             {"name": "won", "when": "goal_reached == true", "action": "thank"},
             {"name": "quiet", "when": "since_last_event > '2d' and in_journey == true", "action": "remind"}]
    rules = data.draw(st.lists(st.sampled_from(rules), min_size=1, max_size=3, unique_by=lambda r: r["name"]))
    run(df, lambda log: jl.evaluate_rules(log, journey, rules))


# --------------------------------------------------------------------------- segments


@settings(max_examples=EXAMPLES)
@given(df=frames(), data=st.data())
def test_fuzz_segment_by_and_compare_segments(df, data):
    journey = data.draw(st.one_of(st.none(), journeys(df)))
    rules = {"long": f"n_events > {data.draw(st.integers(0, 4))}", "short": "n_events <= 2"}
    if "channel" in df.columns:
        rules["web"] = f"first_channel == '{data.draw(st.sampled_from(CHANNELS))}'"
    exclusive = data.draw(st.booleans())
    seg = run(df, lambda log: jl.segment_by(log, rules, exclusive=exclusive, journey=journey))
    if seg is not None:
        min_size = data.draw(st.integers(2, 5))
        comparisons = data.draw(st.sampled_from(["auto", "one_vs_rest"] + (["pairwise"] if exclusive else [])))
        metrics = data.draw(st.sampled_from([None, ["n_events", "duration"], ["value"], ["sequence"]]
                                            + ([["goal", "conformance", "conformance_cost"]] if journey else [])))
        run(df, lambda log: jl.compare_segments(seg, metrics=metrics, min_size=min_size, comparisons=comparisons,
                                                n_permutations=19, sample_size=20, random_state=0))


@settings(max_examples=SLOW)
@given(df=frames(), data=st.data())
def test_fuzz_cluster_journeys_and_compare_segments(df, data):
    journey = data.draw(st.one_of(st.none(), journeys(df)))
    method = data.draw(st.sampled_from(METHODS))
    k = data.draw(st.sampled_from(["auto", 1, 2, 3]))
    features = data.draw(st.sampled_from(["auto", ("counts",), ("ngrams", "length")]))
    seg = run(df, lambda log: jl.cluster_journeys(log, method=method, n_clusters=k, journey=journey, k_range=(2, 3),
                                                  n_init=2, features=features, random_state=0))
    if seg is not None:
        assert (seg.sizes["cases"] > 0).all()  # no empty segment
        run(df, lambda log: jl.compare_segments(seg, min_size=2, n_permutations=19, random_state=0))
        run(df, lambda log: seg.predict(log))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in seg.segments[:2]:
                try:
                    seg.process_map(s)
                except jl.JourneylabError:
                    pass
            kinds = ["profile", "sizes", "k"] + (["transitions"] if method == "markov" else [])
            for kind in kinds:
                try:
                    seg.plot(kind=kind, **({"segment": seg.segments[0]} if kind == "transitions" else {}))
                except jl.JourneylabError:
                    pass
                finally:
                    plt.close("all")


# --------------------------------------------------------------------------- experience KPIs


@settings(max_examples=EXAMPLES)
@given(df=frames(survey=True), data=st.data())
def test_fuzz_survey_scores(df, data):
    before = copy.deepcopy(df)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for fn, col in ((jl.nps, "nps"), (jl.csat, "csat"), (jl.ces, "ces")):
            try:
                res = fn(df[col])
            except jl.JourneylabError:
                continue
            _views(res)
    pd.testing.assert_frame_equal(df, before)
    kind = data.draw(st.sampled_from(["nps", "csat", "ces"]))
    by = data.draw(st.sampled_from([("activity",), ("channel",), "activity", ("phase", "activity")]))
    journey = data.draw(journeys(df, phases=True)) if "phase" in by else None
    freq = data.draw(st.sampled_from([None, "D", "W"]))
    segment = data.draw(st.sampled_from([None] + [c for c in ("customer", "channel") if c in df.columns]))
    run(df, lambda log: jl.touchpoint_scores(log, score=kind, kind=kind, by=by, freq=freq, journey=journey,
                                             segment=segment, min_answers=data.draw(st.integers(1, 5))))


@settings(max_examples=EXAMPLES)
@given(df=frames(survey=True), data=st.data())
def test_fuzz_journey_map(df, data):
    journey = data.draw(journeys(df, phases=True))
    kpi = data.draw(st.sampled_from(["nps", "csat", "ces"]))
    unit = data.draw(st.sampled_from(["case"] + (["customer"] if "customer" in df.columns else [])))
    segment = data.draw(st.sampled_from([None] + [c for c in ("channel",) if c in df.columns]))
    run(df, lambda log: jl.journey_map(log, journey, kpi=kpi, min_answers=data.draw(st.integers(1, 5)), unit=unit,
                                       segment=segment))


@settings(max_examples=EXAMPLES)
@given(df=frames(survey=True, min_cases=8, answers=0.7), data=st.data())
def test_fuzz_peak_end(df, data):
    peak = data.draw(st.sampled_from(["min", "max", "extreme"]))
    unit = data.draw(st.sampled_from(["case"] + (["customer"] if "customer" in df.columns else [])))
    run(df, lambda log: jl.peak_end(log, score="csat", overall="nps", peak=peak, unit=unit,
                                    min_touchpoints=data.draw(st.integers(1, 3)), n_boot=20, random_state=0,
                                    progress=False))


@settings(max_examples=EXAMPLES)
@given(df=frames(channel=True), data=st.data())
def test_fuzz_channel_mix(df, data):
    journey = data.draw(st.one_of(st.none(), journeys(df, phases=True)))
    unit = data.draw(st.sampled_from(["case"] + (["customer"] if "customer" in df.columns else [])))
    segment = data.draw(st.sampled_from([None] + [c for c in ("customer", "nps") if c in df.columns]))
    run(df, lambda log: jl.channel_mix(log, journey, unit=unit, segment=segment))


@settings(max_examples=EXAMPLES)
@given(df=frames(channel=True), data=st.data())
def test_fuzz_contact_peaks(df, data):
    channel = data.draw(st.sampled_from(sorted(df["channel"].dropna().unique()) + [None]))
    activities = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(sorted(df["activity"].unique())), min_size=1,
                                                         max_size=2, unique=True)))
    season = data.draw(st.sampled_from([None, "day", "week"]))
    freq = data.draw(st.sampled_from(["1h", "1d"]))
    scales = data.draw(st.sampled_from([(), ("1d",)])) if freq == "1h" else ()
    run(df, lambda log: jl.contact_peaks(log, channel=channel, activities=activities, freq=freq, scales=scales,
                                         season=season, window=data.draw(st.sampled_from(["2d", "7d"])),
                                         min_volume=1, threshold=data.draw(st.sampled_from([1.0, 5.0]))))


@settings(max_examples=EXAMPLES)
@given(df=frames(), data=st.data())
def test_fuzz_attribution(df, data):
    acts = sorted(df["activity"].unique())
    conversion = data.draw(st.one_of(st.sampled_from(acts), st.lists(st.sampled_from(acts), min_size=1, max_size=2,
                                                                     unique=True)))
    touchpoints = data.draw(st.one_of(st.sampled_from(["activity"] + (["channel"] if "channel" in df.columns else [])),
                                      st.lists(st.sampled_from(acts), min_size=1, max_size=3, unique=True)))
    model = data.draw(st.sampled_from(MODELS))
    unit = data.draw(st.sampled_from([None, "case"]))
    lookback = data.draw(st.sampled_from(["30d", "1h"]))
    run(df, lambda log: jl.attribution(log, conversion=conversion, touchpoints=touchpoints, model=model, n_boot=10,
                                       lookback=lookback, unit=unit, random_state=0, progress=False))
    if data.draw(st.integers(0, 2)) == 0:
        models = tuple(data.draw(st.lists(st.sampled_from(MODELS), min_size=1, max_size=3, unique=True)))
        run(df, lambda log: jl.compare_attribution(log, conversion=conversion, touchpoints=touchpoints, models=models,
                                                   n_boot=10, random_state=0, progress=False))
