"""Jinja2 for the workspace: one environment, the filters that print a negotiated text, render().

Everything a delegate wrote reaches the page through autoescaping or through the filters below,
which escape each piece before adding markup: an amendment reading `<script>` is shown as text.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from app.domain.brackets import bracket_groups, is_balanced
from app.domain.diff import DiffOp, word_diff
from app.domain.labels import ProvisionKind
from app.domain.provisions import ProvisionStatus
from app.web.compression import GZIPPED, VARY, Deflated, gzipped_around


def _first_existing(*candidates: Path) -> Path:
    """The source tree in development; the working directory of an installed copy (the Docker
    image copies templates/ and app/ next to its working directory)."""
    return next((c for c in candidates if c.is_dir()), candidates[0])


ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = _first_existing(ROOT / "templates", Path.cwd() / "templates")
STATIC = _first_existing(
    Path(__file__).resolve().parents[1] / "static", Path.cwd() / "app" / "static"
)

templates = Jinja2Templates(directory=str(TEMPLATES))
env = templates.env
env.trim_blocks = True
env.lstrip_blocks = True


# -- the words of a provision ------------------------------------------------------------------


def _disputed(text: str) -> Markup:
    """Escape `text`, wrapping each disputed (bracketed) passage so it stands out."""
    if "[" not in text or not is_balanced(text):
        return escape(text)
    out: list[str] = []
    pos = 0
    for group in bracket_groups(text):
        out.append(escape(text[pos : group.start]))
        out.append(f'<span class="disputed">{escape(text[group.start : group.end])}</span>')
        pos = group.end
    out.append(escape(text[pos:]))
    return Markup("".join(out))


def provision_text(text: str, kind: ProvisionKind | str = ProvisionKind.PARAGRAPH) -> Markup:
    """A provision's words as a UN reader expects them: italic opening words for PP/OP.

    The opening words are found by the same rule the Word files use (app.docx.layout), so the
    screen and the circulated text never disagree. It is imported on first use: the Word layer
    is heavy and most requests never need it.
    """
    if kind in (ProvisionKind.PREAMBULAR, ProvisionKind.OPERATIVE):
        from app.docx.layout import opening_words

        start, end = opening_words(text)
        first_bracket = text.find("[")
        if end > start and (first_bracket < 0 or first_bracket >= end):
            return (
                escape(text[:start])
                + Markup(f"<em>{escape(text[start:end])}</em>")
                + _disputed(text[end:])
            )
    return _disputed(text)


def diff_markup(ops: Iterable[DiffOp]) -> Markup:
    """A tracked change: insertions underlined (<ins>), deletions struck (<del>)."""
    out: list[str] = []
    for op in ops:
        text = escape(op.text)
        if op.op == "insert":
            out.append(f"<ins>{text}</ins>")
        elif op.op == "delete":
            out.append(f"<del>{text}</del>")
        else:
            out.append(str(text))
    return Markup("".join(out))


# -- statuses, dates, numbers ------------------------------------------------------------------

#: The WHO colour legend people already read: white not agreed, yellow agreed in informals,
#: green agreed (pale green while capitals still have to confirm: ad referendum).
STATUS_COLOUR = {
    ProvisionStatus.NOT_DISCUSSED: "white",
    ProvisionStatus.OPEN: "white",
    ProvisionStatus.AGREED_PENDING: "yellow",
    ProvisionStatus.AGREED_AD_REF: "palegreen",
    ProvisionStatus.AGREED: "green",
}


def status_colour(status: ProvisionStatus | str) -> str:
    return STATUS_COLOUR[ProvisionStatus(status)]


def long_date(value: date | datetime | None) -> str:
    """ "15 December 2016", as UN documents date themselves."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def timestamp(value: datetime | None) -> str:
    if value is None:
        return ""
    return f"{value.day} {value:%b %Y, %H:%M} UTC"


#: What produced a version of a provision, as the history says it.
CAUSES = {
    "imported": "the text as circulated",
    "accepted": "a proposal accepted",
    "bracketed": "a proposal entered in brackets",
    "cf_proposal": "the co-facilitators' wording",
    "cf_alternative": "an alternative tabled by the co-facilitators",
    "brackets_resolved": "a bracketed passage settled",
}


def cause(value: str) -> str:
    return CAUSES.get(value, value.replace("_", " "))


def changes(old: str, new: str) -> Markup:
    """The tracked change between two wordings (versions of a provision, revisions)."""
    return diff_markup(word_diff(old, new))


def plural(count: int, singular: str, many: str | None = None) -> str:
    return f"{count} {singular if count == 1 else (many or singular + 's')}"


def asset(path: str) -> str:
    """A static file's URL with its modification time, so browsers never keep a stale copy."""
    stamp = int((STATIC / path).stat().st_mtime)
    return f"/static/{path}?v={stamp}"


env.filters.update(
    provision_text=provision_text,
    diff=diff_markup,
    status_colour=status_colour,
    long_date=long_date,
    timestamp=timestamp,
    plural=plural,
    cause=cause,
)
env.globals.update(
    changes=changes, asset=asset, ProvisionStatus=ProvisionStatus, ProvisionKind=ProvisionKind
)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


#: Stands for the session's CSRF token in fragments rendered once and shared between sessions
#: (a proposal's forms, `pages/text.py`); `render` puts each session's own token in its place.
#: Random per process, so no text a user typed can contain it.
SHARED_FORM_TOKEN = "form-token-" + secrets.token_hex(16)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """Render a page or a fragment; `request` is in every template's context."""
    response: HTMLResponse = templates.TemplateResponse(
        request,
        template,
        dict(context or {}),
        status_code=status_code,
        headers=dict(headers) if headers else None,
    )
    _put_session_token(request, response)
    return response


#: Where `render_around` splices a kept part in; random per process, as `SHARED_FORM_TOKEN`.
_KEPT_PART = "kept-part-" + secrets.token_hex(16)


def render_around(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    part: str,
    kept: bytes,
    packed: Deflated | None = None,
) -> HTMLResponse:
    """`render`, with the variable `part` of the template spliced in from `kept`, HTML already
    encoded (the whole text's lines: 400 KB at 300 paragraphs). Through Jinja, `Markup` and the
    encoder it would be copied four times for each request, more than the rest of the page
    costs; it must hold no form (no `SHARED_FORM_TOKEN`: it is shared by every session). With
    `packed` (`kept` compressed once), the page is sent gzip-compressed: only what surrounds
    the kept part is compressed here."""
    html = templates.get_template(template).render(
        {**context, part: Markup(_KEPT_PART), "request": request}
    )
    around = _with_session_token(request, html.encode())
    before, _, after = around.partition(_KEPT_PART.encode())
    if packed is None:
        return HTMLResponse(b"".join((before, kept, after)), headers=VARY)
    return HTMLResponse(gzipped_around(before, packed, after), headers=GZIPPED)


def html_response(request: Request, html: str, *, status_code: int = 200) -> HTMLResponse:
    """HTML put together from shared fragments (their forms carry `SHARED_FORM_TOKEN`)."""
    response = HTMLResponse(html, status_code=status_code)
    _put_session_token(request, response)
    return response


def _put_session_token(request: Request, response: HTMLResponse) -> None:
    body = _with_session_token(request, response.body)
    if body is not response.body:
        response.body = body
        response.headers["content-length"] = str(len(body))


def _with_session_token(request: Request, body: bytes) -> bytes:
    placeholder = SHARED_FORM_TOKEN.encode()
    if placeholder not in body:
        return body
    from app.web.security import csrf_token

    return body.replace(placeholder, csrf_token(request.session).encode())
