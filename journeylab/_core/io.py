"""Writing files: atomic writes that never clobber, output-path checks, and CSV text that is safe to open
in a spreadsheet."""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from pathlib import Path

import pandas as pd

from ..exceptions import InvalidParameterError, OutputError
from .formatting import show_path

__all__ = ["atomic_write", "check_output", "csv_text", "defuse_formula", "FORMULA_STARTS"]


#: What a spreadsheet runs as a formula when a cell starts with it (OWASP, "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def defuse_formula(value):
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets the prefix
    (OWASP's advice against CSV injection); text that is a plain number (``-5``, ``+3.5e2``)
    and every non-text value are returned unchanged.

    >>> print(defuse_formula('=HYPERLINK("http://x.example", "click")'))
    '=HYPERLINK("http://x.example", "click")
    >>> defuse_formula("-12.5"), defuse_formula(-3), defuse_formula("pay")
    ('-12.5', -3, 'pay')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text(frame: pd.DataFrame, *, safe_formulas: bool = True, **options) -> str:
    """``frame`` as CSV text that reads back as written, for files journeylab hands to other systems.

    Every cell holding a line break - a carriage return alone included - is quoted (pandas
    quotes only ``\\n`` with its default line end), rows end with ``\\n``. With
    ``safe_formulas`` (default) text cells and column names that a spreadsheet would run as
    a formula get a leading ``'`` (see :func:`defuse_formula`); numbers, dates and plain
    numbers written as text are unchanged. ``frame`` itself is not modified. ``options``
    go to :meth:`pandas.DataFrame.to_csv` (not ``lineterminator`` or ``quoting``).

    Examples
    --------
    >>> import pandas as pd
    >>> print(csv_text(pd.DataFrame({"who": ["=1+1", "a\\rb"], "n": [-1, 2]}), index=False), end="")
    who,n
    '=1+1,-1
    "a\rb",2
    """
    if safe_formulas:
        frame = frame.copy()
        for col in frame.columns:
            values = frame[col]
            if values.dtype.kind in "biufcmM":  # numbers, booleans, dates, durations: never formulas
                continue
            as_objects = values.astype(object)
            defused = as_objects.map(defuse_formula)
            if not defused.equals(as_objects):
                frame[col] = defused
        frame.columns = [defuse_formula(c) for c in frame.columns]
    # with "\r\n" as the line end the csv module quotes every cell with a "\r" or a "\n"; then the
    # row ends (the only "\r\n" outside quotes: unquoted cells hold no line break) become "\n"
    parts = frame.to_csv(lineterminator="\r\n", **options).split('"')
    parts[::2] = [p.replace("\r\n", "\n") for p in parts[::2]]
    return '"'.join(parts)


_SPECIAL_FILES = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                  (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _can_write_into(folder: str) -> bool:
    """Whether this process may create files in the existing ``folder`` (root passes unless read-only)."""
    effective = os.access in os.supports_effective_ids
    return os.access(folder, os.W_OK | os.X_OK, effective_ids=effective)


def _read_only_fs(path: str) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows): the write itself will tell
        return False


def check_output(path, *, name: str = "path", example: str = "out.csv") -> Path:
    """Check that ``path`` can be written as an output file, before any long work; return the
    file that will be written (``~`` expanded, symbolic links followed to their target).

    Nothing is created. Raises :class:`~journeylab.exceptions.OutputError` (an
    ``InvalidParameterError`` and an ``OSError``) naming the path and the fix when the path
    is a folder, lies under a file (``a_file/out.html``), is a FIFO, device or socket, is a
    symbolic link loop, is read-only, or when its folder is on a read-only file system or
    not writable by this user. A folder that does not exist yet is fine (it is created when
    the file is written). ``name`` is the parameter shown in the message, ``example`` the
    file name it suggests.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> check_output(folder + "/new/actions.csv").name
    'actions.csv'
    >>> check_output(folder, name="out", example="report.html")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    journeylab.exceptions.OutputError: out='...' is a folder; give a file name, e.g. '.../report.html'.
    """
    if not isinstance(path, (str, os.PathLike)):
        shown = repr(path) if len(repr(path)) <= 80 else repr(path)[:77] + "..."
        raise InvalidParameterError(f"{name}={shown} is not a file path; give the path of the file to write as "
                                    f"text or a pathlib.Path, e.g. {name}={example!r}.")
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = os.fsdecode(text)
    shown = f"{name}={show_path(text)}"
    if not text.strip():
        raise OutputError(f"{name}={text!r} is empty; give the path of the file to write, e.g. {name}={example!r}.")
    if "\0" in text:
        raise OutputError(f"{shown} contains a NUL character, which no file name can hold; give another name, "
                          f"e.g. {name}={example!r}.")
    given = Path(text).expanduser()
    st = _stat(given, shown, text)  # follows symbolic links: what would be written
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{shown} is a folder; give a file name, e.g. {show_path(given / example)}.")
    if text.endswith(("/", os.sep)):
        raise OutputError(f"{shown} ends with a slash, so it names a folder; give a file name, e.g. "
                          f"{show_path(given / example)}.")
    target = os.path.realpath(given)
    if st is None and os.path.islink(target):
        raise _loop(shown, text)
    if st is not None:
        for test, kind in _SPECIAL_FILES:
            if test(st.st_mode):
                raise OutputError(f"{shown} is {kind}, not a regular file; journeylab writes its outputs only to "
                                  f"regular files (it replaces them atomically). Give a file name, e.g. "
                                  f"{name}={example!r}, and copy the file where it has to go.", None, text)
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{shown} exists and is not a regular file; give a file name, e.g. {name}={example!r}.",
                              None, text)
    # the nearest folder that exists: the file's own, or the ancestor its missing folders are created in
    folder = os.path.dirname(target)
    while (fst := _stat(folder, shown, text)) is None and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    if fst is None or not stat.S_ISDIR(fst.st_mode):
        instead = show_path(os.path.join(os.path.dirname(folder), os.path.basename(target)))
        raise OutputError(f"{shown} cannot be written: {show_path(folder)} is a file, not a folder. Give a path in "
                          f"a folder (e.g. {instead}), or move that file away.", errno.ENOTDIR, text)
    if _read_only_fs(folder):
        raise OutputError(f"{shown} cannot be written: {show_path(folder)} is on a read-only file system. Write to "
                          "another folder (e.g. under your home folder or the working folder).", errno.EROFS, text)
    if not _can_write_into(folder):
        raise OutputError(f"{shown} cannot be written: the folder {show_path(folder)} is not writable for this "
                          "user. Choose a folder you can write to, or change its permissions (chmod u+w).",
                          errno.EACCES, text)
    if st is not None and not os.access(target, os.W_OK, effective_ids=os.access in os.supports_effective_ids):
        raise OutputError(f"{shown} is read-only; journeylab does not replace a file you protected. Make it "
                          "writable (chmod u+w) or give another file name.", errno.EACCES, text)
    return Path(target)


