"""A busy paragraph in real Chromium: its panel lists a page of proposals, "show more" lists the
next, and what the delegate opened stays listed when the panel refreshes live, when the
delegate acts on a proposal far down the list and when it tables one from the panel's form.

A module of its own: the proposals it tables would change what the other browser tests see.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from app.services.demo import demo_data
from app.web.pages.text import PAGE
from tests.e2e.test_workspace import (
    LIVE_TIMEOUT_MS,
    open_page,
    open_panel,
    open_the_text,
    provision_id,
    sign_in,
)

EXTRA = 7  # proposals beyond the first page


@contextmanager
def api_client(server: str, username: str) -> Iterator[httpx.Client]:
    """An API client signed in as a demo account."""
    password = next(u["password"] for u in demo_data()["user"] if u["username"] == username)
    with httpx.Client(base_url=server, timeout=10) as api:
        signed_in = api.post("/api/v1/session", json={"username": username, "password": password})
        assert signed_in.status_code == 200, signed_in.text
        api.headers["X-CSRF-Token"] = signed_in.headers["x-csrf-token"]
        yield api


def test_a_busy_paragraph_lists_a_page_and_more_on_demand(demo_server: str, chromium: Any) -> None:
    from playwright.sync_api import expect

    viewer = open_page(chromium)
    sign_in(viewer, demo_server, "russia.delegate")
    open_the_text(viewer)
    pid = provision_id(viewer, "3.2.1")
    current, tabled = table_many(demo_server, pid)
    pending = usa_pending(demo_server, pid)
    assert pending[-len(tabled) :] == tabled

    panel = open_panel(viewer, pid)
    proposals = panel.locator(".proposals .proposal")
    expect(proposals).to_have_count(PAGE)
    more = panel.get_by_role("link", name=f"Show {len(pending) - PAGE} more pending proposals")
    more.click()
    expect(proposals).to_have_count(len(pending))
    # keyboard focus where the new page starts, for a keyboard or screen-reader user
    expect(viewer.locator(":focus")).to_have_text(
        f"Pending proposals {PAGE + 1} to {len(pending)} of {len(pending)}"
    )
    expect(panel.locator(".more-proposals")).to_have_count(0)

    # the last one, beyond the first page: supported in place, the list stays as it is
    last = panel.locator(f"#proposal-{tabled[-1].removeprefix('A-')}")
    last.get_by_role("button", name="Support").click()
    expect(last).to_contain_text("supported by Russian Federation")
    expect(proposals).to_have_count(len(pending))

    # another delegation's change refreshes the panel live: still everything listed
    with api_client(demo_server, "usa.delegate") as usa:
        ref = tabled[0]
        first_id = int(ref.removeprefix("A-"))
        withdrawn = usa.post(f"/api/v1/amendments/{first_id}/withdraw")
        assert withdrawn.status_code == 200, withdrawn.text
    expect(panel.locator(f".proposals #proposal-{first_id}")).to_have_count(
        0, timeout=LIVE_TIMEOUT_MS
    )
    expect(proposals).to_have_count(len(pending) - 1)

    # a proposal tabled from the panel's form (outside its live state): still everything listed
    words = viewer.locator(f"#propose-wording-{pid}-text")
    words.fill(f"{current['text']} (Russian Federation)")
    viewer.locator(f"#propose-wording-{pid}").get_by_role(
        "button", name="Submit the proposal"
    ).click()
    expect(viewer.locator(f"#propose-wording-{pid} .notice")).to_contain_text("is on the table")
    expect(proposals).to_have_count(len(pending))
    assert not viewer.js_errors, viewer.js_errors


def table_many(server: str, pid: int) -> tuple[dict[str, Any], list[str]]:
    """More than a page of proposals on a paragraph, by the USA through the API: the paragraph
    as it was, and the proposals' references."""
    with api_client(server, "usa.delegate") as usa:
        current = usa.get(f"/api/v1/provisions/{pid}").json()["provision"]
        tabled = []
        for i in range(PAGE + EXTRA):
            made = usa.post(
                "/api/v1/amendments",
                json={
                    "provision_id": pid,
                    "kind": "wording",
                    "text": f"{current['text']} ({i + 1})",
                    "expected_version": current["version"],
                },
            )
            assert made.status_code == 201, made.text
            tabled.append(made.json()["reference"])
    return current, tabled


def usa_pending(server: str, pid: int) -> list[str]:
    """The references of the paragraph's pending proposals, in the order they were tabled."""
    with api_client(server, "usa.delegate") as api:
        detail = api.get(f"/api/v1/provisions/{pid}").json()
    return [a["reference"] for a in detail["amendments"] if a["state"] == "pending"]


def test_the_review_queue_keeps_what_it_lists_when_fetched_again(
    demo_server: str, chromium: Any
) -> None:
    """The co-facilitators' queue is fetched again whole on every change in the document: a
    paragraph listed beyond its first page stays so."""
    from playwright.sync_api import expect

    cofac = open_page(chromium)
    sign_in(cofac, demo_server, "cofac.mexico")
    text_url = open_the_text(cofac)
    pid = provision_id(cofac, "3.2.2")
    current, _ = table_many(demo_server, pid)
    pending = len(usa_pending(demo_server, pid))

    cofac.goto(text_url + "/consolidate")
    item = cofac.locator(f"#queue-{pid}")
    item.scroll_into_view_if_needed()  # a paragraph far down the queue is read when seen
    proposals = item.locator(".proposals .proposal")
    expect(proposals).to_have_count(PAGE)
    item.get_by_role("link", name=f"Show {pending - PAGE} more pending proposals").click()
    expect(proposals).to_have_count(pending)

    # another proposal: the whole queue is fetched again, and the paragraph stays listed whole
    with api_client(demo_server, "usa.delegate") as usa:
        made = usa.post(
            "/api/v1/amendments",
            json={"provision_id": pid, "kind": "wording", "text": f"{current['text']} [last]"},
        )
        assert made.status_code == 201, made.text
    # (past the queue's first hundred proposals a paragraph is read when scrolled into view)
    expect(item.locator(".state.is-deferred")).to_have_count(1, timeout=LIVE_TIMEOUT_MS)
    item.scroll_into_view_if_needed()
    expect(proposals).to_have_count(pending + 1)
    assert not cofac.js_errors, cofac.js_errors
