"""Build a large negotiation to measure Rolltext on: one resolution of 300 provisions, the 196
delegations of the reference data with one delegate each, and 10,000 proposals per unit of scale.

How the rows get there
----------------------
Everything up to the draft goes through the real use cases (`accounts.create_user`,
`documents.create_negotiation`, `documents.import_outline`). The proposals, positions and
decisions are *simulated*: `Simulator` replays, in memory, exactly what `amendments.propose`,
`amendments.take_position`, `amendments.withdraw` and `decisions.decide` write (same tables, same
columns, the word diff of `app.domain.diff.word_diff` encoded with `app.services.text.
encode_diff`, rebases computed with `app.domain.diff.rebase_all`, event rows, optimistic-lock
counters), and `write_rows` bulk-inserts the result. Going through the services one call at a
time costs 8-30 ms per call on two cores (see README.md), i.e. 5-13 minutes for the ~26,000
calls of scale 1.

The simulation also records every call it stands for (`Simulator.ops`); `replay` runs those calls
through the real services instead. `verify` builds the same small negotiation both ways and
compares every row of every table the simulation writes, so the shortcut cannot drift away from
the services unnoticed (`python -m bench --verify-generator`).
"""

from __future__ import annotations

import bisect
import itertools
import json
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from argon2 import PasswordHasher
from sqlalchemy import bindparam, create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from app.data import load_delegations
from app.db.models import (
    Amendment,
    AmendmentWording,
    Delegation,
    Event,
    Group,
    Position,
    Proponent,
    Provision,
    ProvisionVersion,
    User,
)
from app.db.session import Database
from app.domain.amendments import AmendmentKind, AmendmentState, Decision
from app.domain.diff import NeedsRedraft, Rebased, rebase_all, word_diff
from app.domain.outline import Outline, OutlineProvision
from app.domain.provisions import ProvisionStatus
from app.domain.roles import Actor, Role
from app.services import accounts, amendments, decisions, documents
from app.services.directory import load_reference_data
from app.services.text import encode_diff

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "bench-password-1"
COFACILITATORS = ("MEX", "CHE")
#: Delegates that may also speak for a negotiating group.
GROUP_SPEAKERS = {
    "EGY": ("G77", "ARAB-GROUP"),
    "EU": ("EU",),
    "ZAF": ("AFRICAN-GROUP",),
    "WSM": ("AOSIS",),
    "MWI": ("LDC",),
    "PRY": ("LLDC",),
    "BRA": ("GRULAC", "CELAC"),
}
#: The delegations that speak most, in order; the others follow in a seeded random order.
VOCAL = (
    "EU",
    "USA",
    "EGY",
    "RUS",
    "CHN",
    "GBR",
    "JPN",
    "BRA",
    "IND",
    "ZAF",
    "SAU",
    "NOR",
    "AUS",
    "CAN",
    "PAK",
    "IRN",
    "NGA",
    "ARG",
    "TUR",
    "IDN",
    "KOR",
    "CUB",
    "VAT",
    "NZL",
)


# ---------------------------------------------------------------------------------------------
# Shape of the negotiation
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """How big: `scale` 1 is 10,000 proposals; provisions do not grow with the scale."""

    scale: float = 1.0
    provisions: int = 300
    preambular: int = 40
    operative: int = 200
    #: Operative paragraphs prepared for the rebase measurement: each gets `rebase_pending` + 1
    #: wording proposals on its current version and nothing else (one per repetition).
    rebase_targets: int = 12
    rebase_pending: int = 50
    seed: int = 2016

    @property
    def amendments(self) -> int:
        return round(10_000 * self.scale)

    @property
    def subparagraphs(self) -> int:
        return self.provisions - self.preambular - self.operative


# ---------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------


def _items(text: str, sep: str = ",") -> tuple[str, ...]:
    return tuple(" ".join(item.split()) for item in text.split(sep) if item.strip())


def _openers(text: str) -> tuple[tuple[str, str], ...]:
    """ "Opening words/what follows" pairs: np (a noun phrase), that (a clause), to (a verb)."""
    return tuple((o, f) for o, f in (item.rsplit("/", 1) for item in _items(text, ";")))


