"""`python -m bench`: generate the large negotiation and time the paths that matter.

See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bench.generate import (
    Generated,
    Shape,
    Words,
    delegate_username,
    fresh_postgres,
    fresh_sqlite,
    generate,
    verify,
    wait_for_postgres,
)

OUT = Path(__file__).resolve().parent / "out"
MEASUREMENTS = ("diff", "rebase", "document", "provision", "amendments", "load", "workspace")
TARGETS_MS = {
    "word_diff (150 words)": 1.0,
    "decide accept, rebases 50": 50.0,
    "get_document": 100.0,
}


def default_postgres_url() -> str:
    if url := os.environ.get("ROLLTEXT_BENCH_POSTGRES_URL"):
        return url
    base = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    return make_url(base).set(database="rolltext_bench").render_as_string(hide_password=False)


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    db: str
    samples_ms: list[float]
    target_ms: float | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples_ms)
        # nearest rank: the smallest sample with at least 95 % of the samples at or below it
        return ordered[max(0, -(-95 * len(ordered) // 100) - 1)]

    @property
    def ok(self) -> bool | None:
        return None if self.target_ms is None else self.median <= self.target_ms

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "db": self.db,
            "n": len(self.samples_ms),
            "median_ms": round(self.median, 4),
            "p95_ms": round(self.p95, 4),
            "min_ms": round(min(self.samples_ms), 4),
            "max_ms": round(max(self.samples_ms), 4),
            "target_ms": self.target_ms,
            "meets_target": self.ok,
            "note": self.note,
            **self.extra,
        }


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results: list[Result] = []
        self.profiles: list[Path] = []
        self.simulations: dict[str, Any] = {}  # shared by the two databases (see generate)

    def log(self, message: str) -> None:
        print(message, flush=True)

    def time(
        self,
        name: str,
        db: str,
        fn: Callable[[], Any],
        *,
        repeat: int,
        warmup: int = 1,
        note: str = "",
    ) -> Result:
        for _ in range(warmup):
            start = time.perf_counter()
            fn()
            if time.perf_counter() - start > 2 and repeat > 3:
                repeat = 3  # seconds per call (large scales): three samples say enough
                note += "; only 3 repetitions: over 2 s per call"
        samples = []
        profiler = cProfile.Profile() if self.args.profile else None
        for _ in range(repeat):
            if profiler:
                profiler.enable()
            start = time.perf_counter()
            fn()
            samples.append((time.perf_counter() - start) * 1000)
            if profiler:
                profiler.disable()
        if profiler:
            self.save_profile(profiler, name, db)
        return self.add(Result(name, db, samples, TARGETS_MS.get(name), note))

    def add(self, result: Result) -> Result:
        self.results.append(result)
        mark = {None: "", True: "  ok", False: "  MISSED"}[result.ok]
        target = f" (target {result.target_ms:g})" if result.target_ms else ""
        self.log(
            f"  {result.name:<34} {result.db:<10} median {result.median:9.3f} ms  "
            f"p95 {result.p95:9.3f} ms{target}{mark}"
        )
        return result

    def save_profile(self, profiler: cProfile.Profile, name: str, db: str) -> None:
        slug = "".join(c if c.isalnum() else "-" for c in f"{name}-{db}").strip("-")
        path = OUT / f"profile-{slug}.txt"
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
        path.write_text(stream.getvalue())
        self.profiles.append(path)


# ---------------------------------------------------------------------------------------------
# 1. Word diff
# ---------------------------------------------------------------------------------------------


def bench_diff(bench: Bench) -> None:
    from diff_match_patch import diff_match_patch

    from app.domain.diff import _Codec, word_diff

    bench.log("Word diff of 150-word paragraphs with a few words changed")
    words = Words(random.Random(7))
    pairs = []
    for _ in range(20):
        old = words.paragraph("operative", 150, ";")
        pairs.append((old, words.mutate(words.mutate(old))))  # two to four changes
    dmp = diff_match_patch()
    dmp.Diff_Timeout = 0
    repeat = max(1, bench.args.repeat // 2)

    def encode(old: str, new: str) -> None:
        codec = _Codec()
        codec.encode(old)
        codec.encode(new)

    contenders: list[tuple[str, Callable[[str, str], Any], str]] = [
        ("word_diff (150 words)", word_diff, ""),
        ("dmp diff_main, characters", lambda a, b: dmp.diff_main(a, b, False),
         "; Diff_Timeout=0, checklines=False"),
        ("  of which: tokenize + encode", encode, "; the two texts, app.domain.diff._Codec"),
    ]  # fmt: skip
    # Interleaved (each pair through each contender in turn), so that a slower moment of the
    # machine weighs on all of them alike and the ratio holds.
    samples: list[list[float]] = [[] for _ in contenders]
    for old, new in pairs:  # warm-up
        for _, fn, _ in contenders:
            fn(old, new)
    for _ in range(repeat):
        for old, new in pairs:
            for i, (_, fn, _) in enumerate(contenders):
                start = time.perf_counter()
                fn(old, new)
                samples[i].append((time.perf_counter() - start) * 1000)
    note = f"{len(pairs)} pairs x {repeat}, two to four changes of a few words each"
    word, raw, _ = (
        bench.add(Result(name, "-", times, TARGETS_MS.get(name), note + extra))
        for (name, _, extra), times in zip(contenders, samples, strict=True)
    )
    ratio = word.median / raw.median
    word.extra["ratio_to_raw_character_diff"] = round(ratio, 3)
    bench.log(f"  word_diff / raw character diff (medians): {ratio:.2f}")


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------


@dataclass
class Dataset:
    label: str  # sqlite | postgresql
    url: str
    meta_path: Path
    meta: dict[str, Any]

    def save(self) -> None:
        self.meta_path.write_text(json.dumps(self.meta, indent=2, default=str))


def prepare(bench: Bench, label: str, shape: Shape) -> Dataset:
    args = bench.args
    meta_path = OUT / f"{label}-meta.json"
    url = f"sqlite:///{OUT / 'rolltext_bench.db'}" if label == "sqlite" else args.postgres_url
    needed = 1 + min(args.rebase_repeat, shape.rebase_targets - 1)
    if args.reuse and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        unused = [t for t in meta["rebase_targets"] if not t.get("used")]
        same = meta.get("scale") == shape.scale and meta.get("seed") == shape.seed
        if same and (len(unused) >= needed or "rebase" not in args.only):
            bench.log(f"Reusing the {label} database ({len(unused)} rebase targets left)")
            return Dataset(label, meta["url"], meta_path, meta)
        bench.log(f"Not reusing the {label} database (other scale, or rebase targets used up)")
    bench.log(f"Generating the {label} database (scale {shape.scale:g}, {args.generator})…")
    if label == "sqlite":
        url = fresh_sqlite(OUT / "rolltext_bench.db")
    else:
        try:
            wait_for_postgres(url, timeout=10)
            url = fresh_postgres(url)
        except Exception as exc:
            sys.exit(
                f"PostgreSQL is not reachable at {url}: {exc}\n"
                "Start it with `make postgres`, or pass --postgres-url / --db sqlite."
            )
    for attempt in (1, 2, 3):
        try:
            generated: Generated = generate(
                url, shape, method=args.generator, log=bench.log, cache=bench.simulations
            )
            break
        except OperationalError as exc:
            # e.g. the server restarted under us (the test suite restarts it on purpose)
            if attempt == 3 or label == "sqlite":
                raise
            bench.log(f"  lost the connection ({str(exc.orig).splitlines()[0]}); starting again")
            wait_for_postgres(url)
            url = fresh_postgres(url)
    s = generated.seconds
    bench.log(
        f"  {generated.plan.counts['amendments']} proposals, "
        f"{generated.plan.counts['positions']} positions, "
        f"{generated.plan.counts['calls']} use-case calls in {s['total']:.1f} s "
        f"(setup {s['setup']:.1f}, simulate {s['simulate']:.1f}, write {s['write']:.1f})"
    )
    dataset = Dataset(label, url, meta_path, generated.to_json())
    dataset.save()
    return dataset


def server_version(database: Any) -> str:
    with database.engine.connect() as conn:
        if database.dialect == "postgresql":
            return str(conn.execute(text("SHOW server_version")).scalar())
        return f"SQLite {sqlite3.sqlite_version}"


# ---------------------------------------------------------------------------------------------
# 2. Rebase of 50 pending proposals
# ---------------------------------------------------------------------------------------------


def bench_rebase(bench: Bench, dataset: Dataset, database: Any) -> None:
    from app.db.models import Amendment, AmendmentWording, Provision, ProvisionVersion
    from app.domain.amendments import AmendmentState, Decision
    from app.domain.diff import NeedsRedraft, rebase_all
    from app.services import accounts, decisions

    bench.log(f"Accepting a proposal that rebases 50 pending ones ({dataset.label})")
    cofac = accounts.actor_for_username(database, username=dataset.meta["cofacilitator"])
    unused = [t for t in dataset.meta["rebase_targets"] if not t.get("used")]
    count = min(len(unused) - 1, bench.args.rebase_repeat)
    if count < 1:
        bench.log("  no prepared provision left: run without --reuse")
        return
    warmup, targets = unused[0], unused[1 : 1 + count]

    def inputs(target: dict[str, Any]) -> tuple[str, str, list[str]]:
        with database.read() as db:
            provision = db.get(Provision, target["provision_id"])
            assert provision is not None
            version = db.get(ProvisionVersion, provision.current_version_id)
            assert version is not None
            old_id, old_text = version.id, version.text
            rows = db.execute(
                select(Amendment.id, AmendmentWording.text, AmendmentWording.base_version_id)
                .join(AmendmentWording, Amendment.current_wording_id == AmendmentWording.id)
                .where(Amendment.id.in_([target["accept"], *target["pending"]]))
            ).all()
        texts = {aid: t for aid, t, _ in rows}
        assert all(base == old_id for _, _, base in rows), "the prepared proposals moved"
        assert len(texts) == 1 + len(target["pending"])
        return old_text, texts[target["accept"]], [texts[a] for a in target["pending"]]

    # The domain alone: what `_rebase_pending` computes for the 50 (one `rebase_all` call, as
    # they share their base version), on the same inputs as the decisions below.
    batches = [inputs(t) for t in [warmup, *targets]]
    outcomes = {"rebased": 0, "needs_redraft": 0, "already_in_text": 0}
    for old, new, pending in batches:
        for outcome in rebase_all(old, new, pending):
            if isinstance(outcome, NeedsRedraft):
                outcomes["needs_redraft"] += 1
            elif outcome.already_in_text:
                outcomes["already_in_text"] += 1
            else:
                outcomes["rebased"] += 1
    state = {"i": 0}

    def domain() -> None:
        old, new, pending = batches[state["i"] % len(batches)]
        state["i"] += 1
        rebase_all(old, new, pending)

    n_pending = len(batches[0][2])
    result = bench.time(
        f"domain: rebase {n_pending} (rebase_all)",
        dataset.label,
        domain,
        repeat=len(batches) * 3,
        warmup=1,
        note=f"{len(batches)} provisions; outcomes {outcomes}",
    )
    result.extra["outcomes"] = outcomes

    # The use case: decide(ACCEPT), one prepared provision per repetition.
    def accept(target: dict[str, Any]) -> None:
        decisions.decide(
            database, actor=cofac, amendment_id=target["accept"], decision=Decision.ACCEPT
        )
        target["used"] = True
        dataset.save()

    accept(warmup)
    samples = []
    profiler = cProfile.Profile() if bench.args.profile else None
    for target in targets:
        if profiler:
            profiler.enable()
        start = time.perf_counter()
        decisions.decide(
            database, actor=cofac, amendment_id=target["accept"], decision=Decision.ACCEPT
        )
        samples.append((time.perf_counter() - start) * 1000)
        if profiler:
            profiler.disable()
        target["used"] = True
        dataset.save()
    if profiler:
        bench.save_profile(profiler, "decide-accept", dataset.label)
    # Check that the 50 were carried over (or flagged), as the service promises.
    with database.read() as db:
        for target in targets:
            rows = db.execute(
                select(Amendment.state, Amendment.needs_redraft, AmendmentWording.reason)
                .join(AmendmentWording, Amendment.current_wording_id == AmendmentWording.id)
                .where(Amendment.id.in_(target["pending"]))
            ).all()
            carried = sum(
                1
                for state_, redraft, reason in rows
                if redraft or reason == "rebased" or state_ is AmendmentState.SUPERSEDED
            )
            assert carried == len(target["pending"]), (target, carried)
    bench.add(
        Result(
            "decide accept, rebases 50",
            dataset.label,
            samples,
            TARGETS_MS["decide accept, rebases 50"],
            note="decisions.decide(ACCEPT), one fresh provision per repetition",
        )
    )


# ---------------------------------------------------------------------------------------------
# 3. Reading the document
# ---------------------------------------------------------------------------------------------


def bench_reads(bench: Bench, dataset: Dataset, database: Any, only: Sequence[str]) -> None:
    from app.services import accounts, amendments, documents

    document_id = dataset.meta["document_id"]
    repeat = bench.args.repeat
    # Read as the web pages do: on behalf of a signed-in delegate.
    viewer = accounts.actor_for_username(database, username=delegate_username("EU"))
    bench.log(f"Reading the document ({dataset.label})")
    if "document" in only:
        view = documents.get_document(database, document_id=document_id, viewer=viewer)
        pending = sum(p.pending for p in view.provisions)
        bench.time(
            "get_document",
            dataset.label,
            lambda: documents.get_document(database, document_id=document_id, viewer=viewer),
            repeat=repeat,
            warmup=2,
            note=f"{len(view.provisions)} provisions, {pending} pending proposals",
        )
    if "provision" in only:
        busiest = dataset.meta["busiest_provision"]
        detail = documents.get_provision(database, provision_id=busiest, viewer=viewer)
        pending = sum(1 for a in detail.amendments if a.state.value == "pending")
        bench.time(
            "get_provision (busiest)",
            dataset.label,
            lambda: documents.get_provision(database, provision_id=busiest, viewer=viewer),
            repeat=max(3, repeat // 3),
            warmup=1,
            note=(
                f"{detail.provision.label}: {len(detail.amendments)} proposals, {pending} pending, "
                f"{len(detail.collisions)} collisions"
            ),
        )
    if "amendments" in only:
        total = dataset.meta["counts"]["amendments"]
        middle = (total // 2) // 100 * 100
        for label, offset in (("first page", 0), (f"offset {middle}", middle)):
            bench.time(
                f"list_amendments, {label}",
                dataset.label,
                lambda offset=offset: amendments.list_amendments(
                    database, document_id=document_id, limit=100, offset=offset, viewer=viewer
                ),
                repeat=repeat,
                warmup=2,
                note=f"100 per page of {total}",
            )


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def table(results: Sequence[Result]) -> str:
    header = ("measurement", "db", "n", "median ms", "p95 ms", "target ms", "")
    rows = [header]
    for r in results:
        rows.append(
            (
                r.name.strip(),
                r.db,
                str(len(r.samples_ms)),
                f"{r.median:.3f}",
                f"{r.p95:.3f}",
                f"{r.target_ms:g}" if r.target_ms else "",
                {None: "", True: "ok", False: "MISSED"}[r.ok],
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for i, row in enumerate(rows):
        cells = [
            cell.ljust(w) if j < 2 else cell.rjust(w)
            for j, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Generate a large negotiation (300 provisions, 196 delegations, 10,000 proposals "
            "per unit of scale) in SQLite and PostgreSQL, and time the word diff, the rebase "
            "of 50 pending proposals, and reading the document. Results: a table on stdout and "
            "bench/out/results.json. See bench/README.md."
        ),
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="10,000 proposals per unit (default 1; 3 and 10 for stress runs)",
    )
    parser.add_argument(
        "--db",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="which databases to generate and measure (default both)",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        help="run only these measurements (repeat or comma-separate): "
        + ", ".join(MEASUREMENTS)
        + "; 'reads' = document,provision,amendments",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=30,
        help="repetitions of the read measurements (default 30; the word diff "
        "runs 20 pairs x repeat/2)",
    )
    parser.add_argument(
        "--rebase-repeat",
        type=int,
        default=11,
        help="repetitions of the rebase decision, one prepared provision each "
        "(default 11, at most 11)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the databases of an earlier run of the same scale when they "
        "still have unused prepared provisions (skips generation)",
    )
    parser.add_argument(
        "--generator",
        choices=("bulk", "services"),
        default="bulk",
        help="bulk: simulate the use cases and bulk-insert their rows (default); "
        "services: call the real use cases one by one (slow: minutes per 1,000 "
        "proposals)",
    )
    parser.add_argument(
        "--postgres-url",
        default=default_postgres_url(),
        help="database to (re)create for PostgreSQL (default %(default)s; or "
        "ROLLTEXT_BENCH_POSTGRES_URL)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="write a cProfile summary of each timed call to bench/out/profile-*.txt",
    )
    parser.add_argument(
        "--load-duration",
        type=float,
        default=60,
        help="load: seconds of the mixed phase, 200 readers + 20 proposers (default 60)",
    )
    parser.add_argument(
        "--load-phase",
        type=float,
        default=10,
        help="load: seconds of each isolated phase (ceiling, auth floor, reads, proposals; "
        "default 10)",
    )
    parser.add_argument(
        "--load-concurrency",
        type=int,
        default=None,
        help="load: requests in flight (default 4 per server worker; see bench/load.py)",
    )
    from bench import workspace

    workspace.add_arguments(parser)  # --workspace-parts, --sse-changes, --workspace-workers
    parser.add_argument(
        "--verify-generator",
        action="store_true",
        help="check that the bulk generator writes exactly what the services "
        "write (a small negotiation, on each --db), then exit",
    )
    args = parser.parse_args(argv)
    only: list[str] = []
    for item in args.only or list(MEASUREMENTS):
        for name in item.split(","):
            name = name.strip()
            if name == "reads":
                only += ["document", "provision", "amendments"]
            elif name in MEASUREMENTS:
                only.append(name)
            elif name:
                parser.error(f"unknown measurement {name!r}; choose from {', '.join(MEASUREMENTS)}")
    args.only = only
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    bench = Bench(args)
    if args.verify_generator:
        shape = Shape(
            scale=0.06,
            provisions=60,
            preambular=10,
            operative=40,
            rebase_targets=2,
            rebase_pending=5,
        )
        ok = True
        for label in ["sqlite", "postgresql"] if args.db == "both" else [args.db]:
            bench.log(
                f"Building the same small negotiation with the bulk generator and the "
                f"services ({label})…"
            )
            pg = args.postgres_url if label == "postgresql" else None
            ok = verify(OUT, shape, bench.log, postgres_url=pg) and ok
        bench.log(
            "identical" if ok else "DIFFERENT: the bulk generator has drifted from the services"
        )
        return 0 if ok else 1

    shape = Shape(scale=args.scale)
    if shape.amendments < shape.rebase_targets * (shape.rebase_pending + 1) + 100:
        sys.exit("--scale is too small to hold the provisions prepared for the rebase measurement")
    started = datetime.now(UTC)
    machine: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_at_start": os.getloadavg(),
    }
    datasets: dict[str, Any] = {}
    loads: list[dict[str, Any]] = []  # bench/load.py, one per database
    if "diff" in args.only:
        bench_diff(bench)
    needs_db = [m for m in args.only if m != "diff"]
    labels = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if needs_db:
        from app.db.session import Database

        for label in labels:
            dataset = prepare(bench, label, shape)
            if label == labels[-1]:
                bench.simulations.clear()
            # Keep the collector from walking the generator's leftovers during the timings.
            gc.collect()
            gc.freeze()
            database = Database(dataset.url)
            try:
                machine[label] = server_version(database)
                datasets[label] = {k: v for k, v in dataset.meta.items() if k != "url"}
                bench_reads(bench, dataset, database, needs_db)
                if "rebase" in args.only:
                    bench_rebase(bench, dataset, database)
            finally:
                database.dispose()
            if "load" in args.only:  # the real server, on a copy of this database
                from bench import load

                options = load.Options(
                    duration=args.load_duration,
                    phase=args.load_phase,
                    concurrency=args.load_concurrency,
                )
                loads.append(load.run_load(label, dataset.url, dataset.meta, options, bench.log))
                load.write(loads[-1])
            if "workspace" in args.only:  # pages in process, then 100 live streams; on a copy
                from bench import workspace

                workspace.run_workspace(bench, label, dataset.url, dataset.meta)

    machine["load_average_at_end"] = os.getloadavg()
    report = table(bench.results)
    print()
    print(report)
    load_problems: list[str] = []
    if loads:
        from bench import load

        print()
        print(load.table(loads))
        print()
        print(load.kinds_table(loads))
        load_problems = load.problems(loads)
    results = {
        "date": started.isoformat(timespec="seconds"),
        "scale": args.scale,
        "measurements_run": args.only,
        "machine": machine,
        "datasets": datasets,
        "results": [r.to_json() for r in bench.results],
        "table": report,
        "load": loads,
    }
    path = OUT / "results.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nWritten {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    for profile in bench.profiles:
        print(f"Profile: {profile}")
    for problem in load_problems:
        print(f"UNEXPECTED ERRORS under load: {problem}", file=sys.stderr)
    return 1 if load_problems else 0


if __name__ == "__main__":
    sys.exit(main())
