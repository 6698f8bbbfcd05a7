"""The installed version of journeylab, and of the packages a report lists for reproducibility.

>>> package_version("surely-not-installed-package")
'-'
>>> __version__ == package_version("journeylab", "0.0.0+unknown")
True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__", "package_version"]


def package_version(name: str, default: str = "-") -> str:
    """The installed version of the distribution ``name``; ``default`` when it is not installed."""
    try:
        return version(name)
    except PackageNotFoundError:
        return default


#: journeylab's version ("0.0.0+unknown" when running from a source tree that is not installed).
__version__ = package_version("journeylab", "0.0.0+unknown")
