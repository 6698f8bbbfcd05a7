"""Fast, safe XES reader: :func:`parse_xes` turns an ``.xes`` / ``.xes.gz`` file into a DataFrame.

How it works (one read of the file, nothing is ever written):

1. The bytes are read and, when they start with the gzip magic number, decompressed in memory
   (every member; more than 250 times the file size, and above 1 GiB, is refused as a bomb).
2. The prolog is checked: a ``<!DOCTYPE ...>`` (and so any DTD or ``<!ENTITY>`` declaration) is
   refused, and the root element must be ``<log>``.
3. libxml2 (lxml) checks that the document is well-formed, through a parser target that builds
   nothing: no tree, no DTD loading, no entity resolution, no network. It releases the GIL, so it
   runs in a worker thread while step 4 runs; its error (with the line number) wins.
4. Fast path. In the XES that OpenXES, ProM, pm4py and Disco write, every attribute inside a trace
   is ``<type key="..." value="..."/>`` and traces/events are bare tags, so the double quotes
   delimit every key and value. numpy finds the quotes, Arrow slices keys and values zero-copy
   out of the buffer, and the few distinct gaps between them ("/>, </event><event>, <date key=")
   are checked against a strict grammar. Anything else (comments, CDATA, nested or list
   attributes, single quotes, extra XML attributes) sends the file to step 5.
5. General path: ``lxml.etree.iterparse`` trace by trace, freeing each trace once read.

Nested attributes (children of an attribute), ``<list>`` and ``<container>`` attributes, and the
log-level attributes, ``<global>``, ``<classifier>`` and ``<extension>`` declarations are skipped.
"""

from __future__ import annotations

import gzip
import io
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

from .exceptions import FileFormatError

__all__ = ["parse_xes"]

TYPES = ("string", "date", "int", "float", "boolean", "id")
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


