"""Synthetic event logs for the benchmarks (shared by every ``benchmarks/bench_*.py``).

:func:`generate` builds a deterministic log with numpy: ``n_events`` events in cases of
``events_per_case`` events, ~20 customer-journey activities, a few dominant variants
(about 77 % of the cases) and a long tail of mutated variants, timestamps strictly
increasing within a case (whole seconds, naive, read as UTC). Rows come in global time
order, as a database export would give them, so every reader has to sort.

:func:`ensure` writes the log once as CSV / Parquet / XES into the benchmark data folder
(``$JOURNEYLAB_BENCH_DATA``, default ``<tmp>/journeylab-bench``) and returns the paths;
later calls reuse the files. :func:`bpic2012` does the same for BPIC 2012 (read once
with pm4py, then cached as Parquet and CSV).

>>> from benchmarks import _gen
>>> df = _gen.generate(1_000)
>>> df.columns.tolist(), len(df), df["case_id"].nunique()
(['case_id', 'activity', 'timestamp'], 1000, 100)
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "ACTIVITIES",
    "BPIC2012",
    "COLUMNS",
    "bpic2012",
    "data_dir",
    "ensure",
    "generate",
    "parse_size",
    "size_label",
    "write_csv",
    "write_parquet",
    "write_xes",
]

#: column names of the generated logs (case, activity, timestamp)
COLUMNS = {"case": "case_id", "activity": "activity", "timestamp": "timestamp"}

ACTIVITIES = (
    "visit homepage", "search", "view category", "view product", "read reviews", "compare products",
    "add to cart", "remove from cart", "view cart", "apply coupon", "login", "create account",
    "enter address", "choose shipping", "enter payment", "place order", "payment failed",
    "contact support", "open email", "click ad",
)

#: share of the cases that follow each dominant variant; the rest is mutated tail
DOMINANT_SHARES = (0.35, 0.20, 0.10, 0.07, 0.05)

BPIC2012 = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "bpic2012.xes.gz"


def best(fn, repeat: int) -> float:
    """The shortest wall time of ``repeat`` calls of ``fn`` (seconds)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def parse_size(text: str) -> int:
    """'1e6' -> 1000000, '5M' -> 5000000, '100k' -> 100000."""
    t = str(text).strip().lower().replace("_", "")
    mult = 1
    if t.endswith("m"):
        t, mult = t[:-1], 1_000_000
    elif t.endswith("k"):
        t, mult = t[:-1], 1_000
    return int(float(t) * mult)


