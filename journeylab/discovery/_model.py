"""Process models found by pm4py on the variant table (:func:`discover_model`, :class:`Model`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from .._core.io import atomic_write, check_output
from .._core.names import did_you_mean
from .._core.results import FrozenMap, Result
from .._core.validation import BOOL, LOG, Share, checked
from .._kernels import pm4py as _pm4py
from .._kernels.scans import variant_table
from ..exceptions import InvalidParameterError

__all__ = ["Model", "discover_model"]

_ALGORITHMS = ("inductive", "heuristics")


def _algorithm(value, name):
    """The ``algorithm`` parameter kind: one of the miners (the message names the closest)."""
    if not isinstance(value, str) or value not in _ALGORITHMS:
        raise InvalidParameterError(f"{name}={value!r} is not available; use 'inductive' or 'heuristics'."
                                    + (did_you_mean(value, _ALGORITHMS) if isinstance(value, str) else ""))
    return value


@dataclass(frozen=True, eq=False, repr=False)
class Model(Result):
    """A process model discovered by pm4py from the variant table (see :func:`discover_model`).

    Attributes
    ----------
    algorithm : "inductive" or "heuristics".
    tree : pm4py ``ProcessTree`` (inductive miner only, else None).
    net, initial_marking, final_marking : the accepting Petri net.
    fitness : token-based replay log fitness (as ``pm4py.fitness_token_based_replay``).
    precision : ETConformance precision (as ``pm4py.precision_token_based_replay``).
    quality : fitness, average trace fitness, share of fitting cases and precision.
    variant_fitness : per variant: ``variant``, ``count``, ``trace_fitness``, ``fits``.
    n_cases, n_variants : of the log the model was found on.
    params : the arguments of :func:`discover_model` (read-only).
    """

    algorithm: str
    tree: object
    net: object
    initial_marking: object
    final_marking: object
    fitness: float
    precision: float
    quality: dict
    variant_fitness: pd.DataFrame
    n_cases: int
    n_variants: int
    params: FrozenMap = field(default_factory=FrozenMap)

    @property
    def activities(self) -> tuple[str, ...]:
        """Visible activities of the model, sorted."""
        return tuple(sorted({t.label for t in self.net.transitions if t.label is not None}))

    @property
    def bpmn(self):
        """The model as a pm4py BPMN object."""
        return _pm4py.to_bpmn(self.tree) if self.tree is not None else _pm4py.to_bpmn(
            self.net, self.initial_marking, self.final_marking)

    def tree_structure(self) -> dict | None:
        """The process tree as plain nested dicts (None for a heuristics model).

        ``{"operator": str|None, "label": str|None, "children": [...]}``; ``operator`` is one of
        "sequence", "choice", "parallel", "loop", "or" (None for a leaf); a leaf whose ``label``
        is None is a silent step.
        """
        return None if self.tree is None else _pm4py.tree_structure(self.tree)

    def net_structure(self) -> dict:
        """The Petri net as plain data: ``places`` (``id``, ``initial``, ``final`` tokens),
        ``transitions`` (``id``, ``label`` - None when silent) and ``arcs`` (pairs of ids)."""
        return _pm4py.net_structure(self.net, self.initial_marking, self.final_marking)

    def to_frame(self) -> pd.DataFrame:
        """Per variant: ``variant``, ``count``, ``trace_fitness``, ``fits`` (a copy)."""
        return self.variant_fitness[["variant", "count", "trace_fitness", "fits"]].copy()

    @property
    def summary(self) -> pd.DataFrame:
        """The miner, the model's size and its quality against the log."""
        q = self.quality
        if math.isnan(q.get("log_fitness", math.nan)):
            q = {"log_fitness": math.nan, "percentage_of_fitting_traces": math.nan, "precision": math.nan}
        rows = [("algorithm", self.algorithm), ("noise", f"{self.params.get('noise', 0.0):g}"),
                ("activities", f"{len(self.activities):,}"),
                ("variants / cases", f"{self.n_variants:,} / {self.n_cases:,}"),
                ("fitness (token replay)", f"{q['log_fitness']:.3f}"),
                ("fitting cases", f"{q['percentage_of_fitting_traces']:.1f}%"),
                ("precision (ETC)", f"{q['precision']:.3f}")]
        return pd.DataFrame(rows, columns=["metric", "value"]).set_index("metric")

    def __repr__(self) -> str:
        kind = "process tree" if self.tree is not None else "Petri net"
        q = (f"fitness {self.fitness:.3f}, precision {self.precision:.3f}" if not math.isnan(self.fitness)
             else "quality not computed (quality=False)")
        return (f"Model: {self.algorithm} {kind} over {len(self.activities):,} activities from "
                f"{self.n_variants:,} variants ({self.n_cases:,} cases); {q}")

    def plot(self, ax=None, *, kind: str | None = None, **kwargs):
        """Draw the process tree (``kind="tree"``, default when there is one) or the Petri net (``"net"``).

        See :func:`journeylab.plotting.plot_model`.
        """
        from ..plotting import plot_model

        return plot_model(self, ax=ax, kind=kind, **kwargs)

    def to_bpmn(self, path=None) -> str:
        """BPMN 2.0 XML text of the model; also written to ``path`` when given (atomically; a path that
        cannot be written raises :class:`~journeylab.exceptions.OutputError`)."""
        if path is not None:
            check_output(path, example="model.bpmn")  # a clear OutputError before the conversion
        text = _pm4py.bpmn_xml(self.bpmn)
        if path is not None:
            atomic_write(path, text, example="model.bpmn")
        return text

    def to_pnml(self, path=None) -> str:
        """PNML text of the Petri net; also written to ``path`` when given (atomically; a path that
        cannot be written raises :class:`~journeylab.exceptions.OutputError`)."""
        if path is not None:
            check_output(path, example="model.pnml")  # a clear OutputError before the conversion
        text = _pm4py.pnml_xml(self.net, self.initial_marking, self.final_marking)
        if path is not None:
            atomic_write(path, text, example="model.pnml")
        return text


