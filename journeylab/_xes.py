"""Fast, safe XES reader: :func:`parse_xes` turns an ``.xes`` / ``.xes.gz`` file into a DataFrame.

How it works (one read of the file, nothing is ever written):

1. The file is read in chunks. A gzip file (gzip magic number) is inflated as it streams in, member
   after member. The first bytes that arrive must look like XML (an optional byte-order mark,
   blanks, then ``<?xml``, ``<!--`` or an element): anything else stops the reading at once. The
   output may not grow past 250 times the file size (at least 1 GiB): beyond, the file is refused
   as a decompression bomb as soon as it passes the limit, so memory stays bounded by the limit.
2. The prolog is checked: a ``<!DOCTYPE ...>`` (and so any DTD or ``<!ENTITY>`` declaration) is
   refused, and the root element must be ``<log>``.
3. libxml2 (lxml) checks that the document is well-formed, through a parser target that builds
   nothing: no tree, no DTD loading, no entity resolution, no network. It releases the GIL, so it
   runs in a worker thread while step 4 runs; its error (with the line number) wins.
4. Fast path. In the XES that OpenXES, ProM, pm4py and Disco write, every attribute inside a trace
   is ``<type key="..." value="..."/>`` and traces/events are bare tags, so the double quotes
   delimit every key and value. numpy finds the quotes, Arrow slices keys and values zero-copy
   out of the buffer, and the few distinct gaps between them ("/>, </event><event>, <date key=")
   are checked against a strict grammar; the ``<classifier>`` tags of the log header are read
   with a regular expression. Anything else (comments, CDATA, nested or list attributes, single
   quotes, extra XML attributes, events outside traces) sends the file to step 5.
5. General path: ``lxml.etree.iterparse`` trace by trace, freeing each trace once read.
"""

from __future__ import annotations

import json
import os
import re
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from lxml import etree

from ._core.warn import warn
from . import _xes_stream as stream
from ._xes_values import column, cut, scalar
from .exceptions import DataQualityWarning, EmptyLogError, FileFormatError

__all__ = ["parse_xes", "EmptyXesError"]

TYPES = ("string", "date", "int", "float", "boolean", "id")
_ATTRS = TYPES + ("list", "container")
_T = "|".join(TYPES).encode()
# Gaps between consecutive attributes: close the previous one, then optional structure, then open.
_GAP = re.compile(rb'"\s*/>\s*(</event>\s*)?(</trace>\s*)?(<trace>\s*)?(<event>\s*)?<(' + _T + rb')\s+key\s*=\s*"')
_FIRST = re.compile(rb"<trace>\s*(<event>\s*)?<(" + _T + rb')\s+key\s*=\s*"')
_TAIL = re.compile(rb'"\s*/>\s*(</event>\s*)?(</trace>\s*)?</log\s*>')
_MID = re.compile(rb'"\s+value\s*=\s*"')
_PROLOG = re.compile(rb"(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_DECL_ENC = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)")
_REF = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_SAFE = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}


class EmptyXesError(EmptyLogError, FileFormatError):
    """An XES file that is well-formed but holds no event inside a trace (both an empty log and a bad file)."""


