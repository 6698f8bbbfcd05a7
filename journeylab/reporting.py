"""``journeylab.report``: a self-contained HTML (and PDF) report of an event log.

The report is a parameterised notebook shipped in the package (``templates/report.ipynb``,
one cell per section). :func:`report` executes it with papermill in a kernel of the current
Python, exports the outputs without code with nbconvert, and wraps them in one HTML page:
figures are inline PNG images, there is no script and no request to any outside address
(a Content-Security-Policy forbids them), and every string that comes from the data is
escaped. The output files are written atomically: a failed run leaves no half-written report.

Logs that live in an engine: a lazy log (:func:`journeylab.scan_parquet`, :func:`journeylab.from_ibis`
on DuckDB or Spark) cannot be handed to another process, so its report runs the same notebook's
sections in this process (no kernel; ``timeout`` does not apply); each section asks the engine
for its reduced tables, and the input's hash is a fingerprint computed in the engine. A log
file read with ``engine="duckdb"`` or ``"spark"`` (the default for Parquet larger than
``engine_threshold``) is scanned lazily inside the report's kernel. The appendix states the engine.

>>> import journeylab as jl, tempfile, os
>>> out = jl.report(jl.datasets.load_example(), out=os.path.join(tempfile.mkdtemp(), "r.html"))  # doctest: +SKIP
>>> out.name  # doctest: +SKIP
'r.html'
"""

from __future__ import annotations

import os
import pickle
import subprocess
import tempfile
from datetime import datetime, timezone
from html import escape
from importlib import resources
from pathlib import Path
from string import Template

from ._report.sections import file_sha256, frame_sha256, overview  # noqa: F401  (overview: public helper)
from ._core.formatting import show_path
from ._core.io import atomic_write, check_output
from ._core.validation import BOOL, TEXT, Int, Optional, Real, checked
from ._core.version import __version__
from ._core.vocabulary import MODEL_SAMPLE
from .exceptions import FileFormatError, InvalidParameterError, JourneylabError, OutputError

__all__ = ["report", "overview", "ReportError", "ENGINES", "resolve_engine", "parse_size", "many_files"]

_REMOVED_TAGS = ("parameters", "injected-parameters", "report-remove")
_SECONDS = Real(0, low_open=True, example=1800, what="a positive number of seconds, or None for no limit")


def _seconds(value, name):
    """The ``timeout`` kind: a positive number of seconds, checked and kept as given (1, not 1.0)."""
    _SECONDS(value, name)
    return value


ENGINES = ("duckdb", "spark", "memory")
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "kib": 2**10, "mib": 2**20,
          "gib": 2**30, "tib": 2**40}


def parse_size(text) -> int:
    """A size in bytes from ``500MB``, ``2GB``, ``1.5GiB`` or a number of bytes.

    >>> parse_size("500MB"), parse_size(1024)
    (500000000, 1024)
    """
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", str(text))
    if m is None or m.group(2).lower() not in _UNITS:
        raise InvalidParameterError(f"engine threshold {str(text)[:40]!r} is not a size; give e.g. 500MB, 2GB or "
                                    "a number of bytes.")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def many_files(path) -> bool:
    """Whether ``path`` is a folder or a glob of Parquet part files (read by an engine, never in memory).

    >>> many_files("events/part-*.parquet"), many_files("events.parquet")
    (True, False)
    """
    import glob

    return Path(str(path)).expanduser().is_dir() or glob.has_magic(str(path))


def _input_bytes(path) -> int:
    import glob

    p = Path(str(path)).expanduser()
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*.parquet"))
    if glob.has_magic(str(path)):
        return sum(Path(f).stat().st_size for f in glob.glob(str(p), recursive=True))
    return p.stat().st_size if p.is_file() else 0


