"""Outputs never clobber: what journeylab writes goes to a regular file, atomically, keeps the
file's permissions, follows symbolic links, and every path it cannot write gives an
``OutputError`` that names the path - from every public writer, before any long work. CSV files
read back as written and carry no spreadsheet formulas unless asked."""

from __future__ import annotations

import errno
import importlib
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest

import journeylab as jl
from journeylab._core import io as _util
from journeylab._core.io import atomic_write, check_output, csv_text, defuse_formula
from journeylab.exceptions import InvalidParameterError, OutputError
from journeylab.journey import Journey, Milestone

from conftest import ROOT

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
UNSHARE = shutil.which("unshare")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def permissions_enforced() -> bool:
    """Whether file permissions stop this process (not for root with CAP_DAC_OVERRIDE)."""
    with tempfile.TemporaryDirectory() as folder:
        os.chmod(folder, 0o555)
        try:
            return not os.access(folder, os.W_OK)
        finally:
            os.chmod(folder, 0o755)


BYPASS = not permissions_enforced()


def can_unshare(*flags: str) -> bool:
    if UNSHARE is None:
        return False
    return subprocess.run([UNSHARE, *flags, "true"], capture_output=True).returncode == 0


# --------------------------------------------------------------------------- atomic_write: what the path is


def test_a_symlink_is_followed_its_target_replaced_and_the_link_kept(tmp_path):
    real = tmp_path / "data" / "actions.csv"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o600)
    hop = tmp_path / "hop.csv"
    hop.symlink_to(real)  # absolute
    link = tmp_path / "link.csv"
    link.symlink_to("hop.csv")  # relative, through a second link
    assert atomic_write(link, "new") == link
    assert link.is_symlink() and hop.is_symlink() and os.readlink(link) == "hop.csv"
    assert real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "out.yaml"
    link.symlink_to(tmp_path / "elsewhere.yaml")
    atomic_write(link, "x: 1\n")
    assert link.is_symlink() and (tmp_path / "elsewhere.yaml").read_text() == "x: 1\n"


def test_a_symlink_loop_is_refused(tmp_path):
    loop = tmp_path / "loop.csv"
    loop.symlink_to("loop.csv")
    with pytest.raises(OutputError, match=r"path='.*loop\.csv' is a symbolic link that leads back to itself"):
        atomic_write(loop, "x")
    assert loop.is_symlink()


