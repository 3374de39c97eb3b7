"""Edit Word files in LibreOffice with Track Changes on, as a delegate would, for the tests.

LibreOffice's command line (--convert-to) cannot record changes, so this drives it through UNO.
The UNO bridge (Debian's python3-uno) belongs to the system Python, not to the project's venv:
`edit_with_libreoffice` runs this file as a script under /usr/bin/python3, which starts one
headless soffice for all the jobs it is given, connects over a pipe, and for each job opens the
file, switches on change recording, makes the edits and saves as .docx.

Needs (Debian): libreoffice-writer-nogui python3-uno fonts-liberation.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SYSTEM_PYTHON = "/usr/bin/python3"
INSTALL_HINT = (
    "LibreOffice with its Python bridge is needed: "
    "apt-get install libreoffice-writer-nogui python3-uno fonts-liberation"
)

Job = dict[str, Any]  # {"source": path, "target": path, "author": name, "edits": [...]}


def missing() -> str | None:
    """Why LibreOffice cannot be driven here, or None when it can."""
    if shutil.which("soffice") is None:
        return INSTALL_HINT
    check = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, text=True, check=False
    )
    return INSTALL_HINT if check.returncode else None


def edit_with_libreoffice(jobs: list[Job], timeout: float = 180) -> None:
    """Run every job in one LibreOffice process. Edits, in order, are one of:

    {"replace": [old, new]}            search and replace, everywhere
    {"append_paragraph": [after, text]}  a new paragraph after the one containing `after`
    {"delete_paragraph": containing}   the whole paragraph, its mark included
    """
    result = subprocess.run(
        [SYSTEM_PYTHON, __file__, json.dumps(jobs)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(f"LibreOffice failed:\n{result.stdout}\n{result.stderr}")


# --------------------------------------------------------------------------------------------
# Below runs under the system Python, with uno importable
# --------------------------------------------------------------------------------------------


def _property(name: str, value: object) -> Any:
    from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

    prop = PropertyValue()
    prop.Name, prop.Value = name, value
    return prop


def _connect(pipe: str) -> Any:
    import uno  # type: ignore[import-not-found]
    from com.sun.star.connection import NoConnectException  # type: ignore[import-not-found]

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _set_author(context: Any, author: str) -> None:
    """The name LibreOffice records as w:author (Tools > Options > User Data)."""
    provider = context.ServiceManager.createInstanceWithContext(
        "com.sun.star.configuration.ConfigurationProvider", context
    )
    access = provider.createInstanceWithArguments(
        "com.sun.star.configuration.ConfigurationUpdateAccess",
        (_property("nodepath", "/org.openoffice.UserProfile/Data"),),
    )
    given, _, family = author.partition(" ")
    access.setPropertyValue("givenname", given)
    access.setPropertyValue("sn", family)
    access.commitChanges()


def _paragraph_containing(document: Any, words: str) -> Any:
    paragraphs = document.Text.createEnumeration()
    while paragraphs.hasMoreElements():
        paragraph = paragraphs.nextElement()
        if paragraph.supportsService("com.sun.star.text.Paragraph") and words in (
            paragraph.getString()
        ):
            return paragraph
    raise LookupError(f"no paragraph contains {words!r}")


def _edit(document: Any, edit: dict[str, Any]) -> None:
    from com.sun.star.text.ControlCharacter import (  # type: ignore[import-not-found]
        PARAGRAPH_BREAK,
    )

    text = document.Text
    if "replace" in edit:
        old, new = edit["replace"]
        descriptor = document.createReplaceDescriptor()
        descriptor.SearchString, descriptor.ReplaceString = old, new
        if document.replaceAll(descriptor) == 0:
            raise LookupError(f"{old!r} not found")
    elif "append_paragraph" in edit:
        after, words = edit["append_paragraph"]
        cursor = text.createTextCursorByRange(_paragraph_containing(document, after).getEnd())
        text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
        text.insertString(cursor, words, False)
    elif "delete_paragraph" in edit:
        paragraph = _paragraph_containing(document, edit["delete_paragraph"])
        cursor = text.createTextCursorByRange(paragraph.getStart())
        cursor.gotoEndOfParagraph(True)
        cursor.goRight(1, True)  # the paragraph mark
        cursor.setString("")
    else:
        raise ValueError(f"unknown edit {edit!r}")


def _run(jobs: list[Job]) -> None:
    import uno  # type: ignore[import-not-found]

    profile = tempfile.mkdtemp(prefix="rolltext-lo-")
    pipe = f"rolltext_{os.getpid()}"
    office = subprocess.Popen(
        [
            "soffice",
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            f"-env:UserInstallation={Path(profile).as_uri()}",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        context = _connect(pipe)
        desktop = context.ServiceManager.createInstanceWithContext(
            "com.sun.star.frame.Desktop", context
        )
        for job in jobs:
            _set_author(context, job.get("author", "Delegation of Mexico"))
            document = desktop.loadComponentFromURL(
                uno.systemPathToFileUrl(str(Path(job["source"]).resolve())),
                "_blank",
                0,
                (_property("Hidden", True),),
            )
            document.RecordChanges = True
            for edit in job["edits"]:
                _edit(document, edit)
            document.storeToURL(
                uno.systemPathToFileUrl(str(Path(job["target"]).resolve())),
                (_property("FilterName", "MS Word 2007 XML"),),
            )
            document.close(True)
        with contextlib.suppress(Exception):  # the bridge goes away as soffice quits
            desktop.terminate()
        office.wait(timeout=30)
    finally:
        if office.poll() is None:
            office.kill()
            office.wait()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    _run(json.loads(sys.argv[1]))