def resolve_engine(path, engine: str | None = None, threshold="500MB") -> str:
    """Where a log file is read: ``engine`` when given; otherwise DuckDB (:func:`journeylab.scan_parquet`)
    for Parquet larger than ``threshold`` or a folder / glob of part files, and memory for the rest.

    >>> import journeylab as jl
    >>> resolve_engine(str(jl.datasets.example_path())), resolve_engine("x.parquet", "spark")
    ('memory', 'spark')
    """
    if engine not in (None, "auto", *ENGINES):
        raise InvalidParameterError(f"engine={str(engine)[:40]!r} is not one of {list(ENGINES)} (or None: DuckDB "
                                    "for Parquet larger than the threshold, memory otherwise).")
    limit = parse_size(threshold)
    if engine not in (None, "auto"):
        return engine
    if path is None:
        return "memory"
    name = str(path).lower().rstrip("/")
    if many_files(path) or (name.endswith((".parquet", ".pq")) and _input_bytes(path) > limit):
        return "duckdb"
    return "memory"


class ReportError(JourneylabError, RuntimeError):
    """The report notebook could not finish: a section ran out of time or memory, the kernel
    died, or an unexpected error (a bug: please report it)."""


_START_TIMEOUT = 120  # seconds a kernel may take to start (a loaded machine is slow)
_KERNEL_LINK = ("The report runs its notebook in a local Jupyter kernel, a second Python process that talks to "
                "this one over TCP on 127.0.0.1 (the loopback interface).")


def _check_loopback(timeout: float = 3.0) -> None:
    """Check that a TCP connection to 127.0.0.1 works, in ``timeout`` seconds at most.

    The kernel that runs the report talks to this process over the loopback interface; when
    it is down (a network namespace or sandbox without ``lo``) or blocked by a firewall, the
    kernel would start and never be heard - jupyter_client waits two minutes, then fails
    with a bare RuntimeError. This says so at once, with what to do.

    >>> _check_loopback()  # nothing to say on a normal machine
    """
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            server.settimeout(timeout)
            with socket.create_connection(server.getsockname(), timeout=timeout):
                conn, _ = server.accept()
                conn.close()
    except OSError as err:
        why = err.strerror or str(err) or type(err).__name__
        raise ReportError(f"{_KERNEL_LINK} A test connection to 127.0.0.1 failed ({why}), so the kernel could not "
                          "answer. Bring the loopback interface up (as root: `ip link set lo up`) or allow local "
                          "connections to 127.0.0.1 in the firewall or sandbox, then run again.") from None


def _check_outputs(out, pdf, log, journey) -> None:
    """The report's output files can be written and are not its inputs (or each other)."""
    target = check_output(out, name="out", example="report.html")
    pdf_target = None if pdf is None else check_output(pdf, name="pdf", example="report.pdf")
    if pdf_target == target:
        raise OutputError(f"pdf={show_path(pdf)} is the same file as out=; give the PDF its own name, e.g. "
                          f"pdf={show_path(Path(target).with_suffix('.pdf').name)}.")
    for what, source in (("log", log), ("journey", journey)):
        if not isinstance(source, (str, os.PathLike)):
            continue
        read = Path(os.path.realpath(Path(source).expanduser()))
        for name, written, given in (("out", target, out), ("pdf", pdf_target, pdf)):
            if written == read:
                raise OutputError(f"{name}={show_path(given)} is the {what} file the report reads; writing the "
                                  f"report there would replace it. Give another name, e.g. "
                                  f"{name}={'report.pdf' if name == 'pdf' else 'report.html'!r}.")