PREAMBULAR_OPENERS = _openers("""
    Recalling/np; Reaffirming/np; Reaffirming also/that; Recognizing/that;
    Noting with concern/that; Welcoming/np; Emphasizing/that; Bearing in mind/np;
    Deeply concerned about/np; Acknowledging/np; Taking note of/np; Convinced/that; Mindful/that;
    Stressing/that; Guided by/np; Expressing its appreciation for/np; Reiterating/np;
    Alarmed by/np; Underlining/that; Determined/to; Noting with appreciation/np
""")
OPERATIVE_OPENERS = _openers("""
    Decides/to; Requests the Secretary-General/to; Urges Member States/to;
    Calls upon all States/to; Encourages Member States/to;
    Invites the relevant United Nations entities/to; Reaffirms/np; Stresses/that;
    Recognizes/that; Welcomes/np; Emphasizes/that; Notes with concern/np; Acknowledges/np;
    Underlines/that; Also requests the Secretary-General/to; Further decides/to;
    Recommends/that; Takes note with appreciation of/np; Expresses deep concern about/np;
    Calls upon the international community/to;
    Encourages relevant stakeholders, including the private sector,/to
""")
SUB_OPENERS = _items("to, by, through, the, ensuring, promoting, strengthening")
ADJECTIVES = _items("""
    sustainable, inclusive, effective, international, national, regional, relevant,
    comprehensive, coordinated, voluntary, adequate, timely, transparent, equitable, safe,
    orderly, regular, humanitarian, technical, financial, multilateral, gender-responsive,
    child-sensitive, evidence-based, durable, predictable, affordable, accessible, resilient,
    innovative, meaningful, appropriate, vulnerable, persistent, significant, long-term,
    enhanced, concrete, collective, integrated, people-centred, rights-based,
    non-discriminatory, cross-border, bilateral, subregional, local, global, systemic,
    structural, reliable, disaggregated, flexible, targeted
""")
NOUNS = _items("""
    development, cooperation, capacity-building, implementation, migration, protection,
    assistance, resources, partnerships, stakeholders, communities, institutions, mechanisms,
    frameworks, strategies, policies, programmes, data, statistics, indicators, progress,
    challenges, gaps, obligations, commitments, principles, sovereignty, jurisdiction,
    border management, labour mobility, remittances, climate change, disaster risk reduction,
    food security, health, education, women and girls, children, persons with disabilities,
    indigenous peoples, civil society, the private sector, local authorities,
    technology transfer, financing, debt sustainability, oceans, biodiversity,
    peace and security, the rule of law, accountability, transparency, poverty eradication,
    decent work, social protection, access to justice, human rights, fundamental freedoms,
    gender equality, youth, older persons, refugees, migrants, host communities,
    countries of origin, countries of transit, countries of destination,
    early warning systems, supply chains, infrastructure, public health emergencies,
    digital technologies, artificial intelligence, illicit financial flows,
    official development assistance, trade, investment
""")
VERBS = _items("""
    strengthen, enhance, promote, support, ensure, facilitate, address, implement, develop,
    improve, mobilize, integrate, coordinate, monitor, review, consider, establish, advance,
    accelerate, scale up, protect, respect, fulfil, prevent, combat, reduce, eliminate, build,
    foster, encourage, share, collect, disseminate, harmonize, expand, sustain
""")
GERUNDS = _items("""
    strengthening, enhancing, promoting, supporting, ensuring, facilitating, addressing,
    implementing, developing, improving, mobilizing, integrating, reviewing
""")
MODALS = _items("should, shall, must, will, may, can, would")
PREPOSITIONS = _items("in, for, through, within, across, among, towards, beyond")
DETERMINERS = _items("the, the, the, all, its, their, relevant, such, these, further")
NAMED = _items(
    """
    the 2030 Agenda for Sustainable Development; the Addis Ababa Action Agenda;
    the Sendai Framework for Disaster Risk Reduction 2015–2030; the Paris Agreement;
    the Charter of the United Nations; the Universal Declaration of Human Rights;
    the Global Compact for Safe, Orderly and Regular Migration;
    the Economic and Social Council; the Human Rights Council;
    the Office of the United Nations High Commissioner for Refugees;
    the International Organization for Migration; the Doha Programme of Action;
    the Vienna Programme of Action; the SAMOA Pathway; the Bogotá Declaration;
    the New York Declaration for Refugees and Migrants; the Beijing Platform for Action;
    the Convention on the Rights of the Child; the Marrakech Intergovernmental Conference;
    the Nouméa Accord; the Antigua and Barbuda Agenda for Small Island Developing States;
    the Secretary-General's Executive Committee; the Peacebuilding Commission;
    the African Union's Agenda 2063; the Pact for the Future; the Global Digital Compact
    """,
    ";",
)
PLACES = _items(
    """
    Côte d'Ivoire; São Tomé and Príncipe; Türkiye; Curaçao; Réunion; Genève; Bogotá; Asunción;
    Nouakchott; Ouagadougou; Addis Ababa; Nairobi; Viet Nam
    """,
    ";",
)
MONTHS = _items("""
    January, February, March, April, May, June, July, August, September, October, November,
    December
""")
#: What joins clauses.
CONNECTORS = tuple(
    c if c.startswith(",") else f" {c}"
    for c in _items(
        """
        , and| and|, including|, as well as|, in particular|, while|, inter alia,|
        , with a view to|, taking into account|, consistent with
        """,
        "|",
    )
)
#: What delegations insert most: the classics of UN amendments.
INSERTIONS = _items(
    """
    as appropriate; where appropriate; in accordance with national legislation; inter alia;
    in particular; on a voluntary basis; and on mutually agreed terms; within existing resources;
    taking into account national circumstances; consistent with international law;
    and relevant stakeholders; including civil society; in full respect of national sovereignty;
    and regional; all; effective; further; urgently; with the consent of the countries concerned;
    while respecting national priorities;
    in line with the principle of common but differentiated responsibilities;
    subject to the availability of voluntary resources; and women and girls;
    in cooperation with Member States; to the extent possible; and human rights defenders;
    upon request; as a matter of priority; including in Côte d'Ivoire and Türkiye
    """,
    ";",
)


class Words:
    """UN-style paragraphs of an exact number of words, from a seeded random generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _np(self) -> str:
        r = self.rng.random()
        if r < 0.15:
            return self.rng.choice(NAMED)
        if r < 0.22:
            return f"the situation in {self.rng.choice(PLACES)}"
        if r < 0.3:
            return self._ref()
        adj = f"{self.rng.choice(ADJECTIVES)} " if self.rng.random() < 0.7 else ""
        noun = self.rng.choice(NOUNS)
        if noun.startswith("the "):
            return noun
        tail = f" of {self.rng.choice(NOUNS)}" if self.rng.random() < 0.35 else ""
        return f"{self.rng.choice(DETERMINERS)} {adj}{noun}{tail}"

    def _ref(self) -> str:
        session, number = self.rng.randint(60, 79), self.rng.randint(1, 320)
        day, month = self.rng.randint(1, 28), self.rng.choice(MONTHS)
        year = 1945 + session
        if self.rng.random() < 0.5:
            return f"its resolution {session}/{number} of {day} {month} {year}"
        return f"the report of the Secretary-General (A/{session}/{number})"

    def _to(self) -> str:
        return f"to {self.rng.choice(VERBS)} {self._np()}"

    def _that(self) -> str:
        return f"that {self._np()} {self.rng.choice(MODALS)} {self.rng.choice(VERBS)} {self._np()}"

    def _clause(self) -> str:
        r = self.rng.random()
        if r < 0.25:
            return self._to()
        if r < 0.4:
            return f"{self.rng.choice(PREPOSITIONS)} {self._np()}"
        if r < 0.5:
            return f"{self.rng.choice(GERUNDS)} {self._np()}"
        if r < 0.6:
            return f"in accordance with {self._np()}"
        return self._np()

    def paragraph(self, kind: str, words: int, end: str) -> str:
        """A `kind` paragraph of exactly `words` words ending with `end` (",", ";", ":", ".")."""
        if kind == "subparagraph":
            start = self.rng.choice(SUB_OPENERS)
            first = f"{start} {self._np()}" if start != "to" else self._to()
        else:
            openers = PREAMBULAR_OPENERS if kind == "preambular" else OPERATIVE_OPENERS
            opener, follow = self.rng.choice(openers)
            body = {"np": self._np, "that": self._that, "to": self._to}[follow]()
            first = f"{opener} {body}"
        parts = first.split()
        while len(parts) < words:
            parts.extend(f"{self.rng.choice(CONNECTORS)} {self._clause()}".split())
            parts = " ".join(parts).replace(" ,", ",").split()
        parts = parts[:words]
        parts[-1] = parts[-1].rstrip(",;:.") or "matters"
        return " ".join(parts) + end

    def length(self, kind: str) -> int:
        low, high, mode = {
            "preambular": (40, 110, 55),
            "operative": (40, 150, 75),
            "subparagraph": (40, 90, 48),
        }[kind]
        return round(self.rng.triangular(low, high, mode))

    def mutate(self, text: str) -> str:
        """A delegation's wording proposal: one or two changes of a few words each."""
        while True:
            words = text.split(" ")
            for _ in range(1 if self.rng.random() < 0.85 else 2):
                self._change(words)
            proposed = " ".join(w for w in words if w)
            if proposed != text and proposed.strip():
                return proposed

    def _change(self, words: list[str]) -> None:
        n = len(words)
        r = self.rng.random()
        if r < 0.55 and n > 2:  # replace one to three words
            i = self.rng.randrange(1, n)
            j = min(n, i + self.rng.randint(1, 3))
            tail = _trailing(words[j - 1])
            new = self._replacement()
            new[-1] += tail
            words[i:j] = new
        elif r < 0.85 or n < 6:  # insert a phrase
            i = self.rng.randrange(1, n)
            words[i:i] = self.rng.choice(INSERTIONS).split(" ")
        else:  # delete one to four words
            i = self.rng.randrange(1, n - 1)
            j = min(n - 1, i + self.rng.randint(1, 4))
            tail = _trailing(words[j - 1])
            del words[i:j]
            if tail and not _trailing(words[i - 1]):
                words[i - 1] += tail

    def _replacement(self) -> list[str]:
        r = self.rng.random()
        if r < 0.3:
            return [self.rng.choice(VERBS)]
        if r < 0.55:
            return [self.rng.choice(ADJECTIVES)]
        if r < 0.75:
            return self.rng.choice(NOUNS).split()
        if r < 0.85:
            return [self.rng.choice(MODALS)]
        return self._np().split()[:4]

    def justification(self) -> str:
        return (
            f"To align the text with {self.rng.choice(NAMED)} and agreed language on "
            f"{self.rng.choice(NOUNS)}."
        )

    def reason(self) -> str:
        return self.rng.choice(
            (
                "No consensus in the room.",
                "Several delegations objected; the co-facilitators will propose a bridge.",
                "Already covered in another paragraph.",
                "Goes beyond agreed language.",
                "Opposed by a large number of delegations.",
            )
        )


