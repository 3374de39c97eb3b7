"""Answers computed at start-up, before anyone asks: a server that starts (or restarts) in the
middle of a session otherwise meets 193 delegations' first clicks with nothing kept, and every
one of the first few hundred requests computes (a provision's panel: 10–25 ms) instead of
serving what is kept (1–3 ms).

The server keeps answers until something they show changes (`app.web.kept`), so what is
computed here is exactly what the first requests would have computed, shared in the same way.
It runs in a background thread; requests are served meanwhile (one arriving first computes its
own answer, and the warm-up then finds it kept).
"""

from __future__ import annotations

import logging
import threading
import time

from fastapi import FastAPI

from app.domain.roles import Actor, Role
from app.services import documents
from app.web import answers
from app.web.kept import views_of
from app.web.pages import text
from app.web.pages.negotiations import process_state
from app.web.pages.viewer import Directory, Viewer

log = logging.getLogger("rolltext.warm")

#: Reads as the secretariat (who may read every document); kept answers are the same for every
#: viewer allowed to read them, and each request still checks its own viewer.
_READER = Actor(user_id=0, username="warm-up", display_name="Warm-up", role=Role.SECRETARIAT)
#: What is kept of each provision: its view, its JSON and the list of its proposals as JSON,
#: those two compressed too (the panel's frame is kept apart, `text._SharedPanels`).
_PER_PROVISION = 5
#: A delegate of no delegation: the shared panel frames (`text._SharedPanels`).
_DELEGATE = Actor(user_id=0, username="warm-up", display_name="Warm-up", role=Role.DELEGATE)


def start(app: FastAPI) -> threading.Thread:
    """Warm the kept answers in a background thread; `app.state.warm` is set when done."""
    app.state.warm = threading.Event()
    thread = threading.Thread(target=warm, args=(app,), name="warm-up", daemon=True)
    thread.start()
    return thread


def warm(app: FastAPI) -> None:
    database = app.state.database
    started = time.perf_counter()
    budget = views_of(database).SIZE // 2  # leave room for what requests ask
    computed = 0
    try:
        delegate = Viewer(_DELEGATE, None, (), directory=Directory.of(app))
        for negotiation in reversed(documents.list_negotiations(database, viewer=_READER)):
            answers.negotiation_view(database, _READER, negotiation.id)
            for summary in negotiation.documents:
                if computed + _PER_PROVISION * summary.provisions > budget:
                    break
                document = answers.document_view(database, _READER, summary.id)
                answers.document_json(database, _READER, summary.id, compressed=True)
                answers.revision_list(database, _READER, summary.id)
                process_state(database, summary.id)
                for provision in document.provisions:
                    answers.provision_detail(database, _READER, provision.id)
                    answers.provision_json(database, _READER, provision.id, compressed=True)
                    answers.amendment_list(
                        database, _READER, summary.id, provision_id=provision.id, compressed=True
                    )
                    text.prepare_panel(app, database, delegate, provision.id)
                    computed += _PER_PROVISION
        log.info(
            "kept answers ready: %d provisions in %.1f s",
            computed // _PER_PROVISION,
            time.perf_counter() - started,
        )
    except Exception:  # a warm-up is an optimisation: never a reason to stop serving
        log.exception("warming the kept answers failed")
    finally:
        app.state.warm.set()