def _kernel_manager_class(workdir: Path):
    """A kernel manager whose only kernel is this Python (not whatever ``python3`` spec is installed),
    quiet, without progress bars, with a non-interactive matplotlib backend and without the
    user's IPython profile (its startup files would print into the report)."""
    import site

    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    from ._core.backend import settings

    env = {"TQDM_DISABLE": "1", "MPLBACKEND": "Agg", "IPYTHONDIR": str(workdir / "ipython")}
    # the DuckDB settings of this process (engine.configure, environment) hold in the kernel too
    duck = settings()
    env.update({"JOURNEYLAB_DUCKDB_MEMORY_LIMIT": str(duck["memory_limit"]),
                "JOURNEYLAB_DUCKDB_TEMP_DIRECTORY": str(duck["temp_directory"])})
    if duck["threads"] is not None:
        env["JOURNEYLAB_DUCKDB_THREADS"] = str(duck["threads"])
    # the kernel imports the same journeylab as this process: a checkout or a --target folder is
    # put on its path; an installed package is found there anyway (and site-packages must not
    # come before the standard library)
    here = str(Path(__file__).resolve().parent.parent)
    installed = {str(Path(p).resolve()) for p in [*site.getsitepackages(), site.getusersitepackages()]}
    if here not in installed:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)

    class _ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            spec = get_kernel_dict()
            spec["argv"] = [*spec["argv"], "--log-level=ERROR"]
            return KernelSpec(resource_dir=RESOURCES, env=env, **spec)

    class _ReportKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _default_ksm(self):
            return _ThisPython(data_dir=self.data_dir)

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # the kernel's own stderr (e.g. the tracebacks of a kernel stopped at a timeout) is noise
            # for the caller: errors of the sections come back through the protocol
            kw.setdefault("stderr", subprocess.DEVNULL)
            return await super()._async_launch_kernel(kernel_cmd, **kw)

    return _ReportKernelManager


def _execute(params: dict, workdir: Path, *, progress: bool, timeout: int | None):
    """Run the report notebook with ``params``; returns the executed notebook node."""
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from . import exceptions

    nb = nbformat.reads((resources.files("journeylab.templates") / "report.ipynb").read_text(encoding="utf-8"),
                        as_version=4)
    try:
        return papermill.execute_notebook(
            nb, None, parameters=params, kernel_name="python3", kernel_manager_class=_kernel_manager_class(workdir),
            progress_bar=progress, cwd=str(workdir), execution_timeout=timeout, start_timeout=_START_TIMEOUT,
        )
    except PapermillExecutionError as err:
        cls = getattr(exceptions, err.ename, None)
        if isinstance(cls, type) and issubclass(cls, JourneylabError):
            raise cls(err.evalue) from None
        if err.ename == "MemoryError":
            raise ReportError(f"The report ran out of memory in section {err.exec_count}. Report on a sample of "
                              "the cases (e.g. log.filter_variants(coverage=0.8)) or on a larger machine.") from None
        raise ReportError(f"The report notebook failed in section {err.exec_count} with {err.ename}: {err.evalue}. "
                          "This is a journeylab bug; please report it with the input that caused it.") from None
    except CellTimeoutError:
        raise ReportError(f"A section of the report took longer than timeout={timeout} s and was stopped. Give a "
                          "larger timeout (timeout=None for no limit; --timeout SECONDS on the command line), "
                          "or report on a sample of the cases.") from None
    except DeadKernelError:
        raise ReportError("The report's Python kernel died (out of memory?). Report on a sample of the cases "
                          "or on a larger machine.") from None
    except RuntimeError as err:
        if not str(err).startswith("Kernel didn't respond"):  # jupyter_client's start timeout
            raise
        raise ReportError(f"The report's Python kernel did not answer within {_START_TIMEOUT} s of starting. "
                          f"{_KERNEL_LINK} Check that local connections to 127.0.0.1 work and that the machine is "
                          "not overloaded, then run again.") from None


