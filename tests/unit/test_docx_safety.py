"""Uploads Rolltext must refuse before parsing anything (app.docx.safety).

Each bad file is built in the test; each refusal is checked word for word, because a delegate
reads it and must know what to do next.
"""

from __future__ import annotations

import zipfile

import pytest

from app.docx.importing import import_draft
from app.docx.safety import open_docx, parse_xml
from app.domain.errors import Invalid
from tests.docx_fixtures.bad_files import (
    legacy_doc,
    members_of,
    password_protected,
    with_encrypted_member,
    with_lying_size,
    with_part,
    zip_of,
)
from tests.docx_fixtures.word import WordFile

NOT_DOCX = (
    "This file is not a Word document (.docx). Open it in Word and save it as "
    '"Word Document (.docx)", then upload that file.'
)
ZIP_BOMB = (
    "This file expands to far more data than a Word document holds, so Rolltext refuses to "
    "open it. Save the document again from Word and upload the new copy."
)
DOCTYPE = (
    "This Word document contains an XML document type declaration (DOCTYPE), which Word never "
    "writes and which can be used to attack a server, so Rolltext refuses it. Save the document "
    "again from Word and upload the new copy."
)


def good_docx() -> bytes:
    word = WordFile()
    word.title("Draft resolution")
    word.paragraph("Recalling its resolution 71/1,")
    return word.bytes()


def refusal(data: bytes, **limits: int) -> str:
    with pytest.raises(Invalid) as refused:
        open_docx(data, **limits)
    return refused.value.message


def test_a_good_file_opens_and_its_parts_parse() -> None:
    package = open_docx(good_docx())

    assert package.has("word/document.xml")
    assert package.xml("word/document.xml").tag.endswith("}document")
    assert package.xml_or_none("docProps/custom.xml") is None


@pytest.mark.parametrize(
    "data",
    [b"", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", b"Draft resolution, plain text"],
    ids=["empty", "pdf", "text"],
)
def test_not_a_zip(data: bytes) -> None:
    assert refusal(data) == NOT_DOCX


def test_password_protected_word_file() -> None:
    assert refusal(password_protected(good_docx())) == (
        "This Word document is password-protected, so Rolltext cannot read it. Open it in Word, "
        "save it without a password (File > Info > Protect Document > Encrypt with Password, "
        "clear the password) and upload it again."
    )


def test_zip_encryption_is_refused_as_password_protected() -> None:
    assert refusal(with_encrypted_member(good_docx())).startswith(
        "This Word document is password-protected"
    )


def test_legacy_doc() -> None:
    assert refusal(legacy_doc()) == (
        'This file is in the old .doc format. Open it in Word and save it as "Word Document '
        '(.docx)", then upload the .docx file.'
    )


def test_other_ole_files_are_not_word_documents() -> None:
    data = legacy_doc().replace(
        "WordDocument".encode("utf-16-le"), "Workbook\0\0\0\0".encode("utf-16-le")
    )

    assert refusal(data) == NOT_DOCX


def test_a_file_over_the_limit_names_the_limit() -> None:
    fifty_megabytes = b"PK\x03\x04" + bytes(50_000_000)

    assert refusal(fifty_megabytes) == (
        "This file is larger than the 20 MB limit for Word documents. Remove large pictures or "
        "save it without embedded fonts, then upload it again."
    )
    assert refusal(good_docx(), max_bytes=1_000).startswith(
        "This file is larger than the 0.001 MB limit"
    )


def test_zip_bomb_by_compression_ratio() -> None:
    bomb = with_part(good_docx(), "word/media/image1.png", lambda _: bytes(5_000_000))

    assert refusal(bomb) == ZIP_BOMB


def test_zip_bomb_by_total_size() -> None:
    members = members_of(good_docx())
    members.update({f"word/media/image{n}.bin": bytes(1_000_000) for n in range(101)})
    stored = zip_of(members, compression=zipfile.ZIP_STORED)

    assert refusal(stored, max_bytes=200_000_000) == ZIP_BOMB


def test_zip_bomb_by_lying_about_a_size() -> None:
    lying = with_lying_size(good_docx(), "word/document.xml", 3_000_000_000)

    assert refusal(lying) == ZIP_BOMB


def test_too_many_parts() -> None:
    members = members_of(good_docx())
    members.update({f"customXml/item{n}.bin": b"x" for n in range(1_000)})

    assert refusal(zip_of(members)) == (
        "This file has more than 1000 parts, far more than a Word document holds, so Rolltext "
        "refuses to open it. Save the document again from Word and upload the new copy."
    )


def test_a_zip_without_a_word_document() -> None:
    odt_like = zip_of(
        {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"}
    )

    assert refusal(odt_like) == (
        "This file is a zip archive but not a Word document: it has no word/document.xml. Open "
        'it in Word and save it as "Word Document (.docx)", then upload that file.'
    )


def test_external_entity_in_the_document_is_refused() -> None:
    def xxe(xml: bytes) -> bytes:
        xml = xml.replace(
            b"<w:document ",
            b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><w:document ',
            1,
        )
        return xml.replace(b"Recalling", b"&xxe;Recalling", 1)

    assert refusal(with_part(good_docx(), "word/document.xml", xxe)) == DOCTYPE


def test_entity_expansion_in_any_part_is_refused() -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<Properties>&lol2;</Properties>"
    )

    assert refusal(with_part(good_docx(), "docProps/custom.xml", lambda _: laughs)) == DOCTYPE


def test_a_doctype_without_entities_is_refused_too() -> None:
    with pytest.raises(Invalid) as refused:
        parse_xml(b'<!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><x/>', "part.xml")

    assert refused.value.message == DOCTYPE


def test_damaged_xml_names_the_part() -> None:
    damaged = with_part(good_docx(), "word/styles.xml", lambda xml: xml[: len(xml) // 2])

    assert refusal(damaged).startswith(
        "This Word document is damaged: its part word/styles.xml cannot be read ("
    )
    assert refusal(damaged).endswith("). Open it in Word, save it again and upload the new copy.")


def test_a_document_without_text() -> None:
    word = WordFile()
    word.paragraph("")
    word.paragraph("   ")

    assert refusal(word.bytes()) == "This Word document has no paragraphs of text."


def test_the_importer_refuses_through_the_same_checks() -> None:
    with pytest.raises(Invalid) as refused:
        import_draft(legacy_doc())

    assert refused.value.message.startswith("This file is in the old .doc format.")