def test_a_fifo_is_refused_not_replaced_and_not_opened(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # opening a FIFO for writing would block: the refusal comes from its type, before any open
    with pytest.raises(OutputError, match=r"path='.*pipe' is a FIFO \(named pipe\), not a regular file; .*"
                                          r"Give a file name, e.g. path='out.csv'"):
        atomic_write(fifo, "x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and leftovers(tmp_path) == []


def test_a_socket_is_refused():
    folder = Path(tempfile.mkdtemp(prefix="jl-"))  # short: a socket path has at most ~100 characters
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(folder / "s"))
            with pytest.raises(OutputError, match=r"is a socket, not a regular file"):
                atomic_write(folder / "s", "x")
            assert stat.S_ISSOCK(os.lstat(folder / "s").st_mode)
    finally:
        shutil.rmtree(folder)


def test_a_device_is_refused_and_stays_a_device(tmp_path):
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a private /dev/null
    except (PermissionError, AttributeError):
        node = Path("/dev/null")  # refused before anything is opened or created next to it
    with pytest.raises(OutputError, match=r"is a character device, not a regular file"):
        atomic_write(node, "x")
    assert stat.S_ISCHR(os.lstat(node).st_mode)
    # the symptom users saw (as root, /dev/null became a regular file) cannot come back
    with pytest.raises(OutputError, match=r"path='/dev/null' is a character device"):
        Journey("j", [Milestone("a", ["x"])]).to_yaml("/dev/null")
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
def test_an_existing_file_keeps_its_permissions(tmp_path, mode):
    p = tmp_path / "actions.csv"
    p.write_text("old")
    p.chmod(mode)
    atomic_write(p, "new")
    assert p.read_text() == "new" and stat.S_IMODE(p.stat().st_mode) == mode


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_0666_minus_the_umask(tmp_path, umask):
    old = os.umask(umask)
    try:
        atomic_write(tmp_path / "new.csv", b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.csv").stat().st_mode) == 0o666 & ~umask


def test_text_is_written_as_utf8_bytes_exactly(tmp_path):
    text = "café ✓ 日本\r\nnext\rline\n"
    atomic_write(tmp_path / "t.txt", text)
    assert (tmp_path / "t.txt").read_bytes() == text.encode("utf-8")


# --------------------------------------------------------------------------- output paths that cannot be written


def test_a_folder_is_refused_with_a_file_name_to_use(tmp_path):
    with pytest.raises(OutputError, match=r"path='.*' is a folder; give a file name, e.g. '.*actions\.csv'"):
        atomic_write(tmp_path, "x", example="actions.csv")
    with pytest.raises(OutputError, match=r"path='new/' ends with a slash, so it names a folder"):
        check_output("new/")
    assert isinstance(OutputError("x"), (InvalidParameterError, OSError))


def test_a_path_under_a_file_is_refused(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    for target in (a_file / "out.html", a_file / "deeper" / "out.html"):
        with pytest.raises(OutputError, match=r"out='.*a_file/.*out\.html' cannot be written: '.*a_file' is a file, "
                                              r"not a folder\. Give a path in a folder \(e\.g\. '.*/out\.html'\)"):
            check_output(target, name="out")
        with pytest.raises(OutputError) as err:
            atomic_write(target, "x", name="out")
        assert err.value.errno == errno.ENOTDIR
    assert a_file.read_text() == "keep me"


def test_paths_that_are_no_paths(tmp_path):
    with pytest.raises(InvalidParameterError, match=r"path=42 is not a file path"):
        check_output(42)
    with pytest.raises(OutputError, match=r"path='' is empty"):
        check_output("")
    with pytest.raises(OutputError, match=r"contains a NUL character"):
        check_output(str(tmp_path / "a\0b.csv"))


def test_a_long_path_is_cut_in_the_message(tmp_path):
    long = tmp_path / ("x" * 5000) / "out.csv"  # a name no file system takes
    with pytest.raises(OutputError) as err:
        atomic_write(long, "x")
    assert len(str(err.value)) < 500 and "..." in str(err.value)


@pytest.mark.skipif(BYPASS, reason="this process (root) writes into a folder without write permission; the "
                                   "read-only file system test below covers root")
def test_a_folder_without_write_permission_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "r.csv").write_text("old")
    locked.chmod(0o555)
    try:
        with pytest.raises(OutputError, match=r"the folder '.*locked' is not writable for this user"):
            atomic_write(locked / "r.csv", "new")
        with pytest.raises(OutputError, match="is not writable"):
            check_output(locked / "sub" / "r.csv")  # its folder would be created in a locked one
    finally:
        locked.chmod(0o755)
    assert (locked / "r.csv").read_text() == "old"


@pytest.mark.skipif(BYPASS, reason="this process (root) may replace a read-only file, as it may write into it")
def test_a_read_only_file_is_not_replaced(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("old")
    p.chmod(0o444)
    with pytest.raises(OutputError, match=r"path='.*r\.csv' is read-only; .*chmod u\+w"):
        atomic_write(p, "new")
    assert p.read_text() == "old"


def test_a_read_only_file_system_is_refused_for_root_too(tmp_path):
    """A read-only mount stops root as well: mount one in a private mount namespace."""
    if not IS_ROOT or not can_unshare("-m"):
        pytest.skip("needs root and `unshare -m` to mount a read-only file system for the test")
    ro = tmp_path / "ro"
    ro.mkdir()
    code = ("import journeylab as jl, sys\n"
            "from journeylab._core.io import atomic_write\n"
            "for call in (lambda: atomic_write(sys.argv[1] + '/a.csv', 'x'),\n"
            "             lambda: jl.report(out=sys.argv[1] + '/r.html', progress=False)):\n"
            "    try:\n        call()\n    except jl.OutputError as err:\n        print(err)\n")
    script = 'mount -t tmpfs -o ro tmpfs "$1" && exec "$2" -c "$3" "$1"'
    res = subprocess.run([UNSHARE, "-m", "sh", "-c", script, "sh", str(ro), sys.executable, code],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    lines = res.stdout.splitlines()
    assert res.returncode == 0 and len(lines) == 2, res.stderr
    assert "path='" in lines[0] and "a.csv' cannot be written: " in lines[0]
    assert "is on a read-only file system. Write to another folder" in lines[0]
    assert lines[1].startswith("out='") and "read-only file system" in lines[1]  # before any kernel starts


def test_a_failed_write_keeps_the_previous_file_and_says_why(tmp_path, monkeypatch):
    p = tmp_path / "r.csv"
    p.write_text("previous")

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_util.os, "fsync", full)
    with pytest.raises(OutputError, match=r"path='.*r\.csv' could not be written \(No space left on device\); free "
                                          r"some space .* A previous file at that path is unchanged") as err:
        atomic_write(p, "new")
    assert err.value.errno == errno.ENOSPC and isinstance(err.value, OSError)
    assert p.read_text() == "previous" and leftovers(tmp_path) == []


# --------------------------------------------------------------------------- every public writer says so


@pytest.fixture(scope="module")
def due():
    """Rule actions whose customer ids are hostile or awkward cells."""
    ids = ["=HYPERLINK(\"http://x.example\",\"x\")", "+SUM(A1:A9)", "-2+3", "@cmd", "\tTAB", "\rCR",
           "-5", "+33612345678", "a\rb", "line\nbreak", "cr\r\nlf", 'say "hi"', "a,b", "café ✓ 日本", " =lead"]
    df = pd.DataFrame({"who": ids, "what": "view", "when": "2025-05-01"})
    log = jl.from_pandas(df, case="who", activity="what", timestamp="when")
    journey = Journey.from_dict({"name": "j", "milestones": [{"name": "browse", "activities": ["view"]}]})
    return jl.evaluate_rules(log, journey, [{"name": "r", "when": "stalled_at == 'browse'", "action": "=nudge"}])


def test_public_writers_refuse_paths_they_cannot_write(tmp_path, due):
    a_file = tmp_path / "a_file"
    a_file.write_text("keep me")
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    journey = Journey("j", [Milestone("a", ["x"])])
    model = jl.discover_model(jl.datasets.load_example(), quality=False)
    from journeylab._report.browser import print_pdf

    html = tmp_path / "r.html"
    html.write_text("<p>r</p>")
    calls = [
        (lambda: due.to_csv(tmp_path), r"path='.*' is a folder; give a file name, e.g. '.*actions\.csv'"),
        (lambda: due.to_csv(a_file / "out.csv"), r"'.*a_file' is a file, not a folder"),
        (lambda: due.to_parquet(fifo), r"is a FIFO .*path='actions\.parquet'"),
        (lambda: journey.to_yaml(tmp_path), r"is a folder; give a file name, e.g. '.*journey\.yaml'"),
        (lambda: journey.to_yaml(a_file / "j.yaml"), "is a file, not a folder"),
        (lambda: model.to_bpmn(fifo), r"is a FIFO .*path='model\.bpmn'"),
        (lambda: model.to_pnml(a_file / "m.pnml"), "is a file, not a folder"),
        (lambda: print_pdf(html, fifo), r"pdf_path='.*pipe' is a FIFO .*pdf_path='r\.pdf'"),
    ]
    for call, match in calls:
        with pytest.raises(OutputError, match=match):
            call()
    assert a_file.read_text() == "keep me" and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert leftovers(tmp_path) == []


# --------------------------------------------------------------------------- CSV for other systems


def test_actions_csv_defuses_formulas_and_reads_back(tmp_path, due):
    before = due.actions.copy()
    back = pd.read_csv(due.to_csv(tmp_path / "a.csv"), dtype=str, keep_default_na=False)
    expected = [defuse_formula(c) for c in due.actions["customer"]]
    assert back["customer"].tolist() == expected
    shown = dict(zip(due.actions["customer"], back["customer"]))
    assert shown["=HYPERLINK(\"http://x.example\",\"x\")"].startswith("'=")
    assert shown["+SUM(A1:A9)"] == "'+SUM(A1:A9)" and shown["-2+3"] == "'-2+3" and shown["@cmd"] == "'@cmd"
    assert shown["\tTAB"] == "'\tTAB" and shown["\rCR"] == "'\rCR"
    assert shown["-5"] == "-5" and shown["+33612345678"] == "+33612345678"  # plain numbers stay as they are
    assert shown["a\rb"] == "a\rb" and shown["cr\r\nlf"] == "cr\r\nlf"
    assert shown["café ✓ 日本"] == "café ✓ 日本"
    assert set(back["action"]) == {"'=nudge"}
    pd.testing.assert_frame_equal(due.actions, before)  # the result is not modified


def test_actions_csv_without_defusing_reads_back_exactly(tmp_path, due):
    path = due.to_csv(tmp_path / "a.csv", safe_formulas=False)
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("customer", "rule", "action", "reason"):
        assert back[col].tolist() == due.actions[col].astype(str).tolist(), col
    assert back["as_of"].iloc[0] == "2025-05-01T00:00:00+0000"
    raw = path.read_bytes()
    assert b'"a\rb"' in raw  # a bare carriage return is quoted
    assert b"\r\n" not in raw.replace(b'"cr\r\nlf"', b"")  # rows end with \n, as before


def test_csv_text_keeps_numbers_and_dates_and_reads_back_exactly():
    frame = pd.DataFrame({
        "text": ["a\rb", "p\nq", 'c,"d"', "é ✓", "", "=1+1", "-x", "-7"],
        "n": [-1, -2, 3, 4, 5, -6, 7, 8],
        "x": [-1.5, 2.25, None, 0.0, -0.5, 1e-9, -3e10, 2.0],
        "t": pd.to_datetime(["2025-01-01"] * 8),
        "mixed": [-1, "=a", None, 2.5, "b", "+c", "-4", True],
    })
    before = frame.copy()
    exact = pd.read_csv(__import__("io").StringIO(csv_text(frame, safe_formulas=False, index=False)),
                        keep_default_na=False, na_values=[""], dtype={"text": str})
    assert exact["text"].fillna("").tolist() == frame["text"].tolist()
    pd.testing.assert_series_equal(exact["n"], frame["n"])
    pd.testing.assert_series_equal(exact["x"], frame["x"])
    safe = pd.read_csv(__import__("io").StringIO(csv_text(frame, index=False)), keep_default_na=False,
                       dtype={"text": str, "mixed": str})
    assert safe["text"].tolist() == ["a\rb", "p\nq", 'c,"d"', "é ✓", "", "'=1+1", "'-x", "-7"]
    pd.testing.assert_series_equal(safe["n"], frame["n"])  # negative numbers stay numbers
    assert safe["mixed"].tolist() == ["-1", "'=a", "", "2.5", "b", "'+c", "-4", "True"]
    pd.testing.assert_frame_equal(frame, before)  # the input is not modified
    header = csv_text(pd.DataFrame({"=cmd": [1]}), index=False).splitlines()[0]
    assert header == "'=cmd"


def test_doctests():
    import doctest

    for name in ("journeylab._core.io", "journeylab._core.formatting", "journeylab._core.validation",
                 "journeylab.exceptions", "journeylab.rules"):
        module = importlib.import_module(name)
        res = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert res.attempted > 0 and res.failed == 0, module.__name__