def parse_xes(path) -> pd.DataFrame:
    """Read an XES event log (``.xes`` or ``.xes.gz``) into a DataFrame, one row per event.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.xes`` file, plain or gzip-compressed (one or several gzip members).

    Returns
    -------
    pandas.DataFrame
        One row per event, in file order (trace by trace, events in the order written).
        ``df.attrs["xes_classifiers"]`` maps the name of each event classifier declared in the
        log header (``<classifier name="..." keys="..."/>``) to the list of its columns, in order;
        ``df.attrs["xes_trace_classifiers"]`` does the same for classifiers with
        ``scope="trace"``.

    Raises
    ------
    FileFormatError
        The file is missing or unreadable, is not XML or not XES, is malformed, declares a DTD,
        inflates past the bomb limit, has a trace without ``concept:name``, or a value that does
        not fit its declared type. The message says what and where, and how to fix it.
    EmptyXesError
        No event inside a trace (``<log/>``, traces without events, events only outside traces).
        It is both an :class:`~journeylab.exceptions.EmptyLogError` and a ``FileFormatError``.

    Warns
    -----
    DataQualityWarning
        An attribute was renamed, an ``<int>`` was kept as text, events outside traces or
        elements that are not XES attributes were skipped, or a ``<classifier>`` without a name or
        keys was skipped.

    Notes
    -----
    **Columns.** ``case:concept:name`` (the trace's ``concept:name``), every other trace attribute
    as ``case:<key>``, and every event attribute under its XES key (``concept:name``,
    ``time:timestamp``, ``lifecycle:transition``, ``org:resource``, ...). A column prefixed
    ``case:`` is always a trace attribute: an *event* attribute whose key starts with ``case:``
    (e.g. ``case:concept:name`` written on every event) is loaded as ``event:<key>``
    (``event:case:concept:name``) and a :class:`~journeylab.exceptions.DataQualityWarning` says
    so. Nested attributes (children of an attribute, and the attributes of a ``<container>``) get
    their own columns named by the path of keys joined by dots (``details.supplier``, or
    ``case:details.supplier`` in a trace), typed like any attribute. A ``<list>`` attribute becomes
    a text column holding JSON: an array with one ``[key, value]`` pair per item, in order
    (``[["item", "a"], ["item", 2]]``); an item's value is a JSON number or boolean when it is a
    valid ``<int>``, finite ``<float>`` or ``<boolean>``, else its text as written; a nested list
    is an array of pairs, a container an object by key, an item with children
    ``{"value": ..., "meta": {...}}``. If two attributes would still get the same column name
    (a key that contains a dot, say), the later one gets ``#2`` appended and a warning says so.
    Log-level attributes and the ``<extension>`` and ``<global>`` declarations are not read.

    **Types** follow the XES declaration: ``string`` and ``id`` -> pandas ``str``, ``date`` ->
    ``datetime64[us, UTC]`` (each value's offset applied, so mixed offsets become comparable UTC
    instants; ``Z`` is UTC, a date without offset is read as UTC, fractional seconds of any number
    of digits are truncated to microseconds, ``24:00:00`` is midnight of the next day), ``int`` ->
    ``Int64``, ``float`` -> ``float64`` (``NaN``, ``INF``, ``-INF`` as in XML Schema; ``NaN``
    reads as missing), ``boolean`` -> ``boolean`` (``true``/``false``/``1``/``0``, any case). An
    ``<int>`` attribute with a value beyond the 64-bit range (``99999999999999999999``) is kept as
    text, exactly as written, with a warning: it never wraps around. A key written with different
    types in different places is kept as text. A value that does not fit its declared type raises
    :class:`~journeylab.exceptions.FileFormatError`. An attribute missing on some events is
    missing (``NaN`` / ``NaT`` / ``<NA>``) there: the caller decides what is required (e.g.
    ``time:timestamp``).

    **Classifier keys** are separated by blanks; a key with blanks is written between single
    quotes (``keys="concept:name 'my key'"``), and a backslash escapes a quote, as in OpenXES.

    **Safety.** A file that declares a DTD or entities is refused (no XXE, no entity expansion),
    no network access is made, the input file is only read, and a gzip bomb is stopped before it
    fills memory: the first bytes must look like XML and the inflated size may not pass 250 times
    the file size (at least 1 GiB).

    Examples
    --------
    >>> import journeylab as jl
    >>> from journeylab._xes import parse_xes
    >>> df = parse_xes(jl.datasets.example_path())
    >>> df.shape[0], df["case:concept:name"].nunique()
    (42, 6)
    >>> df[["case:concept:name", "concept:name"]].iloc[0].tolist()
    ['3', 'register request']
    >>> str(df["time:timestamp"].dtype)
    'datetime64[us, UTC]'
    >>> df.attrs["xes_classifiers"]  # as declared: this file's classifiers name a key no event has
    {'Activity': ['Activity'], 'activity classifier': ['Activity']}
    """
    p = _existing(path)
    raw = _read(p)
    text = _utf8(raw, p)
    root = _check_prolog(text, p)
    with ThreadPoolExecutor(max_workers=1) as pool:
        checked = pool.submit(_validate, raw, p)
        try:
            ir = _fast(text, root)
        finally:
            checked.result()  # a malformed file is reported first, with its line number
    if ir is None:
        try:
            ir = _general(raw)
        except etree.XMLSyntaxError as err:  # what the checking parser lets through (undeclared namespace prefix)
            raise _malformed(err, p) from None
    return _frame(ir, p)


