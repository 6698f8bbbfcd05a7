"""Print a local HTML file to PDF with a headless Chromium/Chrome found on this machine.

No browser is downloaded: :func:`find_chromium` looks for one (the ``JOURNEYLAB_CHROMIUM``
environment variable first, then ``chromium``, ``chromium-browser``, ``google-chrome``,
``google-chrome-stable`` and ``chrome`` on the ``PATH``), and :func:`print_pdf` runs it
headless with a throw-away profile and every background service turned off, so printing
works offline, for any user, and leaves nothing behind but the PDF.

Examples
--------
>>> import journeylab as jl
>>> from journeylab._report.browser import find_chromium, print_pdf
>>> find_chromium()  # doctest: +SKIP
'/usr/bin/chromium'
>>> html = jl.report(out="build/report.html")  # doctest: +SKIP
>>> print_pdf(html, "build/report.pdf")  # doctest: +SKIP
PosixPath('build/report.pdf')
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from .._core.io import atomic_write, check_output
from ..exceptions import FileFormatError, InvalidParameterError, JourneylabError

__all__ = ["find_chromium", "print_pdf"]

ENV_VAR = "JOURNEYLAB_CHROMIUM"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
INSTALL_HINT = (f"install one with `apt-get install chromium` (Debian/Ubuntu) or set {ENV_VAR} "
                "to the path of a Chrome/Chromium binary")

# Headless printing with nothing sent to the network: no background services, no updates, no
# sync or sign-in, and every host name resolves to nothing (the report is a local file).
_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--safebrowsing-disable-auto-update",
    "--metrics-recording-only",
    "--no-pings",
    "--no-first-run",
    "--no-default-browser-check",
    "--password-store=basic",
    "--no-proxy-server",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--no-pdf-header-footer",
)

# stderr lines that are noise on a machine without a desktop session (D-Bus, the Debian launcher)
_NOISE = ("dbus", "Failed to connect to the bus", "unexpected operator", "bytes written to file")


def find_chromium() -> str | None:
    """The path of a Chromium/Chrome binary on this machine, or None when there is none.

    ``JOURNEYLAB_CHROMIUM`` (a path, or a command name on the ``PATH``) wins; when it is set
    but names no executable file, that is an error rather than a silent fall-back. Otherwise
    the first of chromium, chromium-browser, google-chrome, google-chrome-stable and chrome
    found on the ``PATH``.

    >>> find_chromium()  # doctest: +SKIP
    '/usr/bin/chromium'
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"JOURNEYLAB_CHROMIUM": "/nonexistent/chromium"}):
    ...     find_chromium()
    Traceback (most recent call last):
    ...
    journeylab.exceptions.InvalidParameterError: JOURNEYLAB_CHROMIUM='/nonexistent/chromium' is not an executable file; ...
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        path = shutil.which(os.path.expanduser(env))
        if path is None:
            raise InvalidParameterError(
                f"{ENV_VAR}={env!r} is not an executable file; point it at a Chrome/Chromium binary "
                "(e.g. /usr/bin/chromium after `apt-get install chromium` on Debian/Ubuntu), "
                "or unset it to search the PATH."
            )
        return path
    for name in CANDIDATES:
        path = shutil.which(name)
        if path is not None:
            return path
    return None


def _last_line(stderr: bytes) -> str:
    """The last meaningful line of Chromium's stderr (D-Bus and launcher chatter skipped)."""
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines()]
    lines = [ln for ln in lines if ln and not any(n in ln for n in _NOISE)]
    return lines[-1] if lines else "(no message on stderr)"


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill the browser and every helper process it started (they share its process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def print_pdf(html_path: str | os.PathLike, pdf_path: str | os.PathLike, *, timeout: float = 120) -> Path:
    """Print the local HTML file ``html_path`` to the PDF ``pdf_path`` with headless Chromium.

    The browser runs with a temporary profile and no network (see the module docstring).
    The PDF is written atomically: it only replaces ``pdf_path`` once it is complete and
    starts with ``%PDF``; on any failure no file is left and a previous ``pdf_path`` is
    untouched. Raises :class:`~journeylab.exceptions.JourneylabError` when no browser is
    found (with how to install one), when the browser fails or takes longer than ``timeout``
    seconds (with the last line of its error output),
    :class:`~journeylab.exceptions.FileFormatError` when ``html_path`` does not exist, and
    :class:`~journeylab.exceptions.OutputError` when ``pdf_path`` cannot be written (a
    folder, a FIFO or device, a read-only place; checked before the browser starts).

    >>> print_pdf("build/report.html", "build/report.pdf")  # doctest: +SKIP
    PosixPath('build/report.pdf')
    >>> print_pdf("no/such/report.html", "out.pdf")
    Traceback (most recent call last):
    ...
    journeylab.exceptions.FileFormatError: html_path='no/such/report.html' does not exist; ...
    """
    html = Path(html_path)
    if not html.is_file():
        what = "is a folder, not a file" if html.is_dir() else "does not exist"
        raise FileFormatError(f"html_path={str(html_path)!r} {what}; give the HTML file to print, "
                              "e.g. the path jl.report(...) returned.")
    check_output(pdf_path, name="pdf_path", example=html.stem + ".pdf")  # OutputError before the browser runs
    pdf = Path(pdf_path).expanduser()
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise InvalidParameterError(f"timeout={timeout!r} must be a positive number of seconds, e.g. 120.")
    browser = find_chromium()
    if browser is None:
        raise JourneylabError(f"No Chrome/Chromium browser was found to print the PDF; {INSTALL_HINT}.")

    with tempfile.TemporaryDirectory(prefix="journeylab-chromium-", ignore_cleanup_errors=True) as tmp, \
            tempfile.TemporaryFile() as err:
        tmp = Path(tmp)
        out = tmp / "print.pdf"
        cmd = [browser, *_FLAGS, f"--user-data-dir={tmp / 'profile'}", f"--print-to-pdf={out}",
               html.resolve().as_uri()]
        # crash reports, caches and desktop settings go to the throw-away folder, not to $HOME
        env = dict(os.environ, XDG_CONFIG_HOME=str(tmp / "config"), XDG_CACHE_HOME=str(tmp / "cache"))
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                    env=env, cwd=tmp, start_new_session=True)
        except OSError as exc:
            raise JourneylabError(f"Could not start the browser {browser!r} ({exc.strerror or exc}); "
                                  f"{INSTALL_HINT}.") from None
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            err.seek(0)
            raise JourneylabError(f"{browser} did not print {str(html)!r} within {timeout:g} s and was stopped; "
                                  f"its last message: {_last_line(err.read())}") from None
        except BaseException:  # Ctrl-C: leave no browser behind
            _kill_group(proc)
            raise
        _kill_group(proc)  # helpers that outlive the main process
        err.seek(0)
        message = _last_line(err.read())
        if code != 0:
            raise JourneylabError(f"{browser} failed to print {str(html)!r} to PDF (exit status {code}): {message}")
        data = out.read_bytes() if out.is_file() else b""
        if not data.startswith(b"%PDF"):
            what = "wrote no PDF" if not data else "wrote a file that is not a PDF"
            raise JourneylabError(f"{browser} {what} for {str(html)!r}: {message}")
    return atomic_write(pdf, data, name="pdf_path", example=html.stem + ".pdf")
