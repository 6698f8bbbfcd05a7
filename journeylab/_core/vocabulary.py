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

# ---- the happy path (conformance, its plots and the report)
__all__ += ["DEVIATION_TYPES", "DEVIATION_LABELS", "PATH_STATUSES", "PATH_STATUS_LABELS"]
#: The deviation types of an alignment with the happy path, in the order they are reported.
DEVIATION_TYPES = ("skipped", "out_of_order", "repeated", "unexpected", "incomplete")
#: How deviation types read in tables and plots.
DEVIATION_LABELS = {"skipped": "skipped", "out_of_order": "out of order", "repeated": "repeated",
                    "unexpected": "unexpected", "incomplete": "incomplete"}
#: What happened to a happy-path milestone in a case, best first (the columns of ``Conformance.path``).
PATH_STATUSES = ("in_order", "repeated", "out_of_order", "skipped", "incomplete")
#: How those statuses read in plots.
PATH_STATUS_LABELS = {"in_order": "in order", "repeated": "repeated", "out_of_order": "out of order",
                      "skipped": "skipped", "incomplete": "not reached"}

# --------------------------------------------------------------------------- the report

__all__ += ["MODEL_SAMPLE"]

#: The report fits its models and tests (the segments and their tested differences, the drivers of the goal,
#: the predictions) on a uniform random sample of this many customers when the log has more
#: (``EventLog.sample_customers``): clusters, odds ratios and classifiers are as sure at this size, and the
#: work stays bounded on a log of any size. The counts of the other sections (overview, variants, process
#: map, conformance, funnel, goals, A/B test, KPIs, retention) are always over every customer.
MODEL_SAMPLE = 250_000
