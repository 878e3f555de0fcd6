"""today (being built)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("today", __name__, url_prefix="")


@bp.get("/")
@login_required
def index() -> str:
    """Placeholder until this area is built."""
    return render_template("today/index.html")