_ADVICE = {errno.ENOSPC: "free some space on that disk or write to another one",
           errno.EDQUOT: "free some space (your disk quota is used up) or write to another disk",
           errno.EROFS: "write to another folder: this one is on a read-only file system",
           errno.ENAMETOOLONG: "give a shorter path (a file name holds at most 255 bytes)",
           errno.EACCES: "choose a folder you can write to, or change its permissions",
           errno.EPERM: "choose a folder you can write to, or change its permissions"}


_NO_ADVICE = "check the path and its permissions, or give another file name"


def _loop(shown: str, text: str) -> OutputError:
    return OutputError(f"{shown} is a symbolic link that leads back to itself (a loop); remove the link or give "
                       "another file name.", errno.ELOOP, text)


def _stat(path, shown: str, text: str):
    """``os.stat(path)``, None when nothing is there; an OutputError when it cannot be looked at."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise _loop(shown, text) from None
        where = "" if os.fspath(path) == text else f" at {show_path(path)}"
        raise OutputError(f"{shown} cannot be written: {err.strerror or err}{where}; "
                          f"{_ADVICE.get(err.errno, _NO_ADVICE)}.", err.errno, text) from None


def _write_failed(err: OSError, path, name: str) -> OutputError:
    why = err.strerror or str(err) or type(err).__name__
    return OutputError(f"{name}={show_path(path)} could not be written ({why}); "
                       f"{_ADVICE.get(err.errno, _NO_ADVICE)}. A previous file at that path is unchanged.",
                       err.errno, os.fspath(path))


def atomic_write(path: str | os.PathLike, data: bytes | str, *, name: str = "path",
                 example: str = "out.csv") -> Path:
    """Write ``data`` (bytes, or text written as UTF-8) to ``path`` atomically and return ``path``.

    The data goes to a temporary file in the same folder, is flushed to disk, then renamed
    over the file: a failure leaves any previous file untouched and no half-written file
    behind. Missing folders are created. A symbolic link is followed: its target is
    replaced (the link stays a link). An existing file keeps its permission bits (and its
    owner when this process may set it); a new file gets ``0666 & ~umask``. Paths that
    :func:`check_output` refuses (folders, FIFOs, devices, sockets, read-only files or
    folders) and failed writes raise :class:`~journeylab.exceptions.OutputError`, whose
    message names the parameter ``name``.

    Examples
    --------
    >>> import os, tempfile
    >>> p = os.path.join(tempfile.mkdtemp(), "sub", "notes.txt")
    >>> atomic_write(p, "hello\\n").read_text()
    'hello\\n'
    """
    given = Path(os.fspath(path)).expanduser() if isinstance(path, (str, os.PathLike)) else path
    target = check_output(path, name=name, example=example)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        previous = os.stat(target)
    except FileNotFoundError:
        previous = None
    except OSError as err:
        raise _write_failed(err, given, name) from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise _write_failed(err, given, name) from None
    tmp = None
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
        for _ in range(100):
            candidate = target.parent / f".{target.name[:200]}.{secrets.token_hex(4)}.tmp"
            try:
                # a new file: 0666 minus the umask, applied by the system (no umask juggling)
                fd = os.open(candidate, flags, 0o666 if previous is None else 0o600)
            except FileExistsError:
                continue
            tmp = candidate
            break
        else:
            raise FileExistsError(errno.EEXIST, "no free temporary file name", str(target.parent))
        with os.fdopen(fd, "wb") as fh:
            if previous is not None:
                if hasattr(os, "fchown") and (previous.st_uid, previous.st_gid) != (os.geteuid(), os.getegid()):
                    try:
                        os.fchown(fh.fileno(), previous.st_uid, previous.st_gid)
                    except OSError:  # only root may give a file away: the new file is this user's
                        pass
                if os.chmod in os.supports_fd:
                    os.chmod(fh.fileno(), stat.S_IMODE(previous.st_mode) & 0o777)
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as err:
        _remove(tmp)
        raise _write_failed(err, given, name) from None
    except BaseException:
        _remove(tmp)
        raise
    return given


def _remove(tmp) -> None:
    if tmp is not None:
        try:
            os.unlink(tmp)
        except OSError:  # already gone, or the folder turned read-only: the first error is the one to tell
            pass
