"""journeylab._xes reads files as they stream in: gzip bombs, non-XML content, chunk boundaries, gzip members.

The bombs are built in a temporary folder, streaming, so that the tests stay small and fast; the
peak memory of parse_xes is measured with tracemalloc (every buffer it fills is a Python object).
"""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pandas as pd
import pytest

import journeylab._xes as xmod
import journeylab._xes_stream as stream
from journeylab._xes import parse_xes
from journeylab.exceptions import FileFormatError

MiB = 1 << 20
LOG = ('<?xml version="1.0" encoding="UTF-8"?>\n<log xmlns="http://www.xes-standard.org/">\n'
       '<classifier name="Activity" keys="concept:name"/>\n'
       + "".join(f'<trace><string key="concept:name" value="c{i}"/>'
                 f'<event><string key="concept:name" value="caf\u00e9 {i} \U0001F600"/>'
                 f'<date key="time:timestamp" value="2024-01-0{1 + i % 9}T10:00:00.000+01:00"/></event></trace>\n'
                 for i in range(40))
       + "</log>\n")


def gzip_stream(path, parts, level=9):
    """Write the gzip of the concatenated byte strings ``parts`` (an iterable), never holding it whole."""
    comp = zlib.compressobj(level, zlib.DEFLATED, 31)
    with open(path, "wb") as fh:
        for part in parts:
            fh.write(comp.compress(part))
        fh.write(comp.flush())
    return path


def peak_of(fn):
    """(exception raised by fn(), peak bytes traced meanwhile)."""
    tracemalloc.start()
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - the caller checks what it is
        return err, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    raise AssertionError("expected an error")


@pytest.fixture(scope="module")
def zero_bomb(tmp_path_factory):
    """200 MB of zero bytes, ~200 kB gzipped (the reported bomb was 3 GiB in 14 MB)."""
    return gzip_stream(tmp_path_factory.mktemp("bomb") / "zeros.xes.gz", (bytes(MiB) for _ in range(200)))


@pytest.fixture(scope="module")
def blank_bomb(tmp_path_factory):
    """A document that starts like XES, then 200 MB of blanks: ~200 kB gzipped."""
    parts = [b'<?xml version="1.0"?>\n<log>'] + [b" " * MiB] * 200 + [b"</log>"]
    return gzip_stream(tmp_path_factory.mktemp("bomb") / "blanks.xes.gz", parts)


def test_zero_bomb_is_refused_at_its_first_bytes(zero_bomb):
    err, peak = peak_of(lambda: parse_xes(zero_bomb))
    assert isinstance(err, FileFormatError)
    assert pytest.raises(FileFormatError, parse_xes, zero_bomb).match(
        r"zeros\.xes\.gz' is not an XML file: at line 1 of its decompressed content it reads b'\\x00\\x00.*"
        r"where an element should start, so it was not read further")
    assert peak < 4 * MiB, f"{peak / MiB:.1f} MiB traced: the bomb was inflated"


def test_xml_looking_bomb_is_stopped_at_the_limit(blank_bomb, monkeypatch):
    monkeypatch.setattr(xmod, "_BOMB_FLOOR", MiB)  # the ratio alone decides: 250 x ~200 kB = ~50 MB
    limit = xmod._BOMB_RATIO * blank_bomb.stat().st_size
    assert 20 * MiB < limit < 200 * MiB
    err, peak = peak_of(lambda: parse_xes(blank_bomb))
    assert isinstance(err, FileFormatError)
    assert pytest.raises(FileFormatError, parse_xes, blank_bomb).match(
        rf"blanks\.xes\.gz' expands to more than {limit:,} bytes \(the limit is 250 times its size, at least 1 GiB\): "
        r"this looks like a decompression bomb and was not read\. If the file is genuine, decompress it yourself")
    # the buffer grows in place and may keep up to 1/8 in reserve (untouched, so not resident)
    assert peak < limit + limit // 8 + 8 * MiB, f"{peak / MiB:.1f} MiB traced for a limit of {limit / MiB:.1f} MiB"