def parse_xes(path) -> pd.DataFrame:
    """Read an XES event log (``.xes`` or ``.xes.gz``) into a DataFrame, one row per event.

    Columns: ``case:concept:name`` (the trace's ``concept:name``), every other trace attribute as
    ``case:<key>``, and every event attribute under its XES key (``concept:name``,
    ``time:timestamp``, ``lifecycle:transition``, ``org:resource``, ...). Rows keep file order:
    trace by trace, events in the order written. Types follow the XES declaration: ``string`` and
    ``id`` -> pandas ``str``, ``date`` -> ``datetime64[us, UTC]`` (each value's offset applied,
    so mixed offsets become comparable UTC instants; a date without offset is read as UTC),
    ``int`` -> ``Int64``, ``float`` -> ``float64``, ``boolean`` -> ``boolean``. A key written with
    different types in different places is kept as text. An attribute missing on some events is
    missing (``NaN`` / ``NaT`` / ``<NA>``) there: the caller decides what is required.

    Nested attributes, ``<list>`` / ``<container>`` attributes, log-level attributes and the
    ``<extension>``, ``<global>`` and ``<classifier>`` declarations are ignored.

    Safety: a file that declares a DTD or entities is refused (no XXE, no entity expansion), no
    network access is made, and the input file is only read. Every problem raises
    :class:`~journeylab.exceptions.FileFormatError` saying what is wrong and how to fix it.

    >>> import journeylab as jl
    >>> from journeylab._xes import parse_xes
    >>> df = parse_xes(jl.datasets.example_path())
    >>> df.shape[0], df["case:concept:name"].nunique()
    (42, 6)
    >>> df[["case:concept:name", "concept:name"]].iloc[0].tolist()
    ['3', 'register request']
    >>> str(df["time:timestamp"].dtype)
    'datetime64[us, UTC]'
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
        ir = _general(raw)
    return _frame(ir, p)


# ---------------------------------------------------------------- reading and checking the file
def _existing(path) -> Path:
    try:
        p = Path(os.fspath(path))
    except TypeError:
        raise FileFormatError(f"path={path!r} is not a file path; pass a str or pathlib.Path to an .xes file.") from None
    if not p.is_file():
        what = "is a folder, not a file" if p.is_dir() else "does not exist"
        raise FileFormatError(f"'{p}' {what}. Pass the path of an .xes or .xes.gz file "
                              f"(relative paths start at {os.getcwd()}).")
    return p


def _read(p: Path) -> bytes:
    try:
        raw = p.read_bytes()
    except OSError as err:
        raise FileFormatError(f"cannot read '{p}': {err.strerror or err}. Check the file's permissions.") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = _gunzip(raw)
        except _TooLarge as err:
            raise FileFormatError(f"'{p}' expands to more than {err.args[0]:,} bytes (the limit is {_BOMB_RATIO} times "
                                  "its size, at least 1 GiB): this looks like a decompression bomb and was not read. "
                                  "If the file is "
                                  "genuine, decompress it yourself (`gunzip`) and read the .xes file.") from None
        except (OSError, EOFError, zlib.error) as err:
            raise FileFormatError(f"'{p}' is a damaged or truncated gzip file ({err}). Download or "
                                  "compress it again (`gzip -t` checks it).") from None
    if not raw or raw.isspace():
        raise FileFormatError(f"'{p}' is empty. An XES file starts with <?xml ...?> and a <log> element.")
    return raw


#: A gzip file may expand to at most this many times its size (XES logs compress about 20x)
#: or to _BOMB_FLOOR bytes, whichever is larger; beyond, it is refused as a decompression bomb.
_BOMB_RATIO = 250
_BOMB_FLOOR = 1 << 30


class _TooLarge(Exception):
    pass


def _gunzip(raw: bytes) -> bytes:
    """Decompress every gzip member of ``raw`` in chunks, refusing to produce more than the bomb limit."""
    limit = max(_BOMB_RATIO * len(raw), _BOMB_FLOOR)
    parts, total = [], 0
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
        while chunk := fh.read(1 << 24):
            total += len(chunk)
            if total > limit:
                raise _TooLarge(limit)
            parts.append(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _utf8(raw: bytes, p: Path) -> bytes:
    """The document as UTF-8 bytes (``raw`` itself when it already is)."""
    m = _DECL_ENC.match(raw, 3 if raw.startswith(b"\xef\xbb\xbf") else 0)
    enc = m.group(1).decode().lower().replace("_", "-") if m else "utf-8"
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        enc = "utf-16"
    if enc in ("utf-8", "utf8", "us-ascii", "ascii"):
        return raw
    try:
        return raw.decode(enc).encode("utf-8")
    except (LookupError, UnicodeError) as err:
        raise FileFormatError(f"cannot decode '{p}' as {enc!r}, the encoding it declares ({err}). "
                              "Re-encode the file as UTF-8 (e.g. iconv -t utf-8).") from None


def _check_prolog(text: bytes, p: Path) -> int:
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
        raise FileFormatError(f"'{p}' is not an XML file: at line {line} it reads {text[pos:pos + 40]!r} where "
                              "an element should start. Is this the right file (an .xes export)?")
    name = m.group(1).decode("utf-8", "replace")
    if name.rpartition(":")[2] != "log":
        raise FileFormatError(f"'{p}' is XML but not XES: its root element is <{name}>, expected <log>. "
                              "Export the event log as XES (IEEE 1849), or read tables with jl.read_csv.")
    return pos


class _Sink:
    """lxml parser target without callbacks: libxml2 only checks well-formedness, GIL released."""

    def close(self):
        return None


def _validate(raw: bytes, p: Path) -> None:
    try:
        etree.fromstring(raw, etree.XMLParser(target=_Sink(), **_SAFE))
    except etree.XMLSyntaxError as err:
        line, col = err.position
        what = re.sub(r", line \d+, column \d+$", "", err.msg or "syntax error")
        raise FileFormatError(f"'{p}' is not well-formed XML at line {line}, column {col}: {what}. The file is "
                              "probably truncated or damaged; export or download it again.") from None


# ---------------------------------------------------------------- the fast path
class _IR:
    """What both paths produce: sizes, each event's trace, and per (scope, key) the values."""

    def __init__(self, n_traces, ev_trace, attrs, locate):
        self.n_traces, self.ev_trace, self.attrs, self.locate = n_traces, ev_trace, attrs, locate


