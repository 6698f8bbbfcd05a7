"""Identity stitching: one customer behind the cookies, e-mails and loyalty ids seen on events.

Runs in memory only: on a lazy log (DuckDB, Spark) :func:`stitch` refuses with an InvalidParameterError that
says to collect the log first (connected components need an iteration the engine queries do not express).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._core.validation import LOG, Texts, checked
from .exceptions import InvalidParameterError
from ._table import event_order, missing_column
from .log import EventLog

__all__ = ["stitch"]


@checked(log=LOG, identifiers=Texts(example="['cookie_id', 'email']", allow_empty=True))
def stitch(log: EventLog, identifiers: Sequence[str]) -> tuple[EventLog, pd.DataFrame]:
    """Identity stitching: merge the identifiers that co-occur on an event into one customer.

    Each distinct value of each identifier column is a node of the identity graph; the
    identifiers seen on the same event are linked; a connected component is one customer.
    Events with no identifier keep their case as their identity. Customers are named
    ``P000001, P000002, ...`` in order of their first event. In memory only: a lazy log
    (:func:`journeylab.from_ibis`) is refused with advice to collect it first.

    Parameters
    ----------
    log : EventLog
        The events, with the identifier columns as attributes (or roles).
    identifiers : str or list of str
        The columns that identify a person (cookie, e-mail, loyalty card, phone...).

    Returns
    -------
    (EventLog, pandas.DataFrame)
        The stitched log - ``customer`` holds the stitched id; when the log had no customer role the
        case becomes the stitched id too - and a table with one row per identifier value:
        ``customer``, ``identifier`` (column), ``value``, ``events``.

    Examples
    --------
    >>> import pandas as pd, journeylab as jl
    >>> df = pd.DataFrame({"c": ["s1", "s2", "s3"], "a": ["x", "y", "z"],
    ...     "t": ["2025-01-01", "2025-01-02", "2025-01-03"],
    ...     "cookie": ["k1", "k1", None], "email": [None, "e1", "e1"]})
    >>> stitched, ids = jl.stitch(jl.from_pandas(df, case="c", activity="a", timestamp="t"), ["cookie", "email"])
    >>> stitched.n_cases
    1
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if log.is_lazy:  # connected components are iterative (label propagation until nothing changes): not one query
        raise InvalidParameterError(
            f"stitch needs the events in memory, and this log lives in {log.backend}: the identity graph's connected "
            "components are not computed in the engine. Collect the columns it needs first, e.g. "
            "jl.from_pandas(log.to_pandas(), case='case', activity='activity', timestamp='timestamp', ...) "
            "(the roles of log.roles), or stitch the identifiers in the warehouse before jl.from_ibis.")
    identifiers = list(identifiers)
    if not identifiers:
        raise InvalidParameterError("identifiers=[] is empty; name the identifier columns, e.g. ['cookie_id', 'email'].")
    for c in identifiers:
        if c not in log.columns:
            raise missing_column("identifier", c, log.columns)
    df = log._frame()
    n = len(df)
    # one node per (column, value); events without any identifier use their case
    keys = []
    for c in identifiers:
        v = df[c]
        keys.append(pd.Series(np.where(v.notna(), c + "\x1f" + v.astype(str), None), index=df.index))
    any_id = pd.concat(keys, axis=1).notna().any(axis=1)
    keys.append(pd.Series(np.where(~any_id, "case\x1f" + df["case"].astype(str), None), index=df.index))
    stacked = pd.concat({i: k for i, k in enumerate(keys)}, axis=0).dropna()
    codes, uniques = pd.factorize(stacked, sort=False)
    event_idx = stacked.index.get_level_values(1).to_numpy()
    # link every node to an event node: bipartite graph events x ids
    m = len(uniques)
    rows = codes
    cols = m + event_idx
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(m + n, m + n))
    _, labels = connected_components(graph, directed=False)
    ev_label = labels[m:]
    # name components by first event time
    first = pd.Series(df["timestamp"].to_numpy(), index=ev_label).groupby(level=0).min().sort_values(kind="stable")
    rank = pd.Series(np.arange(1, len(first) + 1), index=first.index)
    width = max(6, len(str(len(first))))
    names = "P" + pd.Series(rank.reindex(ev_label).to_numpy()).astype(str).str.zfill(width)
    out = df.drop(columns=["_seq"]).copy()
    out["customer"] = names.to_numpy()
    roles = dict(log._roles)
    if "customer" not in log._roles:
        out["case"] = out["customer"]
        roles["customer"] = "customer"
    node_label = labels[:m]
    node_events = np.bincount(codes, minlength=m)
    kinds, values = zip(*(str(u).split("\x1f", 1) for u in uniques))
    table = pd.DataFrame({
        "customer": ("P" + pd.Series(rank.reindex(node_label).to_numpy()).astype(str).str.zfill(width)).to_numpy(),
        "identifier": list(kinds),
        "value": list(values),
        "events": node_events,
    })
    table = table[table["identifier"] != "case"].sort_values(["customer", "identifier", "value"]).reset_index(drop=True)
    return log._derive(out.iloc[event_order(out["case"], out["timestamp"])], roles=roles, stitched=identifiers), table
