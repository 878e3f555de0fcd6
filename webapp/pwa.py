"""The installable app: service worker at /sw.js, offline page (being built)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pwa", __name__)
