"""What the services answered, kept until the next change (`app.web.kept.ViewCache`).

Pages and the JSON API read the same few answers again and again: every open page re-fetches
its fragments when the live stream names them, often all at once, and 200 delegations read the
same paragraphs. These are kept until anything changes (any new event in the log) and shared by
the viewers allowed to read them; the API keeps them serialised, so a repeated read costs the
check of who asks, not a second serialisation.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from starlette.responses import Response

from app.db.session import Database
from app.domain.amendments import AmendmentState
from app.domain.errors import NotAuthenticated, NotFound
from app.domain.roles import Actor
from app.services import accounts, amendments, documents, revisions
from app.services.permissions import can_read
from app.services.views import (
    AmendmentView,
    DocumentView,
    NegotiationView,
    ProvisionDetail,
    RevisionView,
)
from app.web import compression
from app.web.kept import ACCOUNTS, Scope, accepts_gzip_here, views_of

_VISIBILITIES = ("restricted", "public")


def session_actor(database: Database, *, user_id: int, key: str | None) -> Actor:
    """`accounts.actor_for_session`, kept until the session ends (its lifetime, or an account
    event: signing out on any worker) — every request of a signed-in browser asks it."""
    if not key:
        raise NotAuthenticated(accounts.SESSION_ENDED)
    actor, ends = views_of(database).get(
        ("session", user_id, accounts.digest(key)),
        lambda: accounts.session_of(database, user_id=user_id, key=key),
        scope=ACCOUNTS,
    )
    if accounts.session_is_over(ends):
        raise NotAuthenticated(accounts.SESSION_ENDED)
    return actor


def document_view(database: Database, actor: Actor, document_id: int) -> DocumentView:
    """`documents.get_document`, kept until the next change."""
    return views_of(database).get(
        ("document", document_id),
        lambda: documents.get_document(database, viewer=actor, document_id=document_id),
        viewer=actor,
        document_of=lambda _: document_id,
        scope=(document_id, None),  # every paragraph's status and pending count
        update=lambda stale, paragraphs: documents.refresh_document(
            database, stale, paragraphs, viewer=actor
        ),
    )


def negotiation_view(database: Database, actor: Actor, negotiation_id: int) -> NegotiationView:
    """`documents.get_negotiation`, kept until the next change (it lists the documents the
    viewer may read: kept per set of readable visibilities)."""
    readable = tuple(can_read(actor, v) for v in _VISIBILITIES)
    return views_of(database).get(
        ("negotiation", negotiation_id, readable),
        lambda: documents.get_negotiation(database, viewer=actor, negotiation_id=negotiation_id),
    )


def provision_detail(database: Database, actor: Actor, provision_id: int) -> ProvisionDetail:
    """`documents.get_provision`, kept until the next change."""
    return views_of(database).get(
        ("provision", provision_id),
        lambda: documents.get_provision(database, viewer=actor, provision_id=provision_id),
        viewer=actor,
        document_of=lambda detail: detail.provision.document_id,
        scope=_paragraph,
        update=lambda stale, proposals: documents.refresh_provision(
            database, stale, proposals, viewer=actor
        ),
    )


def revision_list(database: Database, actor: Actor, document_id: int) -> tuple[RevisionView, ...]:
    """`revisions.list_revisions`, kept until the next change to the document."""
    return views_of(database).get(
        ("revisions", document_id),
        lambda: tuple(revisions.list_revisions(database, viewer=actor, document_id=document_id)),
        viewer=actor,
        document_of=lambda _: document_id,
        scope=(document_id, None),
    )


def _paragraph(detail: ProvisionDetail) -> Scope:
    """A provision's view changes with its own events, and with the document's structure."""
    return (detail.provision.document_id, detail.provision.id)


def document_json(
    database: Database, actor: Actor, document_id: int, *, compressed: bool | None = None
) -> Response:
    """`GET /api/v1/documents/{id}`: the kept document view, serialised once per change."""
    return json_answer(
        database,
        ("document", document_id),
        DocumentView,
        lambda: document_view(database, actor, document_id),
        lambda _: document_id,
        actor,
        compressed=compressed,
    )


def provision_json(
    database: Database, actor: Actor, provision_id: int, *, compressed: bool | None = None
) -> Response:
    """`GET /api/v1/provisions/{id}`: the same kept answer as the provision's panel."""
    return json_answer(
        database,
        ("provision", provision_id),
        ProvisionDetail,
        lambda: provision_detail(database, actor, provision_id),
        lambda detail: detail.provision.document_id,
        actor,
        lambda detail: detail.provision.id,
        compressed=compressed,
    )


def amendment_list(
    database: Database,
    actor: Actor,
    document_id: int,
    *,
    provision_id: int | None = None,
    delegation: str | None = None,
    state: AmendmentState | None = None,
    limit: int = 100,
    offset: int = 0,
    compressed: bool | None = None,
) -> Response:
    """`GET /api/v1/documents/{id}/amendments`: a list about one provision is kept while
    changes touch only other paragraphs, and taken from the provision's kept view."""

    def listed() -> list[AmendmentView]:
        if provision_id is not None and delegation is None:
            try:
                detail = provision_detail(database, actor, provision_id)
            except NotFound:  # no such provision, or not for this viewer: as the query says
                detail = None
            if detail is not None and detail.provision.document_id == document_id:
                found = [a for a in detail.amendments if state is None or a.state is state]
                return found[offset : offset + limit]  # both in the order they were made
        return amendments.list_amendments(
            database,
            document_id=document_id,
            provision_id=provision_id,
            delegation=delegation,
            state=state,
            limit=limit,
            offset=offset,
            viewer=actor,
        )

    return json_answer(
        database,
        ("amendments", document_id, provision_id, delegation, state, limit, offset),
        list[AmendmentView],
        listed,
        lambda _: document_id,
        actor,
        lambda _: provision_id,
        compressed=compressed,
    )


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def json_answer(
    database: Database,
    key: tuple[object, ...],
    kind: Any,
    compute: Callable[[], Any],
    document_of: Callable[[Any], int],
    actor: Actor,
    provision_of: Callable[[Any], int | None] = lambda _: None,
    *,
    compressed: bool | None = None,
) -> Response:
    """An API answer serialised once per change: `compute()` gives a value of type `kind`,
    read by viewers who may read the document `document_of(value)`; an answer about one
    provision (`provision_of(value)`) is kept while changes touch only other paragraphs.
    Compressed once per change too (`app.web.compression`), for a client that accepts gzip
    (`compressed`: None, as the request says)."""
    cache = views_of(database)
    body, document_id, provision_id = cache.get(
        ("json", *key),
        lambda: _serialised(kind, compute(), document_of, provision_of),
        viewer=actor,
        document_of=lambda kept: kept[1],
        scope=lambda kept: (kept[1], kept[2]),
    )
    if compressed is None:
        compressed = accepts_gzip_here()
    if len(body) < compression.SMALLEST or not compressed:
        return Response(body, media_type="application/json", headers=compression.VARY)
    # compressed once per state too: kept while the answer it compresses is
    packed = cache.get(
        ("json.gz", *key),
        lambda: compression.gzipped(body),
        viewer=actor,
        document_of=lambda _: document_id,
        scope=(document_id, provision_id),
    )
    return Response(packed, media_type="application/json", headers=compression.GZIPPED)


def _serialised(
    kind: Any,
    value: Any,
    document_of: Callable[[Any], int],
    provision_of: Callable[[Any], int | None],
) -> tuple[bytes, int, int | None]:
    return _adapter(kind).dump_json(value), document_of(value), provision_of(value)
