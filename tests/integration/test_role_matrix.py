"""The role matrix, exhaustively, on SQLite and PostgreSQL.

Every role × every action × own/other delegation (or group) × open/agreed provision × before/after
the round's deadline. What *should* happen is written here a second time, from the rules of the
process (docs: negotiation.md, and the issue that fixed the roles), in `expected()` — an oracle that
does not look at `app/services/permissions.py`:

- a delegate acts only for its own delegation, or for a group it is authorised for;
- only the co-facilitators *of this negotiation* decide, write their own wording, settle
  brackets, set the status of a provision, issue revisions and run the process (rounds, silence);
- stakeholders and observers never propose; stakeholders submit written inputs, which only a
  delegation can adopt as its proposal;
- the secretariat manages accounts, negotiations and documents, and cannot propose;
- restricted documents are for delegations and the process's officers, not for stakeholders or
  observers;
- agreed provisions refuse proposals (wording, deletion, move) until reopened; a new provision
  may still be proposed after one;
- after a round's deadline proposals and redrafts are refused; support, opposition and
  withdrawal are not; after the silence deadline silence can no longer be broken.

Each case runs the real use case and compares: allowed → it succeeds and says so in what it
returns; refused → `NotAllowed` (who may not) or `Invalid` (the rules of the process say not now),
`NotFound` for a restricted document, with a readable message that names the reason, and nothing
stored (row counts of every table and the rows of the case's target are unchanged).

Speed: one world per database holds the four (status × deadline) combinations side by side, each
with its own documents and its own round; the clock (`app.timeutil.utcnow`) is fixed between the
two deadlines. Every case that may change its target gets a fresh one (a new pending proposal, a
provision, an input, a document) made while the world is built; refused cases share a target per
kind of owner. The number of cases is written to test-artifacts/role-matrix.txt.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Table, text, update

from app import timeutil
from app.db.models import (
    Amendment,
    AmendmentWording,
    Base,
    Document,
    Proponent,
    Provision,
    Round,
    Silence,
)
from app.db.models import StakeholderInput as InputRow
from app.db.session import Database
from app.domain.amendments import AmendmentKind, AmendmentState, Decision
from app.domain.diff import word_diff
from app.domain.errors import DomainError, Invalid, NotAllowed, NotFound
from app.domain.outline import parse_outline
from app.domain.provisions import ProvisionStatus
from app.domain.roles import Actor, Role
from app.services import (
    accounts,
    amendments,
    decisions,
    documents,
    inputs,
    process,
    revisions,
)
from app.services.text import encode_diff, load_directory
from tests.conftest import REFERENCE_TABLES, _truncate_postgres

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = ROOT / "test-artifacts" / "role-matrix.txt"
PASSWORD = "correct horse battery"

T0 = datetime(2017, 1, 10, 12, 0, tzinfo=UTC)  # the world is built now
EARLY = T0 + timedelta(days=1)  # the deadline of the "after" combinations
NOW = T0 + timedelta(days=2)  # the cases run now
LATE = T0 + timedelta(days=10)  # the deadline of the "before" combinations
FUTURE = T0 + timedelta(days=30)  # new deadlines set by the cases


# -- who takes part ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Who:
    """The facts about an actor that the rules look at (independent of the code under test)."""

    username: str
    role: Role
    delegation: str | None = None
    groups: tuple[str, ...] = ()
    cofacilitator_here: bool = False
    colleague: str | None = None  # a delegate of the same delegation
    colleague_group: str | None = None  # a group that colleague speaks for, and this actor not
    unauthorised_group: str = "G77"  # a group this actor may not speak for


ACTORS: dict[str, Who] = {
    "secretariat": Who("rm.secretariat", Role.SECRETARIAT),
    "cofacilitator": Who(
        "rm.cofac.mexico",
        Role.COFACILITATOR,
        "MEX",
        cofacilitator_here=True,
        colleague="rm.mexico.delegate",
        colleague_group="GRULAC",
    ),
    "cofacilitator_elsewhere": Who(
        "rm.cofac.norway",
        Role.COFACILITATOR,
        "NOR",
        colleague="rm.norway.delegate",
        colleague_group="WEOG",
    ),
    "delegate": Who(
        "rm.brazil",
        Role.DELEGATE,
        "BRA",
        colleague="rm.brazil.colleague",
        colleague_group="G77",  # Brazil is in the G77, but this delegate is not its speaker
    ),
    "group_delegate": Who(
        "rm.egypt",
        Role.DELEGATE,
        "EGY",
        groups=("G77",),
        colleague="rm.egypt.colleague",
        colleague_group="ARAB-GROUP",
        unauthorised_group="AFRICAN-GROUP",
    ),
    "stakeholder": Who("rm.ngo", Role.STAKEHOLDER),
    "observer": Who("rm.observer", Role.OBSERVER),
}
OTHER = ("rm.russia", "RUS")  # another delegation, party to nothing here
HELPERS = [  # username, role, delegation, groups
    ("rm.cofac.switzerland", Role.COFACILITATOR, "CHE", ()),
    ("rm.mexico.delegate", Role.DELEGATE, "MEX", ("GRULAC",)),
    ("rm.norway.delegate", Role.DELEGATE, "NOR", ("WEOG",)),
    ("rm.brazil.colleague", Role.DELEGATE, "BRA", ("G77",)),
    ("rm.egypt.colleague", Role.DELEGATE, "EGY", ("ARAB-GROUP",)),
    ("rm.russia", Role.DELEGATE, "RUS", ()),
]


# -- the cases -----------------------------------------------------------------------------------

PROPOSE_KINDS = ("wording", "insert_after", "delete", "move")
OWNER_ACTIONS = ("redraft", "withdraw", "support", "oppose")
PLAIN_ACTIONS = (
    "decide_accept",
    "decide_bracket",
    "decide_reject",
    "cf_text",
    "cf_alternative",
    "choose_alternative",
    "resolve_brackets",
    "set_status",
    "issue_revision",
    "open_round",
    "move_deadline",
    "grant_late_submission",
    "place_under_silence",
    "break_silence",
    "submit_input",
    "create_user",
    "create_negotiation",
    "import_document",
    "set_visibility",
    "read_restricted",
)


@dataclass(frozen=True)
class Case:
    actor: str
    action: str
    variant: str = ""

    def __str__(self) -> str:
        return "-".join(p for p in (self.actor, self.action, self.variant) if p)


def propose_variants(who: Who) -> list[str]:
    """In whose name: one's own (implicitly, or naming it), another's, a group's."""
    variants = ["own"]
    if who.delegation:
        variants.append("own_explicit")
    variants.append("other_delegation")
    if who.groups:
        variants.append("group_authorised")
    variants.append("group_unauthorised")
    return variants


