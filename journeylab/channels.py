"""Channel mix: channel share per phase and segment, channel switches, and share of customer.

* **Channel share** - of the events of each journey phase (and segment), the share on each
  channel (events without a channel are left out and counted).
* **Channel switches** - within each case, ordered in time, every pair of consecutive events
  with a channel is a step from the channel of step n to the channel of step n+1. The
  *switch matrix* counts them (the diagonal is "stayed on the channel"); its rows
  normalised give the probability of the next channel; the *switch rate* is the share of
  steps that change channel. Per case: the number of switches and of distinct channels.
* **Share of customer** (share of wallet, DOMAIN.md) - the part of a customer's spend in the
  category that the brand covers: ``share = spend with the brand / the customer's
  category spend (wallet)``, per customer, from ``spend`` (default the ``value`` role:
  amounts of the customer's events) and ``wallet`` (a column or a Series per customer,
  e.g. from a panel survey; values below the spend are capped at share 1 and counted).
  Reported per segment as the mean of the customers' shares and as total spend / total
  wallet. Without a wallet the log cannot tell the category spend, so only the **spend by
  channel** is given: per channel, its share of the brand's spend and the mean over
  customers of the share of their own spend made on that channel.

Where it runs: on a log that lives in DuckDB or Spark every table is a group-by in the engine, and only
these come back: the events per channel; per [segment,] activity and channel (mapped to phases in
Python) - kind (a), cells; the channel switches per [segment,] from- and to-channel, found with ``lead``
over each unit's events in time order - cells; per unit (case, customer or id column) the steps,
switches, distinct channels and first segment - kind (b); the spend per unit and channel and, for a
wallet column, its last value per unit - kind (b). A segment given as a Series is matched to the
distinct cases (one row per case) and joined back as a small table.

>>> import pandas as pd, journeylab as jl
>>> df = pd.DataFrame({"case": ["a", "a", "a", "b", "b"], "activity": ["view", "cart", "buy", "view", "buy"],
...     "t": pd.date_range("2025-01-01", periods=5, freq="h"), "channel": ["web", "app", "app", "store", "store"]})
>>> mix = channel_mix(jl.from_pandas(df, case="case", activity="activity", timestamp="t", channel="channel"))
>>> mix.switches.loc["web", "app"], round(mix.switch_rate, 3)
(np.int64(1), 0.333)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd

from ._core.backend import execute
from ._core.formatting import cut
from ._core.results import FrozenMap, Result
from ._core.validation import JOURNEY, LOG, Optional, checked, log_column
from ._kernels.events import events
from ._kernels.survey import known_table, segment_columns, segment_series, segment_table
from ._kernels.units import known_customers
from .exceptions import InvalidParameterError, JourneyDefinitionError, SchemaError

__all__ = ["ChannelMix", "channel_mix"]

_NO_PHASE = "(no phase)"


@dataclass(frozen=True, eq=False)
class ChannelMix(Result):
    """Channel share, switches and share of customer; from :func:`channel_mix`.

    ``share``: tidy - [``segment``], ``phase``, ``channel``, ``events``, ``share`` (of the
    phase's events with a channel). ``switches``: from-channel x to-channel counts of
    consecutive steps; ``switch_probabilities``: the same normalised by row;
    ``switch_rate``: share of steps that change channel. ``switches_by_segment``: tidy
    (segment, from, to, steps) when ``segment`` was given. ``cases``: per case ``steps``,
    ``switches``, ``channels`` (distinct), [``segment``]. ``spend_by_channel`` and
    ``share_of_customer`` (None without a spend / wallet): see the module docstring.
    """

    share: pd.DataFrame
    switches: pd.DataFrame
    switch_rate: float
    switches_by_segment: pd.DataFrame | None
    cases: pd.DataFrame
    spend_by_channel: pd.DataFrame | None
    share_of_customer: pd.DataFrame | None
    n_no_channel: int
    params: FrozenMap = field(default_factory=FrozenMap)

    @property
    def switch_probabilities(self) -> pd.DataFrame:
        m = self.switches
        return m.div(m.sum(axis=1).replace(0, np.nan), axis=0)

    def to_frame(self) -> pd.DataFrame:
        """The channel share table (tidy)."""
        return self.share.copy()

    def _share_table(self) -> pd.DataFrame:
        """Channel share per phase (rows, with the segment when there is one) and channel (columns)."""
        idx = ["segment", "phase"] if "segment" in self.share.columns else ["phase"]
        return self.share.pivot_table(index=idx, columns="channel", values="share", aggfunc="sum", fill_value=0,
                                      observed=True, sort=False)

    @property
    def summary(self) -> pd.DataFrame:
        """Channel share per phase (rows) and channel (columns), in percent."""
        return (100 * self._share_table()).round(1)

    def __repr__(self) -> str:
        c = self.cases
        multi = (c["channels"] > 1).mean() if len(c) else float("nan")
        return (f"ChannelMix: {self.switches.shape[0]} channels, {int(self.switches.to_numpy().sum()):,} steps, "
                f"switch rate {self.switch_rate:.1%}, {multi:.1%} of cases use more than one channel")

    def _html_tables(self):
        return [("channel share per phase", self._share_table().rename_axis(columns=None).reset_index())]

    def _html_formats(self):
        return {c: "share" for c in self.switches.columns}

    def plot(self, ax=None, *, kind: str = "share", **kw):
        """``kind="share"``: stacked bars of channel share per phase; ``"switches"``: heatmap of the
        next-channel probabilities; ``"spend"``: spend share by channel."""
        from .plotting.kpi import plot_channel_mix

        return plot_channel_mix(self, ax=ax, kind=kind, **kw)


def _share(counts: pd.DataFrame, keys: list[str], order: list, ch_order: list) -> pd.DataFrame:
    """The share table from the events per [segment,] phase and channel (``counts``, column ``events``)."""
    counts["share"] = counts["events"] / counts.groupby(keys, observed=True)["events"].transform("sum")
    counts["phase"] = pd.Categorical(counts["phase"], categories=[p for p in order if p in set(counts["phase"])],
                                     ordered=True)
    counts["_c"] = counts["channel"].map({c: i for i, c in enumerate(ch_order)})
    return counts.sort_values(keys + ["_c"]).drop(columns="_c").reset_index(drop=True)


def _spend_table(rows: pd.DataFrame, who: str) -> pd.DataFrame:
    """Spend per channel from rows of (``who``, ``channel``, ``amount``) - events in memory, or the engine's
    sums per unit and channel: total, share, customers who spent there, mean share of their spend."""
    tot = rows.groupby("channel")["amount"].sum()
    per_cust = rows.pivot_table(index=who, columns="channel", values="amount", aggfunc="sum", fill_value=0)
    cust_share = per_cust.div(per_cust.sum(axis=1).replace(0, np.nan), axis=0)
    out = pd.DataFrame({"channel": tot.index, "spend": tot.to_numpy(),
                        "share": (tot / tot.sum()).to_numpy() if tot.sum() else np.nan,
                        "customers": (per_cust > 0).sum().reindex(tot.index).to_numpy(),
                        "mean_customer_share": cust_share.mean().reindex(tot.index).to_numpy()})
    return out.sort_values("spend", ascending=False, ignore_index=True)


def _share_of_wallet(spend: pd.Series, wallet: pd.Series, segment: pd.Series | None) -> pd.DataFrame:
    """Share of wallet per segment (or ``all``): the customers' spend with the brand (per customer) against
    their wallet; the same for the in-memory and the engine paths."""
    c = pd.DataFrame({"spend": spend.reindex(wallet.index).fillna(0.0), "wallet": wallet})
    c["over_wallet"] = c["spend"] > c["wallet"]
    c["share"] = np.minimum(c["spend"] / c["wallet"], 1.0)
    if segment is not None:
        c["segment"] = segment.reindex(c.index)
        grp = c.groupby("segment", observed=True)
    else:
        grp = c.groupby(lambda _: "all")
    return pd.DataFrame({"customers": grp.size(), "mean_share": grp["share"].mean(),
                         "share_of_total": grp["spend"].sum() / grp["wallet"].sum(),
                         "over_wallet": grp["over_wallet"].sum()}).reset_index(names="segment")


def _wallet_series(log, wallet, df: pd.DataFrame | None, who: str) -> pd.Series:
    if isinstance(wallet, str):
        w = pd.to_numeric(df[wallet], errors="coerce").groupby(df[who]).last()
    elif isinstance(wallet, (pd.Series, Mapping)):
        w = pd.Series(wallet) if not isinstance(wallet, pd.Series) else wallet.copy()
        w.index = w.index.astype(str)
        w = pd.to_numeric(w, errors="coerce")
    else:
        raise InvalidParameterError(f"wallet={cut(wallet)} must be a column name or a Series customer id -> "
                                    f"category spend.")
    w = w.dropna()
    if (w <= 0).any():
        bad = w[w <= 0]
        raise InvalidParameterError(f"wallet: {len(bad):,} customers have a category spend <= 0 (e.g. "
                                    f"{cut(bad.head(3).to_dict())}); the wallet must be positive (leave unknown ones "
                                    f"out).")
    return w


def _labels(frame: pd.DataFrame, segment, col: str = "_seg") -> pd.DataFrame:
    """A segment column's labels as :func:`segment_series` gives them (objects, None where missing)."""
    if isinstance(segment, str) and col in frame.columns:
        frame[col] = frame[col].astype("object").where(frame[col].notna(), None)
    return frame


def _engine_mix(log, journey, segment, spend_col, wallet, who) -> ChannelMix:
    """:func:`channel_mix` on a lazy log: every table is a group-by in the engine (see the module docstring)."""
    if journey is not None and not getattr(journey, "phases", None):
        raise JourneyDefinitionError(f"journey {journey.name!r} defines no phases; add a 'phases:' mapping (phase "
                                     f"-> activities) or call channel_mix(log) without a journey.")
    t = known_table(log) if who == "customer" else log.table
    st = segment_table(log, t, segment)
    has_seg = st is not None
    t = st if has_seg else t
    seg_key = ["_seg"] if has_seg else []
    # channel order (as value_counts: by events, ties in order of appearance) and events without a channel
    chs = execute(t.group_by("channel").aggregate(n=t.count(), first=t._seq.min()))
    n_no_channel = int(chs.loc[chs["channel"].isna(), "n"].sum())
    chs = chs[chs["channel"].notna()]
    if chs.empty:
        raise SchemaError(f"channel_mix needs channel values, and the channel of every one of the log's "
                          f"{n_no_channel:,} events is missing; fill the channel column or build the log with another "
                          f"channel='<column>'.")
    ch_order = chs.sort_values(["n", "first"], ascending=[False, True])["channel"].tolist()
    # share: events per [segment,] activity and channel, the activities mapped to phases here
    b = t.filter(t.channel.notnull() & (t._seg.notnull() if has_seg else True))
    cells = _labels(execute(b.group_by([*seg_key, "activity", "channel"]).aggregate(events=b.count())), segment)
    if cells.empty:
        raise InvalidParameterError("no event has both a channel and a segment: the segment is missing wherever the "
                                    "channel is known; pass another segment=... (a column or a Series case id -> "
                                    "segment) or none.")
    if journey is not None:
        cells["phase"] = journey.phase_of(cells["activity"]).astype("object").fillna(_NO_PHASE)
        order = list(journey.phases) + [_NO_PHASE]
    else:
        cells["phase"] = "all"
        order = ["all"]
    keys = ["segment", "phase"] if has_seg else ["phase"]
    cells = cells.rename(columns={"_seg": "segment"})
    counts = cells.groupby(keys + ["channel"], sort=False, observed=True)["events"].sum().reset_index()
    share = _share(counts, keys, order, ch_order)
    # switches: the next channel of each event (lead over the unit's events in time order)
    e = t.filter(t.channel.notnull() & t[who].notnull())
    w = ibis.window(group_by=e[who], order_by=[e.timestamp, e._seq])
    e = e.mutate(_to=e.channel.lead().over(w), _ord=ibis.row_number().over(w))
    e = e.mutate(_sw=(e._to.notnull() & (e.channel != e._to)).cast("int64"))
    steps = e.filter(e._to.notnull())
    pairs = _labels(execute(steps.group_by([*seg_key, "channel", "_to"]).aggregate(n=steps.count())), segment)
    pairs = pairs.rename(columns={"channel": "from", "_to": "to", "_seg": "segment"})
    mat = pairs.pivot_table(index="from", columns="to", values="n", aggfunc="sum", fill_value=0)
    mat = mat.reindex(index=ch_order, columns=ch_order, fill_value=0).astype("int64")
    mat.index.name, mat.columns.name = "from", "to"
    n_steps = int(pairs["n"].sum())
    n_sw = int(pairs.loc[pairs["from"] != pairs["to"], "n"].sum())
    switch_rate = n_sw / n_steps if n_steps else float("nan")
    by_seg = None
    if has_seg:
        by_seg = (pairs[pairs["segment"].notna()].groupby(["segment", "from", "to"], observed=True)["n"].sum()
                  .rename("steps").reset_index())
    aggs = dict(_n=e.count(), channels=e.channel.nunique(), switches=e._sw.sum())
    if has_seg:
        aggs["segment"] = e._seg.argmin(e._ord, where=e._seg.notnull())
    per_case = execute(e.group_by(_who=e[who]).aggregate(**aggs)).set_index("_who").sort_index()
    per_case["steps"] = per_case["_n"] - 1
    cols = ["steps", "switches", "channels"]
    per_case[cols] = per_case[cols].astype("int64")
    per_case = per_case[cols + (["segment"] if has_seg else [])]
    if has_seg:
        per_case = _labels(per_case, segment, "segment")
    per_case.index.name = who
    # spend: sums per unit and channel
    spend_tab = soc = None
    if spend_col is not None:
        amount = t[spend_col] if t[spend_col].type().is_numeric() else t[spend_col].try_cast("float64")
        sp = t.filter(amount.notnull() & t.channel.notnull()).mutate(_amt=amount.cast("float64"))
        uc = execute(sp.group_by(_who=sp[who], channel=sp.channel).aggregate(amount=sp._amt.sum()))
        if uc.empty and int(execute(t.filter(t[spend_col].notnull()).count())):
            raise InvalidParameterError(f"spend={spend_col!r} holds no numbers; pass the column of amounts.")
        spend_tab = _spend_table(uc, "_who")
        if wallet is not None:
            if isinstance(wallet, str):
                wv = t[wallet] if t[wallet].type().is_numeric() else t[wallet].try_cast("float64")
                wt = t.filter(wv.notnull()).mutate(_wv=wv.cast("float64"))
                wo = ibis.window(group_by=wt[who], order_by=[wt.timestamp, wt._seq])
                wt = wt.mutate(_ord=ibis.row_number().over(wo))
                last = execute(wt.group_by(_who=wt[who]).aggregate(w=wt._wv.argmax(wt._ord)))
                w = _wallet_series(log, last.set_index("_who")["w"].sort_index(), None, who)
            else:
                w = _wallet_series(log, wallet, None, who)
            soc = _share_of_wallet(uc.groupby("_who")["amount"].sum(), w,
                                   per_case["segment"] if has_seg else None)
    elif wallet is not None:
        raise InvalidParameterError("wallet=... needs the customers' spend with the brand: pass spend='<amount column>' "
                                    "(or build the log with value=...).")
    params = {"journey": getattr(journey, "name", None), "segment": segment if isinstance(segment, str) or
              segment is None else "<Series>", "spend": spend_col, "wallet": wallet if isinstance(wallet, str) or
              wallet is None else "<Series>", "unit": who}
    return ChannelMix(share=share, switches=mat, switch_rate=switch_rate, switches_by_segment=by_seg, cases=per_case,
                      spend_by_channel=spend_tab, share_of_customer=soc, n_no_channel=n_no_channel, params=params)


@checked(log=LOG, journey=Optional(JOURNEY))
def channel_mix(log, journey=None, *, segment=None, spend=None, wallet=None, unit: str = "case") -> ChannelMix:
    """Channel share per phase (and segment), the channel-switch matrix, and share of customer.

    Parameters
    ----------
    log : EventLog
        The events, with a ``channel`` column.
    journey : Journey, optional
        A journey whose ``phases`` group the activities (None: one phase "all"; events of
        activities in no phase go to "(no phase)").
    segment : str or Series, optional
        A column name or a Series case id -> segment.
    spend : str, optional
        The column of amounts (default: the ``value`` role when the log has one).
    wallet : str or Series, optional
        The customer's category spend (column or Series by ``unit`` id), for the share of
        customer; see the module docstring.
    unit : str, default "case"
        Whose journey the switches follow and who the customer is for spend: ``"case"``,
        ``"customer"`` or an id column.

    Returns
    -------
    ChannelMix
        The channel share per phase (``to_frame()``), the switch matrix and rate, the switches
        per case, and the spend by channel and share of customer when amounts are known.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> df = pd.DataFrame({"case": ["a", "a", "b"], "activity": ["view", "buy", "buy"],
    ...     "t": pd.date_range("2025-01-01", periods=3, freq="h"), "channel": ["web", "store", "web"],
    ...     "amount": [None, 80.0, 20.0]})
    >>> log = jl.from_pandas(df, case="case", activity="activity", timestamp="t", channel="channel", value="amount")
    >>> channel_mix(log).spend_by_channel[["channel", "spend", "share"]]
      channel  spend  share
    0   store   80.0    0.8
    1     web   20.0    0.2
    """
    if not log.has_role("channel"):
        raise SchemaError("channel_mix needs a channel column, and the log has none; build the log with "
                          "channel='<column>' (e.g. jl.from_pandas(df, ..., channel='touchpoint_channel')).")
    who = "case" if unit == "case" else log_column(log, unit, "unit")
    spend_col = spend if spend is not None else ("value" if log.has_role("value") else None)
    if spend_col is not None:
        log_column(log, spend_col, "spend")
    if isinstance(wallet, str):
        log_column(log, wallet, "wallet")
    if log.is_lazy:
        return _engine_mix(log, journey, segment, spend_col, wallet, who)
    extra = [who, *segment_columns(log, segment), *([spend_col] if spend_col else []),
             *([wallet] if isinstance(wallet, str) else [])]
    df = events(log, ["channel", *extra])
    if who == "customer" and log.has_role("customer"):
        df = known_customers(df)  # a case without a customer id is its own customer
    seg = segment_series(log, segment, df)
    if journey is not None:
        if not getattr(journey, "phases", None):
            raise JourneyDefinitionError(f"journey {journey.name!r} defines no phases; add a 'phases:' mapping (phase "
                                         f"-> activities) or call channel_mix(log) without a journey.")
        phase = journey.phase_of(df["activity"]).astype("object").fillna(_NO_PHASE)
        order = list(journey.phases) + [_NO_PHASE]
    else:
        phase = pd.Series("all", index=df.index)
        order = ["all"]
    has_ch = df["channel"].notna()
    n_no_channel = int((~has_ch).sum())
    if not has_ch.any():
        raise SchemaError(f"channel_mix needs channel values, and the channel of every one of the log's {len(df):,} "
                          f"events is missing; fill the channel column or build the log with another "
                          f"channel='<column>'.")
    base = pd.DataFrame({"phase": phase, "channel": df["channel"]})
    keys = ["phase"]
    if seg is not None:
        base.insert(0, "segment", seg)
        keys = ["segment", "phase"]
    b = base[has_ch & (seg.notna() if seg is not None else True)]
    if b.empty:
        raise InvalidParameterError("no event has both a channel and a segment: the segment is missing wherever the "
                                    "channel is known; pass another segment=... (a column or a Series case id -> "
                                    "segment) or none.")
    counts = b.groupby(keys + ["channel"], sort=False, observed=True).size().rename("events").reset_index()
    ch_order = list(df["channel"].value_counts().index)
    share = _share(counts, keys, order, ch_order)

    # switches: consecutive events with a channel, within each unit's journey
    ev = pd.DataFrame({"who": df[who], "t": df["timestamp"], "seq": df["_seq"], "channel": df["channel"]})
    if seg is not None:
        ev["segment"] = seg
    ev = ev[has_ch & ev["who"].notna()].sort_values(["who", "t", "seq"], kind="stable")
    nxt = ev.groupby("who", sort=False)["channel"].shift(-1)
    steps = ev.assign(to=nxt).dropna(subset=["to"]).rename(columns={"channel": "from"})
    mat = pd.crosstab(steps["from"], steps["to"]).reindex(index=ch_order, columns=ch_order, fill_value=0)
    mat.index.name, mat.columns.name = "from", "to"
    switch_rate = float((steps["from"] != steps["to"]).mean()) if len(steps) else float("nan")
    by_seg = None
    if seg is not None:
        by_seg = steps.groupby(["segment", "from", "to"], observed=True).size().rename("steps").reset_index()
    per_case = ev.groupby("who", sort=True).agg(channels=("channel", "nunique"))
    per_case["steps"] = steps.groupby("who").size().reindex(per_case.index, fill_value=0)
    per_case["switches"] = (steps["from"] != steps["to"]).groupby(steps["who"]).sum().reindex(per_case.index,
                                                                                               fill_value=0)
    per_case = per_case[["steps", "switches", "channels"]].astype("int64")
    if seg is not None:
        per_case["segment"] = ev.groupby("who", sort=True)["segment"].first()
    per_case.index.name = who

    # spend
    spend_tab = soc = None
    if spend_col is not None:
        amt = pd.to_numeric(df[spend_col], errors="coerce")
        if df[spend_col].notna().sum() and amt.notna().sum() == 0:
            raise InvalidParameterError(f"spend={spend_col!r} holds no numbers; pass the column of amounts.")
        s = pd.DataFrame({"who": df[who], "channel": df["channel"], "amount": amt})
        if seg is not None:
            s["segment"] = seg
        s = s[s["amount"].notna() & s["channel"].notna()]
        spend_tab = _spend_table(s, "who")
        if wallet is not None:
            w = _wallet_series(log, wallet, df, who)
            soc = _share_of_wallet(s.groupby("who")["amount"].sum(), w,
                                   ev.groupby("who")["segment"].first() if seg is not None else None)
    elif wallet is not None:
        raise InvalidParameterError("wallet=... needs the customers' spend with the brand: pass spend='<amount column>' "
                                    "(or build the log with value=...).")
    params = {"journey": getattr(journey, "name", None), "segment": segment if isinstance(segment, str) or
              segment is None else "<Series>", "spend": spend_col, "wallet": wallet if isinstance(wallet, str) or
              wallet is None else "<Series>", "unit": who}
    return ChannelMix(share=share, switches=mat, switch_rate=switch_rate, switches_by_segment=by_seg, cases=per_case,
                      spend_by_channel=spend_tab, share_of_customer=soc, n_no_channel=n_no_channel, params=params)
