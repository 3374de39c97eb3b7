"""Work the server does on its own: settling silence procedures whose deadline has passed,
and (on PostgreSQL) listening for live events from the other workers.

It runs at start-up (a server that was down at the deadline settles on its way up) and then
every few seconds. Settlement claims each silence with a conditional UPDATE, so any number of
workers may run this loop at once and each outcome is still applied exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from app.db.session import Database
from app.services import process

log = logging.getLogger("rolltext.background")


async def settle_forever(database: Database, interval: float) -> None:
    while True:
        try:
            settled = await run_in_threadpool(process.settle_due, database)
            if settled:
                log.info("settled silence procedures %s", settled)
        except Exception:  # keep the loop alive; the next round retries
            log.exception("settling silence procedures failed")
        await asyncio.sleep(interval)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    interval = app.state.settings.settle_interval_seconds
    broadcaster = getattr(app.state, "broadcaster", None)
    if hasattr(broadcaster, "start"):
        broadcaster.start()  # type: ignore[union-attr]
    task = asyncio.create_task(settle_forever(app.state.database, interval))
    if app.state.settings.warms:
        from app.web import warm  # the pages it renders import this module's app

        warm.start(app)
    try:
        yield
    finally:
        task.cancel()
        if hasattr(broadcaster, "stop"):
            await run_in_threadpool(broadcaster.stop)  # type: ignore[union-attr]