def _trailing(word: str) -> str:
    stripped = word.rstrip(",;:.")
    return word[len(stripped) :]


# ---------------------------------------------------------------------------------------------
# The draft
# ---------------------------------------------------------------------------------------------


@dataclass
class Draft:
    outline: Outline
    #: Index (in reading order) of each operative paragraph prepared for the rebase measurement.
    rebase_targets: list[int]


def build_draft(shape: Shape, rng: random.Random) -> Draft:
    words = Words(rng)
    operatives_with_children = min(12, shape.operative - 1, max(1, shape.subparagraphs // 3))
    parents = sorted(rng.sample(range(shape.operative - 1), operatives_with_children))
    counts = [0] * len(parents)
    for i in range(shape.subparagraphs):
        counts[i % len(parents)] += 1
    rng.shuffle(counts)
    children_of = dict(zip(parents, counts, strict=True))
    free = [i for i in range(shape.operative) if i not in children_of]
    targets = set(rng.sample(free, shape.rebase_targets))
    preamble = [
        OutlineProvision(
            "preambular", words.paragraph("preambular", words.length("preambular"), ",")
        )
        for _ in range(shape.preambular)
    ]
    operative: list[OutlineProvision] = []
    for i in range(shape.operative):
        last = i == shape.operative - 1
        n_children = children_of.get(i, 0)
        length = 150 if i in targets or rng.random() < 0.1 else words.length("operative")
        end = ":" if n_children else ("." if last else ";")
        children = tuple(
            OutlineProvision(
                "subparagraph", words.paragraph("subparagraph", words.length("subparagraph"), ";")
            )
            for _ in range(n_children)
        )
        operative.append(
            OutlineProvision("operative", words.paragraph("operative", length, end), children)
        )
    outline = Outline(
        title="Large-scale benchmark on sustainable development and migration",
        subtitle="Draft resolution submitted by the co-facilitators",
        scheme="resolution",
        provisions=(*preamble, *operative),
    )
    # reading-order index of each target: preamble, then each operative followed by its children
    index, order = shape.preambular, []
    for i in range(shape.operative):
        if i in targets:
            order.append(index)
        index += 1 + children_of.get(i, 0)
    return Draft(outline, order)


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def fresh_sqlite(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def fresh_postgres(url: str) -> str:
    """Drop and create the database named in `url` (connecting to the `postgres` database)."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()
    return target.render_as_string(hide_password=False)


def wait_for_postgres(url: str, timeout: float = 60) -> None:
    """Wait until the server accepts connections again (it may be restarting)."""
    admin = create_engine(make_url(url).set(database="postgres"))
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with admin.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
    finally:
        admin.dispose()


def drop_postgres(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


@dataclass
class Setup:
    """What the services created before any proposal: ids the simulation needs."""

    negotiation_id: int
    document_id: int
    provisions: list[int]  # reading order
    kinds: dict[int, str]
    labels: dict[int, str]
    texts: dict[int, str]
    version_ids: dict[int, int]
    delegations: dict[str, int]  # code -> id
    groups: dict[str, int]  # code -> id
    delegates: dict[str, int]  # delegation code -> delegate user id
    cofacilitator_user: int
    cofacilitator_username: str
    rebase_targets: list[int]  # provision ids


def delegate_username(code: str) -> str:
    return f"delegate.{code.lower()}"


def setup(database: Database, shape: Shape, draft: Draft) -> Setup:
    """Reference data, accounts, negotiation and draft, through the real use cases."""
    accounts.use_password_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    load_reference_data(database)
    accounts.create_user(
        database,
        actor=None,
        username="secretariat",
        display_name="Secretariat",
        role=Role.SECRETARIAT,
        password=PASSWORD,
    )
    for code in COFACILITATORS:
        accounts.create_user(
            database,
            actor=None,
            username=f"cofac.{code.lower()}",
            display_name=f"Co-facilitator ({code})",
            role=Role.COFACILITATOR,
            password=PASSWORD,
            delegation=code,
        )
    for record in load_delegations():
        accounts.create_user(
            database,
            actor=None,
            username=delegate_username(record.code),
            display_name=f"Delegate of {record.short}",
            role=Role.DELEGATE,
            password=PASSWORD,
            delegation=record.code,
            groups=GROUP_SPEAKERS.get(record.code, ()),
        )
    secretariat = accounts.actor_for_username(database, username="secretariat")
    negotiation = documents.create_negotiation(
        database,
        actor=secretariat,
        symbol="A/80/L.99 (benchmark)",
        title="Benchmark negotiation",
        cofacilitators=list(COFACILITATORS),
    )
    document = documents.import_outline(
        database,
        actor=secretariat,
        negotiation_id=negotiation.id,
        outline=draft.outline,
        issued_on=date(2026, 1, 12),
    )
    cofac = accounts.actor_for_username(database, username=f"cofac.{COFACILITATORS[0].lower()}")
    with database.read() as db:
        delegations = dict(db.execute(select(Delegation.code, Delegation.id)).all())
        groups = dict(db.execute(select(Group.code, Group.id)).all())
        users = dict(db.execute(select(User.username, User.id)).all())
    views = document.provisions
    ids = [v.id for v in views]
    return Setup(
        negotiation_id=negotiation.id,
        document_id=document.id,
        provisions=ids,
        kinds={v.id: v.kind.value for v in views},
        labels={v.id: v.label for v in views},
        texts={v.id: v.text for v in views},
        version_ids={v.id: v.version_id for v in views},
        delegations=delegations,
        groups=groups,
        delegates={code: users[delegate_username(code)] for code in delegations},
        cofacilitator_user=cofac.user_id,
        cofacilitator_username=cofac.username,
        rebase_targets=[ids[i] for i in draft.rebase_targets],
    )


# ---------------------------------------------------------------------------------------------
# The simulation: what the services would write, in memory
# ---------------------------------------------------------------------------------------------


@dataclass
class Op:
    """One use-case call the simulation stands for (replayed by `replay`)."""

    kind: str  # propose | position | withdraw | decide
    user: str
    amendment: int = 0  # simulated id (the new one for propose)
    provision_id: int = 0
    amendment_kind: str = ""
    text: str | None = None
    on_behalf_of: str | None = None
    justification: str | None = None
    stance: str | None = None
    decision: str | None = None
    reason: str | None = None


@dataclass
class _Provision:
    id: int
    kind: str
    version_id: int
    number: int
    text: str
    status: str = ProvisionStatus.NOT_DISCUSSED.value
    lock: int = 1
    changed: bool = False


class Simulator:
    """Applies proposals and decisions to in-memory rows exactly as the services would."""

    def __init__(self, database: Database, info: Setup, start: datetime) -> None:
        self.info = info
        self.now = start
        self.ops: list[Op] = []
        with database.read() as db:
            self.next_id = {
                model.__tablename__: (db.scalar(select(func.max(model.id))) or 0) + 1
                for model in (
                    Amendment,
                    AmendmentWording,
                    Proponent,
                    Position,
                    Event,
                    ProvisionVersion,
                )
            }
            statuses = dict(db.execute(select(Provision.id, Provision.lock)).all())
        self.provisions = {
            pid: _Provision(
                pid,
                info.kinds[pid],
                info.version_ids[pid],
                1,
                info.texts[pid],
                lock=statuses[pid],
            )
            for pid in info.provisions
        }
        self.version_text = {info.version_ids[p]: info.texts[p] for p in info.provisions}
        self.amendments: dict[int, dict[str, Any]] = {}
        self.wordings: dict[int, dict[str, Any]] = {}
        self.wordings_of: dict[int, list[int]] = {}
        #: Accepts that rebased proposals written on different versions (several groups).
        self.mixed_rebases = 0
        self.proponents: dict[int, dict[str, Any]] = {}
        self.positions: dict[int, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.versions: list[dict[str, Any]] = []
        #: Pending amendments by provision, in id order.
        self.pending: dict[int, list[int]] = {pid: [] for pid in info.provisions}
        #: Pending amendments by (provision, kind, current text), for `same_proposal`.
        self.index: dict[tuple[int, str, str | None], set[int]] = {}
        self.position_of: dict[tuple[int, int], int] = {}  # (amendment, delegation) -> row id
        self.proponents_of: dict[int, list[int]] = {}
        self.user_delegation = {uid: did for did, uid in self._delegate_ids()}
        self.user_delegation[info.cofacilitator_user] = info.delegations[COFACILITATORS[0]]
        self.username = {info.delegates[c]: delegate_username(c) for c in info.delegates}
        self.username[info.cofacilitator_user] = info.cofacilitator_username
        self.group_code = {gid: code for code, gid in info.groups.items()}

    def fingerprint(self) -> str:
        """What the simulation starts from; equal fingerprints give identical simulations."""
        return json.dumps(
            [self.info.__dict__, self.next_id, {p.id: p.lock for p in self.provisions.values()}],
            sort_keys=True,
            default=str,
        )

    def _delegate_ids(self) -> Iterator[tuple[int, int]]:
        for code, uid in self.info.delegates.items():
            yield self.info.delegations[code], uid

    def _id(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value

    def tick(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def _event(
        self,
        kind: str,
        actor: int,
        subject_id: int,
        *,
        before: int | None = None,
        after: int | None = None,
        **data: Any,
    ) -> None:
        self.events.append(
            dict(
                id=self._id("events"),
                at=self.now,
                negotiation_id=self.info.negotiation_id,
                document_id=self.info.document_id,
                actor_id=actor,
                kind=kind,
                subject="amendment",
                subject_id=subject_id,
                before_id=before,
                after_id=after,
                data=data,
            )
        )

    # -- amendments.propose ------------------------------------------------------------------

    def same_proposal(self, pid: int, kind: str, text: str | None) -> int | None:
        """The pending proposal saying the same thing (`amendments._same_proposal`)."""
        version_id = self.provisions[pid].version_id
        for aid in sorted(self.index.get((pid, kind, text), ())):
            w = self.wordings[self.amendments[aid]["current_wording_id"]]
            if kind != AmendmentKind.WORDING.value or w["base_version_id"] == version_id:
                return aid
        return None

    def _index(self, aid: int, add: bool) -> None:
        a = self.amendments[aid]
        key = (a["provision_id"], a["kind"], self.wordings[a["current_wording_id"]]["text"])
        if add:
            self.index.setdefault(key, set()).add(aid)
        else:
            self.index[key].discard(aid)

    def _leave_pending(self, aid: int) -> None:
        self._index(aid, add=False)
        self.pending[self.amendments[aid]["provision_id"]].remove(aid)

    def propose(
        self,
        user: int,
        pid: int,
        kind: str,
        text: str | None = None,
        *,
        group: int | None = None,
        justification: str | None = None,
    ) -> int:
        """Returns the amendment id (an existing one when the proposal joins it)."""
        p = self.provisions[pid]
        delegation = self.user_delegation[user]
        self.ops.append(
            Op(
                "propose",
                self.username[user],
                provision_id=pid,
                amendment_kind=kind,
                text=text,
                on_behalf_of=self.group_code[group] if group else None,
                justification=justification,
            )
        )
        if kind == AmendmentKind.WORDING.value:
            assert text is not None and text != p.text
            diff = encode_diff(word_diff(p.text, text))
        elif kind == AmendmentKind.INSERT_AFTER.value:
            assert text is not None
            diff = encode_diff(word_diff("", text))
        else:
            assert kind == AmendmentKind.DELETE.value and text is None
            diff = []
        existing = self.same_proposal(pid, kind, text)
        if existing is not None:
            self._join(existing, user, delegation, group)
            self.ops[-1].amendment = existing
            return existing
        aid = self._id("amendments")
        wid = self._id("amendment_wordings")
        self.amendments[aid] = dict(
            id=aid,
            document_id=self.info.document_id,
            provision_id=pid,
            kind=kind,
            state=AmendmentState.PENDING.value,
            move_after_id=None,
            new_kind=p.kind if kind == AmendmentKind.INSERT_AFTER.value else None,
            delegation_id=delegation,
            group_id=group,
            author_id=user,
            justification=justification,
            current_wording_id=wid,
            needs_redraft=False,
            redraft_reason=None,
            created_at=self.now,
            decided_at=None,
            decided_by_id=None,
            decision_reason=None,
            result_version_id=None,
            lock=1,  # inserted, then its wording set by a plain UPDATE (the lock is the ORM's)
        )
        self.wordings_of.setdefault(aid, []).append(wid)
        self.wordings[wid] = dict(
            id=wid,
            amendment_id=aid,
            seq=1,
            base_version_id=p.version_id,
            text=text,
            diff=diff,
            reason="proposed",
            created_at=self.now,
        )
        self._proponent(aid, delegation, group, user)
        self.pending[pid].append(aid)
        self._index(aid, add=True)
        self._event("amendment.proposed", user, aid, after=wid, provision_id=pid, amendment_id=aid)
        self.ops[-1].amendment = aid
        return aid

    def _proponent(self, aid: int, delegation: int, group: int | None, user: int) -> None:
        rid = self._id("proponents")
        self.proponents[rid] = dict(
            id=rid,
            amendment_id=aid,
            delegation_id=delegation,
            group_id=group,
            user_id=user,
            joined_at=self.now,
            withdrawn_at=None,
        )
        self.proponents_of.setdefault(aid, []).append(rid)

    def active_proponents(self, aid: int) -> list[dict[str, Any]]:
        rows = (self.proponents[r] for r in self.proponents_of[aid])
        return [r for r in rows if r["withdrawn_at"] is None]

    def _join(self, aid: int, user: int, delegation: int, group: int | None) -> None:
        for p in self.active_proponents(aid):
            assert not (p["delegation_id"] == delegation and p["group_id"] == group)
        rid = self.position_of.pop((aid, delegation), None)
        if rid is not None:
            del self.positions[rid]
        self._proponent(aid, delegation, group, user)
        pid = self.amendments[aid]["provision_id"]
        self._event("amendment.joined", user, aid, provision_id=pid, amendment_id=aid)

    # -- amendments.take_position -----------------------------------------------------------

    def take_position(self, user: int, aid: int, stance: str) -> None:
        a = self.amendments[aid]
        delegation = self.user_delegation[user]
        assert a["state"] == AmendmentState.PENDING.value
        assert delegation not in {p["delegation_id"] for p in self.active_proponents(aid)}
        self.ops.append(Op("position", self.username[user], amendment=aid, stance=stance))
        rid = self.position_of.get((aid, delegation))
        before = rid
        if rid is None:
            rid = self._id("positions")
            self.positions[rid] = dict(
                id=rid,
                amendment_id=aid,
                delegation_id=delegation,
                stance=stance,
                user_id=user,
                at=self.now,
            )
            self.position_of[(aid, delegation)] = rid
        else:
            self.positions[rid].update(stance=stance, user_id=user, at=self.now)
        self._event(
            f"amendment.{stance}",
            user,
            aid,
            before=before,
            provision_id=a["provision_id"],
            amendment_id=aid,
            stance=stance,
        )

    # -- amendments.withdraw -----------------------------------------------------------------

    def withdraw(self, user: int, aid: int) -> None:
        a = self.amendments[aid]
        delegation = self.user_delegation[user]
        assert a["state"] == AmendmentState.PENDING.value
        mine = [p for p in self.active_proponents(aid) if p["delegation_id"] == delegation]
        assert mine and all(
            p["group_id"] is None or p["group_id"] in self._groups_of(user) for p in mine
        )
        self.ops.append(Op("withdraw", self.username[user], amendment=aid))
        for p in mine:
            p["withdrawn_at"] = self.now
        remaining = self.active_proponents(aid)
        if not remaining:
            a.update(
                state=AmendmentState.WITHDRAWN.value,
                decided_at=self.now,
                decided_by_id=user,
                lock=a["lock"] + 1,
            )
            self._leave_pending(aid)
        kind = "amendment.withdrawn" if not remaining else "amendment.proponent_withdrew"
        self._event(kind, user, aid, provision_id=a["provision_id"], amendment_id=aid)

    def _groups_of(self, user: int) -> set[int]:
        code = next(c for c, u in self.info.delegates.items() if u == user)
        return {self.info.groups[g] for g in GROUP_SPEAKERS.get(code, ())}

    # -- decisions.decide --------------------------------------------------------------------

    def decide(self, aid: int, decision: Decision, reason: str | None = None) -> None:
        user = self.info.cofacilitator_user
        a = self.amendments[aid]
        pid = a["provision_id"]
        p = self.provisions[pid]
        assert a["state"] == AmendmentState.PENDING.value
        self.ops.append(
            Op("decide", self.username[user], amendment=aid, decision=decision.value, reason=reason)
        )
        before = p.version_id
        result: int | None = None
        # The state change is flushed by the first query after it, the rest at the end.
        a["lock"] += 2
        a["state"] = decision.outcome.value
        self._leave_pending(aid)
        if decision is Decision.ACCEPT:
            w = self.wordings[a["current_wording_id"]]
            assert a["kind"] == AmendmentKind.WORDING.value and not a["needs_redraft"]
            assert w["base_version_id"] == p.version_id
            result = self._new_version(p, w["text"], aid, user)
        elif decision is not Decision.REJECT:
            raise NotImplementedError(decision)
        a.update(
            decided_at=self.now,
            decided_by_id=user,
            decision_reason=reason,
            result_version_id=result,
        )
        if p.status == ProvisionStatus.NOT_DISCUSSED.value:
            p.status = ProvisionStatus.OPEN.value
            p.lock += 1
        p.changed = True
        self._event(
            f"amendment.{decision.outcome.value}",
            user,
            aid,
            before=before,
            after=result,
            provision_id=pid,
            amendment_id=aid,
            amendment_kind=a["kind"],
            reason=reason,
        )

    def _new_version(self, p: _Provision, new_text: str, aid: int, user: int) -> int:
        vid = self._id("provision_versions")
        self.versions.append(
            dict(
                id=vid,
                provision_id=p.id,
                number=p.number + 1,
                text=new_text,
                cause="accepted",
                amendment_id=aid,
                author_id=user,
                note=None,
                attributions=[],
                created_at=self.now,
            )
        )
        self.version_text[vid] = new_text
        p.version_id, p.number, p.text = vid, p.number + 1, new_text
        p.lock += 1
        # As `decisions._rebase_pending`: grouped by the version each was written on (groups in
        # order of first appearance), each group rebased at once with `rebase_all`.
        groups: dict[int, list[int]] = {}
        for other in self.pending[p.id]:
            a = self.amendments[other]
            if a["kind"] == AmendmentKind.WORDING.value:
                base = self.wordings[a["current_wording_id"]]["base_version_id"]
                groups.setdefault(base, []).append(other)
        if len(groups) > 1:
            self.mixed_rebases += 1
        outcomes: list[tuple[int, Rebased | NeedsRedraft]] = []
        for base, members in groups.items():
            texts = [
                self.wordings[self.amendments[m]["current_wording_id"]]["text"] for m in members
            ]
            outcomes.extend(
                zip(members, rebase_all(self.version_text[base], new_text, texts), strict=True)
            )
        for other, outcome in outcomes:
            a = self.amendments[other]
            w = self.wordings[a["current_wording_id"]]
            if isinstance(outcome, NeedsRedraft):
                if not a["needs_redraft"] or a["redraft_reason"] != outcome.reason:
                    a.update(needs_redraft=True, redraft_reason=outcome.reason, lock=a["lock"] + 1)
            elif outcome.already_in_text:
                a.update(
                    state=AmendmentState.SUPERSEDED.value,
                    decided_at=self.now,
                    decision_reason="its wording is now in the text",
                    result_version_id=vid,
                    lock=a["lock"] + 1,
                )
                self._leave_pending(other)
            else:
                wid = self._id("amendment_wordings")
                self.wordings_of[other].append(wid)
                self.wordings[wid] = dict(
                    id=wid,
                    amendment_id=other,
                    seq=w["seq"] + 1,
                    base_version_id=vid,
                    text=outcome.proposed,
                    diff=encode_diff(outcome.ops),
                    reason="rebased",
                    created_at=self.now,
                )
                self._index(other, add=False)
                a.update(
                    current_wording_id=wid,
                    lock=a["lock"] + 1,
                    needs_redraft=False,
                    redraft_reason=None,
                )
                self._index(other, add=True)
        return vid


# ---------------------------------------------------------------------------------------------
# The story of the negotiation
# ---------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """Where the generated proposals are, for the measurements."""

    rebase_targets: list[dict[str, Any]] = field(default_factory=list)
    busiest_provision: int = 0
    counts: dict[str, int] = field(default_factory=dict)


def _zipf_weights(n: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1 / (rank**exponent) for rank in range(1, n + 1)))


def negotiate(sim: Simulator, shape: Shape, rng: random.Random) -> Plan:
    """Proposals spread unevenly over the text, positions on them, some decided."""
    info = sim.info
    words = Words(rng)
    targets = set(info.rebase_targets)
    hot = [p for p in info.provisions if p not in targets]
    rng.shuffle(hot)
    hot_weights = _zipf_weights(len(hot), 0.6)
    speakers = [c for c in VOCAL if c in info.delegations]
    others = sorted(set(info.delegations) - set(VOCAL) - set(COFACILITATORS))
    rng.shuffle(others)
    speakers += others
    speaker_weights = _zipf_weights(len(speakers), 0.9)
    all_codes = [c for c in info.delegations if c not in COFACILITATORS]
    group_ids = {code: info.groups[code] for code in info.groups}

    def pick(population: Sequence[Any], cumulative: Sequence[float]) -> Any:
        return population[bisect.bisect(cumulative, rng.random() * cumulative[-1])]

    def positions(aid: int, mean: float) -> None:
        taken = {p["delegation_id"] for p in sim.active_proponents(aid)}
        for _ in range(min(40, int(rng.expovariate(1 / mean)))):
            code = pick(speakers, speaker_weights)
            delegation = info.delegations[code]
            if delegation in taken:
                continue
            taken.add(delegation)
            stance = "support" if rng.random() < 0.7 else "oppose"
            sim.tick(rng.uniform(1, 20))
            sim.take_position(info.delegates[code], aid, stance)

    total = shape.amendments - len(targets) * (shape.rebase_pending + 1)
    accepts_at = set(rng.sample(range(total // 3), min(total // 3, round(len(hot) * 1.5))))
    for step in itertools.count():
        if len(sim.amendments) >= total:
            break
        sim.tick(rng.uniform(5, 60))
        pid = pick(hot, hot_weights)
        p = sim.provisions[pid]
        code = pick(speakers, speaker_weights)
        user = info.delegates[code]
        group = None
        if code in GROUP_SPEAKERS and rng.random() < 0.5:
            group = group_ids[rng.choice(GROUP_SPEAKERS[code])]
        r = rng.random()
        justification = words.justification() if rng.random() < 0.3 else None
        joinable = [
            aid
            for aid in sim.pending[pid][-20:]
            if sim.amendments[aid]["kind"] == AmendmentKind.WORDING.value
            and sim.wordings[sim.amendments[aid]["current_wording_id"]]["base_version_id"]
            == p.version_id
            and sim.user_delegation[user]
            not in {x["delegation_id"] for x in sim.active_proponents(aid)}
        ]
        if r < 0.04 and joinable:  # the same wording again: a co-proponent
            target = sim.wordings[sim.amendments[rng.choice(joinable)]["current_wording_id"]]
            aid = sim.propose(user, pid, AmendmentKind.WORDING.value, target["text"], group=group)
        elif r < 0.09 and p.kind != "subparagraph":
            new = words.paragraph(
                p.kind, words.length(p.kind), ";" if p.kind == "operative" else ","
            )
            aid = sim.propose(
                user,
                pid,
                AmendmentKind.INSERT_AFTER.value,
                new,
                group=group,
                justification=justification,
            )
        elif r < 0.12 and sim.same_proposal(pid, AmendmentKind.DELETE.value, None) is None:
            aid = sim.propose(
                user,
                pid,
                AmendmentKind.DELETE.value,
                None,
                group=group,
                justification=justification,
            )
        else:
            proposed = words.mutate(p.text)
            while sim.same_proposal(pid, AmendmentKind.WORDING.value, proposed) is not None:
                proposed = words.mutate(p.text)
            aid = sim.propose(
                user,
                pid,
                AmendmentKind.WORDING.value,
                proposed,
                group=group,
                justification=justification,
            )
        positions(aid, 2.0)

        # decisions: a few accepted early on, some rejected or withdrawn all along
        if step in accepts_at:
            target_pid = rng.choice(hot)
            ready = [
                aid
                for aid in sim.pending[target_pid]
                if sim.amendments[aid]["kind"] == AmendmentKind.WORDING.value
                and not sim.amendments[aid]["needs_redraft"]
                and sim.wordings[sim.amendments[aid]["current_wording_id"]]["base_version_id"]
                == sim.provisions[target_pid].version_id
            ]
            if ready:
                sim.tick(rng.uniform(30, 300))
                sim.decide(rng.choice(ready), Decision.ACCEPT)
        r = rng.random()
        if r < 0.14:
            pending = sim.pending[pick(hot, hot_weights)]
            if pending:
                aid = rng.choice(pending)
                sim.tick(rng.uniform(30, 300))
                if r < 0.10:
                    sim.decide(aid, Decision.REJECT, words.reason())
                else:
                    first = sim.active_proponents(aid)[0]
                    sim.withdraw(first["user_id"], aid)

    # The rebase measurement: per target, 51 proposals by distinct delegations on version 1.
    plan = Plan()
    for pid in info.rebase_targets:
        p = sim.provisions[pid]
        codes = rng.sample(all_codes, shape.rebase_pending + 1)
        texts: set[str] = set()
        ids = []
        for code in codes:
            proposed = words.mutate(p.text)
            while proposed in texts:
                proposed = words.mutate(p.text)
            texts.add(proposed)
            sim.tick(rng.uniform(5, 60))
            ids.append(
                sim.propose(info.delegates[code], pid, AmendmentKind.WORDING.value, proposed)
            )
            positions(ids[-1], 1.0)
        plan.rebase_targets.append(
            {"provision_id": pid, "label": info.labels[pid], "accept": ids[0], "pending": ids[1:]}
        )
    per_provision: dict[int, int] = {}
    for a in sim.amendments.values():
        per_provision[a["provision_id"]] = per_provision.get(a["provision_id"], 0) + 1
    plan.busiest_provision = max(per_provision, key=lambda k: per_provision[k])
    states: dict[str, int] = {}
    for a in sim.amendments.values():
        states[a["state"]] = states.get(a["state"], 0) + 1
    plan.counts = {
        "amendments": len(sim.amendments),
        **{f"amendments_{k}": v for k, v in sorted(states.items())},
        "needs_redraft": sum(1 for a in sim.amendments.values() if a["needs_redraft"]),
        "wordings": len(sim.wordings),
        "proponents": len(sim.proponents),
        "positions": len(sim.positions),
        "versions_added": len(sim.versions),
        "accepts_rebasing_several_versions": sim.mixed_rebases,
        "events": len(sim.events),
        "calls": len(sim.ops),
        "busiest_provision_proposals": per_provision[plan.busiest_provision],
        "busiest_provision_pending": len(sim.pending[plan.busiest_provision]),
        "provisions_with_100_pending": sum(1 for v in sim.pending.values() if len(v) >= 100),
    }
    return plan


# ---------------------------------------------------------------------------------------------
# Writing the rows
# ---------------------------------------------------------------------------------------------


def write_rows(database: Database, sim: Simulator) -> None:
    """Bulk-insert the simulated rows (FK-safe order: circular references set afterwards)."""
    amendment_rows = [
        {**a, "current_wording_id": None, "result_version_id": None}
        for a in sorted(sim.amendments.values(), key=lambda a: a["id"])
    ]
    batches: list[tuple[Any, list[dict[str, Any]]]] = [
        (Amendment.__table__, amendment_rows),
        (ProvisionVersion.__table__, sim.versions),
        (AmendmentWording.__table__, sorted(sim.wordings.values(), key=lambda w: w["id"])),
        (Proponent.__table__, sorted(sim.proponents.values(), key=lambda p: p["id"])),
        (Position.__table__, sorted(sim.positions.values(), key=lambda p: p["id"])),
        (Event.__table__, sim.events),
    ]
    amendments_table = Amendment.__table__
    provisions_table = Provision.__table__
    with database.engine.begin() as conn:
        for table, rows in batches:
            for chunk in _chunks(rows, 5000):
                conn.execute(table.insert(), chunk)
        # Every amendment's current wording is its newest one (the highest id): one statement.
        assert all(
            a["current_wording_id"] == max(sim.wordings_of[a["id"]])
            for a in sim.amendments.values()
        )
        if sim.amendments:
            wordings_table = AmendmentWording.__table__
            newest = (
                select(
                    wordings_table.c.amendment_id,
                    func.max(wordings_table.c.id).label("newest"),
                )
                .where(wordings_table.c.amendment_id >= min(sim.amendments))
                .group_by(wordings_table.c.amendment_id)
                .subquery()
            )
            # UPDATE … FROM (a join), not a correlated subquery: PostgreSQL has no statistics
            # on the tables just loaded and would scan the wordings once per amendment.
            conn.execute(
                update(amendments_table)
                .where(amendments_table.c.id == newest.c.amendment_id)
                .values(current_wording_id=newest.c.newest)
            )
        results = [
            {"b_id": a["id"], "b_result": a["result_version_id"]}
            for a in sim.amendments.values()
            if a["result_version_id"] is not None
        ]
        if results:
            conn.execute(
                update(amendments_table)
                .where(amendments_table.c.id == bindparam("b_id"))
                .values(result_version_id=bindparam("b_result")),
                results,
            )
        changed = [
            {"b_id": p.id, "b_version": p.version_id, "b_status": p.status, "b_lock": p.lock}
            for p in sim.provisions.values()
            if p.changed
        ]
        if changed:
            conn.execute(
                update(provisions_table)
                .where(provisions_table.c.id == bindparam("b_id"))
                .values(
                    current_version_id=bindparam("b_version"),
                    status=bindparam("b_status"),
                    lock=bindparam("b_lock"),
                ),
                changed,
            )
        if database.dialect == "postgresql":
            for table in (
                amendments_table,
                ProvisionVersion.__table__,
                AmendmentWording.__table__,
                Proponent.__table__,
                Position.__table__,
                Event.__table__,
            ):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                )
    if database.dialect == "postgresql":
        # What autovacuum does on its own soon after a load this size; done now so that the
        # first measurement does not depend on when it runs.
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


def _chunks(rows: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def replay(
    database: Database, ops: Sequence[Op], progress: Callable[[int], None] | None = None
) -> None:
    """Make the simulated calls through the real services, one transaction each."""
    actors: dict[str, Actor] = {}
    ids: dict[int, int] = {}

    def actor(username: str) -> Actor:
        if username not in actors:
            actors[username] = accounts.actor_for_username(database, username=username)
        return actors[username]

    for n, op in enumerate(ops):
        if op.kind == "propose":
            view = amendments.propose(
                database,
                actor=actor(op.user),
                provision_id=op.provision_id,
                kind=AmendmentKind(op.amendment_kind),
                text=op.text,
                on_behalf_of=op.on_behalf_of,
                justification=op.justification,
            )
            ids.setdefault(op.amendment, view.id)
            assert ids[op.amendment] == view.id
        elif op.kind == "position":
            amendments.take_position(
                database, actor=actor(op.user), amendment_id=ids[op.amendment], stance=op.stance
            )
        elif op.kind == "withdraw":
            amendments.withdraw(database, actor=actor(op.user), amendment_id=ids[op.amendment])
        elif op.kind == "decide":
            assert op.decision is not None
            decisions.decide(
                database,
                actor=actor(op.user),
                amendment_id=ids[op.amendment],
                decision=Decision(op.decision),
                reason=op.reason,
            )
        else:
            raise ValueError(op.kind)
        if progress and n % 500 == 0:
            progress(n)


# ---------------------------------------------------------------------------------------------
# Putting it together
# ---------------------------------------------------------------------------------------------


@dataclass
class Generated:
    url: str
    dialect: str
    shape: Shape
    method: str
    document_id: int
    negotiation_id: int
    cofacilitator: str
    plan: Plan
    seconds: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "dialect": self.dialect,
            "scale": self.shape.scale,
            "seed": self.shape.seed,
            "method": self.method,
            "document_id": self.document_id,
            "negotiation_id": self.negotiation_id,
            "cofacilitator": self.cofacilitator,
            "rebase_targets": json.loads(json.dumps(self.plan.rebase_targets)),  # a copy
            "busiest_provision": self.plan.busiest_provision,
            "counts": self.plan.counts,
            "seconds": self.seconds,
        }


def generate(
    url: str,
    shape: Shape,
    *,
    method: str = "bulk",
    log: Callable[[str], None] = print,
    cache: dict[str, tuple[Simulator, Plan]] | None = None,
) -> Generated:
    """Migrate the (empty) database at `url` and fill it. `method`: bulk or services.

    `cache` (any dict kept by the caller) lets a second database reuse the simulation of the
    first: the same services on an empty database give the same ids, hence the same rows.
    """
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    migrate(url)
    database = Database(url)
    try:
        rng = random.Random(shape.seed)
        draft = build_draft(shape, rng)
        info = setup(database, shape, draft)
        seconds["setup"] = time.perf_counter() - started
        mark = time.perf_counter()
        start = datetime(2026, 1, 19, 9, 0, tzinfo=UTC)
        sim = Simulator(database, info, start)
        key = f"{shape}{sim.fingerprint()}"
        if cache is not None and key in cache:
            sim, plan = cache[key]
            log("  same starting point as the previous database: simulation reused")
        else:
            plan = negotiate(sim, shape, rng)
            if cache is not None:
                cache.clear()
                cache[key] = (sim, plan)
        seconds["simulate"] = time.perf_counter() - mark
        mark = time.perf_counter()
        if method == "bulk":
            write_rows(database, sim)
        elif method == "services":
            total = len(sim.ops)
            replay(database, sim.ops, lambda n: log(f"    {n}/{total} calls"))
        else:
            raise ValueError(method)
        seconds["write"] = time.perf_counter() - mark
        seconds["total"] = time.perf_counter() - started
        return Generated(
            url=url,
            dialect=database.dialect,
            shape=shape,
            method=method,
            document_id=info.document_id,
            negotiation_id=info.negotiation_id,
            cofacilitator=info.cofacilitator_username,
            plan=plan,
            seconds=seconds,
        )
    finally:
        database.dispose()


# ---------------------------------------------------------------------------------------------
# Checking the shortcut against the services
# ---------------------------------------------------------------------------------------------

#: Columns whose values are the clock (the simulation uses its own timeline).
CLOCK = {"created_at", "decided_at", "joined_at", "withdrawn_at", "at"}
CHECKED = (Amendment, AmendmentWording, Proponent, Position, ProvisionVersion, Provision, Event)


def dump(database: Database) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    with database.read() as db:
        for model in CHECKED:
            table = model.__table__
            rows = db.execute(select(table).order_by(table.c.id)).mappings().all()
            tables[table.name] = [
                {k: (v is not None if k in CLOCK else v) for k, v in row.items()} for row in rows
            ]
    return tables


def _name_wordings(tables: dict[str, list[dict[str, Any]]]) -> None:
    """Refer to wordings as (amendment, seq) rather than by id: PostgreSQL hands the pending
    proposals to rebase in no fixed order, so their rebased wordings' ids may be permuted."""
    names = {w["id"]: (w["amendment_id"], w["seq"]) for w in tables["amendment_wordings"]}
    for w in tables["amendment_wordings"]:
        w["id"] = names[w["id"]]
    tables["amendment_wordings"].sort(key=lambda w: w["id"])
    for a in tables["amendments"]:
        a["current_wording_id"] = names.get(a["current_wording_id"])
    for e in tables["events"]:
        if e["kind"] in ("amendment.proposed", "amendment.revised"):
            e["after_id"] = names.get(e["after_id"])
            e["before_id"] = names.get(e["before_id"]) if e["before_id"] else None


def verify(
    directory: Path,
    shape: Shape,
    log: Callable[[str], None] = print,
    *,
    postgres_url: str | None = None,
) -> bool:
    """Build the same small negotiation with the simulation and with the services (on SQLite,
    or on PostgreSQL when `postgres_url` is given); every checked row must be identical, the
    clock apart."""
    dumps = {}
    for method in ("bulk", "services"):
        if postgres_url:
            name = f"{make_url(postgres_url).database}_verify_{method}"
            url = fresh_postgres(make_url(postgres_url).set(database=name).render_as_string(False))
        else:
            url = fresh_sqlite(directory / f"verify-{method}.db")
        result = generate(url, shape, method=method, log=lambda _: None)
        counts = result.plan.counts
        log(
            f"  {method:<8} {counts['calls']} calls in {result.seconds['write']:.1f} s "
            f"({counts['amendments']} proposals, {counts['versions_added']} accepted, "
            f"{counts['accepts_rebasing_several_versions']} of them rebasing proposals written "
            f"on different versions, {counts['needs_redraft']} flagged needs redraft)"
        )
        database = Database(url)
        dumps[method] = dump(database)
        database.dispose()
        if postgres_url:
            drop_postgres(url)
    for tables in dumps.values():
        _name_wordings(tables)
    ok = True
    for name, rows in dumps["services"].items():
        mine = dumps["bulk"][name]
        if rows == mine:
            log(f"  {name:<20} {len(rows):>6} rows identical")
            continue
        ok = False
        log(f"  {name:<20} DIFFERENT: services {len(rows)} rows, simulation {len(mine)}")
        shown = 0
        for want, got in itertools.zip_longest(rows, mine):
            if want != got and shown < 5:
                shown += 1
                if want is None or got is None:
                    log(f"    services {want}\n    simulation {got}")
                    continue
                cols = [k for k in want if want[k] != got.get(k)]
                log(
                    f"    id {want['id']}: "
                    + json.dumps({k: [want[k], got.get(k)] for k in cols}, default=str)[:400]
                )
    return ok
