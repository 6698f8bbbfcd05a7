"""Run every ``benchmarks/bench_*.py`` script in turn (what ``make bench`` calls).

Usage (from the repository root)::

    python benchmarks/run.py                 # all benchmark scripts, full size
    python benchmarks/run.py --quick         # passes --quick to every script (smoke run)
    python benchmarks/run.py -k core -k xes  # only scripts whose name contains 'core' or 'xes'
    python benchmarks/run.py --list

Scripts are found by name (``bench_*.py``, alphabetical) and run one after the other -
never in parallel, so that they do not disturb each other's timings - as
``python benchmarks/bench_X.py [--quick]`` from the repository root, with the repository
on PYTHONPATH. Their output is printed as it comes. The exit status is non-zero when a
script fails; the others still run.

Contract for a benchmark script: runnable as above, accepts ``--quick``, prints its own
table, writes it under ``benchmarks/results/``, exits 0 on success. With ``--quick``, a
script whose source never mentions ``--quick`` is skipped (with a note), not run at full size.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def discover(patterns=()) -> list[Path]:
    """The benchmark scripts, alphabetical, filtered by substrings of their names."""
    scripts = sorted(HERE.glob("bench_*.py"))
    if patterns:
        scripts = [s for s in scripts if any(p in s.stem for p in patterns)]
    return scripts


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Run every benchmarks/bench_*.py script in turn.")
    ap.add_argument("--quick", action="store_true", help="pass --quick to every script")
    ap.add_argument("-k", action="append", default=[], metavar="TEXT",
                    help="only scripts whose name contains TEXT (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the scripts and exit")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per script (default: none)")
    args = ap.parse_args(argv)

    scripts = discover(args.k)
    if args.list:
        print("\n".join(str(s.relative_to(ROOT)) for s in scripts))
        return 0
    if not scripts:
        print(f"no benchmark script matches {args.k} in {HERE}", file=sys.stderr)
        return 2

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("PYTHONUNBUFFERED", "1")
    summary = []
    for script in scripts:
        if args.quick and "--quick" not in script.read_text(encoding="utf-8", errors="replace"):
            print(f"\n== {script.name}: skipped, it has no --quick option (run it on its own)", flush=True)
            summary.append((script.name, "skipped (no --quick)", 0.0))
            continue
        cmd = [sys.executable, str(script.relative_to(ROOT))] + (["--quick"] if args.quick else [])
        print(f"\n{'=' * 78}\n== {' '.join(cmd[1:])}\n{'=' * 78}", flush=True)
        t0 = time.perf_counter()
        try:
            rc = subprocess.run(cmd, check=False, cwd=ROOT, env=env, timeout=args.timeout).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130
        summary.append((script.name, rc, time.perf_counter() - t0))

    print(f"\n{'=' * 78}\n== summary", flush=True)
    for name, rc, secs in summary:  # rc: exit status, "timeout" or "skipped ..."
        status = "ok" if rc == 0 else rc if isinstance(rc, str) and rc.startswith("skipped") else f"FAILED ({rc})"
        print(f"   {name:<28} {status:<22} {secs / 60:6.1f} min")
    failed = [n for n, rc, _ in summary if rc != 0 and not (isinstance(rc, str) and rc.startswith("skipped"))]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
