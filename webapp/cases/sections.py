"""What the case page shows of the offer and of the thresholds: built once, for the case page
and for the fragments the activities and thresholds areas send back after a change."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from webapp.models import (
    AccessLink,
    Case,
    Referral,
    Session,
    current_client_link,
    current_provider_links_of_case,
    enrolments_for_case,
    sessions_of_case,
    split_sessions,
    thresholds_for_case,
)


def case_offer_context(case: Case, user_id: int) -> dict[str, Any]:
    """What the case page shows of the offer (templates/activities/_case_enrolments.html):
    enrolments, their sessions, the client's link, the provider links and the week links
    `user_id` made for those providers (four queries, sent before any is read: see
    db.together)."""
    # All four sent before any is read: the sessions and links of a case without enrolments
    # are no rows, found along the case's index.
    enrolments = enrolments_for_case(case)
    client_link = current_client_link(case.client_id)
    sessions = sessions_of_case(case.id)
    links = current_provider_links_of_case(case.id, user_id)
    by_enrolment: dict[int, list[Session]] = defaultdict(list)
    for session in sessions:
        by_enrolment[session.enrolment_id].append(session)
    provider_links: dict[int, AccessLink] = {}
    week_links: dict[int, AccessLink] = {}  # the user's own, by provider
    for link in links:
        if link.enrolment_id is not None:
            provider_links.setdefault(link.enrolment_id, link)
        elif link.provider_id is not None:
            week_links.setdefault(link.provider_id, link)
    return {
        "enrolments": enrolments,
        "enrolment_sessions": {eid: split_sessions(ss) for eid, ss in by_enrolment.items()},
        "provider_links": provider_links,
        "week_links": week_links,
        "client_link": client_link.first(),
    }


def case_threshold_context(case: Case) -> dict[str, object]:
    """What the case page shows of thresholds and of the referral it came from
    (templates/thresholds/_case_thresholds.html): two queries."""
    return {"thresholds": thresholds_for_case(case), "referral": Referral.for_case(case)}
