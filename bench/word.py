"""Word exports and imports on the large generated negotiation, against their floors.

    .venv/bin/python -m bench.word [--scale 1]

Each export is timed on the rolling text of the generated document (300 provisions, ~8,400
pending proposals at scale 1) and compared with the floor: python-docx writing the same
paragraphs' plain text and nothing else. Peak memory is measured in a fresh child process per
export (ru_maxrss), so one export's garbage does not count against the next. The import is a
draft of about 100 pages typed in Word (the clean export of a document three times the size).
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def _floor(paragraphs: list[str]) -> bytes:
    from docx import Document

    document = Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _time(fn, repeat: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def _child(url: str, document_id: int, kind: str) -> None:
    """Run one export in this (fresh) process and print its time and peak memory."""
    from app.db.session import Database
    from app.services.exports import ExportKind, export_document

    database = Database(url)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    file = export_document(database, document_id=document_id, kind=ExportKind(kind))
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak / 1024,
                "start_mb": before / 1024,
                "bytes": len(file.content),
            }
        )
    )


def measure(url: str, document_id: int, repeat: int) -> dict[str, object]:
    from app.db.session import Database
    from app.docx.importing import import_draft
    from app.services.exports import ExportKind, circulated_text, export_document

    database = Database(url)
    text, proposals = circulated_text(database, document_id=document_id)
    plain = [p.text for p in text.paragraphs]
    # The floor of an export: python-docx writing the plain text of what it shows, nothing
    # else. The clean text shows the paragraphs; the others also every pending proposal, as
    # its words and the line saying who made it.
    with_proposals = plain + [
        line
        for p in proposals
        for line in (
            p.text or "",
            f"({'; '.join(p.proponents)}; supported by "
            f"{', '.join(p.supporters)}; opposed by {', '.join(p.opponents)})",
        )
    ]
    floor = statistics.median(_time(lambda: _floor(plain), repeat))
    floor_proposals = statistics.median(_time(lambda: _floor(with_proposals), repeat))
    results: dict[str, object] = {
        "paragraphs": len(plain),
        "pending_proposals": len(proposals),
        "floor_s": floor,
        "floor_with_proposals_s": floor_proposals,
    }
    for kind in ("clean", "compilation", "tracked", "amendment-list"):
        samples = _time(
            lambda kind=kind: export_document(
                database, document_id=document_id, kind=ExportKind(kind)
            ),
            repeat,
        )
        child = subprocess.run(
            [sys.executable, "-m", "bench.word", "--child", url, str(document_id), kind],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        memory = json.loads(child.stdout.strip().splitlines()[-1])
        median = statistics.median(samples)
        results[kind] = {
            "median_s": median,
            "max_s": max(samples),
            "floor_s": floor if kind == "clean" else floor_proposals,
            "ratio_to_floor": median / (floor if kind == "clean" else floor_proposals),
            "peak_mb": memory["peak_mb"],
            "size_kb": memory["bytes"] / 1024,
        }
    # a ~100-page draft: the clean text of the document three times over
    clean = export_document(database, document_id=document_id, kind=ExportKind.CLEAN).content
    big = _tripled(clean)
    samples = _time(lambda: import_draft(big), max(1, repeat // 2))
    report = import_draft(big)
    results["import"] = {
        "median_s": statistics.median(samples),
        "pages_estimate": _pages(big),
        "provisions": _count(report.outline.provisions),
    }
    database.dispose()
    return results


def _tripled(docx: bytes) -> bytes:
    """The same body three times: a draft about three times as long."""
    from copy import deepcopy

    from docx import Document

    document = Document(io.BytesIO(docx))
    body = document.element.body
    children = [c for c in body if not c.tag.endswith("sectPr")]
    sect = body[-1]
    for _ in range(2):
        for child in children:
            sect.addprevious(deepcopy(child))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pages(docx: bytes) -> int:
    """Roughly: 500 words a page of Times New Roman 12."""
    from app.docx.reading import accept_all

    return round(sum(len(t.split()) for t in accept_all(docx)) / 500)


def _count(items) -> int:  # type: ignore[no-untyped-def]
    return sum(1 + _count(i.children) for i in items)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.word",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], int(args.child[1]), args.child[2])
        return 0
    from bench.generate import Shape, fresh_sqlite, generate

    OUT.mkdir(exist_ok=True)
    url = fresh_sqlite(OUT / "word-bench.db")
    generated = generate(url, Shape(scale=args.scale), log=lambda m: None)
    results = measure(url, generated.document_id, args.repeat)
    (OUT / "word-results.json").write_text(json.dumps(results, indent=2))
    print(
        f"Word exports, scale {args.scale}: {results['paragraphs']} paragraphs, "
        f"{results['pending_proposals']} pending proposals; floors (python-docx, plain text): "
        f"paragraphs {results['floor_s'] * 1000:.0f} ms, paragraphs and proposals "
        f"{results['floor_with_proposals_s'] * 1000:.0f} ms"
    )
    print("| export | median s | max s | floor s | ratio to floor | peak MB | size KB |")
    print("|---|---|---|---|---|---|---|")
    for kind in ("clean", "compilation", "tracked", "amendment-list"):
        r = results[kind]
        assert isinstance(r, dict)
        print(
            f"| {kind} | {r['median_s']:.2f} | {r['max_s']:.2f} | {r['floor_s']:.2f} | "
            f"{r['ratio_to_floor']:.1f}x | "
            f"{r['peak_mb']:.0f} | {r['size_kb']:.0f} |"
        )
    imported = results["import"]
    assert isinstance(imported, dict)
    print(
        f"| import of a ~{imported['pages_estimate']}-page draft "
        f"({imported['provisions']} provisions) | {imported['median_s']:.2f} | | | | | |"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
