"""The HTML report in a real headless browser, and printing it to PDF (journeylab._report.browser).

The browser tests drive the machine's own Chromium/Chrome with Playwright (never a browser
Playwright downloads); they skip when there is none or Playwright is not installed. The tests
of print_pdf's failure paths use a fake browser script and run everywhere.
"""

from __future__ import annotations

import doctest
import os
import stat
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import journeylab as jl
import journeylab._report.browser as browser_mod
from journeylab._report.browser import find_chromium, print_pdf
from journeylab.exceptions import FileFormatError, InvalidParameterError, JourneylabError

from conftest import hostile_log

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "build" / "test-artifacts"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

CHROMIUM = find_chromium()
_WHY_NOT = (
    "playwright is not importable (pip install -e '.[dev]')" if sync_playwright is None
    else "no Chromium/Chrome on this machine (apt-get install chromium, or set JOURNEYLAB_CHROMIUM)"
    if CHROMIUM is None else ""
)
needs_browser = pytest.mark.skipif(bool(_WHY_NOT), reason=_WHY_NOT)
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium/Chrome on this machine (apt-get install chromium, or set JOURNEYLAB_CHROMIUM)"
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the fake browsers are POSIX shell scripts")

EXPECTED_HEADINGS = ("Overview", "Top variants")  # sections every report of the bundled sample has
LOCAL_SCHEMES = {"file", "data", "about", "blob"}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> Path:
    """The report of the bundled sample, built once for the module (it takes several seconds)."""
    out = jl.report(out=tmp_path_factory.mktemp("report") / "report.html")
    assert out.is_file()
    return out


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            # every host name resolves to nothing: a request to the outside cannot leave the machine
            args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND"],
        )
        try:
            yield b
        finally:
            b.close()


class Visit:
    """A page opened on a local file, with everything the browser reported on the way."""

    def __init__(self, browser, path: Path):
        self.context = browser.new_context(viewport={"width": 1280, "height": 800}, java_script_enabled=True)
        self.page = self.context.new_page()
        self.console, self.page_errors, self.failed, self.urls, self.outside, self.dialogs = [], [], [], [], [], []
        self.page.on("console", lambda m: self.console.append((m.type, m.text)))
        self.page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append((r.url, r.failure)))
        self.page.on("request", lambda r: self.urls.append(r.url))
        self.page.on("dialog", self._dialog)
        self.context.route("**/*", self._route)
        self.page.goto(path.resolve().as_uri(), wait_until="load")

    def _dialog(self, dialog):
        self.dialogs.append((dialog.type, dialog.message))
        dialog.dismiss()

    def _route(self, route):
        url = route.request.url
        if urlsplit(url).scheme in LOCAL_SCHEMES:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def close(self):
        self.context.close()


@pytest.fixture(scope="module")
def visit(browser, report_html):
    v = Visit(browser, report_html)
    yield v
    v.close()


# --------------------------------------------------------------------------- the report in a browser


@needs_browser
def test_report_renders_with_its_sections(visit):
    page = visit.page
    assert page.title().strip(), "the report has no <title>"
    h2 = [t.strip().rstrip("¶").strip() for t in page.locator("h2").all_inner_texts()]
    assert len(h2) >= 5, f"expected at least 5 sections, found {h2}"
    body = page.inner_text("body")
    for heading in EXPECTED_HEADINGS:
        assert any(h.startswith(heading) for h in h2), f"no {heading!r} section among {h2}"
        assert heading in body
    # the page has a real size: it is not an empty or collapsed document
    assert page.evaluate("document.body.scrollHeight") > 800
    # nothing sticks out sideways at a desktop width
    scroll, client = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert scroll <= client, f"the page scrolls sideways at 1280 px: {scroll} > {client}"


@needs_browser
def test_every_image_loads(visit):
    images = visit.page.evaluate(
        "[...document.images].map(i => ({src: i.src.slice(0, 40), complete: i.complete,"
        " width: i.naturalWidth, height: i.naturalHeight}))"
    )
    assert images, "the report has no image"
    broken = [i for i in images if not (i["complete"] and i["width"] > 0 and i["height"] > 0)]
    assert not broken, f"images that did not load: {broken}"


