"""Participation thresholds (drempels) recorded per case."""

from __future__ import annotations

from flask import abort
from flask_babel import lazy_gettext as _l
from peewee import BooleanField, CharField, DateTimeField, Field, ForeignKeyField, IntegerField
from peewee import Case as SQLCase

from webapp.db import BaseModel, Prepared, Rows
from webapp.models.cases import N_, Case, shown_label
from webapp.models.people import User
from webapp.timeutil import utcnow

DEFAULT_THRESHOLD_CATEGORIES = [
    (1, "financieel", N_("financieel")),
    (2, "informatie", N_("informatie")),
    (3, "administratief", N_("administratief / digitaal")),
    (4, "mobiliteit", N_("mobiliteit")),
    (5, "taal", N_("taal")),
    (6, "sociaal", N_("sociaal")),
    (7, "psychologisch", N_("psychologisch")),
    (8, "cultureel", N_("cultureel")),
    (9, "materieel", N_("materieel")),
    (10, "tijd", N_("tijd / kinderopvang")),
    (11, "aanbod", N_("aanbod")),
    (12, "gezondheid", N_("gezondheid / beperking")),
]
DEFAULT_THRESHOLD_CATEGORY_LABELS = {
    key: label for _position, key, label in DEFAULT_THRESHOLD_CATEGORIES
}
THRESHOLD_STATUSES = {
    "open": _l("open"),
    "resolved": _l("opgelost"),
    "unsolvable": _l("niet oplosbaar"),
}


def threshold_category_label(key: str | None, label: str | None) -> str | None:
    """The label of a threshold category as shown (see shown_label), from its key and label."""
    if label is None:
        return None
    return shown_label(label, DEFAULT_THRESHOLD_CATEGORY_LABELS.get(key or ""))


class ThresholdCategory(BaseModel):
    position = IntegerField(unique=True)
    key = CharField(max_length=30, unique=True)
    label = CharField(max_length=60)

    @property
    def display_label(self) -> str:
        """The label as shown: the default translated, a renamed label as typed."""
        return threshold_category_label(self.key, self.label) or ""  # label is NOT NULL


class CaseThreshold(BaseModel):
    case = ForeignKeyField(Case, backref="thresholds", index=True, on_delete="CASCADE")
    case_id: Field[int]
    category = ForeignKeyField(ThresholdCategory, index=True)
    category_id: Field[int]
    note = CharField(max_length=500, default="")
    status = CharField(max_length=12, default="open", index=True)
    resolution = CharField(max_length=500, default="")
    signal = BooleanField(default=False, index=True)  # signal to the network
    note_shareable = BooleanField(default=False)  # the note may travel with the signal
    created_by = ForeignKeyField(User, null=True, index=True)
    created_by_id: Field[int | None]
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow)
    resolved_at = DateTimeField(null=True)
    version = IntegerField(default=1)

    class Meta:
        # The signals of a period (reports/figures.py): counted and listed along this index.
        indexes = ((("signal", "created_at"), False),)

    @property
    def status_label(self) -> str:
        return str(THRESHOLD_STATUSES.get(self.status, self.status))

    @classmethod
    def get_for_case(cls, case: Case, threshold_id: int) -> CaseThreshold:
        """One threshold of this case with its category, or 404."""
        threshold = (
            cls.select(cls, ThresholdCategory)
            .join(ThresholdCategory)
            .where(cls.id == threshold_id, cls.case == case)
            .first()
        )
        if threshold is None:
            abort(404)
        return threshold

    def save_if_unchanged(self, expected_version: int) -> bool:
        """Optimistic lock: save the edits only if nobody saved since `expected_version`."""
        now = utcnow()
        if self.status == "resolved" and self.resolved_at is None:
            self.resolved_at = now
        elif self.status != "resolved":
            self.resolved_at = None
        changed = (
            CaseThreshold.update(
                note=self.note,
                status=self.status,
                resolution=self.resolution,
                signal=self.signal,
                note_shareable=self.note_shareable,
                resolved_at=self.resolved_at,
                updated_at=now,
                version=CaseThreshold.version + 1,
            )
            .where(CaseThreshold.id == self.id, CaseThreshold.version == expected_version)
            .execute()
        )
        if changed:
            self.version, self.updated_at = expected_version + 1, now
        return bool(changed)


def thresholds_for_case(case: Case) -> Rows[CaseThreshold]:
    """The case's thresholds with their category, open ones first (one query, read when first
    used)."""
    return _thresholds_of_case.rows(case.id)


_thresholds_of_case = Prepared(
    lambda case_id: (
        CaseThreshold.select(CaseThreshold, ThresholdCategory)
        .join(ThresholdCategory)
        .where(CaseThreshold.case == case_id)
        .order_by(
            SQLCase(None, [(CaseThreshold.status == "open", 0)], 1),
            ThresholdCategory.position,
            CaseThreshold.id,
        )
    )
)
