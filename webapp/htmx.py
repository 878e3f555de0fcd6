"""Small helpers for answering htmx and plain requests from the same view.

The vocabulary is htmx-flask's `request.htmx` (true for any htmx request, with `.boosted`,
`.history_restore_request`, `.current_url`); read no HX-* header by hand. An invalid form is
answered 422 for htmx too: base.html's htmx config swaps 409, 422 and 429."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Response, make_response, redirect, render_template
from htmx_flask import request
from jinja2_fragments.flask import render_block, render_blocks
from peewee import ModelSelect
from werkzeug import Response as AnyResponse

from webapp.forms import parse_int

R = TypeVar("R", bound=AnyResponse)  # flask's Response or the plain one redirect() makes
T = TypeVar("T")
LAST_PAGE = 100  # `?page=` beyond it shows this many pages


def wants_fragment() -> bool:
    """An htmx request for a part of the page (not a boosted navigation or a history restore)."""
    htmx = request.htmx
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def first_pages(fetch: Callable[[int], list[T]], size: int) -> tuple[list[T], int, int | None]:
    """A list shown as its first n pages of `size` (`?page=n`), ending in a plain "Meer tonen"
    link to page n + 1: it works without JavaScript and a reload keeps what was shown.
    `fetch(limit)` returns up to `limit` rows. Returns the rows, n, and the next page (None
    when there is none)."""
    page = max(1, min(parse_int(request.args.get("page")) or 1, LAST_PAGE))
    shown = size * page
    rows = fetch(shown + 1)
    return rows[:shown], page, page + 1 if len(rows) > shown else None


def load_more(query: ModelSelect[Any], page: int, size: int) -> tuple[list[Any], bool, bool]:
    """Page `page` of a list that ends in a "load more" button (the `load_more` macro).

    A plain link to page n shows every row up to it (it works without JavaScript, and a
    reload keeps what was shown); htmx asks for the next rows only, to put in the button's
    place. Returns the rows, whether there are more, and whether these are the next rows only
    (render the block of rows, not the list)."""
    rows_only = wants_fragment() and page > 1
    offset = (page - 1) * size if rows_only else 0
    limit = size if rows_only else size * page
    rows = list(query.offset(offset).limit(limit + 1))
    return rows[:limit], len(rows) > limit, rows_only


def render_page_or_block(template: str, block: str, status: int = 200, **context: Any) -> Response:
    """The whole page, or only `block` of it when htmx asked for a part."""
    if wants_fragment():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def render_blocks_fragment(template: str, blocks: list[str], **context: Any) -> Response:
    """Several blocks of a page for one htmx answer: the first is swapped into the target, the
    others mark themselves `hx-swap-oob` (the template decides, from `oob=True`)."""
    response = make_response(render_blocks(template, blocks, oob=True, **context))
    response.vary.add("HX-Request")
    return response


def with_trigger(response: R, event: str, detail: Any = None) -> R:
    """Add an HX-Trigger event (for example a status message to announce) to a response."""
    existing = response.headers.get("HX-Trigger")
    events: dict[str, Any] = json.loads(existing) if existing else {}
    events[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def redirect_to(url: str) -> Response:
    """A redirect that also works for htmx (which would otherwise swap the target page in)."""
    if request.htmx:
        response = make_response("", 204)
        # The follow-up GET is a navigation to a whole page: marked as boosted, so that
        # render_page_or_block answers it with the page and not with a fragment of it.
        # And, like a page load, it starts at the top (else a long form's scroll position stays
        # and the confirmation at the top of the next page is out of sight).
        response.headers["HX-Location"] = json.dumps(
            {
                "path": url,
                "target": "body",
                "swap": "innerHTML show:window:top",
                "headers": {"HX-Boosted": "true"},
            }
        )
        return response
    return redirect(url, 303)  # type: ignore[return-value]