def test_plain_file_that_is_not_xml_is_not_read_whole(tmp_path):
    path = tmp_path / "big.xes"
    with open(path, "wb") as fh:
        for _ in range(50):
            fh.write(b"case,activity,timestamp\n" * (MiB // 24))
    err, peak = peak_of(lambda: parse_xes(path))
    assert isinstance(err, FileFormatError)
    assert pytest.raises(FileFormatError, parse_xes, path).match(r"big\.xes' is not an XML file: at line 1 it reads "
                                                                 r"b'case,activity,timestamp\\ncase,activ")
    assert peak < 4 * MiB


@pytest.mark.parametrize("start", ["\ufeff<?xml version='1.0'?>\n\n<log/>", "<!-- c --><log/>", "\ufeff \n\t<log/>",
                                   "<x:log xmlns:x='http://www.xes-standard.org/'/>"])
def test_xml_starts_pass_the_first_check(tmp_path, start):
    for name, data in (("a.xes", start.encode()), ("a.xes.gz", gzip.compress(start.encode()))):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(FileFormatError, match="is an XES log without events"):  # read to the end
            parse_xes(tmp_path / name)


@pytest.mark.parametrize("start", ["\x00<log/>", "PK\x03\x04", '{"log": 1}', "< log/>", "</log>",
                                   "\ufeff\ufeff<log/>"])
def test_non_xml_starts_are_refused(tmp_path, start):
    for name, data in (("a.xes", start.encode()), ("a.xes.gz", gzip.compress(start.encode()))):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(FileFormatError, match=r"is not an XML file: at line 1"):
            parse_xes(tmp_path / name)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_utf16_with_a_byte_order_mark(tmp_path, encoding):
    text = LOG.replace('encoding="UTF-8"', 'encoding="UTF-16"')
    data = ("\ufeff" + text).encode(encoding) if encoding.endswith("be") else text.encode(encoding)
    ref = parse_xes(_write(tmp_path / "ref.xes", LOG.encode()))
    for name, raw in (("u.xes", data), ("u.xes.gz", gzip.compress(data))):
        pd.testing.assert_frame_equal(parse_xes(_write(tmp_path / name, raw)), ref)
    with pytest.raises(FileFormatError, match="is not an XML file"):
        parse_xes(_write(tmp_path / "bad.xes", "\ufeffnot xml".encode(encoding)))


def _write(path, data):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("in_chunk, out_chunk", [(1, 1), (7, 13), (64, 5), (4096, 1)])
def test_tiny_chunks_give_the_same_frame(tmp_path, monkeypatch, in_chunk, out_chunk):
    ref = parse_xes(_write(tmp_path / "ref.xes", LOG.encode()))
    data = LOG.encode()
    members = gzip.compress(data[:333]) + gzip.compress(b"") + gzip.compress(data[333:]) + b"\0" * 9
    monkeypatch.setattr(stream, "IN_CHUNK", in_chunk)
    monkeypatch.setattr(stream, "OUT_CHUNK", out_chunk)
    for name, raw in (("one.xes.gz", gzip.compress(data)), ("members.xes.gz", members), ("plain.xes", data)):
        pd.testing.assert_frame_equal(parse_xes(_write(tmp_path / name, raw)), ref)


def test_member_boundary_inside_a_character(tmp_path):
    data = LOG.encode()
    cut = data.index("\U0001F600".encode()) + 2  # in the middle of the 4-byte emoji
    path = _write(tmp_path / "split.xes.gz", gzip.compress(data[:cut]) + gzip.compress(data[cut:]))
    pd.testing.assert_frame_equal(parse_xes(path), parse_xes(_write(tmp_path / "ref.xes", data)))


@pytest.mark.parametrize("damage", ["truncated-second-member", "garbage-after", "bad-crc", "header-only"])
def test_damaged_gzip(tmp_path, damage):
    data = LOG.encode()
    one, two = gzip.compress(data[:500]), gzip.compress(data[500:])
    raw = {"truncated-second-member": one + two[:-30], "garbage-after": one + two + b"trailing junk",
           "bad-crc": one + two[:-8] + bytes(4) + two[-4:], "header-only": b"\x1f\x8b"}[damage]
    with pytest.raises(FileFormatError, match=r"is a damaged or truncated gzip file \(.+\)\. Download or compress it "
                                              r"again \(`gzip -t` checks it\)"):
        parse_xes(_write(tmp_path / "d.xes.gz", raw))


@pytest.mark.parametrize("size", [5, 10 * MiB, 2**32 - 1])
def test_trailer_that_lies_about_the_size(tmp_path, size):
    """zlib checks the size in the trailer; it is never used to make room in advance."""
    raw = bytearray(gzip.compress(LOG.encode()))
    raw[-4:] = size.to_bytes(4, "little")
    path = _write(tmp_path / "h.xes.gz", bytes(raw))
    err, peak = peak_of(lambda: parse_xes(path))
    assert isinstance(err, FileFormatError) and "incorrect length check" in str(err)
    with pytest.raises(FileFormatError, match=r"damaged or truncated gzip file \(.*incorrect length check\)"):
        parse_xes(path)
    assert peak < 4 * MiB


def test_members_read_whole_whatever_the_last_trailer_says(tmp_path):
    data = LOG.encode()
    for cut in (10, len(data) - 10):  # the last member (whose size is the hint) is small, then large
        raw = xmod._read(_write(tmp_path / "m.xes.gz", gzip.compress(data[:cut]) + gzip.compress(data[cut:])))
        assert raw == data
