"""gzip for kept answers (app/web/compression.py): which clients accept it, and a page
compressed around a part compressed once (joined deflate streams, a combined CRC-32)."""

from __future__ import annotations

import gzip
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.web import compression


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        (b"gzip, deflate", True),
        (b"GZIP", True),
        (b"deflate, gzip;q=0.5", True),
        (b"*", True),
        (b"identity", False),
        (b"gzip;q=0", False),
        (b"gzip;q=0.0, deflate", False),
        (b"br, zstd", False),
        (b"gzip;q=nonsense", False),
        (b"", False),
    ],
)
def test_which_clients_accept_gzip(header: bytes, accepted: Any) -> None:
    assert compression.accepts_gzip(header) is accepted


def test_a_compressed_answer_unpacks_to_its_bytes() -> None:
    body = b'{"text": "' + b"the General Assembly " * 200 + b'"}'
    assert gzip.decompress(compression.gzipped(body)) == body
    assert compression.gzipped(body) == compression.gzipped(body)  # no timestamp in it


@settings(max_examples=200, deadline=None)
@given(
    before=st.binary(max_size=5000), kept=st.binary(max_size=70_000), after=st.binary(max_size=5000)
)
def test_a_page_compressed_around_a_kept_part_is_the_whole_page(
    before: bytes, kept: bytes, after: bytes
) -> None:
    """The same bytes once unpacked, by any gzip reader: Python's checks gzip's CRC-32 and
    length; zlib's single-stream reader (httpx's, browsers') reads it to its end, one stream."""
    page = compression.gzipped_around(before, compression.deflated(kept), after)
    assert gzip.decompress(page) == before + kept + after
    reader = zlib.decompressobj(16 + zlib.MAX_WBITS)
    assert reader.decompress(page) + reader.flush() == before + kept + after
    assert reader.eof and not reader.unused_data


def test_a_kept_part_is_compressed_once_for_every_page_around_it() -> None:
    lines = b"<li>Decides to convene an intergovernmental conference.</li>" * 8000
    kept = compression.deflated(lines)
    pages = [compression.gzipped_around(b"<p>%d</p>" % n, kept, b"</html>") for n in range(3)]
    for n, page in enumerate(pages):
        assert kept.data in page  # the same compressed bytes in each
        assert gzip.decompress(page) == b"<p>%d</p>" % n + lines + b"</html>"
        assert len(page) < len(lines) / 20
