"""Kept answers sent compressed to the clients that accept it (browsers, httpx, requests: all
send `Accept-Encoding: gzip`). An API answer is compressed once per state, as it is
serialised once (`app.web.answers.json_answer`): a provision's JSON is a twentieth of its
size gzipped (76 KB, 4 KB at 10,000 proposals), that much less to wait for on a conference
room's Wi-Fi, at no cost per request."""

from __future__ import annotations

import gzip

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
