"""The notebooks in a real JupyterLab, driven in the machine's own Chromium (issue 16).

A JupyterLab server is started on a temporary copy of ``notebooks/``, with throw-away Jupyter and
IPython folders (the user's settings and kernels never leak in), a kernel running this interpreter
with this checkout importable, on localhost only, with the news, update checks and extension manager
off. In Chromium (never a browser Playwright downloads; the tests skip with the reason when there is
none or Playwright is missing), as a user does from the menus and with the mouse and keyboard, each
notebook is opened in its own page and its outputs cleared; ``03_discovery`` runs in full (Run > Run
All Cells), ``04_happy_path`` and ``05_segments`` run their set-up cells and their explorer (nbval runs
every cell of every notebook already). The notebooks run at the same time. Then:

- no cell has an error output (on screen, including inside output widgets, or in the saved notebook)
  and every cell started has run;
- the browser reported no error (console errors, uncaught page errors) and fetched nothing from
  outside the machine; neither the notebook's log console (where the traceback of an exception in a
  widget's callback or observer goes, not into a cell) nor the log of JupyterLab and its kernels has a
  traceback;
- each explorer is a live widget (controls and a figure, not a ``VBox(children=...`` repr);
- the process explorer's "activities" slider (an arrow key on its handle) and "segment" menu (from a
  column with a selected value to "(all cases)"), the happy-path explorer's "segment" menu and the
  segment explorer's "map of" menu change the figure and the code shown; the segment explorer's Run
  button goes disabled with "Running..." and back to "Run" with a new result.

A notebook with planted faults shows that each check does catch what it looks for. Screenshots are
saved in ``build/test-artifacts/jupyterlab/``. Deselect with ``-m "not jupyterlab"``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from journeylab._report.browser import find_chromium

try:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "jupyterlab"

CHROMIUM = find_chromium()
_WHY_NOT = (
    "playwright is not importable (pip install -e '.[dev]')" if sync_playwright is None
    else "no Chromium/Chrome on this machine (apt-get install chromium, or set JOURNEYLAB_CHROMIUM)"
    if CHROMIUM is None else "JupyterLab and its kernel are driven with POSIX process groups"
    if sys.platform == "win32" else ""
)
pytestmark = [pytest.mark.jupyterlab, pytest.mark.skipif(bool(_WHY_NOT), reason=_WHY_NOT)]

# Bounded waits (seconds); generous, for a loaded 2-core CI machine.
SERVER_START = 120
NOTEBOOK_OPEN = 90
RUN_ALL = 300
EXPLORER_UPDATE = 60
SEGMENT_RUN = 120

# Console errors the browser may report that say nothing about the notebooks, as (regex, why it is harmless).
# None is known with JupyterLab 4.6 and ipywidgets 8.1: an error is added here only once understood.
HARMLESS_CONSOLE: list[tuple[str, str]] = []

# A traceback in any text output (a cell's or an explorer's output widget); error outputs are also found in the
# saved notebook, by their type.
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|^\w*(Error|Exception)\b.*:", re.MULTILINE)


# --------------------------------------------------------------------------- the server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


# jupyter_server (2.21) lists a kernel as soon as jupyter_client has put it in its table, a turn of the
# event loop before it gives it its `last_activity`: a GET /api/kernels in that turn fails with a 500
# (a TraitError in `kernel_model`), which JupyterLab's polling hits now and then on a busy machine (an
# upstream race, the same as jupyter/notebook#5345 and jupyter-server/enterprise_gateway#1395). The lab
# under test makes its kernels with a manager that has a `last_activity` from its creation, so the race
# cannot happen and "no traceback in the server's log" still checks everything else.
LAB_KERNEL_MANAGER = """\
from datetime import datetime, timezone

from jupyter_server.services.kernels.kernelmanager import ServerKernelManager
from traitlets import default


class StartedKernelManager(ServerKernelManager):
    @default("last_activity")
    def _since_created(self):
        return datetime.now(timezone.utc)
