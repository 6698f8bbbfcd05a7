"""Warnings that point at the user's line.

A warning raised deep inside journeylab - in a kernel, behind an analysis and its ``@checked``
wrapper - must name the line of the notebook or script that called journeylab, whatever the number
of journeylab frames in between. :func:`warn` finds that frame (the first one outside the package)
instead of counting frames by hand.

>>> import warnings
>>> with warnings.catch_warnings(record=True) as seen:
...     warnings.simplefilter("always")
...     warn("look")
>>> seen[0].category.__name__, str(seen[0].message)
('DataQualityWarning', 'look')
"""

from __future__ import annotations

import os
import sys
import warnings

from ..exceptions import DataQualityWarning

__all__ = ["warn"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def warn(message: str, category: type[Warning] = DataQualityWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the first frame outside journeylab."""
    frame, level = sys._getframe(1), 2  # stacklevel 2 = the caller of warn()
    while frame is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