@needs_browser
def test_no_errors_and_nothing_fetched_from_outside(visit):
    problems = [(t, m) for t, m in visit.console if t in ("error", "warning")]
    assert not problems, f"console errors/warnings: {problems}"
    assert not visit.page_errors, f"page errors: {visit.page_errors}"
    assert not visit.outside, f"requests to outside addresses: {visit.outside}"
    assert not visit.failed, f"failed requests: {visit.failed}"
    schemes = {urlsplit(u).scheme for u in visit.urls}
    assert schemes <= LOCAL_SCHEMES, f"requests with schemes {schemes - LOCAL_SCHEMES}: {visit.urls}"


@needs_browser
def test_first_screen_screenshot(visit):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report-first-screen.png"
    visit.page.evaluate("window.scrollTo(0, 0)")
    visit.page.screenshot(path=str(shot))
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000, f"screenshot is only {len(data)} bytes"
    from PIL import Image

    with Image.open(shot) as img:
        assert img.size == (1280, 800)
        colours = img.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50, "the first screen is (nearly) blank"


@needs_browser
def test_hostile_strings_are_shown_not_run(browser, tmp_path):
    out = jl.report(hostile_log(), out=tmp_path / "hostile.html", title="<script>alert('t')</script>")
    v = Visit(browser, out)
    try:
        page = v.page
        page.wait_for_timeout(200)  # a script would have fired by now
        assert not v.dialogs, f"the data ran as script: {v.dialogs}"
        text = page.inner_text("body")
        assert "<script>alert(1)</script>" in text
        assert "<img src=x onerror=alert(2)>" in text
        assert "pay & go" in text
        assert "<script>alert('t')</script>" in page.title() + text
        injected = page.evaluate(
            "[...document.scripts].filter(s => s.textContent.includes('alert')).length"
            " + document.querySelectorAll('img[src=\"x\"]').length"
            " + [...document.querySelectorAll('i, b')].filter(e => ['app', '1'].includes(e.textContent)).length"
        )
        assert injected == 0, "markup from the data became elements"
        assert not v.page_errors and not v.outside
    finally:
        v.close()


