"""Files a server must refuse, built byte by byte: what a careless or hostile upload looks like."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable

from msoffcrypto.format.ooxml import OOXMLFile

_FREE, _END, _FAT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _directory_entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\0").encode("utf-16-le") if name else b""
    return (
        encoded.ljust(64, b"\0")
        + struct.pack("<HBB", len(encoded), kind, 1)
        + struct.pack("<III", _NOSTREAM, _NOSTREAM, child)
        + bytes(16)  # CLSID
        + struct.pack("<IQQ", 0, 0, 0)  # state bits, creation and modification times
        + struct.pack("<IQ", start, size)
    )


def legacy_doc() -> bytes:
    """A Word 97-2003 .doc as far as a file-type check can tell: an OLE compound file with a
    "WordDocument" stream that starts with Word's FIB magic number (0xA5EC).

    Sector 0 is the FAT, sector 1 the directory, sectors 2-9 the 4096-byte stream (at the
    mini-stream cut-off, so it lives in ordinary sectors).
    """
    stream = struct.pack("<H", 0xA5EC).ljust(4096, b"\0")
    header = (
        OLE_SIGNATURE
        + bytes(16)
        + struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6)
        + bytes(6)
        + struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, _END, 0, _END, 0)
        + struct.pack("<I", 0)
        + struct.pack("<I", _FREE) * 108
    )
    fat = [_FAT, _END, *range(3, 10), _END]
    fat_sector = b"".join(struct.pack("<I", v) for v in fat).ljust(512, b"\xff")
    directory = (
        _directory_entry("Root Entry", 5, 1, _END, 0)
        + _directory_entry("WordDocument", 2, _NOSTREAM, 2, len(stream))
        + _directory_entry("", 0, _NOSTREAM, 0, 0) * 2
    )
    return header + fat_sector + directory + stream


def password_protected(docx: bytes, password: str = "secret") -> bytes:
    """A .docx encrypted as Word does it (ECMA-376 agile encryption in an OLE container)."""
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(docx)).encrypt(password, out)
    return out.getvalue()


def zip_of(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def members_of(docx: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def with_part(docx: bytes, name: str, change: Callable[[bytes], bytes]) -> bytes:
    """A copy of `docx` with one part rewritten (or added, from b"")."""
    members = members_of(docx)
    members[name] = change(members.get(name, b""))
    return zip_of(members)


def with_encrypted_member(docx: bytes, name: str = "word/document.xml") -> bytes:
    """A zip whose member `name` claims zip ("ZipCrypto") encryption (general purpose bit 0)."""
    return _patch_central(docx, name, 8, "<H", lambda flags: flags | 0x1)


def _patch_central(
    docx: bytes, name: str, offset: int, layout: str, change: Callable[[int], int]
) -> bytes:
    """Rewrite one field of member `name`'s central directory entry."""
    data = bytearray(docx)
    encoded = name.encode()
    at = data.find(b"PK\x01\x02")
    while at != -1:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_length]) == encoded:
            value = struct.unpack_from(layout, data, at + offset)[0]
            struct.pack_into(layout, data, at + offset, change(value))
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def with_lying_size(docx: bytes, name: str, claimed: int) -> bytes:
    """Rewrite the central directory so that member `name` claims `claimed` bytes."""
    return _patch_central(docx, name, 24, "<I", lambda _: claimed)