def size_label(n: int) -> str:
    """1000000 -> '1M', 100000 -> '100k'."""
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def data_dir() -> Path:
    """Folder for the generated files (never inside the repository)."""
    d = Path(os.environ.get("JOURNEYLAB_BENCH_DATA", Path(tempfile.gettempdir()) / "journeylab-bench"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def generate(n_events: int, events_per_case: int = 10, *, n_activities: int = 20, n_dominant: int = 5,
             seed: int = 0, order: str = "time", n_attributes: int = 0) -> pd.DataFrame:
    """A synthetic event log as a DataFrame with columns ``case_id``, ``activity``, ``timestamp``.

    Deterministic for given arguments. ``n_events`` is rounded down to whole cases.
    ``order="time"`` (default) sorts the rows by timestamp (cases interleave),
    ``order="case"`` by case then time. ``n_attributes`` adds string columns
    ``attr_1..`` (10 values each) for readers that should carry attributes.
    """
    if order not in ("time", "case"):
        raise ValueError(f"order={order!r}; use 'time' or 'case'")
    if not 2 <= n_activities <= len(ACTIVITIES):
        raise ValueError(f"n_activities must be in 2..{len(ACTIVITIES)}")
    rng = np.random.default_rng(seed)
    epc = int(events_per_case)
    n_cases = max(1, int(n_events) // epc)
    n = n_cases * epc

    # dominant variants: random funnels over the activity pool (activities in list order)
    base = np.sort(rng.integers(0, n_activities, size=(n_dominant, epc), dtype=np.int16), axis=1)  # funnels
    shares = np.array(DOMINANT_SHARES[:n_dominant], dtype=float)
    tail = max(0.0, 1.0 - shares.sum())
    pick = rng.choice(n_dominant + 1, size=n_cases, p=np.append(shares, tail))
    is_tail = pick == n_dominant
    pick[is_tail] = rng.integers(0, n_dominant, size=int(is_tail.sum()))
    seqs = base[pick]  # (n_cases, epc), a copy
    # the tail: 1 to 3 positions replaced by a random activity -> thousands of rare variants
    n_tail = int(is_tail.sum())
    rows = np.flatnonzero(is_tail)
    n_mut = rng.integers(1, 4, size=n_tail)
    for k in range(3):
        sel = rows[n_mut > k]
        pos = rng.integers(0, epc, size=len(sel))
        seqs[sel, pos] = rng.integers(0, n_activities, size=len(sel), dtype=np.int16)

    # timestamps: case start uniform over 2024, gaps of 1 s + exponential(20 min), whole seconds
    t0 = np.datetime64("2024-01-01T00:00:00", "s").astype("int64")
    start = t0 + rng.integers(0, 366 * 86400, size=n_cases)
    gaps = 1 + rng.exponential(1200.0, size=(n_cases, epc)).astype("int64")
    gaps[:, 0] = 0
    ts = (start[:, None] + np.cumsum(gaps, axis=1)).ravel()

    case_no = np.repeat(np.arange(1, n_cases + 1), epc)
    width = max(7, len(str(n_cases)))
    acts = np.array(ACTIVITIES[:n_activities], dtype=object)
    cols = {
        "case_id": pd.Categorical.from_codes(case_no - 1, [f"C{i:0{width}d}" for i in range(1, n_cases + 1)]),
        "activity": pd.Categorical.from_codes(seqs.ravel().astype(np.int64), acts),
        "timestamp": ts.astype("datetime64[s]"),
    }
    for j in range(1, n_attributes + 1):
        codes = rng.integers(0, 10, size=n)
        cols[f"attr_{j}"] = pd.Categorical.from_codes(codes, [f"v{j}_{v}" for v in range(10)])
    df = pd.DataFrame(cols)
    if order == "time":
        df = df.iloc[np.argsort(ts, kind="stable")]
    df = df.reset_index(drop=True)
    # plain string columns (what a reader would give), not categoricals
    for c in df.columns:
        if isinstance(df[c].dtype, pd.CategoricalDtype):
            df[c] = df[c].astype("str")
    return df


# --------------------------------------------------------------------------- writers


def _atomic(path: Path):
    tmp = path.with_name(path.name + ".part")
    return tmp, lambda: os.replace(tmp, path)


def write_csv(df: pd.DataFrame, path) -> Path:
    """CSV with a header, comma-separated, timestamps as 'YYYY-MM-DD HH:MM:SS[+offset]'."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    path = Path(path)
    tmp, done = _atomic(path)
    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type):
            col = table.column(i)
            if f.type.tz is not None:  # ISO with offset, e.g. 2011-10-01 00:38:44.546000+00:00
                text = pa.array(pd.Series(df[f.name]).dt.strftime("%Y-%m-%d %H:%M:%S.%f%z")
                                .str.replace(r"(\d{2})(\d{2})$", r"\1:\2", regex=True), type=pa.string())
            else:
                text = col.cast(pa.timestamp("s")).cast(pa.string()) if f.type.unit == "s" else col.cast(pa.string())
            table = table.set_column(i, f.name, text)
    pcsv.write_csv(table, tmp, write_options=pcsv.WriteOptions(quoting_style="needed"))
    done()
    return path


def write_parquet(df: pd.DataFrame, path) -> Path:
    """Parquet (zstd), timestamps as timestamp[us]."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    tmp, done = _atomic(path)
    table = pa.Table.from_pandas(df, preserve_index=False)
    for i, f in enumerate(table.schema):
        if pa.types.is_timestamp(f.type) and f.type.unit != "us":
            table = table.set_column(i, f.name, table.column(i).cast(pa.timestamp("us", f.type.tz)))
    pq.write_table(table, tmp, compression="zstd")
    done()
    return path


def _xml_escape(values) -> dict:
    from xml.sax.saxutils import quoteattr

    return {v: quoteattr(str(v)) for v in values}


def write_xes(df: pd.DataFrame, path, *, case: str = "case_id", activity: str = "activity",
              timestamp: str = "timestamp", chunk: int = 500_000) -> Path:
    """A minimal XES 1.0 file (``.xes``, or gzipped when the name ends in ``.gz``).

    One trace per case (cases in order of their first event, events in time order),
    events with ``concept:name`` and ``time:timestamp`` (naive times written as UTC);
    other columns are written as event ``string`` attributes.
    """
    import gzip

    path = Path(path)
    tmp, done = _atomic(path)
    order = np.lexsort((np.arange(len(df)), df[timestamp].to_numpy(), pd.factorize(df[case])[0]))
    d = df.iloc[order].reset_index(drop=True)
    ts = pd.Series(d[timestamp])
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    ts_text = ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str.slice(0, 23) + "+00:00"
    act_q = d[activity].map(_xml_escape(d[activity].unique()))
    extra = [c for c in d.columns if c not in (case, activity, timestamp)]
    body = ('<event><string key="concept:name" value=' + act_q.astype(str)
            + '/><date key="time:timestamp" value="' + ts_text + '"/>')
    for c in extra:
        vals = d[c].astype(str)
        body = body + f'<string key="{c}" value=' + vals.map(_xml_escape(vals.unique())) + "/>"
    body = body + "</event>"
    cases = d[case].astype(str)
    first = cases.ne(cases.shift()).to_numpy()
    last = np.append(first[1:], True)
    case_q = cases.map(_xml_escape(cases[first].unique()))
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(tmp, "wt", encoding="utf-8", newline="\n") as fh:
        fh.write('<?xml version="1.0" encoding="UTF-8" ?>\n<log xes.version="1.0" xes.features="">\n'
                 '<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>\n'
                 '<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>\n')
        for lo in range(0, len(d), chunk):
            hi = min(lo + chunk, len(d))
            b = body.iloc[lo:hi].to_numpy(dtype=object)
            f, la = first[lo:hi], last[lo:hi]
            cq = case_q.iloc[lo:hi].to_numpy(dtype=object)
            lines = []
            for i in range(hi - lo):
                if f[i]:
                    lines.append('<trace><string key="concept:name" value=' + cq[i] + "/>")
                lines.append(b[i])
                if la[i]:
                    lines.append("</trace>")
            fh.write("\n".join(lines))
            fh.write("\n")
        fh.write("</log>\n")
    done()
    return path


# --------------------------------------------------------------------------- cached files


def ensure(n_events: int, formats=("csv", "parquet"), *, events_per_case: int = 10, seed: int = 0,
           verbose: bool = True, **kwargs) -> dict[str, Path]:
    """Paths of the generated log in each format ('csv', 'parquet', 'xes', 'xes.gz'), written if missing."""
    stem = f"gen_{n_events}_e{events_per_case}_s{seed}" + "".join(f"_{k}{v}" for k, v in sorted(kwargs.items()))
    paths = {fmt: data_dir() / f"{stem}.{fmt}" for fmt in formats}
    missing = [f for f, p in paths.items() if not p.exists()]
    if missing:
        if verbose:
            print(f"[gen] writing {size_label(n_events)} events as {missing} to {data_dir()}", flush=True)
        df = generate(n_events, events_per_case, seed=seed, **kwargs)
        writers = {"csv": write_csv, "parquet": write_parquet, "xes": write_xes, "xes.gz": write_xes}
        for fmt in missing:
            writers[fmt](df, paths[fmt])
    return paths


def bpic2012(formats=("csv", "parquet"), *, verbose: bool = True) -> dict[str, Path]:
    """BPIC 2012 as pm4py reads it, cached as CSV / Parquet (plus 'xes.gz': the original)."""
    if not BPIC2012.exists():
        raise FileNotFoundError(f"BPIC 2012 not found at {BPIC2012}")
    paths = {fmt: (BPIC2012 if fmt == "xes.gz" else data_dir() / f"bpic2012.{fmt}") for fmt in formats}
    missing = [f for f, p in paths.items() if not p.exists()]
    if missing:
        import contextlib
        import io
        import warnings

        if verbose:
            print(f"[gen] converting BPIC 2012 to {missing} (pm4py.read_xes, once)", flush=True)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pm4py

            df = pm4py.read_xes(str(BPIC2012))
        df = df[[c for c in df.columns if not c.startswith("@@")]]
        for fmt in missing:
            {"csv": write_csv, "parquet": write_parquet}[fmt](df, paths[fmt])
    return paths