def _export(nb) -> str:
    """The notebook's outputs as HTML, without code, parameter cells, stderr or widgets."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", [])
                               if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                               and "application/vnd.jupyter.widget-view+json" not in o.get("data", {})]
    nb.metadata.pop("widgets", None)
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, exclude_markdown=True, exclude_raw=True)
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=set(_REMOVED_TAGS), enabled=True),
                                   enabled=True)
    body, _ = exporter.from_notebook_node(nb)
    return body


def _files_sha256(path) -> str:
    """SHA-256 of the bytes of a file, or of the part files of a folder / glob (sorted by name)."""
    import hashlib

    from .readers import _parquet_files

    p = Path(str(path)).expanduser()
    if p.is_file():
        return file_sha256(p)
    files, _ = _parquet_files(path)
    h = hashlib.sha256()
    for f in files:
        h.update(Path(f).name.encode() + b"\x00" + file_sha256(f).encode())
    return h.hexdigest()


def _input(log, options: dict, workdir: Path, engine: str = "memory") -> tuple[dict, str, str]:
    """Notebook parameters that hand ``log`` to the kernel, the input's label and its hash."""
    from .log import EventLog

    if log is None:
        from .datasets import retail_files

        path = retail_files()["events"]
        return {}, "the bundled retail sample", file_sha256(path)
    if isinstance(log, EventLog):
        if log.is_lazy:  # runs in this process (see _run_here): the engine's fingerprint, not the events
            source = log._meta.get("source")
            label = f"EventLog in {log.backend} ({Path(str(source)).name if source else 'Ibis table'})"
            return ({"handed_log": log, "hash_of": f"fingerprint of the events computed in {log.backend}: counts, "
                     "time range and aggregates of row hashes"}, label, frame_sha256(log))
        pkl = workdir / "log.pkl"
        with open(pkl, "wb") as fh:
            pickle.dump(log, fh, protocol=pickle.HIGHEST_PROTOCOL)
        source = log._meta.get("source")
        label = f"EventLog ({Path(str(source)).name if source else 'DataFrame'})"
        return {"log_pickle": str(pkl), "hash_of": "of the events: their row hashes in order"}, label, \
            frame_sha256(log)
    if isinstance(log, (str, os.PathLike)):
        import glob

        path = Path(log).expanduser().resolve()
        many = engine != "memory" and (path.is_dir() or glob.has_magic(str(log)))
        if not path.is_file() and not many:
            raise FileFormatError(f"{log}: no such file; give the path of an event log (.xes, .xes.gz, .csv, "
                                  ".parquet; a folder of Parquet part files with engine='duckdb' or 'spark').")
        where = str(path) if not glob.has_magic(str(log)) else str(Path(log).expanduser())
        return ({"log_path": where, "read_options": options, "engine": engine}, path.name,
                _files_sha256(where))
    raise InvalidParameterError(f"log must be an EventLog, the path of a log file or None (the bundled sample), "
                                f"not {type(log).__name__}.")


def _journey_yaml(journey) -> tuple[str | None, str | None]:
    from .journey import Journey

    if journey is None:
        return None, None
    if isinstance(journey, Journey):
        return journey.to_yaml(), f"journey {journey.name!r}"
    if isinstance(journey, (str, os.PathLike)):
        path = Path(journey).expanduser()
        Journey.from_yaml(path)  # a clear error now rather than from inside the notebook
        return path.read_text(encoding="utf-8"), path.name
    raise InvalidParameterError(f"journey must be a Journey, the path of a YAML definition or None, "
                                f"not {type(journey).__name__}.")


def _give_back_memory() -> None:
    """After a section: free its cycles and hand the C heap's free pages back to the system (glibc's
    ``malloc_trim``; elsewhere nothing). A section's big tables are freed when it ends, but without this the
    process keeps their pages, and on a log of 100M events the sections' peaks pile up in its footprint."""
    import ctypes
    import gc
    import sys

    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # not glibc (musl): nothing to hand back this way
            pass