# ---------------------------------------------------------------- reading and checking the file
def _existing(path) -> Path:
    try:
        p = Path(os.fspath(path))
    except TypeError:
        shown = repr(path) if len(repr(path)) <= 80 else repr(path)[:80] + "..."
        raise FileFormatError(f"path={shown} is not a file path; pass a str or pathlib.Path to an .xes file.") from None
    if not p.is_file():
        what = "is a folder, not a file" if p.is_dir() else "does not exist"
        raise FileFormatError(f"'{p}' {what}. Pass the path of an .xes or .xes.gz file "
                              f"(relative paths start at {os.getcwd()}).")
    return p


#: A gzip file may expand to at most this many times its size (XES logs compress about 20x)
#: or to _BOMB_FLOOR bytes, whichever is larger; beyond, it is refused as a decompression bomb.
_BOMB_RATIO = 250
_BOMB_FLOOR = 1 << 30


def _read(p: Path) -> bytearray:
    """The file's bytes (inflated when gzip), stopped as soon as they cannot be an XML document."""
    try:
        with open(p, "rb") as fh:
            gz = fh.read(2)
            fh.seek(0)
            if gz != b"\x1f\x8b":
                return stream.read_plain(fh)
            return stream.read_gzip(fh, max(_BOMB_RATIO * os.fstat(fh.fileno()).st_size, _BOMB_FLOOR))
    except stream.NotXml as err:
        line, head = err.args
        where = " of its decompressed content" if gz == b"\x1f\x8b" else ""
        raise FileFormatError(f"'{p}' is not an XML file: at line {line}{where} it reads {cut(head, 40)} "
                              "where an element should start, so it was not read further. Is this the right file (an "
                              ".xes or .xes.gz export)?") from None
    except stream.TooLarge as err:
        raise FileFormatError(f"'{p}' expands to more than {err.args[0]:,} bytes (the limit is {_BOMB_RATIO} times "
                              "its size, at least 1 GiB): this looks like a decompression bomb and was not read. "
                              "If the file is genuine, decompress it yourself (`gunzip`) and read the .xes file."
                              ) from None
    except (EOFError, zlib.error) as err:
        raise FileFormatError(f"'{p}' is a damaged or truncated gzip file ({err}). Download or "
                              "compress it again (`gzip -t` checks it).") from None
    except OSError as err:
        raise FileFormatError(f"cannot read '{p}': {err.strerror or err}. Check the file's permissions.") from None


def _utf8(raw, p: Path):
    """The document as UTF-8 bytes (``raw`` itself when it already is)."""
    m = _DECL_ENC.match(raw, 3 if raw.startswith(b"\xef\xbb\xbf") else 0)
    enc = m.group(1).decode().lower().replace("_", "-") if m else "utf-8"
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        enc = "utf-16"
    if not raw or raw.isspace():
        raise FileFormatError(f"'{p}' is empty. An XES file starts with <?xml ...?> and a <log> element.")
    if enc in ("utf-8", "utf8", "us-ascii", "ascii"):
        return raw
    try:
        return raw.decode(enc).encode("utf-8")
    except (LookupError, UnicodeError) as err:
        raise FileFormatError(f"cannot decode '{p}' as {cut(enc, 40)}, the encoding it declares "
                              f"({cut(str(err), 120)}). Re-encode the file as UTF-8 (e.g. iconv -t utf-8).") from None


def _check_prolog(text, p: Path) -> int:
    """Refuse DTDs; return the offset of the root element, which must be <log>."""
    pos = _PROLOG.match(text).end()
    if text[pos:pos + 9].upper() == b"<!DOCTYPE" or b"<!ENTITY" in text[:pos + 9]:
        line = text.count(b"\n", 0, pos) + 1
        raise FileFormatError(
            f"'{p}' declares a DTD/entity (<!DOCTYPE ...> at line {line}), which journeylab refuses for "
            "safety: entity declarations enable XXE file disclosure and 'billion laughs' memory bombs. "
            "XES needs no DTD: remove the <!DOCTYPE ...> block (and any <!ENTITY ...> in it) and read again.")
    m = _ROOT.match(text, pos)
    if m is None:
        line = text.count(b"\n", 0, pos) + 1
        raise FileFormatError(f"'{p}' is not an XML file: at line {line} it reads {cut(text[pos:pos + 40], 40)} where "
                              "an element should start. Is this the right file (an .xes export)?")
    name = m.group(1).decode("utf-8", "replace")
    if name.rpartition(":")[2] != "log":
        raise FileFormatError(f"'{p}' is XML but not XES: its root element is <{name[:60]}>, expected <log>. "
                              "Export the event log as XES (IEEE 1849), or read tables with jl.read_csv.")
    return pos