def owner_variants(who: Who) -> list[str]:
    """Whose proposal: mine, my colleague's, my group's, my colleague's group's, another's."""
    variants = []
    if who.role is Role.DELEGATE:
        variants.append("mine")
    if who.colleague:
        variants.append("colleague")
    if who.groups:
        variants.append("mine_group")
    if who.colleague_group:
        variants.append("colleague_group")
    variants.append("other")
    return variants


def adopt_variants(who: Who) -> list[str]:
    return ["own", *(["group_authorised"] if who.groups else []), "group_unauthorised"]


def lift_variants(who: Who) -> list[str]:
    return [*(["own"] if who.delegation else []), "other"]


def all_cases() -> list[Case]:
    cases = []
    for name, who in ACTORS.items():
        for kind in PROPOSE_KINDS:
            cases += [Case(name, f"propose_{kind}", v) for v in propose_variants(who)]
        for action in OWNER_ACTIONS:
            cases += [Case(name, action, v) for v in owner_variants(who)]
        cases += [Case(name, "adopt_input", v) for v in adopt_variants(who)]
        cases += [Case(name, "lift_reservation", v) for v in lift_variants(who)]
        cases += [Case(name, action) for action in PLAIN_ACTIONS]
    return cases


CASES = all_cases()


@dataclass(frozen=True)
class Combo:
    agreed: bool
    after: bool

    def __str__(self) -> str:
        return f"{'agreed' if self.agreed else 'open'}-{'after' if self.after else 'before'}"


COMBOS = [Combo(agreed, after) for agreed in (False, True) for after in (False, True)]


def owner_of(case: Case) -> tuple[str, str, str | None]:
    """(username, delegation, group) of the proposal a case acts on."""
    who = ACTORS[case.actor]
    if case.variant == "other":
        return (*OTHER, None)
    assert who.delegation is not None
    if case.variant == "mine":
        return who.username, who.delegation, None
    if case.variant == "mine_group":
        return who.username, who.delegation, who.groups[0]
    assert who.colleague is not None
    if case.variant == "colleague":
        return who.colleague, who.delegation, None
    assert case.variant == "colleague_group"
    return who.colleague, who.delegation, who.colleague_group


def propose_params(case: Case) -> tuple[str | None, str | None]:
    """(delegation=, on_behalf_of=) of a proposal case."""
    who = ACTORS[case.actor]
    return {
        "own": (None, None),
        "own_explicit": (who.delegation, None),
        "other_delegation": (OTHER[1], None),
        "group_authorised": (None, who.groups[0] if who.groups else None),
        "group_unauthorised": (None, who.unauthorised_group),
    }[case.variant]


# -- the oracle ----------------------------------------------------------------------------------

ROLE = r"role \((secretariat|cofacilitator|delegate|stakeholder|observer)\) cannot"
NOT_HERE = r"co-facilitators of this negotiation"
IN_NAME_OF = r"in the name of RUS"
GROUP = r"not authorised to speak on behalf of"
NOT_PROPONENT = r"[Oo]nly the proponents of A-\d+"
DEADLINE = r"deadline for .+ passed on"
AGREED = r"closed to new proposals"
OWN = r"Your delegation made this proposal"
SILENCE_OVER = r"can no longer be broken"
INPUTS_ONLY = r"inputs are for stakeholders"
RESERVATION = r"reservation"
NO_DOCUMENT = r"^There is no document \d+\.$"


