"""Regenerate the bundled retail sample (the files beside this script).

    python datasets/make_retail.py            # rewrite the files
    python datasets/make_retail.py --check    # regenerate in a temporary folder and compare

The sample is ``journeylab.datasets.make_journeys(20_000, random_state=20250101)`` with
every other parameter at its default. Generation is deterministic, and the Parquet files
are written with fixed options and no pandas metadata, so the same versions of numpy and
pyarrow reproduce the files byte for byte. ``README.md`` beside this script documents them.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a source checkout without installing

from journeylab.datasets import RETAIL_NAME, RETAIL_SETTINGS, _simulate_frame  # noqa: E402
from journeylab.datasets._bundle import file_names, write_sample  # noqa: E402
from journeylab.journey import Journey  # noqa: E402


def make(folder: Path) -> dict[str, Path]:
    """Generate the retail sample and write its five files into ``folder``."""
    frame, journey, truth = _simulate_frame(**RETAIL_SETTINGS)
    return write_sample(folder, RETAIL_NAME, frame, Journey.from_dict(journey), truth)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare a fresh generation with the files here")
    args = parser.parse_args(argv)
    if not args.check:
        for part, path in make(HERE).items():
            print(f"{part:10s} {path.relative_to(HERE.parent)}  {path.stat().st_size / 1e6:.2f} MB")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = make(Path(tmp))
        differ = [name for name in file_names(RETAIL_NAME).values()
                  if not filecmp.cmp(Path(tmp) / name, HERE / name, shallow=False)]
    del fresh
    if differ:
        print("differ from a fresh generation: " + ", ".join(differ))
        return 1
    print("the files are identical to a fresh generation")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
