"""The public front door for citizens: /vraag (a request without an account), its poster, and
the walk-in hours (permanenties) coordinators keep for it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("vraag", __name__)

from webapp.vraag import hours, public  # noqa: E402, F401  (they add the views)
