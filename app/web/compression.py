"""Kept answers sent compressed to the clients that accept it (browsers, httpx, requests: all
send `Accept-Encoding: gzip`): the API's JSON, and the text page's kept lines (below). An API
answer is compressed once per state, as it is serialised once (`app.web.answers.json_answer`):
a provision's JSON is a twentieth of its size gzipped (76 KB, 4 KB at 10,000 proposals), that
much less to wait for on a conference room's Wi-Fi, at no cost per request."""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Sequence
from typing import NamedTuple

#: The headers of an answer that may be sent compressed, as it is, or compressed (caches keep
#: one copy per encoding).
VARY = {"Vary": "Accept-Encoding"}
GZIPPED = {"Content-Encoding": "gzip", **VARY}
#: Smaller answers are sent as they are: gzip's header and checksum would outweigh the gain.
SMALLEST = 1024
LEVEL = 6


def accepts_gzip(value: bytes) -> bool:
    """Does this `Accept-Encoding` header accept gzip (by name or `*`, with a q above 0)?"""
    for item in value.split(b","):
        coding, _, params = item.partition(b";")
        if coding.strip().lower() not in (b"gzip", b"x-gzip", b"*"):
            continue
        q = params.strip().lower()
        if not q.startswith(b"q="):
            return True
        try:
            return float(q[2:]) > 0
        except ValueError:
            return False
    return False


def gzipped(body: bytes) -> bytes:
    """The same bytes, gzip-compressed (no timestamp: the same body gives the same bytes)."""
    return gzip.compress(body, LEVEL, mtime=0)


# -- A kept part, compressed once, spliced into a page compressed around it -------------------
# A page is its viewer's own parts around a part kept for everyone (the whole text's lines:
# 400 KB). gzip's body is a deflate stream, and deflate streams can be joined where each part
# ends on a byte boundary without a final block (a sync flush) and refers to nothing before its
# start (compressed on its own): the kept part is compressed once, the parts around it (a few
# KB) for each request. gzip's trailer needs the CRC-32 of the whole; the kept part's is joined
# to the rest as zlib's crc32_combine does, with its operator computed once.

_GZIP_HEADER = (
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no time, "unknown OS"
)
_CRC_POLYNOMIAL = 0xEDB88320


class Deflated(NamedTuple):
    """A kept part compressed once: raw deflate ending on a byte boundary, not final."""

    data: bytes
    crc: int
    size: int
    #: What CRC-32 does to a checksum over `size` more bytes (zlib's crc32_combine), by bit.
    advance: tuple[int, ...]


def deflated(part: bytes) -> Deflated:
    packer = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = packer.compress(part) + packer.flush(zlib.Z_SYNC_FLUSH)
    return Deflated(data, zlib.crc32(part), len(part), tuple(_zeros(len(part))))


def gzipped_around(before: bytes, kept: Deflated, after: bytes) -> bytes:
    """gzip of `before + kept + after`, compressing only `before` and `after`."""
    head = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    tail = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc = _times(kept.advance, zlib.crc32(before)) ^ kept.crc
    crc = zlib.crc32(after, crc)
    size = len(before) + kept.size + len(after)
    return b"".join(
        (
            _GZIP_HEADER,
            head.compress(before),
            head.flush(zlib.Z_SYNC_FLUSH),
            kept.data,
            tail.compress(after),
            tail.flush(zlib.Z_FINISH),
            struct.pack("<II", crc, size & 0xFFFFFFFF),
        )
    )


def _times(matrix: Sequence[int], vector: int) -> int:
    """A 32×32 matrix over GF(2) (a column per bit) times a vector of 32 bits."""
    total, bit = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[bit]
        vector >>= 1
        bit += 1
    return total


def _square(matrix: Sequence[int]) -> list[int]:
    return [_times(matrix, column) for column in matrix]


def _zeros(length: int) -> list[int]:
    """The operator taking a CRC-32 over `length` zero bytes more (zlib's crc32_combine): the
    CRC of A + B is this operator, for len(B), applied to A's, XOR B's."""
    result = [1 << bit for bit in range(32)]
    odd = [_CRC_POLYNOMIAL] + [1 << bit for bit in range(31)]  # one zero bit
    even = _square(odd)  # two
    odd = _square(even)  # four
    while length:
        even = _square(odd)  # eight (one byte) the first time, then doubling
        if length & 1:
            result = [_times(even, column) for column in result]
        length >>= 1
        if not length:
            break
        odd = _square(even)
        if length & 1:
            result = [_times(odd, column) for column in result]
        length >>= 1
    return result
