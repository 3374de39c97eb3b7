"""The delegations and negotiating groups Rolltext knows, loaded from the data it ships."""

from __future__ import annotations

from sqlalchemy import select

from app.data import load_delegations, load_groups
from app.db.models import Delegation, Group, GroupMember
from app.db.session import Database
from app.services import events
from app.services.views import DelegationView, GroupView


def load_reference_data(database: Database) -> tuple[int, int]:
    """Add the delegations and groups that are missing; idempotent. Returns what was added."""
    added_delegations = added_groups = 0
    with database.write() as db:
        existing = {d.code: d for d in db.scalars(select(Delegation))}
        for record in load_delegations():
            if record.code not in existing:
                delegation = Delegation(
                    code=record.code,
                    name=record.name,
                    short=record.short,
                    kind=record.kind,
                    un_member_since=record.un_member_since,
                )
                db.add(delegation)
                existing[record.code] = delegation
                added_delegations += 1
        db.flush()
        groups = {g.code for g in db.scalars(select(Group))}
        for group_record in load_groups():
            if group_record.code in groups:
                continue
            group = Group(code=group_record.code, name=group_record.name, short=group_record.short)
            db.add(group)
            db.flush()
            for code in group_record.members:
                db.add(GroupMember(group_id=group.id, delegation_id=existing[code].id))
            added_groups += 1
        if added_delegations or added_groups:  # what every process keeps of them is stale
            events.record(
                db,
                kind="directory.updated",
                actor=None,
                subject="directory",
                subject_id=None,
                delegations=added_delegations,
                groups=added_groups,
            )
    return added_delegations, added_groups


def list_delegations(database: Database) -> list[DelegationView]:
    with database.read() as db:
        return [
            DelegationView(id=d.id, code=d.code, name=d.name, short=d.short, kind=d.kind)
            for d in db.scalars(select(Delegation).order_by(Delegation.name))
        ]


def list_groups(database: Database) -> list[GroupView]:
    with database.read() as db:
        members: dict[int, list[str]] = {}
        for group_id, code in db.execute(
            select(GroupMember.group_id, Delegation.code)
            .join(Delegation, GroupMember.delegation_id == Delegation.id)
            .order_by(Delegation.code)
        ):
            members.setdefault(group_id, []).append(code)
        return [
            GroupView(
                id=g.id,
                code=g.code,
                name=g.name,
                short=g.short,
                members=tuple(members.get(g.id, ())),
            )
            for g in db.scalars(select(Group).order_by(Group.code))
        ]