def _run_here(params: dict, *, progress: bool) -> str:
    """Run the report notebook's cells in this process (a lazy log cannot go to a kernel): the same
    code, with ``display`` collecting each section's HTML. Returns the sections' HTML."""
    import warnings

    import nbformat

    from ._core.progress import progress as _progress

    nb = nbformat.reads((resources.files("journeylab.templates") / "report.ipynb").read_text(encoding="utf-8"),
                        as_version=4)
    cells = [c for c in nb.cells if c.get("cell_type") == "code"]
    parts: list[str] = []
    space: dict = {"__name__": "journeylab_report"}
    with warnings.catch_warnings():
        for i, cell in enumerate(_progress(cells, total=len(cells), desc="report sections", enabled=progress), 1):
            try:
                exec(compile(cell.source, f"<report cell {i}>", "exec"), space)
            except JourneylabError:
                raise
            except MemoryError:
                raise ReportError(f"The report ran out of memory in section {i}. Give DuckDB less memory or more "
                                  "spill room (jl.engine.configure(memory_limit=..., temp_directory=...)), or "
                                  "report on a sample of the cases.") from None
            except Exception as err:
                raise ReportError(f"The report failed in section {i} with {type(err).__name__}: {err}. This is a "
                                  "journeylab bug; please report it with the input that caused it.") from err
            _give_back_memory()
            if "parameters" in cell.metadata.get("tags", []):
                space.update(params)
            elif "display" in space and not getattr(space["display"], "_journeylab", False):
                def collect(obj, *_, **__):
                    parts.append(getattr(obj, "data", None) or str(obj))
                collect._journeylab = True
                space["display"] = collect
    return "\n".join(parts)


@checked(top_variants=Int(minimum=1, example=10), segment_by=Optional(TEXT), progress=BOOL, deduplicate=BOOL,
         timeout=Optional(_seconds), predict=BOOL, model_sample=Optional(Int(minimum=1, example=250_000)))
