"""The running example of process mining, bundled for documentation and quick checks.

Source: the textbook running example (request for compensation), from the
4TU.ResearchData event-log collection; cite W.M.P. van der Aalst, *Process Mining*.
"""

from __future__ import annotations

from pathlib import Path

from ._files import data_path


def example_path() -> Path:
    """Path of the bundled running-example XES file (6 cases, 42 events, 8 activities).

    Returns
    -------
    pathlib.Path
        The path of ``running-example.xes`` (package data, or ``datasets/`` in a source checkout).

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.datasets.example_path().name
    'running-example.xes'
    """
    return data_path("running-example.xes")


def load_example():
    """The running example as an :class:`~journeylab.EventLog` (6 cases, 42 events).

    The request-for-compensation log of the process-mining textbook, read with
    :func:`journeylab.read_xes` from :func:`example_path`.

    Returns
    -------
    EventLog
        6 cases, 42 events, 8 activities, with ``resource`` and the XES attributes.

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.datasets.load_example().n_events
    42
    """
    from ..readers import read_xes

    return read_xes(example_path())