class _Sink:
    """lxml parser target without callbacks: libxml2 only checks well-formedness, GIL released."""

    def close(self):
        return None


def _validate(raw, p: Path) -> None:
    parser = etree.XMLParser(target=_Sink(), **_SAFE)
    try:
        etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as err:
        raise _malformed(err, p) from None
    for e in parser.error_log:  # namespace errors (an undeclared prefix) do not stop this parser: they stop ours
        if e.level >= etree.ErrorLevels.ERROR:
            raise _malformed(etree.XMLSyntaxError(e.message, e.type, e.line, e.column), p)


def _malformed(err: etree.XMLSyntaxError, p: Path) -> FileFormatError:
    line, col = err.position
    what = re.sub(r", line \d+, column \d+$", "", err.msg or "syntax error")
    return FileFormatError(f"'{p}' is not well-formed XML at line {line}, column {col}: {what[:200]}. The file is "
                           "probably truncated or damaged; export or download it again.")


def _local(tag) -> str | None:
    return tag.rpartition("}")[2] if isinstance(tag, str) else None


def _split_keys(keys: str) -> list[str]:
    """Classifier keys: blank-separated, a key with blanks between single quotes, a backslash escapes."""
    out, cur, quoted, escaped = [], [], False, False
    for c in keys:
        if escaped:
            cur.append(c)
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "'":
            quoted = not quoted
        elif c.isspace() and not quoted:
            if cur:
                out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return [k for k in out if k]


# ---------------------------------------------------------------- the fast path
class _IR:
    """What both paths produce: sizes, each event's trace, and per (scope, key path) the values."""

    def __init__(self, n_traces, ev_trace, attrs, locate, classifiers, stray=0, skipped=None):
        self.n_traces, self.ev_trace, self.attrs, self.locate = n_traces, ev_trace, attrs, locate
        self.classifiers, self.stray, self.skipped = classifiers, stray, skipped or {}


