"""Predictions benchmark: training and scoring time of ``jl.predict`` on simulated logs.

Usage (from the repository root)::

    python benchmarks/bench_predict.py                   # 100k and 1M customers
    python benchmarks/bench_predict.py --sizes 1e5,3e5   # other sizes
    python benchmarks/bench_predict.py --quick           # 20k customers

Each size runs in a fresh Python subprocess: ``make_journeys(n, random_state=0)`` (not timed), then

* ``train s``: ``jl.predict(log, journey, target="goal", horizon="14d", every=EVERY)`` - the journey's
  events, the features of every cut-off, the labels, fitting, calibration, evaluation, permutation
  importance and the scores at ``as_of``;
* ``score s``: scoring again with the fitted model at ``as_of`` - the in-flight features at that date
  (not cached) and the calibrated probabilities;
* ``cut-offs``, ``examples`` and the customers scored; ``peak MB`` (peak RSS of the child).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def _child(n: int, every: str) -> dict:
    import warnings

    import journeylab as jl
    from journeylab._kernels.prefixes import features_at, journey_log

    warnings.simplefilter("ignore")
    os.environ.setdefault("TQDM_DISABLE", "1")
    sample = jl.datasets.make_journeys(n, random_state=0)
    log, journey = sample.log, sample.journey
    t0 = time.perf_counter()
    pred = jl.predict(log, journey, target="goal", horizon="14d", every=every, random_state=0)
    train = time.perf_counter() - t0
    t0 = time.perf_counter()
    pl = journey_log(log, journey)
    X, _ = features_at(pl, journey, pred.as_of, strict=False)
    X = X[list(pred.features)]
    p = pred.model.predict_proba(X)[:, 1]
    score = time.perf_counter() - t0
    return {"customers": n, "events": log.n_events, "train_s": round(train, 1), "score_s": round(score, 1),
            "cutoffs": len(pred.cutoffs), "examples": int(pred.cutoffs["examples"].sum()),
            "scored": len(p), "auc": round(pred.evaluate().value("auc"), 3),
            "auc_baseline": round(pred.evaluate().value("auc", "baseline"), 3),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1e5,1e6")
    ap.add_argument("--every", default="7d")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.every)))
        return
    sizes = [20_000] if args.quick else [int(float(s)) for s in args.sizes.split(",")]
    print(f"{'customers':>10} {'events':>11} {'train s':>8} {'score s':>8} {'cut-offs':>8} {'examples':>9} "
          f"{'scored':>7} {'AUC':>6} {'base':>6} {'peak MB':>8}")
    for n in sizes:
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_predict", "--child", str(n),
                              "--every", args.every], capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{n:>10,} failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['customers']:>10,} {r['events']:>11,} {r['train_s']:>8} {r['score_s']:>8} {r['cutoffs']:>8} "
              f"{r['examples']:>9,} {r['scored']:>7,} {r['auc']:>6} {r['auc_baseline']:>6} {r['peak_mb']:>8,}")


if __name__ == "__main__":
    main()
