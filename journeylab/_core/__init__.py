"""The bottom layer of journeylab: what every other module may use, and which imports nothing of journeylab
but ``journeylab.exceptions``.

- :mod:`.validation` - one checker per kind of parameter, and the ``@checked`` decorator that applies them;
- :mod:`.formatting` - durations, counts, shares, p-values and cut-down values for people;
- :mod:`.results` - the contract every result object follows (``Result``), read-only ``params``, and the one
  HTML table renderer;
- :mod:`.progress` - progress bars (tqdm.auto) that appear only on long work;
- :mod:`.stats` - intervals and tests shared by the analyses;
- :mod:`.io` - atomic writes and output-path checks;
- :mod:`.names` - closest-name suggestions;
- :mod:`.layout` - the layered layout of directed graphs (geometry only: plots and the BPMN export);
- :mod:`.vocabulary` - words and labels shared by analyses, plots and the report;
- :mod:`.backend` - where the events live (DuckDB in process, Spark) and running Ibis expressions there;
- :mod:`.warn` - warnings attributed to the user's line, however deep in journeylab they are raised;
- :mod:`.version`, :mod:`.deprecation` - the package version, and names kept for a release with a warning.

The layer map of the whole package is in CONTRIBUTING.md; ``tests/test_architecture.py`` keeps it.
"""
