"""Where the bundled data files are: package data when installed, ``datasets/`` in a checkout."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..exceptions import FileFormatError


def data_path(name: str) -> Path:
    """Path of a bundled data file (installed package data first, then the source tree)."""
    try:
        pkg = resources.files("journeylab.datasets") / "data" / name
        if pkg.is_file():
            return Path(str(pkg))
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    repo = Path(__file__).resolve().parents[2] / "datasets" / name
    if repo.is_file():
        return repo
    raise FileFormatError(
        f"the bundled data file {name!r} is missing from this installation; reinstall journeylab "
        "(pip install --force-reinstall journeylab) or run from a full source checkout."
    )
