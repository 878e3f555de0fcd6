"""Demo providers, activities, enrolments and links (being built)."""

from __future__ import annotations

import random

from webapp.models import Case, User


def seed(rng: random.Random, users: list[User], cases: list[Case]) -> list[str]:
    """Create the offer; returns lines to print (the demo client and provider links)."""
    return []
