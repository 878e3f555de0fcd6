"""Demo referring organisations, referrals and thresholds (being built)."""

from __future__ import annotations

import random

from webapp.models import Case, User


def seed(rng: random.Random, users: list[User], cases: list[Case]) -> list[str]:
    """Create the referral side; returns lines to print (the demo referral-form link)."""
    return []
