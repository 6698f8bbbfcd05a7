"""Names removed from a public module keep working for one release, with a DeprecationWarning.

A module that lost a name users could import (a helper that moved to ``_core``, say) ends with::

    __getattr__ = moved_names(__name__, {"format_timedelta": (format_duration, "journeylab._core.formatting.format_duration")})

>>> import warnings
>>> get = moved_names("journeylab.demo", {"old": (42, "journeylab.demo.new")})
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     value = get("old")
>>> value, caught[0].category.__name__
(42, 'DeprecationWarning')
>>> str(caught[0].message)
'journeylab.demo.old is deprecated and goes in the next release; use journeylab.demo.new.'
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

__all__ = ["moved_names"]


def moved_names(module: str, names: Mapping[str, tuple[object, str]]) -> Callable[[str], object]:
    """A module ``__getattr__`` that hands out the ``names`` removed from ``module`` (name -> (value, where
    it lives now)), each with a DeprecationWarning pointing at the caller, and raises AttributeError
    for any other name."""

    def __getattr__(name: str):
        if name in names:
            value, where = names[name]
            warnings.warn(f"{module}.{name} is deprecated and goes in the next release; use {where}.",
                          DeprecationWarning, stacklevel=2)
            return value
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