@dataclass(frozen=True)
class Expected:
    allowed: bool
    error: type[DomainError] | None = None
    hints: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.allowed:
            return "allowed"
        assert self.error is not None
        return f"refused ({self.error.__name__}: {' | '.join(self.hints)})"


def expected(case: Case, combo: Combo) -> Expected:
    """What the rules of the process say, from the actor's facts alone."""
    who = ACTORS[case.actor]
    delegate = who.role is Role.DELEGATE
    here = who.role is Role.COFACILITATOR and who.cofacilitator_here
    refusals: list[tuple[type[DomainError], str]] = []

    def not_cofacilitator_here() -> None:
        if not here:
            refusals.append((NotAllowed, NOT_HERE if who.role is Role.COFACILITATOR else ROLE))

    action = case.action
    if action.startswith("propose_") or action == "adopt_input":
        kind = action.removeprefix("propose_") if action != "adopt_input" else "wording"
        if not delegate:
            refusals.append((NotAllowed, ROLE))
        elif case.variant == "other_delegation":
            refusals.append((NotAllowed, IN_NAME_OF))
        elif case.variant == "group_unauthorised":
            refusals.append((NotAllowed, GROUP))
        if combo.after:
            refusals.append((Invalid, DEADLINE))
        if combo.agreed and kind != "insert_after":
            refusals.append((Invalid, AGREED))
    elif action in ("redraft", "withdraw"):
        _, delegation, group = owner_of(case)
        if not delegate:
            refusals.append((NotAllowed, ROLE))
        elif delegation != who.delegation or (group is not None and group not in who.groups):
            refusals.append((NotAllowed, NOT_PROPONENT))
        if action == "redraft" and combo.after:
            refusals.append((Invalid, DEADLINE))
    elif action in ("support", "oppose"):
        _, delegation, _ = owner_of(case)
        if not delegate:
            refusals.append((NotAllowed, ROLE))
        elif delegation == who.delegation:
            refusals.append((Invalid, OWN))
    elif action == "lift_reservation":
        holder = who.delegation if case.variant == "own" else OTHER[1]
        if not (here or (delegate and holder == who.delegation)):
            # Lifting is the holder's act (or the co-facilitators'): the refusal says so, rather
            # than that one's role "cannot change the status of a provision".
            refusals.append((NotAllowed, RESERVATION))
    elif action == "break_silence":
        if not delegate:
            refusals.append((NotAllowed, ROLE))
        if combo.after:
            refusals.append((Invalid, SILENCE_OVER))
    elif action == "submit_input":
        if who.role is not Role.STAKEHOLDER:
            refusals.append((NotAllowed, INPUTS_ONLY))
    elif action in ("create_user", "create_negotiation"):
        if who.role is not Role.SECRETARIAT:
            refusals.append((NotAllowed, ROLE))
    elif action in ("import_document", "set_visibility"):
        if who.role is not Role.SECRETARIAT:
            not_cofacilitator_here()
    elif action == "read_restricted":
        if who.role in (Role.STAKEHOLDER, Role.OBSERVER):
            refusals.append((NotFound, NO_DOCUMENT))
    else:  # the co-facilitators' own acts
        assert action in PLAIN_ACTIONS, action
        not_cofacilitator_here()

    if not refusals:
        return Expected(True)
    kinds = [k for k, _ in refusals]
    error = NotFound if NotFound in kinds else NotAllowed if NotAllowed in kinds else Invalid
    return Expected(False, error, tuple(h for k, h in refusals if k is error))


def readable(message: str) -> bool:
    """A sentence for a person: capitalised, punctuated, no code, no placeholders."""
    return (
        10 <= len(message) <= 400
        and message[0].isupper()
        and message.rstrip()[-1] in ".!?"
        and not re.search(r"None|Traceback|<[a-zA-Z]|\{|\}|\bid=|Error\b", message)
    )


# -- the world -----------------------------------------------------------------------------------

PLAIN_PROVISIONS = 64
BRACKETED_PROVISIONS = 4
PROPOSE_POOL = 20  # one provision per proposal case of one actor
TARGET_POOL = 4  # provisions carrying the pending proposals that cases act on


def outline_text(title: str, plain: int, bracketed: int) -> str:
    lines = [f"# {title}", "", "The General Assembly,", ""]
    lines += ["_Recalling_ its resolution 71/1 of 19 September 2016,", ""]
    for n in range(1, plain + 1):
        lines += [f"{n}. _Decides_ to consider matter {n} of international migration in 2018;", ""]
    for n in range(plain + 1, plain + bracketed + 1):
        lines += [
            f"{n}. _Decides_ to [convene a conference][hold a high-level meeting] on matter {n};",
            "",
        ]
    return "\n".join(lines)


SMALL = "# A small draft\n\nThe General Assembly,\n\n1. _Decides_ to meet in 2018.\n"


@dataclass(repr=False)
class Target:
    """What one case acts on; `watch` lists the rows that must not change when it is refused."""

    n: int
    provision: int | None = None
    amendment: int | None = None
    input: int | None = None
    document: int | None = None
    watch: list[tuple[Table, str, int]] = field(default_factory=list)
    row: Any = None  # while the world is built


