"""Words and labels shared by the analyses, their plots and the report, defined once.

Plots import them from here (they know only ``_core``), analyses too.

>>> START, END
('[start]', '[end]')
"""

from __future__ import annotations

__all__ = ["START", "END"]

#: name of the artificial start node of a process map (and of a path that reaches the case start)
START = "[start]"
#: name of the artificial end node of a process map (and of a path that reaches the case end)
END = "[end]"