"""


# nothing fetched from the internet: no news, no update check (server and front end); kernels made by
# LAB_KERNEL_MANAGER (module jl_lab_kernels, on the server's path)
LAB_SERVER_CONFIG = {
    "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
               "extension_manager": "readonly"},
    "KernelSpecManager": {"ensure_native_kernel": False},
    "AsyncMappingKernelManager": {"kernel_manager_class": "jl_lab_kernels.StartedKernelManager"},
}


def _descendants(pid: int) -> list[int]:
    """The processes started (directly or not) by ``pid`` - the kernels run in their own sessions."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Lab:
    """A JupyterLab server on a temporary copy of notebooks/, with its own Jupyter folders."""

    def __init__(self, base: Path):
        self.base = base
        self.root = base / "notebooks"
        shutil.copytree(ROOT / "notebooks", self.root,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        config, data = base / "jupyter-config", base / "jupyter-data"
        _write_json(config / "jupyter_server_config.json", LAB_SERVER_CONFIG)
        (base / "lab-python").mkdir()
        (base / "lab-python" / "jl_lab_kernels.py").write_text(LAB_KERNEL_MANAGER, encoding="utf-8")
        settings = config / "lab" / "user-settings" / "@jupyterlab"
        _write_json(settings / "apputils-extension" / "notification.jupyterlab-settings",
                    {"fetchNews": "false", "checkForUpdates": False})
        # the notebooks' kernel ("python3") is this interpreter, whatever kernels the machine has
        _write_json(data / "kernels" / "python3" / "kernel.json", {
            "argv": [sys.executable, "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (journeylab)", "language": "python",
        })
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "IPYTHON", "MPL", "PYTHONSTARTUP", "COVERAGE_PROCESS"))}
        env.update(
            JUPYTER_CONFIG_DIR=str(config), JUPYTER_DATA_DIR=str(data),
            JUPYTER_RUNTIME_DIR=str(base / "jupyter-runtime"), IPYTHONDIR=str(base / "ipython"),
            JUPYTERLAB_SETTINGS_DIR=str(config / "lab" / "user-settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(base / "lab-workspaces"),
            JUPYTER_PLATFORM_DIRS="0", PYDEVD_DISABLE_FILE_VALIDATION="1",
            # the kernel imports journeylab from this checkout (before any installed copy)
            # (and the server its kernel manager, LAB_KERNEL_MANAGER)
            PYTHONPATH=os.pathsep.join([str(ROOT), str(base / "lab-python"),
                                        *filter(None, [os.environ.get("PYTHONPATH")])]),
            NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost",
        )
        self.port = _free_port()
        self.token = secrets.token_hex(24)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = base / "server.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
             f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}", "--ServerApp.terminals_enabled=False",
             *(["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])],
            cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # urllib without the environment's proxies: the server is on localhost
        self._http = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def api(self, path: str, method: str = "GET"):
        req = urllib.request.Request(f"{self.url}/api/{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with self._http.open(req, timeout=10) as resp:
            body = resp.read()
        return json.loads(body) if body else None

    def log_tail(self, n: int = 40) -> str:
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def wait_ready(self) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < SERVER_START:
            if self.proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with status {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if self.api("status") is not None:
                    return time.monotonic() - t0
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                pass
            time.sleep(0.3)
        pytest.fail(f"JupyterLab did not answer within {SERVER_START} s:\n{self.log_tail()}")

    def tracebacks(self) -> list[str]:
        """Tracebacks in the log of the server and its kernels (a failing request handler, a kernel error)."""
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return ["\n".join(lines[i:i + 40]) for i, line in enumerate(lines)
                if "Traceback (most recent call last)" in line]

    def kernel_state(self, path: str) -> str | None:
        """The execution state of the kernel of the notebook at ``path`` (None when it has none yet)."""
        for s in self.api("sessions"):
            if s.get("path") == path and s.get("kernel"):
                return s["kernel"].get("execution_state")
        return None

    def stop(self) -> None:
        """Stop the server and every process it started (the kernels are in their own process groups)."""
        try:
            if self.proc.poll() is None:
                try:  # the kernels first, cleanly
                    for k in self.api("kernels"):
                        self.api(f"kernels/{k['id']}", method="DELETE")
                except (urllib.error.URLError, OSError, ValueError):
                    pass
            pids = _descendants(self.proc.pid)
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                if self.proc.poll() is None:
                    try:
                        os.killpg(self.proc.pid, sig)
                    except ProcessLookupError:
                        pass
                for pid in pids:
                    try:
                        os.kill(pid, sig)
                    except ProcessLookupError:
                        pass
                try:
                    self.proc.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    continue
                if not [p for p in pids if Path(f"/proc/{p}").exists() and _state(p) != "Z"]:
                    break
        finally:
            self._log.close()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The server; its log (with the kernels' output) is kept with the screenshots as jupyterlab.log."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)  # no screenshot of an earlier run left to mislead
    ARTIFACTS.mkdir(parents=True)
    lab = Lab(tmp_path_factory.mktemp("jupyterlab"))
    try:
        started = lab.wait_ready()
        print(f"JupyterLab ready in {started:.1f} s")
        yield lab
    finally:
        lab.stop()
        shutil.copyfile(lab.log_path, ARTIFACTS / "jupyterlab.log")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            # every host name but the server's resolves to nothing: a request to the outside cannot leave the machine
            args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", "--no-proxy-server",
                  "--disable-background-networking", "--disable-component-update", "--no-first-run"],
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def context(browser):
    """One browser context for the module: JupyterLab's scripts are loaded once, then cached."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
    ctx.set_default_timeout(30_000)
    try:
        yield ctx
    finally:
        ctx.close()


# --------------------------------------------------------------------------- a notebook in the browser


class Notebook:
    """A notebook opened in JupyterLab in a page of its own, with what the browser reported there."""

    def __init__(self, context, lab: Lab, name: str):
        self.lab, self.name, self.stem = lab, name, Path(name).stem
        self.page = context.new_page()
        self.console: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("request", self._on_request)
        self.page.on("dialog", lambda d: (self.console.append(f"dialog: {d.message}"), d.dismiss()))
        # a workspace of its own: nothing restored from another notebook's page
        self.page.goto(f"{lab.url}/lab/workspaces/{self.stem}/tree/{name}?reset&token={lab.token}",
                       wait_until="commit")
        self.t0 = time.monotonic()

    def wait_open(self) -> float:
        """Wait until the notebook is on screen with all its cells and its kernel is idle."""
        name, n = self.name, len(self.source())
        # every cell attached (JupyterLab attaches the cells out of view when the browser is idle)
        try:
            self.page.wait_for_function(f"() => document.querySelectorAll('.jp-Notebook .jp-Cell').length === {n}",
                                        timeout=NOTEBOOK_OPEN * 1000, polling=250)
        except PlaywrightError:
            count = self.page.locator(".jp-Notebook .jp-Cell").count()
            self.screenshot("open-timeout")
            pytest.fail(f"{name}: {count} of its {n} cells on screen after {NOTEBOOK_OPEN} s; browser errors: "
                        f"{self.console}")
        self.wait_kernel_idle(NOTEBOOK_OPEN)
        return time.monotonic() - self.t0

    def _on_console(self, msg):
        if msg.type == "error":
            self.console.append(f"console.error: {msg.text}")

    def _on_request(self, request):
        host = urlsplit(request.url).hostname
        if urlsplit(request.url).scheme in ("http", "https", "ws", "wss") and host not in ("127.0.0.1", "localhost"):
            self.outside.append(request.url)

    def close(self):
        """Close the page and shut the notebook's kernel down (it holds the data in memory)."""
        self.page.close()
        try:
            for s in self.lab.api("sessions"):
                if s.get("path") == self.name:
                    self.lab.api(f"sessions/{s['id']}", method="DELETE")
        except (urllib.error.URLError, OSError, ValueError):
            pass

    # ---- what a user does
    def menu(self, menu: str, item: str):
        """Click ``item`` in the ``menu`` of the menu bar."""
        self.page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(menu)}$")).click()
        self.page.locator(".lm-Menu-item:not(.lm-mod-hidden)",
                          has_text=re.compile(rf"^{re.escape(item)}")).first.click()

    @contextmanager
    def shot_on_failure(self):
        """Save the page as "<notebook>-failure.png" when the block fails."""
        try:
            yield self
        except BaseException:
            try:
                self.screenshot("failure")
            except PlaywrightError:
                pass
            raise

    def screenshot(self, what: str, element=None) -> Path:
        """Save the page, or ``element`` whole (the window is made tall enough for it, then restored)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.stem}-{what}.png"
        if element is None:
            self.page.screenshot(path=str(path))
            return path
        size = self.page.viewport_size
        box = element.bounding_box()
        tall = box is not None and box["height"] + 200 > size["height"]
        if tall:  # the notebook scrolls inside the page: a tall cell is only seen whole in a tall window
            self.page.set_viewport_size({"width": size["width"], "height": min(int(box["height"]) + 300, 4000)})
        try:
            element.scroll_into_view_if_needed()
            element.screenshot(path=str(path))
        finally:
            if tall:
                self.page.set_viewport_size(size)
        return path

    def wait_kernel_idle(self, timeout: float) -> None:
        t0 = time.monotonic()
        state = None
        while time.monotonic() - t0 < timeout:
            state = self.lab.kernel_state(self.name)
            if state == "idle":
                return
            time.sleep(0.3)
        pytest.fail(f"{self.name}: the kernel is {state!r}, not idle after {timeout} s\n{self.lab.log_tail()}")

    def prompts(self) -> list[str]:
        return self.page.eval_on_selector_all(
            ".jp-Notebook .jp-CodeCell .jp-InputArea-prompt", "els => els.map(e => e.textContent.trim())")

    def clear_outputs(self) -> None:
        """Edit > Clear Outputs of All Cells: every prompt becomes "[ ]:"."""
        self.menu("Edit", "Clear Outputs of All Cells")
        self.page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]"
            ".every(e => !/\\d/.test(e.textContent))")

    def start_run_all(self) -> None:
        """Clear every output, then Run > Run All Cells (see :meth:`wait_run` for the end)."""
        self.clear_outputs()
        self.t0 = time.monotonic()
        self.ran = None
        self.menu("Run", "Run All Cells")

    def start_cells(self, indices: list[int]) -> None:
        """Clear every output, then run the cells at ``indices`` in order (click the cell, Ctrl+Enter: the
        runs queue up in the kernel); see :meth:`wait_run` for the end."""
        self.clear_outputs()
        self.t0 = time.monotonic()
        self.ran = list(indices)
        cells = self.page.locator(".jp-Notebook .jp-Cell")
        for i in indices:
            prompt = cells.nth(i).locator(".jp-InputPrompt")
            prompt.click()
            self.page.keyboard.press("Control+Enter")
            prompt.filter(has_text=re.compile(r"\[(\*|\d+)\]")).wait_for()  # queued or already done

    def wait_run(self) -> float:
        """Wait until no cell is queued or running any more; the seconds since the run was started (the run may
        have ended before: the notebooks run at the same time and are checked one after the other)."""
        try:
            # cleared prompts are "[ ]:"; queued or running ones "[*]:"; done ones "[n]:"
            self.page.wait_for_function(
                "() => { const p = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputArea-prompt')]"
                ".map(e => e.textContent); return p.some(t => /\\d/.test(t)) && !p.some(t => t.includes('*')); }",
                timeout=RUN_ALL * 1000, polling=500)
        except PlaywrightError:
            self.screenshot("run-timeout")
            pytest.fail(f"{self.name}: the cells did not finish within {RUN_ALL} s; prompts {self.prompts()}\n"
                        f"{self.lab.log_tail()}")
        self.wait_kernel_idle(60)
        return time.monotonic() - self.t0

    def source(self) -> list[dict]:
        """The cells of the notebook as saved on disk."""
        return json.loads((self.lab.root / self.name).read_text(encoding="utf-8"))["cells"]

    def cell_index(self, marker: str) -> int:
        """The index of the one code cell whose source contains ``marker``."""
        found = [i for i, c in enumerate(self.source()) if c["cell_type"] == "code" and marker in "".join(c["source"])]
        assert len(found) == 1, f"{self.name}: code cells {found} contain {marker!r}"
        return found[0]

    def setup_cells(self) -> list[int]:
        """The code cells above the first numbered section ("## 1. ..."): imports, parameters, data."""
        cells = self.source()
        first = next(i for i, c in enumerate(cells)
                     if c["cell_type"] == "markdown" and re.match(r"\s*##\s*1\.", "".join(c["source"])))
        return [i for i, c in enumerate(cells[:first]) if c["cell_type"] == "code"]

    # ---- what is on screen
    def code_cell(self, marker: str):
        """The code cell whose source contains ``marker``."""
        cell = self.page.locator(".jp-Notebook .jp-CodeCell").filter(
            has=self.page.locator(".jp-InputArea-editor", has_text=marker))
        assert cell.count() == 1, f"{self.name}: {cell.count()} code cells contain {marker!r}"
        return cell

    def error_outputs(self) -> list[str]:
        """The text of every output (a cell's, or inside an output widget) that shows a traceback."""
        texts = self.page.eval_on_selector_all(
            '.jp-Notebook .jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]',
            "els => els.map(e => e.textContent)")
        return [t for t in texts if TRACEBACK.search(t)]

    def save_and_read(self) -> dict:
        """Save the notebook (File > Save Notebook) and read it back from disk."""
        path = self.lab.root / self.name
        before = path.stat().st_mtime_ns
        self.menu("File", "Save Notebook")
        deadline = time.monotonic() + 30
        while path.stat().st_mtime_ns == before and time.monotonic() < deadline:
            time.sleep(0.2)
        assert path.stat().st_mtime_ns != before, f"{self.name} was not saved"
        time.sleep(0.3)  # the file is written in one go by the contents manager; let it close
        return json.loads(path.read_text(encoding="utf-8"))

    def check_clean(self) -> None:
        """:meth:`check_outputs` and :meth:`check_console`."""
        self.check_outputs()
        self.check_console()

    def check_outputs(self) -> None:
        """No error output on screen or in the saved notebook, and every cell started has run."""
        shown = self.error_outputs()
        nb = self.save_and_read()
        saved = [f"cell {i}: {o.get('ename')}: {o.get('evalue')}"
                 for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
                 for o in c.get("outputs", []) if o.get("output_type") == "error"]
        ran = range(len(nb["cells"])) if self.ran is None else self.ran
        unrun = [i for i in ran if nb["cells"][i]["cell_type"] == "code" and nb["cells"][i].get("execution_count")
                 is None and "".join(nb["cells"][i]["source"]).strip()]
        problems = []
        if shown or saved:
            problems.append(f"error outputs: {saved}\n" + "\n----\n".join(_strip_ansi(t)[-3000:] for t in shown))
        if unrun:
            problems.append(f"code cells that did not run: {unrun}")
        assert not problems, f"{self.name}: " + "\n".join(problems)

    def log_console(self) -> list[str]:
        """The entries of the notebook's log console - where the kernel's output outside a cell goes, such as
        the traceback of an exception in a widget's callback or observer (an explorer's refresh). The console
        is opened only when it has some."""
        item = self.page.locator(".jp-LogConsoleStatusItem [title]")
        title = item.first.get_attribute("title") if item.count() else None
        found = re.search(r"(\d+) log entr", title or "")
        if not found or found.group(1) == "0":
            return []
        item.first.click()
        entries = self.page.locator(".jp-LogConsolePanel .jp-OutputArea-output")
        entries.first.wait_for(state="attached")
        return [t for t in entries.evaluate_all("els => els.map(e => e.textContent)") if t.strip()]

    def check_console(self, after: str = "") -> None:
        """No error reported by the browser (but the known harmless ones), no request to the outside and no
        traceback in the notebook's log console or in the log of JupyterLab and its kernels; ``after`` says
        what was just done."""
        errors = [m for m in self.console if not any(re.search(p, m) for p, _why in HARMLESS_CONSOLE)]
        errors += [f"log console: {_strip_ansi(t)[-3000:]}" for t in self.log_console() if TRACEBACK.search(t)]
        when = f" after {after}" if after else ""
        assert not errors, f"{self.name}: the browser reported errors{when}:\n" + "\n".join(errors)
        assert not self.outside, f"{self.name}: requests to outside addresses: {self.outside}"
        logged = self.lab.tracebacks()
        assert not logged, "tracebacks in the log of JupyterLab and its kernels:\n" + "\n----\n".join(logged)


def test_the_labs_kernels_are_listed_in_the_turn_before_the_server_marks_them(tmp_path, monkeypatch):
    """The upstream race LAB_KERNEL_MANAGER closes, played without timing: a kernel in the kernel table
    before the server has set its ``last_activity``. Listing the kernels then fails with jupyter_server's own
    kernel manager (the 500 on GET /api/kernels) and works with the lab's, chosen by LAB_SERVER_CONFIG."""
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
    from traitlets import TraitError
    from traitlets.config import Config

    (tmp_path / "jl_lab_kernels.py").write_text(LAB_KERNEL_MANAGER, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    upstream, ours = AsyncMappingKernelManager(), AsyncMappingKernelManager(config=Config(LAB_SERVER_CONFIG))
    for manager in (upstream, ours):
        manager._kernels["k1"] = manager.kernel_manager_factory(parent=manager, kernel_name="python3")
    with pytest.raises(TraitError, match="last_activity"):
        upstream.list_kernels()
    listed = ours.list_kernels()
    assert type(ours._kernels["k1"]).__name__ == "StartedKernelManager"
    assert [k["id"] for k in listed] == ["k1"] and listed[0]["last_activity"].endswith("Z")


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


class Explorer:
    """An explorer's output in a notebook: its widget, its figure."""

    def __init__(self, nb: Notebook, marker: str):
        self.nb = nb
        self.cell = nb.code_cell(marker)
        self.output = self.cell.locator(".jp-Cell-outputArea")

    def check_live(self, min_images: int = 1) -> None:
        """The output is a rendered widget with its controls and a figure, not a text repr."""
        out = self.output
        text = out.inner_text()
        assert "VBox(children=" not in text and "HBox(children=" not in text, (
            f"{self.nb.name}: the explorer shows a text repr, not a widget: {text[:300]!r}")
        assert "Error displaying widget" not in text and "Loading widget" not in text, (
            f"{self.nb.name}: the widget did not render: {text[:300]!r}")
        assert out.locator(".jupyter-widgets.widget-vbox").count() >= 1, f"{self.nb.name}: no widget box"
        assert out.locator(".widget-output").count() >= 1, f"{self.nb.name}: no output widget"
        self.wait_images(min_images)

    def wait_images(self, n: int = 1) -> None:
        self.output.locator(".widget-output img").nth(n - 1).wait_for(timeout=EXPLORER_UPDATE * 1000)
        loaded = self.output.locator(".widget-output img").evaluate_all(
            "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)")
        assert all(loaded), f"{self.nb.name}: an explorer figure did not load: {loaded}"

    def control(self, kind: str, label: str):
        """The control of class ``widget-<kind>`` described by ``label``."""
        ctl = self.output.locator(f".widget-{kind}").filter(
            has=self.nb.page.locator(".widget-label", has_text=re.compile(rf"^{re.escape(label)}$")))
        assert ctl.count() == 1, f"{self.nb.name}: {ctl.count()} {kind} controls described {label!r}"
        return ctl

    def figure(self, where: str = ".widget-output") -> str:
        """A fingerprint of the figures (images) shown in the explorer's output widgets."""
        srcs = self.output.locator(f"{where} img").evaluate_all("imgs => imgs.map(i => i.src)")
        return hashlib.sha256("\n".join(srcs).encode()).hexdigest() if srcs else ""

    def wait_figure_change(self, before: str, what: str, where: str = ".widget-output") -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < EXPLORER_UPDATE:
            now = self.figure(where)
            if now and now != before:
                return time.monotonic() - t0
            time.sleep(0.25)
        self.nb.screenshot(f"no-change-{what}", self.cell)
        pytest.fail(f"{self.nb.name}: {what} did not change the figure within {EXPLORER_UPDATE} s; "
                    f"browser errors: {self.nb.console}; output: {self.output.inner_text()[:1000]!r}\n"
                    f"{self.nb.lab.log_tail(20)}")

    def code_text(self) -> str:
        return " ".join(self.output.locator(".widget-output code").all_inner_texts())


# --------------------------------------------------------------------------- the tests

EXPLORERS = {  # notebook -> the call that makes its explorer (which marks its cell)
    "03_discovery.ipynb": "process_explorer(sessions",
    "04_happy_path.ipynb": "happy_path_explorer(sessions",
    "05_segments.ipynb": "segment_explorer(log",
}

# A notebook with every fault the checks look for, to show that they do catch them.
PLANTED = "zz_planted_faults.ipynb"
PLANTED_CELLS = [
    ("import ipywidgets as W\nfrom IPython.display import Javascript, display\n\n"
     "display(Javascript(\"console.error('planted console error')\"))"),
    "W.VBox([W.Label('planted repr')]).__repr__()",
    "out = W.Output()\ndisplay(out)\nwith out:\n    raise ValueError('planted in a widget')",
    ("b = W.Button(description='planted button')\n"
     "b.on_click(lambda _b: 1 / 0)  # the traceback goes to the log console\nb"),
    "raise ValueError('planted error')",
    "print('never run')",
]


def _write_planted(folder: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in PLANTED_CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, folder / PLANTED)


@pytest.fixture(scope="module")
def notebooks(context, lab):
    """The three notebooks, opened and started one after the other without waiting for the runs: their
    kernels work at the same time. 03 runs in full (Run All Cells); 04 and 05 run their set-up cells and
    the explorer (nbval runs every cell of the notebooks)."""
    _write_planted(lab.root)
    opened: dict[str, Notebook] = {}
    try:
        # one after the other (a page of JupyterLab takes seconds of CPU to start), each started before the
        # next is opened; 03, the longest, first
        for name in [*EXPLORERS, PLANTED]:
            nb = opened[name] = Notebook(context, lab, name)
            with nb.shot_on_failure():
                print(f"{nb.stem}: open with an idle kernel in {nb.wait_open():.1f} s")
                if name in (PLANTED, "03_discovery.ipynb"):
                    if name != PLANTED:
                        nb.screenshot("opened")
                    nb.start_run_all()
                else:
                    nb.start_cells([*nb.setup_cells(), nb.cell_index(EXPLORERS[name])])
        yield opened
    finally:
        for nb in opened.values():
            nb.close()


def test_03_discovery_runs_and_its_explorer_reacts(notebooks):
    with notebooks["03_discovery.ipynb"].shot_on_failure() as nb:
        _check_03(nb)


def _check_03(nb: Notebook) -> None:
    took = nb.wait_run()
    print(f"03_discovery: Run All Cells took {took:.1f} s")
    nb.check_clean()

    ex = Explorer(nb, EXPLORERS[nb.name])
    ex.check_live()
    nb.screenshot("process-explorer", ex.cell)
    assert "filter_values('channel', ['app']" in ex.code_text()

    # the activities slider: one step to the right with the keyboard on its handle
    slider = ex.control("slider", "activities")
    readout = slider.locator(".widget-readout").inner_text().strip()
    before = ex.figure()
    handle = slider.locator(".noUi-handle")
    handle.focus()
    handle.press("ArrowRight")
    took = ex.wait_figure_change(before, "moving the activities slider")
    new_readout = slider.locator(".widget-readout").inner_text().strip()
    assert new_readout != readout, f"the slider readout stayed {readout}"
    assert f"activities={float(new_readout.rstrip('%')) / 100!r}" in ex.code_text(), (new_readout, ex.code_text())
    print(f"03_discovery: the slider ({readout} -> {new_readout}) redrew the map in {took:.1f} s")
    nb.screenshot("process-explorer-slider", ex.cell)
    nb.check_console("moving the activities slider")

    # the segment menu: from channel = app (a value selected) to all cases
    before = ex.figure()
    ex.control("dropdown", "segment").locator("select").select_option(label="(all cases)")
    took = ex.wait_figure_change(before, "choosing (all cases) in the segment menu")
    assert "jl.discover(log, " in ex.code_text(), ex.code_text()
    print(f"03_discovery: the segment menu redrew the map in {took:.1f} s")
    nb.screenshot("process-explorer-segment", ex.cell)
    # the front end used to fail here: "Error setting state: Cannot set properties of undefined (setting
    # 'selected')" when the values menu lost its options with a value still selected
    nb.check_console("choosing (all cases) in the segment menu (with channel = app selected before)")


def test_04_happy_path_explorer_reacts(notebooks):
    with notebooks["04_happy_path.ipynb"].shot_on_failure() as nb:
        _check_04(nb)


def _check_04(nb: Notebook) -> None:
    took = nb.wait_run()
    print(f"04_happy_path: cells {nb.ran} done, {took:.1f} s after they were started")
    nb.check_clean()

    ex = Explorer(nb, EXPLORERS[nb.name])
    ex.check_live()
    nb.screenshot("happy-path-explorer", ex.cell)
    before = ex.figure()
    ex.control("dropdown", "segment").locator("select").select_option(label="(none)")
    took = ex.wait_figure_change(before, "choosing no breakdown in the segment menu")
    print(f"04_happy_path: the segment menu redrew the funnel in {took:.1f} s")
    nb.screenshot("happy-path-explorer-segment", ex.cell)
    nb.check_console("choosing no breakdown in the segment menu")


def test_05_segment_explorer_runs_and_reacts(notebooks):
    with notebooks["05_segments.ipynb"].shot_on_failure() as nb:
        _check_05(nb)


def _check_05(nb: Notebook) -> None:
    took = nb.wait_run()
    print(f"05_segments: cells {nb.ran} done, {took:.1f} s after they were started")
    nb.check_clean()

    ex = Explorer(nb, EXPLORERS[nb.name])
    ex.check_live(min_images=2)  # the profile heatmap and the map of the first segment
    nb.screenshot("segment-explorer", ex.cell)

    # Run: the button says it is running and cannot be clicked twice, then comes back, with a new result
    button = ex.output.locator("button.widget-button", has_text="Run")
    assert button.count() == 1 and button.is_enabled()
    states = "window.__runStates"
    button.evaluate(f"""b => {{ {states} = [];
        new MutationObserver(() => {states}.push([b.textContent.trim(), b.disabled]))
            .observe(b, {{attributes: true, childList: true, subtree: true, characterData: true}}); }}""")
    ex.output.locator(".widget-output img").first.evaluate("i => i.dataset.old = '1'")
    t0 = time.monotonic()
    button.click()
    nb.page.wait_for_function(
        f"() => {states}.some(([t, d]) => t.startsWith('Running') && d)", timeout=SEGMENT_RUN * 1000)
    nb.page.wait_for_function(
        f"() => {{ const s = {states}; const [t, d] = s[s.length - 1]; return t === 'Run' && !d; }}",
        timeout=SEGMENT_RUN * 1000)
    ex.output.locator(".widget-output img:not([data-old])").first.wait_for(timeout=EXPLORER_UPDATE * 1000)
    print(f"05_segments: Run clustered again in {time.monotonic() - t0:.1f} s")
    assert "cluster_journeys(log, " in ex.code_text(), ex.code_text()
    assert button.is_enabled() and button.inner_text().strip() == "Run"
    nb.screenshot("segment-explorer-run", ex.cell)

    # the "map of" menu: another segment's process map
    menu = ex.control("dropdown", "map of").locator("select")
    options = menu.locator("option").all_inner_texts()
    assert len(options) >= 2, f"the map menu offers {options}"
    before = ex.figure()
    menu.select_option(label=options[1])
    took = ex.wait_figure_change(before, f"choosing {options[1]!r} in the map menu")
    print(f"05_segments: the map menu redrew the map in {took:.1f} s")
    nb.screenshot("segment-explorer-map", ex.cell)
    nb.check_console("clicking Run and choosing another segment's map")


def test_the_checks_catch_planted_faults(notebooks):
    """The harness itself: a notebook with an error cell, a traceback inside an output widget, a console
    error and a widget shown as its text repr is caught on each."""
    nb = notebooks[PLANTED]
    nb.wait_run()
    shown = nb.error_outputs()
    assert len(shown) == 2, shown
    assert "planted in a widget" in shown[0] and "planted error" in shown[1]
    with pytest.raises(AssertionError) as err:
        nb.check_outputs()
    for expected in ("cell 4: ValueError: planted error", "ValueError: planted in a widget",
                     "code cells that did not run: [5]"):
        assert expected in str(err.value)
    assert nb.log_console() == []
    nb.page.locator("button.widget-button", has_text="planted button").click()
    nb.page.locator(".jp-LogConsoleStatusItem [title*='1 log entr']").wait_for(timeout=EXPLORER_UPDATE * 1000)
    with pytest.raises(AssertionError) as err:
        nb.check_console("clicking the planted button")
    for expected in ("errors after clicking the planted button", "console.error: planted console error",
                     "log console:", "ZeroDivisionError"):
        assert expected in str(err.value)
    with pytest.raises(AssertionError, match="shows a text repr, not a widget"):
        Explorer(nb, "planted repr").check_live()
