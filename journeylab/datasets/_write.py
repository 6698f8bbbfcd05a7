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

__all__ = ["write_journeys", "chunk_seeds"]

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


def write_journeys(path, n_customers: int, *, chunk: int = 100_000, random_state: int | None = None,
                   overwrite: bool = False, progress: bool | None = None, **options) -> Path:
    """Simulate ``n_customers`` customers and write their events as Parquet part files, chunk by chunk.

    Each chunk of ``chunk`` customers is one :func:`make_journeys` call with the same
    ``options`` and its own seed, written to ``<path>/part-00000.parquet``,
    ``part-00001.parquet``... and freed before the next: peak memory is that of one chunk
    (about 1.5 GB for 100,000 customers), whatever ``n_customers`` is. The events have the
    columns of ``make_journeys(...).log.to_pandas()`` (``case`` = customer, ``session_id``,
    ``value``...); the journey definition is written to ``<path>/_journey.yaml`` (the leading
    underscore keeps Spark and pyarrow, which read every other file of a folder, off it). Read the log
    back lazily with :func:`journeylab.scan_parquet` (e.g. ``case="session_id",
    customer="case"`` for journey sessions).

    How it relates to :func:`make_journeys`: the same distributions (every chunk is a
    simulation of its own customers with the same parameters), but not the same rows as one
    call of ``n_customers`` (each chunk draws from its own seed) - except with a single chunk
    (``chunk >= n_customers``), whose rows are exactly ``make_journeys(n_customers,
    random_state=random_state, **options).log.to_pandas()``. Customer ids are numbered across
    chunks (``C`` and the number, with as many digits as ``n_customers`` needs, at least 6), so
    customers and session ids are unique over the folder; the cookie, e-mail,
    phone and loyalty ids of chunk ``k > 0`` end in ``-k``. The same ``random_state`` and
    ``chunk`` give the same files.

    Parameters
    ----------
    path : str or Path
        The folder to write (created; it must be empty unless ``overwrite=True``, which
        deletes the part files and ``_journey.yaml`` already there).
    n_customers : int
        Customers in all (>= 1).
    chunk : int
        Customers per part file (>= 1; default 100,000: about 1.4M events).
    random_state : int, optional
        Seed (int >= 0); None for fresh randomness.
    overwrite : bool
        Replace the part files of an earlier run in ``path``.
    progress : bool, optional
        A progress bar over the chunks (None: when there are several).
    **options
        Any other parameter of :func:`make_journeys` (``days``, ``ab_lift``, ``p_support``...).

    Returns
    -------
    pathlib.Path
        The folder.

    Examples
    --------
    >>> import journeylab as jl, tempfile
    >>> folder = jl.datasets.write_journeys(tempfile.mkdtemp() + "/log", 300, chunk=100, random_state=7)
    >>> sorted(p.name for p in folder.iterdir())
    ['_journey.yaml', 'part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']
    >>> log = jl.scan_parquet(folder, case="case", activity="activity", timestamp="timestamp")
    >>> log.n_cases
    300
    """
    from . import make_journeys

    for name, value, low in (("n_customers", n_customers, 1), ("chunk", chunk, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InvalidParameterError(f"{name} must be a whole number >= {low}, e.g. 100_000, not {cut(repr(value))}.")
    if "progress" in options:
        raise InvalidParameterError("progress= is the bar over the chunks here; the chunks themselves run quietly.")
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
