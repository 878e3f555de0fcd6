"""The data model, one module per part of the work; everything is importable from here."""

from webapp.db import database
from webapp.models.audit import AuditEvent
from webapp.models.cases import (
    CANCEL_REASONS,
    CASE_SOURCES,
    CASE_STATUSES,
    CONTACT_TYPES,
    CORRECTION_WINDOW,
    DEFAULT_STEPS,
    DOMAINS,
    EVENT_LABELS,
    OUTCOMES,
    REMOVE_REASONS,
    STEP_STATUSES,
    STOP_REASONS,
    VISIT_FIELD_LABELS,
    Case,
    CaseEvent,
    CaseStep,
    StepDefinition,
    Visit,
    in_team_language,
    step_label,
)
from webapp.models.links import AccessLink, token_hash
from webapp.models.messages import (
    CONSENT_WORDING,
    MESSAGE_KINDS,
    MESSAGE_STATUSES,
    NOT_SENT_REASONS,
    Message,
)
from webapp.models.offer import (
    ATTENDANCE,
    COST_ARRANGEMENTS,
    ENROLMENT_STATUSES,
    MEETING_POINTS,
    THINGS_TO_BRING,
    Activity,
    Enrolment,
    Provider,
    Session,
    case_offer_context,
    enrolments_for_case,
    guess_next_session,
    sessions_between,
    today_offer_context,
)
from webapp.models.people import (
    CARD_TYPES,
    DISTRICTS,
    LANGUAGES,
    ROLES,
    SERVICES,
    Client,
    LoginSession,
    Throttle,
    User,
    international_phone,
    postal_address,
)
from webapp.models.privacy import (
    RetentionHold,
    anonymise_client,
    apply_retention,
    can_anonymise,
    clients_due,
)
from webapp.models.referrals import (
    FIRST_CONTACT,
    ORGANISATION_KINDS,
    REFERRAL_STATUSES,
    REFERRER_STATUSES,
    Referral,
    ReferringOrganisation,
    referrals_for_referrer,
    referrals_waiting,
    referrals_without_first_contact,
    today_referral_context,
)
from webapp.models.reports import REPORT_INDEXES
from webapp.models.security import (
    SECOND_FACTOR_FOR_ALL,
    SECURITY_EVENTS,
    RecoveryCode,
    SecondFactor,
    SecurityEvent,
    TeamSetting,
    second_factor_required,
    users_without_second_factor,
)
from webapp.models.tasks import (
    FIRST_CONTACT_TERM,
    NEW_FOR,
    TASK_SOURCES,
    Task,
    first_contact_task,
    move_visit_next_actions,
)
from webapp.models.thresholds import (
    DEFAULT_THRESHOLD_CATEGORIES,
    THRESHOLD_STATUSES,
    CaseThreshold,
    ThresholdCategory,
    case_threshold_context,
    threshold_category_label,
    thresholds_for_case,
)

# In dependency order: create_tables and the schema follow it.
ALL_MODELS = [
    User,
    LoginSession,
    Client,
    Throttle,
    Case,
    StepDefinition,
    CaseStep,
    Visit,
    CaseEvent,
    Task,
    ThresholdCategory,
    CaseThreshold,
    Provider,
    Activity,
    Enrolment,
    Session,
    ReferringOrganisation,
    Referral,
    AccessLink,
    AuditEvent,
    SecondFactor,
    RecoveryCode,
    TeamSetting,
    SecurityEvent,
    Message,
    RetentionHold,
]


def seed_reference_data() -> None:
    """The default steps and threshold categories, added only where missing."""
    with database.atomic():
        for position, key, label, event in DEFAULT_STEPS:
            if not StepDefinition.select().where(StepDefinition.key == key).exists():
                StepDefinition.create(position=position, key=key, label=label, completed_by=event)
        for position, key, label in DEFAULT_THRESHOLD_CATEGORIES:
            if not ThresholdCategory.select().where(ThresholdCategory.key == key).exists():
                ThresholdCategory.create(position=position, key=key, label=label)


__all__ = [name for name in dir() if not name.startswith("_")]