def _fast(text: bytes, root: int) -> _IR | None:
    start = text.find(b"<trace", root)
    if start < 0 or any(text.find(s, root, start) >= 0 for s in (b"<!--", b"<![CDATA[", b"<?")):
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
        attrs.setdefault((scope, names[g // 16]), []).append((TYPES[g % 8], owner[sel], values))

    def locate(trace: int) -> int:
        i = int(np.argmax((tr_open - 1) == trace))
        return text.count(b"\n", 0, text.rfind(b"<trace", 0, int(offs[4 * i]))) + 1  # its <trace> tag

    return _IR(int(tr_open[-1]), ev_trace, attrs, locate)


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
def _general(raw: bytes) -> _IR:
    found: dict = {}
    ev_trace: list[int] = []
    lines: list[int] = []

    def add(scope, el, owner):
        tag = el.tag
        if isinstance(tag, str) and tag.rpartition("}")[2] in TYPES and el.get("key") is not None:
            found.setdefault((scope, el.get("key")), []).append((tag.rpartition("}")[2], owner, el.get("value")))

    events = etree.iterparse(io.BytesIO(raw), events=("end",), tag="{*}trace", remove_comments=True,
                             remove_pis=True, **_SAFE)
    for _, trace in events:
        t = len(lines)
        lines.append(trace.sourceline)
        for child in trace:
            if isinstance(child.tag, str) and child.tag.rpartition("}")[2] == "event":
                for a in child:
                    add("event", a, len(ev_trace))
                ev_trace.append(t)
            else:
                add("trace", child, t)
        trace.clear()
        while trace.getprevious() is not None:
            del trace.getparent()[0]
    attrs = {}
    for sk, rows in found.items():
        for typ in dict.fromkeys(r[0] for r in rows):
            sub = [r for r in rows if r[0] == typ]
            attrs.setdefault(sk, []).append((typ, np.array([r[1] for r in sub], dtype=np.int64),
                                             pa.array([r[2] for r in sub], pa.large_string())))
    return _IR(len(lines), np.array(ev_trace, dtype=np.int64), attrs, lambda t: lines[t])


# ---------------------------------------------------------------- columns
def _column(parts, n: int, key: str, p: Path) -> pa.Array:
    """Scatter one attribute's values to its owners (events or traces) and convert its type."""
    if len(parts) == 1:
        typ, idx, values = parts[0]
    else:  # the same key written with different types: keep it as text
        typ = "string"
        idx = np.concatenate([x[1] for x in parts])
        order = np.argsort(idx, kind="stable")
        idx, values = idx[order], pa.concat_arrays([x[2] for x in parts]).take(order)
    last = np.ones(len(idx), dtype=bool)
    last[:-1] = idx[1:] != idx[:-1]  # a key repeated in one event: the last value wins
    pos = np.full(n, -1, dtype=np.int64)
    pos[idx[last]] = np.flatnonzero(last)
    values = values.take(pa.array(pos, mask=pos < 0))
    if typ in ("string", "id"):
        return values
    target = {"date": pa.timestamp("us", "UTC"), "int": pa.int64(), "float": pa.float64(), "boolean": pa.bool_()}
    try:
        return values.cast(target[typ])
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    s = pd.Series(values.to_pandas(), dtype=object).str.strip()
    if typ == "date":
        out = pd.to_datetime(s, utc=True, format="ISO8601", errors="coerce")
    elif typ == "boolean":
        out = s.str.lower().map({"true": True, "false": False, "1": True, "0": False})
    else:
        out = pd.to_numeric(s, errors="coerce")
        if typ == "int":
            out = out.where(out == out.round())
    bad = s.notna() & out.isna()
    if bad.any():
        raise FileFormatError(f"'{p}': attribute {key!r} is declared <{typ}> but has the value "
                              f"{s[bad].iloc[0]!r} ({int(bad.sum()):,} such values). Fix the values or "
                              "declare the attribute as <string>.")
    if typ == "date":
        return pa.array(out).cast(target[typ], safe=False)
    return pa.array(out.astype({"int": "Int64", "float": "float64", "boolean": "boolean"}[typ]), target[typ])


def _frame(ir: _IR, p: Path) -> pd.DataFrame:
    n_events = len(ir.ev_trace)
    if n_events == 0:
        raise FileFormatError(f"'{p}' is an XES log without events ({ir.n_traces:,} traces). "
                              "Export the log again with its events.")
    case_parts = ir.attrs.get(("trace", "concept:name"))
    case = _column(case_parts, ir.n_traces, "concept:name", p) if case_parts else pa.nulls(ir.n_traces)
    case = case.cast(pa.large_string())
    if case.null_count:
        t = int(np.flatnonzero(case.is_null().to_numpy(zero_copy_only=False))[0])
        raise FileFormatError(
            f"'{p}': {case.null_count:,} trace(s) have no concept:name, the first is trace #{t + 1} (line "
            f"{ir.locate(t)}); journeylab uses it as the case id. Add "
            '<string key="concept:name" value="..."/> to every <trace>.')
    ev_trace = pa.array(ir.ev_trace)
    names, arrays = ["case:concept:name"], [case.take(ev_trace)]
    for scope in ("event", "trace"):
        for (sc, key), parts in ir.attrs.items():
            if sc != scope or (scope, key) == ("trace", "concept:name"):
                continue
            col = _column(parts, n_events if scope == "event" else ir.n_traces, key, p)
            names.append(key if scope == "event" else f"case:{key}")
            arrays.append(col if scope == "event" else col.take(ev_trace))
    table = pa.Table.from_arrays(arrays, names=names)
    mapper = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    df = table.to_pandas(types_mapper=mapper.get)
    for name, arr in zip(names, arrays, strict=True):
        if pa.types.is_large_string(arr.type) and df[name].dtype != "str":
            df[name] = df[name].astype("str")
    return df
