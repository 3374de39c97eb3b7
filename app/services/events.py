"""Every change leaves a line in the event log, and the same line tells live pages to refresh."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.db.models import Event
from app.domain.roles import Actor


def record(
    db: Session,
    *,
    kind: str,
    actor: Actor | None,
    subject: str,
    subject_id: int | None,
    negotiation_id: int | None = None,
    document_id: int | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
    **data: Any,
) -> None:
    db.add(
        Event(
            kind=kind,
            actor_id=actor.user_id if actor else None,
            subject=subject,
            subject_id=subject_id,
            negotiation_id=negotiation_id,
            document_id=document_id,
            before_id=before_id,
            after_id=after_id,
            data=data,
        )
    )
    db.info.setdefault("changes", []).append(
        {
            "kind": kind,
            "subject": subject,
            "subject_id": subject_id,
            "negotiation_id": negotiation_id,
            "document_id": document_id,
            **{
                k: v
                for k, v in data.items()
                if k in ("provision_id", "amendment_id", "amendment_kind")
            },
        }
    )