@dataclass(repr=False)
class ComboWorld:
    combo: Combo
    document: int  # the text: public, one round, every provision in the combination's status
    texts: dict[int, str]  # provision id → its wording
    silence: int  # a silence procedure on another document, with the same deadline
    silence_label: str
    input_provision: int
    adopt_provision: int
    move_anchor: int
    process_document: int  # rounds, revisions, refused silences (shared by the combinations)
    round: int  # a round of process_document, for moving deadlines and late submissions
    restricted_document: int
    restricted_provision: int
    visibility_document: int
    targets: dict[Case, Target] = field(default_factory=dict)


@dataclass(repr=False)
class MatrixWorld:
    database: Database
    actors: dict[str, Actor]
    shorts: dict[str, str]  # delegation code → short name
    delegation_ids: dict[str, int]
    group_ids: dict[str, int]
    negotiation: int
    combos: dict[Combo, ComboWorld]
    observer: Connection = field(init=False)  # reads row counts between cases
    counts: tuple[Any, ...] | None = None  # the row counts, while nothing has changed them


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _user(
    database: Database, username: str, role: Role, delegation: str | None, groups: Any
) -> Actor:
    accounts.create_user(
        database,
        actor=None,
        username=username,
        display_name=username,
        role=role,
        password=PASSWORD,
        delegation=delegation,
        groups=groups,
    )
    return accounts.actor_for_username(database, username=username)


def _import(database: Database, actor: Actor, negotiation: int, outline: str) -> int:
    return documents.import_outline(
        database,
        actor=actor,
        negotiation_id=negotiation,
        outline=parse_outline(outline),
        issued_on=date(2017, 1, 9),
    ).id


def build_world(database: Database) -> MatrixWorld:
    actors = {
        name: _user(database, w.username, w.role, w.delegation, w.groups)
        for name, w in ACTORS.items()
    }
    helpers = {u: _user(database, u, r, d, g) for u, r, d, g in HELPERS}
    everyone = {a.username: a for a in (*actors.values(), *helpers.values())}
    secretariat, mexico = actors["secretariat"], actors["cofacilitator"]
    negotiation = documents.create_negotiation(
        database,
        actor=secretariat,
        symbol="GCM/matrix",
        title="Role matrix",
        cofacilitators=["MEX", "CHE"],
    ).id
    documents.create_negotiation(
        database,
        actor=secretariat,
        symbol="GCM/elsewhere",
        title="Another negotiation, facilitated by Norway and Japan",
        cofacilitators=["NOR", "JPN"],
    )
    with database.read() as db:
        directory = load_directory(db)
        shorts = {d.code: d.short for d in directory.delegations.values()}
        delegation_ids = {d.code: d.id for d in directory.delegations.values()}
        group_ids = {g.code: g.id for g in directory.groups.values()}
    world = MatrixWorld(database, actors, shorts, delegation_ids, group_ids, negotiation, {})
    # Documents the combinations share: nothing done there depends on status or deadline.
    process_document = _import(database, secretariat, negotiation, SMALL)
    restricted = _import(database, secretariat, negotiation, SMALL)
    shared_documents = dict(
        process_document=process_document,
        round=process.open_round(
            database, actor=mexico, document_id=process_document, name="proposals", deadline=LATE
        ).id,
        restricted_document=restricted,
        restricted_provision=documents.get_document(database, document_id=restricted)
        .provisions[0]
        .id,
        visibility_document=_import(database, secretariat, negotiation, SMALL),
    )
    numbers = count(1)
    for combo in COMBOS:
        world.combos[combo] = _build_combo(world, combo, everyone, numbers, shared_documents)
    return world