def _fast(text, root: int) -> _IR | None:
    start = text.find(b"<trace", root)
    if start < 0 or any(text.find(s, root, start) >= 0 for s in (b"<!--", b"<![CDATA[", b"<?", b"<event")):
        return None
    classifiers = _header_classifiers(text, root, start)
    if classifiers is None:
        return None
    n_quotes = text.count(b'"', start)
    if n_quotes == 0 or n_quotes % 4:
        return None
    u8, offs, n, block = np.frombuffer(text, np.uint8), np.empty(n_quotes, np.int64), 0, 1 << 23
    for i in range(start, len(text), block):  # 8 MB at a time: no mask of the whole file
        found = np.flatnonzero(u8[i:i + block] == 34)
        offs[n:n + len(found)] = found + i
        n += len(found)
    first = _FIRST.fullmatch(text, start, int(offs[0]) + 1)
    tail = _TAIL.match(text, int(offs[-1]))
    offs[0::2] += 1  # element 4i = key i, 4i+1 = '" value="', 4i+2 = value i, 4i+3 = gap before key i+1
    pieces = pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(offs) - 1,
                                              [None, pa.py_buffer(offs), pa.py_buffer(text)])
    four = np.arange(n_quotes // 4, dtype=np.int64) * 4
    if not all(_MID.fullmatch(m) for m in pc.unique(pieces.take(four + 1)).to_pylist()):
        return None
    gaps = pc.dictionary_encode(pieces.take(four[1:] - 1))  # each gap runs from quote to quote
    shapes = [_GAP.fullmatch(g) for g in gaps.dictionary.to_pylist()]
    if first is None or tail is None or not all(shapes):
        return None
    table = np.array([[0, 0, 1, first.group(1) is not None, TYPES.index(first.group(2).decode())]]
                     + [[m.group(i) is not None for i in range(1, 5)] + [TYPES.index(m.group(5).decode())]
                        for m in shapes], dtype=np.int8)
    rows = table[np.concatenate([[0], gaps.indices.to_numpy() + 1])].T  # per attribute
    e_close, t_close, t_open, e_open, typ = rows
    t_depth = np.cumsum(t_open - t_close, dtype=np.int32)
    e_depth = np.cumsum(e_open - e_close, dtype=np.int32)
    if not ((t_depth == 1).all() and ((e_depth == 0) | (e_depth == 1)).all()
            and e_depth[-1] == (tail.group(1) is not None) and t_depth[-1] == (tail.group(2) is not None)):
        return None
    in_event = e_depth == 1
    ev_open, tr_open = np.cumsum(e_open, dtype=np.int64), np.cumsum(t_open, dtype=np.int64)
    owner = np.where(in_event, ev_open - 1, tr_open - 1)
    ev_trace = np.empty(int(ev_open[-1]), dtype=np.int64)
    ev_trace[owner[in_event]] = (tr_open - 1)[in_event]
    keys = pc.dictionary_encode(pieces.take(four))
    try:
        names = [_unxml(b.decode("utf-8")) for b in keys.dictionary.to_pylist()]
    except UnicodeDecodeError:
        return None
    gid = (keys.indices.to_numpy().astype(np.int32) * 2 + in_event) * 8 + typ
    groups = [np.flatnonzero(gid == g) for g in np.flatnonzero(np.bincount(gid))]  # per (key, scope, type)
    attrs: dict = {}
    for sel in sorted(groups, key=lambda sel: sel[0]):  # in order of first appearance, as the general path
        g = gid[sel[0]]
        values = _unescape(pieces.take(sel * 4 + 2).view(pa.large_string()))  # UTF-8: libxml2 checked it
        scope = "event" if (g // 8) % 2 else "trace"
        attrs.setdefault((scope, (names[g // 16],)), []).append((TYPES[g % 8], owner[sel], values))

    def locate(trace: int) -> int:
        i = int(np.argmax((tr_open - 1) == trace))
        return text.count(b"\n", 0, text.rfind(b"<trace", 0, int(offs[4 * i]))) + 1  # its <trace> tag

    return _IR(int(tr_open[-1]), ev_trace, attrs, locate, classifiers)


_CLASSIFIER = re.compile(rb"<classifier((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*/?>")
_XATTR = re.compile(rb"([^\s=]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")


def _header_classifiers(text, root: int, start: int) -> list | None:
    """The <classifier> tags before the first trace, read without a parser (no comment or CDATA there)."""
    found, i = [], text.find(b"<classifier", root, start)
    while i >= 0:
        m = _CLASSIFIER.match(text, i, start)
        if m is None:
            return None  # not a plain classifier tag: the general path reads it
        try:
            a = {k.decode(): _unxml((v if v or not w else w).decode()) for k, v, w in _XATTR.findall(m.group(1))}
        except UnicodeDecodeError:
            return None
        found.append((a.get("name"), a.get("keys"), a.get("scope") or "event"))
        i = text.find(b"<classifier", m.end(), start)
    return found


def _unxml(s: str) -> str:
    """XML attribute-value normalisation: literal tab/newline -> space, then character references."""
    if "&" not in s and "\n" not in s and "\t" not in s and "\r" not in s:
        return s
    s = s.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").replace("\t", " ")
    return _REF.sub(_resolve, s)


def _resolve(m: re.Match) -> str:
    ref = m.group(1)
    return _NAMED.get(ref) or chr(int("0" + ref[1:], 0) if ref[1] == "x" else int(ref[1:]))


def _unescape(values: pa.Array) -> pa.Array:
    """Resolve references and whitespace in the (rare) values that have any; others are kept as is."""
    _, offsets, data = values.buffers()
    offsets = np.frombuffer(offsets, np.int64)[values.offset:values.offset + len(values) + 1]
    data = np.frombuffer(data, np.uint8)[offsets[0]:offsets[-1]] if data is not None else data
    if data is None or not len(data) or (data.min() >= 32 and not (data == 38).any()):  # no '&', \t, \n, \r
        return values
    return pa.array([None if v is None else _unxml(v) for v in values.to_pylist()], pa.large_string())


# ---------------------------------------------------------------- the general path
class _View:
    """A file-like reader over a buffer, so that iterparse reads a bytearray without copying it whole."""

    def __init__(self, buf):
        self.mv, self.pos = memoryview(buf), 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.mv) if n is None or n < 0 else min(self.pos + n, len(self.mv))
        out, self.pos = bytes(self.mv[self.pos:end]), end
        return out


def _general(raw) -> _IR:
    found: dict = {}
    ev_trace: list[int] = []
    lines: list[int] = []
    skipped: dict = {}

    def add(scope, el, owner, path):
        """One attribute element (and its children) of a trace or event, under the key path ``path``."""
        name, key = _local(el.tag), el.get("key")
        if key is None or name not in _ATTRS:
            what = f"<{name}> without key" if name in _ATTRS else f"<{name}> element"
            skipped[what] = skipped.get(what, 0) + 1
            return
        path = path + (key,)
        if name == "list":
            found.setdefault((scope, path), []).append(("list", owner, json.dumps(_node(el), ensure_ascii=False)))
            if any(_local(c.tag) == "values" for c in el):  # then its other children are its own attributes
                for child in el:
                    if _local(child.tag) not in (None, "values"):
                        add(scope, child, owner, path)
            return
        if name != "container":
            found.setdefault((scope, path), []).append((name, owner, el.get("value")))
        for child in el:
            if isinstance(child.tag, str):
                add(scope, child, owner, path)

    classifiers, stray = [], 0
    events = etree.iterparse(_View(raw), events=("end",), tag=("{*}trace", "{*}classifier"), remove_comments=True,
                             remove_pis=True, **_SAFE)
    for _, trace in events:
        if _local(trace.tag) == "classifier":
            if not any(_local(a.tag) == "trace" for a in trace.iterancestors()):
                classifiers.append((trace.get("name"), trace.get("keys"), trace.get("scope") or "event"))
            continue
        if trace.getparent() is None or trace.getparent().getparent() is not None:
            continue  # a <trace> inside another element: reported as not an attribute, where it is
        t = len(lines)
        lines.append(trace.sourceline)
        for child in trace:
            if _local(child.tag) == "event":
                for a in child:
                    if isinstance(a.tag, str):
                        add("event", a, len(ev_trace), ())
                ev_trace.append(t)
            elif isinstance(child.tag, str):
                add("trace", child, t, ())
        trace.clear()
        while trace.getprevious() is not None:
            stray += _local(trace.getparent()[0].tag) == "event"  # an event outside traces, dropped here
            del trace.getparent()[0]
    stray += sum(_local(c.tag) == "event" for c in events.root) if events.root is not None else 0
    attrs = {}
    for sk, rows in found.items():
        for typ in dict.fromkeys(r[0] for r in rows):
            sub = [r for r in rows if r[0] == typ]
            attrs.setdefault(sk, []).append((typ, np.array([r[1] for r in sub], dtype=np.int64),
                                             pa.array([r[2] for r in sub], pa.large_string())))
    return _IR(len(lines), np.array(ev_trace, dtype=np.int64), attrs, lambda t: lines[t], classifiers, stray,
               skipped)


def _node(el):
    """An attribute element inside a <list>, as JSON data (see parse_xes)."""
    name = _local(el.tag)
    kids = [c for c in el if isinstance(c.tag, str)]
    if name == "list":
        values = next((c for c in kids if _local(c.tag) == "values"), None)
        items = kids if values is None else [c for c in values if isinstance(c.tag, str)]
        return [[c.get("key"), _node(c)] for c in items]
    if name == "container":
        return {c.get("key") or "": _node(c) for c in kids}
    value = scalar(name, el.get("value"), json_ready=True)
    return {"value": value, "meta": {c.get("key") or "": _node(c) for c in kids}} if kids else value


# ---------------------------------------------------------------- the frame
def _names(ir: _IR, p: Path) -> dict:
    """Column name per (scope, key path): see the parse_xes docstring for the rule."""
    def want(scope, path):
        base = ".".join(path)
        if scope == "trace":
            return "case:" + base, 0 if len(path) == 1 else 2
        if base.startswith("case:"):
            return "event:" + base, 3
        return base, 1 if len(path) == 1 else 2

    plan = {sk: want(*sk) for sk in ir.attrs if sk != ("trace", ("concept:name",))}
    taken, out, moved = {"case:concept:name"}, {}, []
    for sk in sorted(plan, key=lambda sk: plan[sk][1]):  # stable: file order within a priority
        name = plan[sk][0]
        i = 2
        while name in taken:
            name, i = f"{plan[sk][0]}#{i}", i + 1
        taken.add(name)
        out[sk] = name
        if plan[sk][1] == 3 or name != plan[sk][0]:
            moved.append((sk, name))
    if moved:
        shown = ", ".join(f"{sk[0]} attribute {' > '.join(cut(k, 40) for k in sk[1][:3])} -> {cut(name, 50)}"
                          for sk, name in moved[:5])
        more = f" (and {len(moved) - 5:,} more)" if len(moved) > 5 else ""
        warn(f"'{p}': some attributes would clash with other columns and were renamed: {shown}{more}. Columns "
                      "'case:<key>' hold trace attributes; an event attribute whose key starts with 'case:' is loaded "
                      "as 'event:<key>'. Use the new names to read them.", DataQualityWarning)
    return out


def _frame(ir: _IR, p: Path) -> pd.DataFrame:
    n_events = len(ir.ev_trace)
    if n_events == 0:
        stray = "" if not ir.stray else (
            f" and {ir.stray:,} <event> element(s) directly in <log>, outside any <trace>; journeylab reads events "
            "grouped in traces (the case). Put them in <trace> elements with a concept:name")
        raise EmptyXesError(f"'{p}' is an XES log without events ({ir.n_traces:,} traces){stray}. "
                            "Export the log again with its events.")
    if ir.stray:
        warn(f"'{p}': {ir.stray:,} <event> element(s) directly in <log>, outside any <trace>, were skipped "
                      "(journeylab reads events grouped in traces).", DataQualityWarning)
    if ir.skipped:
        what = ", ".join(f"{n:,} {cut(k, 40)[1:-1]}" for k, n in list(ir.skipped.items())[:5])
        warn(f"'{p}': elements that are not XES attributes were skipped inside traces/events: {what}. "
                      "An XES attribute is <string|date|int|float|boolean|id|list|container key=\"...\" .../>.", DataQualityWarning)
    case_parts = ir.attrs.get(("trace", ("concept:name",)))
    case = column(case_parts, ir.n_traces, "concept:name", p) if case_parts else pa.nulls(ir.n_traces)
    case = case.cast(pa.large_string())
    if case.null_count:
        t = int(np.flatnonzero(case.is_null().to_numpy(zero_copy_only=False))[0])
        raise FileFormatError(
            f"'{p}': {case.null_count:,} trace(s) have no concept:name, the first is trace #{t + 1} (line "
            f"{ir.locate(t)}); journeylab uses it as the case id. Add "
            '<string key="concept:name" value="..."/> to every <trace>.')
    ev_trace = pa.array(ir.ev_trace)
    cols = _names(ir, p)
    names, arrays = ["case:concept:name"], [case.take(ev_trace)]
    for scope in ("event", "trace"):
        for (sc, path), parts in ir.attrs.items():
            if sc != scope or (sc, path) not in cols:
                continue
            col = column(parts, n_events if scope == "event" else ir.n_traces, ".".join(path), p)
            names.append(cols[(sc, path)])
            arrays.append(col if scope == "event" else col.take(ev_trace))
    table = pa.Table.from_arrays(arrays, names=names)
    mapper = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    df = table.to_pandas(types_mapper=mapper.get)
    for name, arr in zip(names, arrays, strict=True):
        if pa.types.is_large_string(arr.type) and df[name].dtype != "str":
            df[name] = df[name].astype("str")
    df.attrs["xes_classifiers"], df.attrs["xes_trace_classifiers"] = _classifiers(ir.classifiers, cols, p)
    return df


def _classifiers(declared, cols: dict, p: Path) -> tuple[dict, dict]:
    """Classifier name -> its columns, for event and for trace classifiers."""
    out: tuple[dict, dict] = ({}, {})
    for name, keys, scope in declared:
        if not name or not keys or not _split_keys(keys) or scope not in ("event", "trace"):
            warn(f"'{p}': a <classifier> declaration without a name, keys or a known scope was skipped "
                          f"(name={cut(name or '')}, keys={cut(keys or '')}, scope={cut(scope)}).", DataQualityWarning)
            continue
        if scope == "event":
            out[0][name] = [cols.get(("event", (k,)), k) for k in _split_keys(keys)]
        else:
            out[1][name] = ["case:concept:name" if k == "concept:name" else cols.get(("trace", (k,)), f"case:{k}")
                            for k in _split_keys(keys)]
    return out