@checked(log=LOG, algorithm=_algorithm, quality=BOOL,
         noise=Share(allow_zero=True, advice="give a threshold between 0 and 1, e.g. {name}=0.2"))
def discover_model(log, *, algorithm: str = "inductive", noise: float = 0.0, quality: bool = True) -> Model:
    """Discover a process model with pm4py, computed from the variant table.

    The tree equals ``pm4py.discover_process_tree_inductive(log, noise_threshold=noise)`` on
    the full log, and fitness / precision equal pm4py's token-based replay on the full log:
    the log only matters through its variants, each replayed once and weighted by its cases.

    Parameters
    ----------
    log : EventLog
        The events (in memory, or lazy on DuckDB / Spark).
    algorithm : {"inductive", "heuristics"}, default "inductive"
        "inductive": a block-structured process tree (``noise > 0`` uses the infrequent variant
        IMf with that threshold); "heuristics": a heuristics net converted to a Petri net
        (``noise`` is its dependency threshold, pm4py's default 0.5).
    noise : float, default 0.0
        In [0, 1].
    quality : bool, default True
        Compute fitness and precision (token-based replay of each variant, and of each distinct
        prefix for precision). On logs with thousands of long variants this takes minutes (as in
        pm4py); False skips it (``fitness`` and ``precision`` are NaN).

    Returns
    -------
    Model
        The process tree (inductive miner), the accepting Petri net, its quality and the fitness
        of each variant.

    Examples
    --------
    >>> import journeylab as jl
    >>> m = discover_model(jl.datasets.load_example())
    >>> round(m.fitness, 3), round(m.precision, 3)
    (1.0, 0.753)
    """
    table = variant_table(log)
    counter = _pm4py.variant_counter(table)
    if algorithm == "inductive":
        tree = _pm4py.inductive_tree(counter, noise=noise)
        net, im, fm = _pm4py.to_petri_net(tree)
    else:
        tree = None
        net, im, fm = _pm4py.to_petri_net(_pm4py.heuristics_net(counter, dependency_threshold=noise))
    if quality:
        fit, per = _pm4py.replay_fitness(net, im, fm, counter)
        prec = _pm4py.etc_precision(net, im, fm, counter)
    else:
        fit = {"log_fitness": math.nan, "average_trace_fitness": math.nan, "percentage_of_fitting_traces": math.nan}
        per = pd.DataFrame({"variant": list(counter), "count": list(counter.values()),
                            "trace_fitness": math.nan, "fits": pd.NA})
        prec = math.nan
    return Model(
        algorithm=algorithm, tree=tree, net=net, initial_marking=im, final_marking=fm,
        fitness=float(fit["log_fitness"]), precision=float(prec), quality={**fit, "precision": float(prec)},
        variant_fitness=per, n_cases=int(table["count"].sum()), n_variants=len(table),
        params={"algorithm": algorithm, "noise": noise, "quality": bool(quality)},
    )
