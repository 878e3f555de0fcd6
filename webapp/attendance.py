"""attendance (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("attendance", __name__, url_prefix="/attendance")