@needs_browser
def test_the_checks_above_do_catch_problems(browser, tmp_path):
    """The harness itself: a page with every fault the report must not have is caught on each."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        "<!doctype html><title>bad</title><h2>Overview</h2>"
        '<img src="https://example.invalid/logo.png"><link rel="stylesheet" href="http://cdn.example.invalid/x.css">'
        "<script>console.error('boom'); alert('hi'); undefined_function();</script>",
        encoding="utf-8",
    )
    v = Visit(browser, bad)
    try:
        assert ("error", "boom") in v.console
        assert v.dialogs == [("alert", "hi")]
        assert any("undefined_function" in e for e in v.page_errors)
        assert sorted(urlsplit(u).scheme for u in v.outside) == ["http", "https"]
        assert v.failed
        images = v.page.evaluate("[...document.images].map(i => i.naturalWidth)")
        assert images == [0]
    finally:
        v.close()


# --------------------------------------------------------------------------- print_pdf with the real browser


@needs_chromium
def test_print_pdf_writes_a_pdf(report_html, tmp_path):
    before = set(os.listdir(tempfile_dir()))
    t0 = time.perf_counter()
    out = print_pdf(report_html, tmp_path / "sub" / "report.pdf")
    elapsed = time.perf_counter() - t0
    assert out == tmp_path / "sub" / "report.pdf"
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    assert len(data) > 10_000
    assert b"/Type /Page" in data or b"/Type/Page" in data
    assert sorted(os.listdir(out.parent)) == ["report.pdf"], "a temporary file was left beside the PDF"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask
    leftovers = [n for n in set(os.listdir(tempfile_dir())) - before if n.startswith("journeylab-chromium-")]
    assert not leftovers, f"browser profile left behind: {leftovers}"
    assert elapsed < 60


@needs_chromium
def test_print_pdf_replaces_a_previous_pdf(report_html, tmp_path):
    out = tmp_path / "r.pdf"
    out.write_bytes(b"old")
    print_pdf(str(report_html), str(out))
    assert out.read_bytes().startswith(b"%PDF")


def tempfile_dir() -> str:
    import tempfile

    return tempfile.gettempdir()


# --------------------------------------------------------------------------- failures (fake browsers; run everywhere)


def fake_browser(tmp_path: Path, body: str, name: str = "fake-chromium") -> Path:
    """An executable script standing in for Chromium; ``$PDF`` is the --print-to-pdf target."""
    script = tmp_path / name
    script.write_text(
        "#!/bin/sh\n"
        'PATH="/usr/bin:/bin:$PATH"\n'
        'for a in "$@"; do case "$a" in --print-to-pdf=*) PDF="${a#--print-to-pdf=}";; esac; done\n'
        + body + "\n"
    )
    script.chmod(0o755)
    return script


@pytest.fixture
def page_html(tmp_path) -> Path:
    html = tmp_path / "page.html"
    html.write_text("<!doctype html><title>t</title><h1>hello</h1>", encoding="utf-8")
    return html


def assert_untouched(folder: Path, previous: Path, content: bytes, extra: set[str] = frozenset()):
    assert previous.read_bytes() == content, "the previous PDF was changed"
    assert set(os.listdir(folder)) == {previous.name, *extra}, f"left behind: {sorted(os.listdir(folder))}"


def test_missing_html_is_a_clear_error_and_keeps_the_previous_pdf(tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    previous = out_dir / "r.pdf"
    previous.write_bytes(b"%PDF-previous")
    with pytest.raises(FileFormatError, match="does not exist"):
        print_pdf(tmp_path / "missing.html", previous)
    assert_untouched(out_dir, previous, b"%PDF-previous")


@pytest.mark.parametrize("body, match", [
    ('printf "%%PDF-1.7 partial" > "$PDF"; echo "[1:2:ERROR:print.cc] Renderer crashed" >&2; exit 3',
     r"exit status 3\): \[1:2:ERROR:print.cc\] Renderer crashed"),
    ('printf "<html>not a pdf" > "$PDF"; echo "something odd" >&2', "not a PDF.*something odd"),
    ('echo "ERROR: Page load failed: net::ERR_ACCESS_DENIED" >&2', "wrote no PDF.*ERR_ACCESS_DENIED"),
    (': > "$PDF"', r"wrote no PDF.*\(no message on stderr\)"),
])
def test_browser_failure_leaves_no_file_and_keeps_the_previous_pdf(tmp_path, monkeypatch, page_html, body, match):
    monkeypatch.setenv("JOURNEYLAB_CHROMIUM", str(fake_browser(tmp_path, body)))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    previous = out_dir / "r.pdf"
    previous.write_bytes(b"%PDF-previous")
    with pytest.raises(JourneylabError, match=match):
        print_pdf(page_html, previous)
    assert_untouched(out_dir, previous, b"%PDF-previous")
    with pytest.raises(JourneylabError, match=match):
        print_pdf(page_html, out_dir / "new.pdf")
    assert_untouched(out_dir, previous, b"%PDF-previous")


def test_timeout_stops_the_browser_and_its_helpers(tmp_path, monkeypatch, page_html):
    pids = tmp_path / "pids"
    body = (f'sleep 60 & echo $! > "{pids}"; printf "%%PDF-partial" > "$PDF"; '
            'echo "still loading" >&2; wait')
    monkeypatch.setenv("JOURNEYLAB_CHROMIUM", str(fake_browser(tmp_path, body)))
    out = tmp_path / "out" / "r.pdf"
    t0 = time.perf_counter()
    with pytest.raises(JourneylabError, match=r"within 1 s.*still loading"):
        print_pdf(page_html, out, timeout=1)
    assert time.perf_counter() - t0 < 10
    assert not out.exists()
    assert not out.parent.exists() or not list(out.parent.iterdir())
    helper = int(pids.read_text())
    for _ in range(50):  # the helper is killed; give the kernel a moment to reap it
        try:
            os.kill(helper, 0)
            state = Path(f"/proc/{helper}/stat").read_text().split()[2] if Path(f"/proc/{helper}").exists() else "Z"
        except (ProcessLookupError, FileNotFoundError):
            break
        if state == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the browser's helper process {helper} is still running")


def test_a_working_fake_browser_gets_the_offline_flags(tmp_path, monkeypatch, page_html):
    args = tmp_path / "args"
    body = f'printf "%s\\n" "$@" > "{args}"; printf "%%PDF-1.7 fake" > "$PDF"'
    monkeypatch.setenv("JOURNEYLAB_CHROMIUM", str(fake_browser(tmp_path, body)))
    out = print_pdf(page_html, tmp_path / "r.pdf")
    assert out.read_bytes() == b"%PDF-1.7 fake"
    argv = args.read_text().splitlines()
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--no-pdf-header-footer", "--disable-component-update", "--no-first-run"):
        assert flag in argv
    assert argv[-1] == page_html.resolve().as_uri()
    profile = next(a for a in argv if a.startswith("--user-data-dir=")).split("=", 1)[1]
    assert not Path(profile).exists(), "the temporary profile was not removed"


def test_no_browser_says_how_to_install_one(tmp_path, monkeypatch, page_html):
    monkeypatch.delenv("JOURNEYLAB_CHROMIUM", raising=False)
    monkeypatch.setattr(browser_mod.shutil, "which", lambda *a, **k: None)
    assert find_chromium() is None
    previous = tmp_path / "r.pdf"
    previous.write_bytes(b"%PDF-previous")
    with pytest.raises(JourneylabError, match="apt-get install chromium") as err:
        print_pdf(page_html, previous)
    assert "JOURNEYLAB_CHROMIUM" in str(err.value)
    assert previous.read_bytes() == b"%PDF-previous"


def test_env_var_naming_no_browser_is_an_error(tmp_path, monkeypatch, page_html):
    monkeypatch.setattr(browser_mod.shutil, "which", lambda *a, **k: None)
    monkeypatch.setenv("JOURNEYLAB_CHROMIUM", str(tmp_path / "no-such-chromium"))
    with pytest.raises(JourneylabError, match="JOURNEYLAB_CHROMIUM=.*no-such-chromium.*apt-get install chromium"):
        find_chromium()
    with pytest.raises(JourneylabError, match="apt-get install chromium"):
        print_pdf(page_html, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_env_var_wins_and_must_be_executable(tmp_path, monkeypatch):
    fake = fake_browser(tmp_path, "exit 0")
    monkeypatch.setenv("JOURNEYLAB_CHROMIUM", str(fake))
    assert find_chromium() == str(fake)
    fake.chmod(0o644)
    if os.access(fake, os.X_OK):  # root can execute anything with an x bit; 0644 has none
        pytest.skip("cannot make a file non-executable here")
    with pytest.raises(InvalidParameterError, match="not an executable file"):
        find_chromium()
    monkeypatch.setenv("JOURNEYLAB_CHROMIUM", str(tmp_path))  # a folder is not a browser
    with pytest.raises(InvalidParameterError, match="not an executable file"):
        find_chromium()


def test_path_search_order(monkeypatch):
    monkeypatch.delenv("JOURNEYLAB_CHROMIUM", raising=False)
    seen = []

    def which(name, *a, **k):
        seen.append(name)
        return "/opt/chrome/chrome" if name == "google-chrome" else None

    monkeypatch.setattr(browser_mod.shutil, "which", which)
    assert find_chromium() == "/opt/chrome/chrome"
    assert seen == ["chromium", "chromium-browser", "google-chrome"]


@pytest.mark.parametrize("timeout", [0, -1, "10", True])
def test_bad_arguments(tmp_path, page_html, timeout):
    with pytest.raises(InvalidParameterError, match="timeout="):
        print_pdf(page_html, tmp_path / "r.pdf", timeout=timeout)
    with pytest.raises(InvalidParameterError, match="is a folder"):
        print_pdf(page_html, tmp_path)
    with pytest.raises(FileFormatError, match="is a folder"):
        print_pdf(tmp_path, tmp_path / "r.pdf")


def test_doctests():
    res = doctest.testmod(browser_mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0
