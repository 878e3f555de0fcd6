"""Small helpers for answering htmx and plain requests from the same view."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, make_response, render_template, request
from jinja2_fragments.flask import render_block, render_blocks


def wants_fragment() -> bool:
    """An htmx request for a part of the page (not a boosted navigation or a history restore)."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


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


def with_trigger(response: Response, event: str, detail: Any = None) -> Response:
    """Add an HX-Trigger event (for example a status message to announce) to a response."""
    existing = response.headers.get("HX-Trigger")
    events: dict[str, Any] = json.loads(existing) if existing else {}
    events[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def redirect_to(url: str) -> Response:
    """A redirect that also works for htmx (which would otherwise swap the target page in)."""
    if request.headers.get("HX-Request") == "true":
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
    from flask import redirect

    return redirect(url, 303)  # type: ignore[return-value]
