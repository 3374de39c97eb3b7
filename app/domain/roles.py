"""Who takes part, and in which capacity."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    SECRETARIAT = "secretariat"
    COFACILITATOR = "cofacilitator"
    DELEGATE = "delegate"
    STAKEHOLDER = "stakeholder"
    OBSERVER = "observer"


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in person, as the rules need to see them."""

    user_id: int
    username: str
    display_name: str
    role: Role
    delegation_id: int | None = None
    delegation_code: str | None = None
    group_ids: frozenset[int] = field(default_factory=frozenset)

    def speaks_for_group(self, group_id: int) -> bool:
        return group_id in self.group_ids
