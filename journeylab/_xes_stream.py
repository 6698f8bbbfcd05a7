"""Reading an XES file's bytes as they stream in (see :mod:`journeylab._xes`, step 1).

A gzip file is inflated member after member; the first bytes must look like XML and the output may
not pass a size limit: both are checked as the bytes arrive, so a bomb costs at most the limit.
"""

from __future__ import annotations

import re
import zlib


class TooLarge(Exception):
    """The inflated bytes would pass the limit (args: the limit)."""


class NotXml(Exception):
    """The first bytes cannot start an XML document (args: line, the bytes where an element should start)."""


IN_CHUNK = 1 << 20  # bytes read from the file at a time
OUT_CHUNK = 1 << 20  # bytes inflated at a time (the first ones 64 KiB at a time, until they look like XML)


def read_plain(fh) -> bytearray:
    """Read an uncompressed file, refusing it as soon as its first bytes cannot start an XML document."""
    out, sniff = bytearray(), Sniffer()
    while chunk := fh.read(1 << 16 if sniff.open else 1 << 26):
        out += chunk
        sniff(out)
    return out


def read_gzip(fh, limit: int) -> bytearray:
    """Inflate every gzip member of ``fh`` as it is read, refusing to produce more than ``limit`` bytes."""
    out, sniff = bytearray(), Sniffer()  # grows in place (realloc), never copied whole
    d, members, data, at_end = None, 0, b"", False
    while True:
        if not data and not at_end:
            data = fh.read(IN_CHUNK)
            at_end = not data
        if d is None:  # between members: zero padding is allowed after one, as gzip(1) reads it
            data = data.lstrip(b"\0") if members else data
            if not data:
                if at_end:
                    return out
                continue
            d = zlib.decompressobj(31)
        if data:
            chunk = d.decompress(data, 1 << 16 if sniff.open else OUT_CHUNK)
            data = d.unused_data if d.eof else d.unconsumed_tail
        else:
            chunk = d.flush()  # the input is over: what zlib still holds
            if not d.eof and not chunk:
                raise EOFError("the file ends inside a gzip member")
        if d.eof:
            d, members = None, members + 1
        if len(out) + len(chunk) > limit:
            raise TooLarge(limit)
        out += chunk
        sniff(out)


XML_BLANK = {1: re.compile(rb"[ \t\r\n]*"), 2: re.compile(rb"(?:[ \t\r\n]\x00)*"),  # UTF-8, UTF-16 LE, BE
              3: re.compile(rb"(?:\x00[ \t\r\n])*")}


class Sniffer:
    """Called with the bytes read so far; raises NotXml as soon as they cannot start an XML document."""

    def __init__(self):
        self.open, self.pos, self.kind = True, None, None

    def __call__(self, buf) -> None:
        if not self.open:
            return
        if self.pos is None:
            if len(buf) < 3:
                return
            boms = ((b"\xef\xbb\xbf", 1), (b"\xff\xfe", 2), (b"\xfe\xff", 3))
            self.kind, self.pos = next(((k, len(b)) for b, k in boms if buf.startswith(b)), (1, 0))
        unit = 1 if self.kind == 1 else 2
        self.pos = XML_BLANK[self.kind].match(buf, self.pos).end()
        if len(buf) < self.pos + 2 * unit:
            return  # only blanks so far
        enc = {1: "latin-1", 2: "utf-16-le", 3: "utf-16-be"}[self.kind]
        first, second = bytes(buf[self.pos:self.pos + 2 * unit]).decode(enc)
        if first != "<" or not (second in "?!_:" or second.isalpha() or ord(second) > 127):
            raise NotXml(bytes(buf[:self.pos]).count(b"\n") + 1, bytes(buf[self.pos:self.pos + 40]))
        self.open = False