def report(log=None, *, journey=None, out="build/report.html", pdf=None, title: str | None = None,
           segment_by: str | None = None, top_variants: int = 10, progress: bool = True,
           timeout: int | None = 1800, engine: str | None = None, engine_threshold="500MB", case=None, activity=None, timestamp=None, channel=None, customer=None,
           resource=None, lifecycle=None, value=None, sep=None, tz=None, on_invalid: str | None = None,
           deduplicate: bool = False, classifier=None, encoding: str | None = None, predict: bool = False,
           model_sample: int | None = MODEL_SAMPLE) -> Path:
    """Write a self-contained HTML report of an event log (and optionally a PDF of it).

    Sections: data overview and quality warnings; process map, variants and top paths;
    conformance with the happy path, the milestone funnel, stalls, fallout and attrition;
    segments and their tested differences; goal attainment and the A/B verdict; the journey
    map and KPIs per touchpoint; an appendix to reproduce it (versions, parameters, a hash
    of the input). A section that needs what the input lacks says what to add.

    Parameters
    ----------
    log : EventLog (in memory, or lazy: DuckDB or Spark - see below), the path of a log file (.xes,
        .xes.gz, .csv, .parquet, or a folder / glob of Parquet part files with ``engine="duckdb"`` or
        ``"spark"``; read with
        the ``case``/``activity``/``timestamp``/``channel``/``customer``/``resource``/
        ``lifecycle``/``value``/``sep``/``tz``/``on_invalid``/``deduplicate``/``classifier`` (XES)/
        ``encoding`` (CSV) options), or
        None: the bundled retail sample (with its journey unless ``journey`` is given).
    journey : Journey, the path of a YAML journey definition, or None.
    out : the HTML file to write (its folder is created). Checked before the work starts: a
        folder, a path under a file, a FIFO or device, a read-only place, or an input file of
        the report raise :class:`~journeylab.exceptions.OutputError`.
    pdf : optional PDF file, printed from the HTML with a local Chromium (error if none);
        checked like ``out``.
    title : the report's title (default "journeylab report").
    segment_by : a case attribute (e.g. "region") to segment by; default: behavioural segments.
    top_variants : how many variants the variant table shows.
    progress : a progress bar, section by section (papermill's, tqdm); False for none.
    timeout : seconds one section may take (None: no limit). Not for a lazy log (its sections run
        in this process).
    engine : where a log *file* is read and reduced: "duckdb" (:func:`journeylab.scan_parquet`:
        the events stay in DuckDB, which spills to disk beyond its memory limit), "spark" (a
        table of the active Spark session or of a local one), "memory" (pandas); None: "duckdb"
        for Parquet larger than ``engine_threshold`` (e.g. ``"500MB"``) or a folder of part files,
        "memory" otherwise. A lazy EventLog stays where it lives. The appendix says which ran.
    predict : add a section of predictions for the customers in flight (:func:`journeylab.predict` on the
        journey's goal, 14-day horizon: held-out metrics against the baseline, figures, the top scores).
    model_sample : the segments (clustering and tested differences), the drivers and the predictions are
        fitted on a uniform random sample of this many customers (:meth:`EventLog.sample_customers`, seed 0)
        when the log has more, and say so; None fits them on every customer. The other sections always
        count every customer. Default 250,000: the estimates are as sure as they usefully get, and the
        work stays bounded however big the log.
    case, activity, timestamp, channel, customer, resource, lifecycle, value, sep, tz, on_invalid, deduplicate, \
classifier, encoding : the reading options when ``log`` is a path (see :func:`journeylab.read_csv`,
        :func:`journeylab.read_xes`).

    Returns
    -------
    pathlib.Path
        The path of the HTML file written.

    Raises
    ------
    OutputError
        ``out`` or ``pdf`` cannot be written (checked before the work starts).
    ReportError
        A section ran out of time or memory, or the kernel died.

    Examples
    --------
    >>> import journeylab as jl
    >>> jl.report(out="build/report.html")  # doctest: +SKIP
    PosixPath('build/report.html')
    >>> jl.report("log.csv", case="id", activity="step", timestamp="ts", journey="journey.yaml",
    ...           out="report.html", pdf="report.pdf")  # doctest: +SKIP
    """
    from ._report.browser import INSTALL_HINT, find_chromium, print_pdf

    if pdf is not None and find_chromium() is None:
        raise JourneylabError(f"No Chromium or Chrome to print {pdf} with: {INSTALL_HINT}")
    _check_outputs(out, pdf, log, journey)  # a clear OutputError now, not after minutes of work
    out = Path(out).expanduser()
    title = title or "journeylab report"
    options = {k: v for k, v in dict(case=case, activity=activity, timestamp=timestamp, channel=channel,
                                     customer=customer, resource=resource, lifecycle=lifecycle, value=value, sep=sep,
                                     tz=tz, on_invalid=on_invalid, deduplicate=deduplicate or None,
                                     classifier=classifier, encoding=encoding).items()
               if v is not None}
    journey_yaml, journey_source = _journey_yaml(journey)
    from .log import EventLog

    lazy = isinstance(log, EventLog) and log.is_lazy
    where = resolve_engine(log, engine, engine_threshold) if isinstance(log, (str, os.PathLike)) else "memory"
    if not lazy:
        _check_loopback()
    with tempfile.TemporaryDirectory(prefix="journeylab-report-") as tmp:
        handover, label, digest = _input(log, options, Path(tmp), where)
        shown = {"log": label, **options,
                 "journey": journey_source or ("the sample's journey" if log is None else None),
                 "segment_by": segment_by, "top_variants": top_variants, "title": title,
                 "engine": log.backend if lazy else where, "predict": predict, "model_sample": model_sample}
        params = {**handover, "journey_yaml": journey_yaml, "journey_source": journey_source,
                  "segment_by": segment_by, "top_variants": top_variants, "input_label": label, "predict": predict,
                  "model_sample": model_sample,
                  "input_hash": digest, "run_params": shown}
        if lazy:
            body = _run_here(params, progress=progress)
        else:
            body = _export(_execute(params, Path(tmp), progress=progress, timeout=timeout))
    html = Template((resources.files("journeylab.templates") / "report.html").read_text(encoding="utf-8")).substitute(
        title=escape(title),
        subtitle=escape(f"Source: {label}"),
        sections=body,
        version=escape(__version__),
        generated=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    )
    written = atomic_write(out, html, name="out", example="report.html")
    if pdf is not None:
        print_pdf(written, pdf)
    return written
