"""``write_journeys``: the simulated log of many customers as Parquet part files, chunk by chunk.

Each chunk is one :func:`~journeylab.datasets.make_journeys` call (same parameters, its own
seed); its events are written to ``part-00000.parquet``, ``part-00001.parquet``... and
dropped before the next chunk, so memory is bounded by the chunk, not by the log.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._core.formatting import cut
from .._core.progress import progress as _progress
from ..exceptions import InvalidParameterError, OutputError

__all__ = ["write_parts", "chunk_seeds"]

_IDS = ("cookie_id", "email_id", "phone_id", "loyalty_id")  # the identifiers a customer carries


def chunk_seeds(random_state, n_chunks: int) -> list[int]:
    """The seed of each chunk: ``random_state`` itself for the first (so that one chunk is exactly
    ``make_journeys(n, random_state=random_state)``), then seeds derived from it.

    >>> chunk_seeds(7, 3)[0], len(set(chunk_seeds(7, 3)))
    (7, 3)
    """
    if random_state is None:
        random_state = int(np.random.SeedSequence().generate_state(1)[0])
    derived = np.random.SeedSequence(int(random_state)).spawn(max(n_chunks - 1, 0))
    return [int(random_state)] + [int(s.generate_state(1, dtype=np.uint32)[0]) for s in derived]


def _renumber(df: pd.DataFrame, chunk: int, offset: int, width: int) -> pd.DataFrame:
    """Customer and session ids shifted by ``offset`` customers (``C`` + ``width`` digits); the chunk's
    other identifiers get the suffix ``-<chunk>`` after the first chunk. Only the distinct ids are
    rewritten (categories), not every row."""

    def customer(ids: pd.Index) -> pd.Index:
        num = ids.str.slice(1).astype("int64") + offset
        return "C" + pd.Index(num.astype(str)).str.zfill(width)

    codes, uniques = pd.factorize(df["case"], sort=False)
    df["case"] = pd.Series(customer(pd.Index(uniques)).to_numpy()[codes], index=df.index, dtype=df["case"].dtype)
    if "session_id" in df and isinstance(df["session_id"].dtype, pd.CategoricalDtype):
        cats = df["session_id"].cat.categories
        parts = cats.str.split("-", n=1)
        df["session_id"] = df["session_id"].cat.rename_categories(
            customer(pd.Index(parts.str[0])) + "-" + pd.Index(parts.str[1]))
    if chunk:
        for col in _IDS:
            if col in df and isinstance(df[col].dtype, pd.CategoricalDtype):
                df[col] = df[col].cat.rename_categories(df[col].cat.categories + f"-{chunk}")
    return df


def write_parts(make_journeys, path, n_customers, *, chunk, random_state, overwrite, progress, **options) -> Path:
    """The work of :func:`journeylab.datasets.write_journeys` (``make_journeys`` passed in: it lives in
    the package above this module)."""
    for name, value, low in (("n_customers", n_customers, 1), ("chunk", chunk, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InvalidParameterError(f"{name} must be a whole number >= {low}, e.g. 100_000, not {cut(repr(value))}.")
    folder = Path(os.fspath(path)).expanduser()
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"path='{folder}' is a file; give the folder the part files go to, e.g. 'events/'.")
    old = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
    others = [p for p in folder.iterdir() if p not in old and p.name != "_journey.yaml"] if folder.is_dir() else []
    if (old or others) and not overwrite:
        raise OutputError(f"the folder '{folder}' is not empty ({len(old) + len(others)} entries); give a new folder, "
                          "or overwrite=True to replace the part files of an earlier run.")
    if others:
        raise OutputError(f"the folder '{folder}' holds other files than part files ({cut(others[0].name)}); "
                          "give a new or empty folder.")
    sizes = [min(chunk, n_customers - start) for start in range(0, n_customers, chunk)]
    seeds = chunk_seeds(random_state, len(sizes))
    width = max(6, len(str(n_customers)))
    folder.mkdir(parents=True, exist_ok=True)
    for p in old:
        p.unlink()
    show = len(sizes) > 1 if progress is None else bool(progress)
    offset = 0
    for k in _progress(range(len(sizes)), total=len(sizes), desc="write_journeys (chunks)", enabled=show):
        sample = make_journeys(sizes[k], random_state=seeds[k], progress=False, **options)
        if k == 0:
            (folder / "_journey.yaml").write_text(sample.journey.to_yaml(), encoding="utf-8")
        df = _renumber(sample.log.to_pandas(), k, offset, width)
        del sample
        target = folder / f"part-{k:05d}.parquet"
        df.to_parquet(target.with_suffix(".tmp"), index=False)
        os.replace(target.with_suffix(".tmp"), target)  # a part file is whole or absent
        offset += sizes[k]
        del df
    return folder
