"""The report's predictions section (``jl.report(..., predict=True)``, ``journeylab report --predict``):
the held-out evaluation of :func:`~journeylab.predict` against the milestone baseline, its figures and the
customers in flight most and least likely to reach the goal."""

from __future__ import annotations

from ..exceptions import JourneylabError
from .data import model_log
from .html import figure as _figure
from .html import note as _note
from .html import section as _section
from .html import table as _table

__all__ = ["prediction_sections"]


def prediction_sections(log, journey, *, target: str = "goal", horizon: str = "14d",
                        sample: int | None = None) -> list[str]:
    """The predictions section as HTML (one string in a list), or a one-sentence note when it cannot be
    computed (no journey, no goal, too short a history). With ``sample`` and a log of more customers, the
    model learns from and scores a uniform random sample of that many customers (the section says so)."""
    from ..predictions import predict

    title = "Predictions for the customers in flight"
    if journey is None:
        return [_section(title, _note("Give a journey (--journey) to score the customers still in it."))]
    try:
        log, sampled = model_log(log, sample)
        pred = predict(log, journey, target=target, horizon=horizon, random_state=0)
    except JourneylabError as err:
        return [_section(title, _note(f"Not computed: {err}"))]
    cols = [c for c in pred.scores.columns if not c.startswith("effect:")]
    ranked = pred.scores[cols].sort_values(pred.column, ascending=False) if pred.column in cols else pred.scores[cols]
    said = _note(sampled + " The customers scored below are those of the sample.") if sampled else ""
    body = (_note(repr(pred)) + said + _table(pred.evaluation.metrics) + _figure(pred.plot())
            + _table(pred.importance) + _note("Most likely first:") + _table(ranked.head(10).reset_index()))
    return [_section(title, body)]