def _build_combo(
    world: MatrixWorld,
    combo: Combo,
    everyone: dict[str, Actor],
    numbers: Iterator[int],
    shared_documents: dict[str, int],
) -> ComboWorld:
    database, negotiation = world.database, world.negotiation
    secretariat, mexico = world.actors["secretariat"], world.actors["cofacilitator"]
    deadline = EARLY if combo.after else LATE
    main = _import(
        database,
        secretariat,
        negotiation,
        outline_text(f"Matrix {combo}", PLAIN_PROVISIONS, BRACKETED_PROVISIONS),
    )
    documents.set_visibility(database, actor=secretariat, document_id=main, visibility="public")
    view = documents.get_document(database, document_id=main)
    operative = [p for p in view.provisions if p.label.startswith("OP")]
    texts = {p.id: p.text for p in view.provisions}
    versions = {p.id: p.version_id for p in view.provisions}
    plain = iter([p.id for p in operative if "[" not in p.text])
    bracketed = iter([p.id for p in operative if "[" in p.text])
    pool = [next(plain) for _ in range(PROPOSE_POOL)]
    target_pool = [next(plain) for _ in range(TARGET_POOL)]
    silenced = _import(database, secretariat, negotiation, SMALL)
    process.open_round(
        database, actor=mexico, document_id=main, name=f"proposals {combo}", deadline=deadline
    )
    silence = process.place_under_silence(
        database, actor=mexico, document_id=silenced, revision="0", deadline=deadline
    )
    cw = ComboWorld(
        combo=combo,
        document=main,
        texts=texts,
        silence=silence.id,
        silence_label="OP1",
        input_provision=next(plain),
        adopt_provision=next(plain),
        move_anchor=next(plain),
        **shared_documents,
    )
    process_document = cw.process_document

    proposals: list[tuple[Target, str, str | None, int]] = []  # target, owner, group, provision
    shared: dict[Any, Target] = {}
    lifts: list[tuple[int, str]] = []
    alternatives: list[int] = []
    per_actor = Counter[str]()
    rotation = count()

    def provision_watch(t: Target) -> Target:
        assert t.provision is not None
        t.watch.append((Provision.__table__, "id", t.provision))
        return t

    def share(key: Any, make: Callable[[], Target]) -> Target:
        if key not in shared:
            shared[key] = make()
        return shared[key]

    for case in CASES:
        allowed = expected(case, combo).allowed
        action = case.action
        n = next(numbers)
        if action.startswith("propose_"):
            slot = per_actor[case.actor]
            per_actor[case.actor] += 1
            cw.targets[case] = provision_watch(Target(n, provision=pool[slot]))
        elif action in OWNER_ACTIONS:
            owner, _, group = owner_of(case)

            def pending(owner: str = owner, group: str | None = group) -> Target:
                t = Target(next(numbers))
                proposals.append((t, owner, group, target_pool[next(rotation) % TARGET_POOL]))
                return t

            # Refused cases share a proposal per owner; withdrawals their own, as they end it.
            key = (owner, group, action == "withdraw")
            cw.targets[case] = pending() if allowed else share(key, pending)
        elif action.startswith("decide_"):

            def decidable() -> Target:
                t = Target(next(numbers))
                proposals.append((t, OTHER[0], None, next(plain)))
                return t

            cw.targets[case] = decidable() if allowed else share(action, decidable)
        elif action in ("cf_text", "cf_alternative", "set_status", "choose_alternative"):

            def provision(action: str = action) -> Target:
                t = provision_watch(Target(next(numbers), provision=next(plain)))
                if action == "choose_alternative":
                    alternatives.append(t.provision)  # type: ignore[arg-type]
                return t

            cw.targets[case] = provision() if allowed else share(action, provision)
        elif action == "resolve_brackets":

            def disputed() -> Target:
                return provision_watch(Target(next(numbers), provision=next(bracketed)))

            cw.targets[case] = disputed() if allowed else share(action, disputed)
        elif action == "lift_reservation":
            holder = ACTORS[case.actor].delegation if case.variant == "own" else OTHER[1]
            assert holder is not None

            def reserved(holder: str = holder) -> Target:
                t = provision_watch(Target(next(numbers), provision=next(plain)))
                lifts.append((t.provision, holder))  # type: ignore[arg-type]
                return t

            cw.targets[case] = reserved() if allowed else share((action, holder), reserved)
        elif action == "adopt_input":

            def submitted() -> Target:
                row = inputs.submit_input(
                    database,
                    actor=world.actors["stakeholder"],
                    document_id=main,
                    text="Add a reference to the rights of migrant children.",
                    organisation="Migrant Children Network",
                    provision_id=cw.adopt_provision,
                )
                t = Target(next(numbers), input=row.id)
                t.watch.append((InputRow.__table__, "id", row.id))
                return t

            cw.targets[case] = submitted() if allowed else share(action, submitted)
        elif action == "place_under_silence":

            def free_document() -> Target:
                document = _import(database, secretariat, negotiation, SMALL)
                t = Target(next(numbers), document=document)
                t.watch.append((Silence.__table__, "document_id", document))
                return t

            cw.targets[case] = free_document() if allowed else share(action, free_document)
        else:
            t = Target(n)
            if action in ("move_deadline", "grant_late_submission", "open_round"):
                t.watch.append((Round.__table__, "document_id", process_document))
            elif action == "set_visibility":
                t.watch.append((Document.__table__, "id", cw.visibility_document))
            elif action == "break_silence":
                t.watch.append((Silence.__table__, "id", cw.silence))
            elif action == "submit_input":
                t.watch.append((InputRow.__table__, "document_id", main))
            cw.targets[case] = t

    # The pending proposals the cases act on: the rows `amendments.propose` writes (the proposal
    # cases above test that use case itself; here hundreds are needed quickly).
    with database.write() as db:
        made = []
        for t, owner, group, provision_id in proposals:
            wording = f"{texts[provision_id][:-1]} and target {t.n};"
            amendment = Amendment(
                document_id=main,
                provision_id=provision_id,
                kind=AmendmentKind.WORDING,
                state=AmendmentState.PENDING,
                delegation_id=everyone[owner].delegation_id,
                group_id=world.group_ids[group] if group else None,
                author_id=everyone[owner].user_id,
            )
            db.add(amendment)
            made.append((t, amendment, wording, owner, provision_id))
        db.flush()
        for t, amendment, wording, owner, provision_id in made:
            row = AmendmentWording(
                amendment_id=amendment.id,
                seq=1,
                base_version_id=versions[provision_id],
                text=wording,
                diff=encode_diff(word_diff(texts[provision_id], wording)),
                reason="proposed",
            )
            db.add(row)
            db.add(
                Proponent(
                    amendment_id=amendment.id,
                    delegation_id=amendment.delegation_id,
                    group_id=amendment.group_id,
                    user_id=everyone[owner].user_id,
                )
            )
            t.row = row
        db.flush()
        for t, amendment, _, _, provision_id in made:
            amendment.current_wording_id = t.row.id
            t.amendment, t.provision = amendment.id, provision_id
            t.watch += [
                (Amendment.__table__, "id", amendment.id),
                (Proponent.__table__, "amendment_id", amendment.id),
            ]
    for provision_id in alternatives:
        decisions.cf_alternative(
            database,
            actor=mexico,
            provision_id=provision_id,
            text=f"Decides to consider the alternative {provision_id} in 2019;",
        )
    # The combination's status, then the reservations held by one delegation.
    status = ProvisionStatus.AGREED if combo.agreed else ProvisionStatus.OPEN
    with database.write() as db:
        db.execute(update(Provision).where(Provision.document_id == main).values(status=status))
        for provision_id, holder in lifts:
            db.execute(
                update(Provision)
                .where(Provision.id == provision_id)
                .values(
                    status=ProvisionStatus.AGREED_PENDING,
                    reservation_delegation_id=world.delegation_ids[holder],
                )
            )
    return cw


