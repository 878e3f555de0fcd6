"""The front door: referring organisations, their form links, the public referral form, intake."""

from __future__ import annotations

from flask import Blueprint

from webapp.models import (
    CALL_MOMENTS,
    FIRST_CONTACT,
    FOR_WHOM,
    ORGANISATION_KINDS,
    REFERRAL_STATUSES,
    SELF_FIRST_CONTACT,
)

# No URL prefix: the public form lives at /r/<token>, the team's pages under /referrals/.
bp = Blueprint("referrals", __name__)

from webapp.referrals import intake, organisations, public  # noqa: E402, F401  (they add the views)


@bp.context_processor
def _labels() -> dict[str, object]:
    return {
        "FIRST_CONTACT": {**FIRST_CONTACT, **SELF_FIRST_CONTACT},
        "FOR_WHOM": FOR_WHOM,
        "CALL_MOMENTS": CALL_MOMENTS,
        "ORGANISATION_KINDS": ORGANISATION_KINDS,
        "REFERRAL_STATUSES": REFERRAL_STATUSES,
    }
