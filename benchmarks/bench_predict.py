"""Predictions benchmark: training and scoring time of ``jl.predict`` at 100k and 1M customers.

Usage (from the repository root)::

    python -m benchmarks.bench_predict --folders /work/bench/journeys-100000,/work/bench/journeys-1000000
    python -m benchmarks.bench_predict --folders /work/bench/journeys-100000 --builder old   # the old builder
    python -m benchmarks.bench_predict --sizes 2e4          # simulated in memory (make_journeys), 20k customers
    python -m benchmarks.bench_predict --quick              # 20k customers in memory

The folders are written by ``jl.datasets.write_journeys(path, n, random_state=7)`` (part files and
``_journey.yaml``) and read lazily with ``jl.scan_parquet(folder, on_invalid="drop", case="session_id",
customer="case", ...)`` - DuckDB; ``predict`` fetches only the journey's events. Each run is a fresh Python
subprocess (its peak RSS is that of the run alone); one line per run:

* ``fetch s``: the journey's own events from the engine (``prefix_log``: entry, exit, milestones, goal);
* ``examples s``: the examples of every cut-off - features, states and labels (``builder``: ``new``, the
  journey followed once and every cut-off read by as-of lookups, ``_kernels/prefix_examples.py``; ``old``,
  ``features_at`` + ``labels_at`` at each cut-off, the builder before issue 18's speed-up);
* ``model s``: the rest of ``jl.predict(log, journey, target="goal", horizon="14d", every="7d")`` - fitting,
  calibration, evaluation, permutation importance and the scores at ``as_of`` (their features included);
* ``train s``: fetch + examples + model, the whole ``predict`` call;
* ``score s``: scoring again at ``as_of`` with the fitted model - the in-flight features at that date (not
  cached; ``new``: the builder with ``strict=False``, as ``predict`` scores; ``old``: ``features_at``) and the
  calibrated probabilities;
* ``cut-offs``, ``examples`` (rows), customers ``scored``, held-out AUC (model, baseline), ``peak MB``
  (``ru_maxrss`` of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROLES = {"case": "session_id", "customer": "case", "activity": "activity", "timestamp": "timestamp",
         "channel": "channel", "value": "value"}
OPTS = {"target": "goal", "horizon": "14d", "every": "7d", "random_state": 0}


def _old_examples(log, pl, journey, cuts, horizon, target, timeout):
    """The per-cut-off builder that ``predictions._examples`` was before: ``features_at`` (follow + journey
    state + crediting on every event up to the cut-off) and ``labels_at`` at each cut-off."""
    import numpy as np
    import pandas as pd

    from journeylab._kernels.prefixes import cached_features, labels_at

    frames, labels, states, keys = [], [], [], []
    for i, c in enumerate(cuts):
        X, st = cached_features(log, pl, journey, c, timeout=timeout)
        if not len(X):
            continue
        frames.append(X)
        labels.append(labels_at(pl, journey, c, horizon, target, st))
        states.append(st["milestone"].astype(object))
        keys.append(np.full(len(X), i))
    if not frames:
        return None
    X = pd.concat(frames)
    for col in X.columns:
        if isinstance(frames[0][col].dtype, pd.CategoricalDtype):
            X[col] = pd.Categorical(X[col], categories=frames[0][col].cat.categories)
    return X, np.concatenate(labels), pd.concat(states), np.concatenate(keys)


def _child(source: str, builder: str) -> dict:
    import warnings

    import pandas as pd

    import journeylab as jl
    import journeylab.predictions as PR
    from journeylab._kernels.prefix_examples import examples
    from journeylab._kernels.prefixes import features_at, prefix_log

    warnings.simplefilter("ignore")
    if source.isdigit():
        sample = jl.datasets.make_journeys(int(source), random_state=0)
        log, journey, customers = sample.log, sample.journey, int(source)
    else:
        log = jl.scan_parquet(source, on_invalid="drop", **ROLES)
        journey = jl.Journey.from_yaml(Path(source) / "_journey.yaml")
        customers = int(Path(source).name.rsplit("-", 1)[-1])
    times = {"examples": 0.0}
    build = PR._examples if builder == "new" else _old_examples

    def timed(*args, **kw):
        t = time.perf_counter()
        out = build(*args, **kw)
        times["examples"] += time.perf_counter() - t
        return out

    PR._examples = timed
    t0 = time.perf_counter()
    pl = prefix_log(log, journey)  # kept in the log's cache: predict reuses it
    fetch = time.perf_counter() - t0
    pred = jl.predict(log, journey, **OPTS)
    train = time.perf_counter() - t0
    t0 = time.perf_counter()
    if builder == "new":  # what predict scores with (the journey followed once, up to as_of included)
        X = examples(pl, journey, [pred.as_of], timeout=pd.Timedelta(days=30), strict=False).X
    else:
        X, _ = features_at(pl, journey, pred.as_of, strict=False, timeout=pd.Timedelta(days=30))
    X = X[list(pred.features)]  # the categories are those of training (both come from the journey's events)
    p = pred.model.predict_proba(X)[:, 1] if len(X) else []
    score = time.perf_counter() - t0
    ev = pred.evaluate()
    return {"customers": customers, "builder": builder, "journey_events": len(pl.log._frame()),
            "fetch_s": round(fetch, 1), "examples_s": round(times["examples"], 1),
            "model_s": round(train - fetch - times["examples"], 1), "train_s": round(train, 1),
            "score_s": round(score, 1), "cutoffs": len(pred.cutoffs), "examples": int(pred.cutoffs["examples"].sum()),
            "scored": len(p), "auc": round(ev.value("auc"), 3), "auc_baseline": round(ev.value("auc", "baseline"), 3),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


HEADER = ("| customers | builder | journey events | fetch s | examples s | model s | train s | score s | cut-offs "
          "| examples | scored | AUC (baseline) | peak RSS MB |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")


def _row(r: dict) -> str:
    return (f"| {r['customers']:,} | {r['builder']} | {r['journey_events']:,} | {r['fetch_s']} | {r['examples_s']} | "
            f"{r['model_s']} | {r['train_s']} | {r['score_s']} | {r['cutoffs']} | {r['examples']:,} | "
            f"{r['scored']:,} | {r['auc']} ({r['auc_baseline']}) | {r['peak_mb']:,} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folders", default="", help="comma-separated write_journeys folders (read with scan_parquet)")
    ap.add_argument("--sizes", default="", help="comma-separated simulated sizes (in memory)")
    ap.add_argument("--builder", default="new", choices=["new", "old"])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        os.environ["TQDM_DISABLE"] = "1"
        print(json.dumps(_child(args.child, args.builder)))
        return
    sources = [f for f in args.folders.split(",") if f] + [str(int(float(s))) for s in args.sizes.split(",") if s]
    if args.quick or not sources:
        sources = ["20000"]
    print(HEADER, flush=True)
    for src in sources:
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_predict", "--child", src, "--builder",
                              args.builder], capture_output=True, text=True, check=False,
                             env={**os.environ, "TQDM_DISABLE": "1"})
        if out.returncode != 0:
            err = out.stderr.strip().splitlines()
            print(f"| {src} | {args.builder} | failed: {err[-1] if err else out.returncode} |", flush=True)
            continue
        print(_row(json.loads(out.stdout.strip().splitlines()[-1])), flush=True)


if __name__ == "__main__":
    main()
