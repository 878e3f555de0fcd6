"""The offer: providers and activities, enrolment from a case, attendance and the links that a
mediator shares with a client or a provider."""

from __future__ import annotations

from flask import Blueprint

from webapp.models import ATTENDANCE, COST_ARRANGEMENTS, MEETING_POINTS, THINGS_TO_BRING

bp = Blueprint("activities", __name__, url_prefix="/activities")

from webapp.activities import enrolment, links, offer  # noqa: E402, F401  (they add the views)


@bp.record_once
def _template_globals(state) -> None:  # type: ignore[no-untyped-def]
    """Labels the offer's templates need, also where the case page includes them."""
    state.app.jinja_env.globals.update(
        ATTENDANCE=ATTENDANCE,
        COST_ARRANGEMENTS=COST_ARRANGEMENTS,
        MEETING_POINTS=MEETING_POINTS,
        THINGS_TO_BRING=THINGS_TO_BRING,
    )
