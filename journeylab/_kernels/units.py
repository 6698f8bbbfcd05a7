"""Whom a customer-level analysis follows when some events have no customer id.

A log with a customer role may leave the id empty on some events (anonymous visits, a
CRM that did not match the person). The analyses that follow customers (funnels, goal
attainment, A/B tests, rules, attribution, contact peaks, the journey map, channel mix,
peak-end, touchpoint scores) count such a case as **its own customer**, as in a log
without a customer role, and say so with a :class:`~journeylab.DataQualityWarning`.
Without this, pandas drops the events (a silent undercount) or a missing id stands for
every anonymous case at once.

>>> import pandas as pd
>>> df = pd.DataFrame({"case": ["a", "b", "u1"], "customer": ["u1", None, None]})
>>> import warnings
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     known_customers(df)["customer"].tolist()
['u1', 'b', 'case u1']
"""

from __future__ import annotations


import pandas as pd

from .._core.warn import warn

__all__ = ["known_customers"]


def known_customers(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a customer id on every event: the case id where it is missing.

    A case id that is also the id of a real customer becomes ``"case <id>"``, so the two are
    never merged. Returns ``df`` itself when nothing is missing (or there is no customer
    column), else a new frame; ``df`` is never modified.
    """
    if "customer" not in df.columns:
        return df
    cust = df["customer"]
    missing = cust.isna().to_numpy()
    if not missing.any():
        return df
    case = df["case"].astype(object)
    known = set(cust[~missing])
    fill = case.where(~case.isin(known), "case " + case.astype(str))
    n_cases = df.loc[missing, "case"].nunique()
    warn(f"{int(missing.sum()):,} event(s) of {n_cases:,} case(s) have no customer id; each of these cases "
         "counts as its own customer.")
    return df.assign(customer=cust.astype(object).where(~missing, fill))
