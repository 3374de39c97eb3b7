"""Refuse a bad upload before anything reads it: delegates upload Word files from anywhere.

A .docx is a zip of XML parts. Everything that opens one goes through `open_docx`, which refuses,
with a message a delegate can act on, what Rolltext must never parse: files that are not .docx
(including the old .doc format and password-protected files, both OLE compound files), files over
the upload limit, zip bombs (huge declared sizes or compression ratios, too many members),
encrypted zip members, damaged XML, and any XML part with a DOCTYPE (XML external entities and
"billion laughs" expansions both need one). Parts are parsed with entity resolution, network
access and DTD loading switched off, and without lxml's huge-tree mode, so a hostile part fails
instead of exhausting memory.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from lxml import etree

from app.domain.errors import Invalid

__all__ = [
    "MAX_MEMBERS",
    "MAX_RATIO",
    "MAX_UNCOMPRESSED",
    "MAX_UPLOAD_BYTES",
    "DocxPackage",
    "W",
    "open_docx",
    "parse_xml",
    "w",
]

MAX_UPLOAD_BYTES = 20_000_000
MAX_UNCOMPRESSED = 100_000_000  # all members together, as declared and as read
MAX_RATIO = 100  # uncompressed / compressed, per member
MAX_MEMBERS = 1_000  # a long report with many images has a few hundred

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
DOCUMENT = "word/document.xml"
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_XML_SUFFIXES = (".xml", ".rels")

NOT_DOCX = (
    "This file is not a Word document (.docx). Open it in Word and save it as "
    '"Word Document (.docx)", then upload that file.'
)
PASSWORD_PROTECTED = (
    "This Word document is password-protected, so Rolltext cannot read it. Open it in Word, "
    "save it without a password (File > Info > Protect Document > Encrypt with Password, "
    "clear the password) and upload it again."
)
LEGACY_DOC = (
    'This file is in the old .doc format. Open it in Word and save it as "Word Document '
    '(.docx)", then upload the .docx file.'
)
NO_DOCUMENT_PART = (
    "This file is a zip archive but not a Word document: it has no word/document.xml. Open it in "
    'Word and save it as "Word Document (.docx)", then upload that file.'
)
ZIP_BOMB = (
    "This file expands to far more data than a Word document holds, so Rolltext refuses to "
    "open it. Save the document again from Word and upload the new copy."
)
TOO_MANY_PARTS = (
    f"This file has more than {MAX_MEMBERS} parts, far more than a Word document holds, so "
    "Rolltext refuses to open it. Save the document again from Word and upload the new copy."
)
DOCTYPE = (
    "This Word document contains an XML document type declaration (DOCTYPE), which Word never "
    "writes and which can be used to attack a server, so Rolltext refuses it. Save the document "
    "again from Word and upload the new copy."
)
NO_TEXT = "This Word document has no paragraphs of text."


def too_large(limit: int) -> str:
    """The message for a file over the upload limit, naming the limit."""
    return (
        f"This file is larger than the {_megabytes(limit)} limit for Word documents. Remove large "
        "pictures or save it without embedded fonts, then upload it again."
    )


def damaged(part: str, reason: str) -> str:
    """The message for a part that is not well-formed XML (or a zip member that cannot be read)."""
    return (
        f"This Word document is damaged: its part {part} cannot be read ({reason}). Open it in "
        "Word, save it again and upload the new copy."
    )


def _megabytes(limit: int) -> str:
    value = limit / 1_000_000
    return f"{value:g} MB"


def w(tag: str) -> str:
    """The Clark name of a WordprocessingML element or attribute: w("p") is "{…/main}p"."""
    return f"{{{W}}}{tag}"


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml(data: bytes, part: str) -> etree._Element:
    """Parse one XML part safely; refuse a DOCTYPE (entities need one) or a damaged part."""
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        raise Invalid(damaged(part, str(error.msg or error))) from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise Invalid(DOCTYPE)
    return root


class DocxPackage:
    """A checked .docx: read its parts only through here, each read capped by the limits."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._zip = archive
        self._names = {info.filename for info in archive.infolist()}
        self._parsed: dict[str, etree._Element] = {}

    @property
    def names(self) -> frozenset[str]:
        return frozenset(self._names)

    def has(self, name: str) -> bool:
        return name in self._names

    def read(self, name: str) -> bytes:
        """The bytes of a member, never more than its checked declared size."""
        info = self._zip.getinfo(name)
        try:
            with self._zip.open(info) as member:
                data = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as error:
            raise Invalid(damaged(name, str(error))) from None
        if len(data) > info.file_size:
            raise Invalid(ZIP_BOMB)
        return data

    def xml(self, name: str) -> etree._Element:
        """A parsed XML part (parsed once, safely)."""
        if name not in self._parsed:
            self._parsed[name] = parse_xml(self.read(name), name)
        return self._parsed[name]

    def xml_or_none(self, name: str) -> etree._Element | None:
        return self.xml(name) if self.has(name) else None

    def xml_parts(self) -> Iterator[str]:
        return (name for name in sorted(self._names) if name.lower().endswith(_XML_SUFFIXES))


def open_docx(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> DocxPackage:
    """Check an uploaded file and open it as a .docx, or raise Invalid saying what is wrong.

    Every XML part is parsed once here, so a DOCTYPE or damaged part anywhere (headers,
    comments, custom properties) is refused before any reader looks at the document.
    """
    if len(data) > max_bytes:
        raise Invalid(too_large(max_bytes))
    if data.startswith(_OLE_SIGNATURE):
        # Word saves an encrypted .docx inside an OLE compound file with an "EncryptionInfo"
        # stream; directory entry names are UTF-16LE.
        if "EncryptionInfo".encode("utf-16-le") in data:
            raise Invalid(PASSWORD_PROTECTED)
        if "WordDocument".encode("utf-16-le") in data:
            raise Invalid(LEGACY_DOC)
        raise Invalid(NOT_DOCX)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise Invalid(NOT_DOCX)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
        raise Invalid(NOT_DOCX) from None
    if len(infos) > MAX_MEMBERS:
        raise Invalid(TOO_MANY_PARTS)
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise Invalid(PASSWORD_PROTECTED)
        total += info.file_size
        if total > MAX_UNCOMPRESSED:
            raise Invalid(ZIP_BOMB)
        if info.file_size > MAX_RATIO * max(info.compress_size, 1) and info.file_size > 1_000:
            raise Invalid(ZIP_BOMB)
    package = DocxPackage(archive)
    if not package.has(DOCUMENT):
        raise Invalid(NO_DOCUMENT_PART)
    for name in package.xml_parts():
        package.xml(name)
    if not _has_text(package.xml(DOCUMENT)):
        raise Invalid(NO_TEXT)
    return package


def _has_text(document: etree._Element) -> bool:
    """True if the body has any visible (or tracked-deleted) text."""
    body = document.find(w("body"))
    if body is None:
        return False
    for tag in ("t", "delText"):
        for node in body.iter(w(tag)):
            if node.text and node.text.strip():
                return True
    return False
