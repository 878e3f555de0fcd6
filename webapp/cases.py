"""cases (being built)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("cases", __name__, url_prefix="/cases")


@bp.get("/")
@login_required
def index() -> str:
    """Placeholder until this area is built."""
    return render_template("cases/index.html")