# -- the actions ---------------------------------------------------------------------------------

Run = Callable[[MatrixWorld, ComboWorld, Case, Actor, Target], None]


def _propose(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    kind = AmendmentKind(case.action.removeprefix("propose_"))
    delegation, group = propose_params(case)
    assert t.provision is not None
    wording = {
        AmendmentKind.WORDING: f"{cw.texts[t.provision][:-1]} and case {t.n};",
        AmendmentKind.INSERT_AFTER: f"Further decides to report on case {t.n};",
    }.get(kind)
    view = amendments.propose(
        w.database,
        actor=actor,
        provision_id=t.provision,
        kind=kind,
        text=wording,
        after_id=cw.move_anchor if kind is AmendmentKind.MOVE else None,
        on_behalf_of=group,
        delegation=delegation,
    )
    assert view.state is AmendmentState.PENDING and view.kind is kind
    assert (group or actor.delegation_code) in view.proponent_codes, view.proponent_codes


def _redraft(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    assert t.amendment is not None and t.provision is not None
    wording = f"{cw.texts[t.provision][:-1]} and redraft {t.n};"
    view = amendments.revise(w.database, actor=actor, amendment_id=t.amendment, text=wording)
    assert view.proposed_text == wording


def _withdraw(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    assert t.amendment is not None
    view = amendments.withdraw(w.database, actor=actor, amendment_id=t.amendment)
    assert view.state is AmendmentState.WITHDRAWN


def _position(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    assert t.amendment is not None
    view = amendments.take_position(
        w.database, actor=actor, amendment_id=t.amendment, stance=case.action
    )
    listed = view.supporters if case.action == "support" else view.opponents
    assert w.shorts[str(actor.delegation_code)] in listed


def _decide(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    assert t.amendment is not None
    decision = Decision(case.action.removeprefix("decide_"))
    view = decisions.decide(
        w.database,
        actor=actor,
        amendment_id=t.amendment,
        decision=decision,
        reason="Not in the spirit of the compromise.",
    )
    assert view.state is decision.outcome


def _cf_text(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    assert t.provision is not None
    wording = f"Decides to consider the co-facilitators' matter {t.n} in 2018;"
    view = decisions.cf_text(w.database, actor=actor, provision_id=t.provision, text=wording)
    assert view.text == wording


def _cf_alternative(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    assert t.provision is not None
    view = decisions.cf_alternative(
        w.database,
        actor=actor,
        provision_id=t.provision,
        text=f"Decides to consider alternative matter {t.n} in 2019;",
    )
    assert view.label.endswith("alt"), view.label


def _choose(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    assert t.provision is not None
    view = decisions.choose_alternative(w.database, actor=actor, provision_id=t.provision)
    assert view.id == t.provision


def _resolve(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    assert t.provision is not None
    view = decisions.resolve_brackets(
        w.database, actor=actor, provision_id=t.provision, group=0, choice=0
    )
    assert "[" not in view.text and "convene a conference" in view.text


def _set_status(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    assert t.provision is not None
    target = ProvisionStatus.OPEN if cw.combo.agreed else ProvisionStatus.AGREED_AD_REF
    view = decisions.set_status(w.database, actor=actor, provision_id=t.provision, status=target)
    assert view.status is target


def _lift(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    assert t.provision is not None
    view = decisions.lift_reservation(w.database, actor=actor, provision_id=t.provision)
    assert view.status is ProvisionStatus.AGREED_AD_REF and view.reservation is None


def _issue_revision(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    view = revisions.issue_revision(
        w.database,
        actor=actor,
        document_id=cw.process_document,
        name=f"Rev.{t.n}",
        issued_on=date(2017, 1, 12),
        renumber_labels=False,
    )
    assert view.name == f"Rev.{t.n}"


def _open_round(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    view = process.open_round(
        w.database,
        actor=actor,
        document_id=cw.process_document,
        name=f"written proposals, round {t.n}",
        deadline=FUTURE,
    )
    assert view.open


def _move_deadline(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    view = process.move_deadline(
        w.database, actor=actor, round_id=cw.round, deadline=FUTURE + timedelta(hours=t.n)
    )
    assert view.deadline == FUTURE + timedelta(hours=t.n)


def _grant_late(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    process.grant_late_submission(
        w.database, actor=actor, round_id=cw.round, delegation="RUS", until=FUTURE
    )


def _place_under_silence(
    w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target
) -> None:
    assert t.document is not None
    view = process.place_under_silence(
        w.database, actor=actor, document_id=t.document, revision="0", deadline=FUTURE
    )
    assert view.outcome is None and view.revision == "Zero draft"


def _break_silence(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    view = process.break_silence(
        w.database,
        actor=actor,
        silence_id=cw.silence,
        statement=f"Our delegation objects to {cw.silence_label} (case {t.n}).",
        provisions=[cw.silence_label],
    )
    assert w.shorts[str(actor.delegation_code)] in [b.delegation for b in view.breaks]


def _submit_input(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    view = inputs.submit_input(
        w.database,
        actor=actor,
        document_id=cw.document,
        text=f"Please mention the families of migrants (case {t.n}).",
        organisation="Diaspora Forum",
        provision_id=cw.input_provision,
    )
    assert view.document_id == cw.document


def _adopt_input(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    assert t.input is not None
    group = {
        "own": None,
        "group_authorised": ACTORS[case.actor].groups[0] if ACTORS[case.actor].groups else None,
        "group_unauthorised": ACTORS[case.actor].unauthorised_group,
    }[case.variant]
    view = inputs.adopt_input(
        w.database,
        actor=actor,
        input_id=t.input,
        text=f"{cw.texts[cw.adopt_provision][:-1]} and of migrant children {t.n};",
        provision_id=cw.adopt_provision,
        on_behalf_of=group,
    )
    assert (group or actor.delegation_code) in view.proponent_codes


def _create_user(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    view = accounts.create_user(
        w.database,
        actor=actor,
        username=f"rm.new.{t.n}",
        display_name="New delegate",
        role=Role.DELEGATE,
        password=PASSWORD,
        delegation="FRA",
    )
    assert view.username == f"rm.new.{t.n}"


def _create_negotiation(
    w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target
) -> None:
    view = documents.create_negotiation(
        w.database,
        actor=actor,
        symbol=f"GCM/new/{t.n}",
        title="A new negotiation",
        cofacilitators=["IRL", "JAM"],
    )
    assert view.symbol == f"GCM/new/{t.n}"


def _import_document(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    document = _import(w.database, actor, w.negotiation, SMALL)
    assert documents.get_document(w.database, document_id=document).title == "A small draft"


def _set_visibility(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    view = documents.set_visibility(
        w.database, actor=actor, document_id=cw.visibility_document, visibility="public"
    )
    assert view.visibility == "public"


def _read_restricted(w: MatrixWorld, cw: ComboWorld, case: Case, actor: Actor, t: Target) -> None:
    view = documents.get_document(w.database, document_id=cw.restricted_document, viewer=actor)
    assert view.id == cw.restricted_document
    detail = documents.get_provision(w.database, provision_id=cw.restricted_provision, viewer=actor)
    assert detail.provision.id == cw.restricted_provision


RUN: dict[str, Run] = {
    **{f"propose_{k}": _propose for k in PROPOSE_KINDS},
    "redraft": _redraft,
    "withdraw": _withdraw,
    "support": _position,
    "oppose": _position,
    "decide_accept": _decide,
    "decide_bracket": _decide,
    "decide_reject": _decide,
    "cf_text": _cf_text,
    "cf_alternative": _cf_alternative,
    "choose_alternative": _choose,
    "resolve_brackets": _resolve,
    "set_status": _set_status,
    "lift_reservation": _lift,
    "issue_revision": _issue_revision,
    "open_round": _open_round,
    "move_deadline": _move_deadline,
    "grant_late_submission": _grant_late,
    "place_under_silence": _place_under_silence,
    "break_silence": _break_silence,
    "submit_input": _submit_input,
    "adopt_input": _adopt_input,
    "create_user": _create_user,
    "create_negotiation": _create_negotiation,
    "import_document": _import_document,
    "set_visibility": _set_visibility,
    "read_restricted": _read_restricted,
}
assert set(RUN) == {c.action for c in CASES}


# -- nothing stored ------------------------------------------------------------------------------

TABLES = [t for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
COUNTS = [f"(SELECT count(*) FROM {t.name})" for t in TABLES]


def _rows_sql(dialect: str, table: Table, column: str, index: int) -> str:
    """The watched rows of one table as one text value, inside the same SELECT as the counts."""
    if dialect == "postgresql":
        return (
            f"(SELECT string_agg(x::text, '|' ORDER BY x.id) FROM {table.name} x "
            f"WHERE x.{column} = :v{index})"
        )
    row = " || ',' || ".join(f"quote({c.name})" for c in table.columns)
    return (
        f"(SELECT group_concat(r, '|') FROM (SELECT {row} AS r FROM {table.name} "
        f"WHERE {column} = :v{index} ORDER BY id))"
    )


def fingerprint(
    matrix: MatrixWorld, watch: list[tuple[Table, str, int]], *, counts: bool = True
) -> tuple[Any, ...]:
    """Row counts of every table and the watched rows: one statement, in a fresh transaction.

    Without `counts`, the counts are those found after the last refused case, when nothing has
    run since that could have changed them (the matrix keeps them in `matrix.counts`)."""
    dialect = matrix.database.dialect
    parts = [_rows_sql(dialect, table, column, i) for i, (table, column, _) in enumerate(watch)]
    use_cache = not counts and matrix.counts is not None
    if not use_cache:
        parts = COUNTS + parts
    values = {f"v{i}": value for i, (_, _, value) in enumerate(watch)}
    found: tuple[Any, ...] = ()
    if parts:
        found = tuple(matrix.observer.execute(text("SELECT " + ", ".join(parts)), values).one())
        matrix.observer.rollback()
    if use_cache:
        assert matrix.counts is not None
        return matrix.counts + found
    matrix.counts = found[: len(COUNTS)]
    return found


# -- the run -------------------------------------------------------------------------------------

TALLY: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    planned = len(CASES) * len(COMBOS)
    ARTIFACT.write_text(
        "Role matrix (tests/integration/test_role_matrix.py)\n"
        f"roles: {len(ACTORS)}; actions: {len(RUN)}; role x action x variant cases: {len(CASES)}; "
        f"status x deadline combinations: {len(COMBOS)}\n"
        f"cases per database: {planned}; databases: 2; cases in all: {2 * planned}\n"
        f"this run: executed {TALLY['executed']}, as expected {TALLY['passed']}, "
        f"allowed {TALLY['allowed']}, refused {TALLY['refused']}\n"
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MatrixWorld]:
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("matrix") / "rolltext.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        database = Database(f"sqlite:///{path}")
    else:
        database = Database(request.getfixturevalue("postgres_url"))
        _truncate_postgres(database)
    clock = Clock(T0)
    patch = pytest.MonkeyPatch()
    patch.setattr(timeutil, "utcnow", clock)
    try:
        world = build_world(database)
        clock.now = NOW
        with database.engine.connect() as world.observer:
            yield world
    finally:
        patch.undo()
        database.dispose()


def check(matrix: MatrixWorld, combo: Combo, case: Case) -> str | None:
    """Run one case; None if it went as the rules say, else what went wrong."""
    cw = matrix.combos[combo]
    target = cw.targets[case]
    want = expected(case, combo)
    before = None if want.allowed else fingerprint(matrix, target.watch, counts=False)
    matrix.counts = None  # whatever runs now may change them
    TALLY["executed"] += 1
    TALLY["allowed" if want.allowed else "refused"] += 1
    try:
        RUN[case.action](matrix, cw, case, matrix.actors[case.actor], target)
    except DomainError as exc:
        got = f"{type(exc).__name__}: {exc.message!r}"
        if want.allowed:
            return f"should be allowed; refused with {got}"
        if type(exc) is not want.error:
            return f"should be {want}; refused with {got}"
        if not readable(exc.message):
            return f"refused with an unclear message: {got}"
        if not any(re.search(h, exc.message) for h in want.hints):
            return f"the message does not give the reason (expected {want}): {got}"
        if fingerprint(matrix, target.watch) != before:
            return f"refused ({got}) but something was stored"
    except Exception as exc:  # a crash is a failure of its own, with its traceback below
        raise AssertionError(f"{case} ({combo}) crashed: {exc!r}") from exc
    else:
        if not want.allowed:
            return f"should be {want}; it succeeded"
    TALLY["passed"] += 1
    return None


ACTIONS = list(RUN)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("combo", COMBOS, ids=str)
def test_role_matrix(matrix: MatrixWorld, combo: Combo, action: str) -> None:
    """Every role and variant of one action in one combination; lists every mismatch."""
    problems = []
    for case in (c for c in CASES if c.action == action):
        problem = check(matrix, combo, case)
        if problem:
            problems.append(f"{case} [{combo}]: {problem}")
    assert not problems, f"{len(problems)} case(s) differ from the rules:\n" + "\n".join(problems)


def test_matrix_size() -> None:
    """The size the lead reports: every role, every action, every variant, four combinations."""
    roles = {w.role for w in ACTORS.values()}
    assert roles == set(Role)
    assert len(ACTORS) == 7
    assert len(RUN) == 30
    assert len(CASES) == 342
    assert len(CASES) * len(COMBOS) == 1368  # per database; x2 databases = 2736
