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

# --------------------------------------------------------------------------- experience KPIs (group D)

__all__ += ["KPI_KINDS", "KPI_LABELS", "ATTRIBUTION_MODELS", "ATTRIBUTION_MODEL_NAMES"]

#: The survey KPIs journeylab knows, and how they are written for people.
KPI_KINDS = ("nps", "csat", "ces")
KPI_LABELS = {"nps": "NPS", "csat": "CSAT", "ces": "CES"}
#: The attribution models (rule-based first), and their names for people.
ATTRIBUTION_MODELS = ("first", "last", "linear", "u_shaped", "j_curve", "inverse_j", "time_decay", "markov", "shapley")
ATTRIBUTION_MODEL_NAMES = {"first": "first touch", "last": "last touch", "linear": "linear", "u_shaped": "U-shaped",
                           "j_curve": "J-curve", "inverse_j": "inverse J", "time_decay": "time decay",
                           "markov": "Markov", "shapley": "Shapley"}
