"""Providers and activities: the searchable list, create, edit and archive."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from peewee import ModelSelect
from wtforms.fields.choices import SelectChoice

from webapp.activities import bp
from webapp.activities.chooser import (
    FILTERS,
    UNFILTERED,
    ClientFit,
    client_fit,
    link,
    narrowed,
    suggestions,
)
from webapp.activities.forms import ActivityForm, ProviderForm, SearchForm
from webapp.forms import options, parse_int
from webapp.htmx import load_more, redirect_to, render_page_or_block, wants_fragment, with_trigger
from webapp.models import THINGS_TO_BRING, Activity, AuditEvent, Case, Provider, database

PAGE = 20


def search_results(
    form: SearchForm, page: int, include_archived: bool = False, fit: ClientFit | None = None
) -> dict[str, Any]:
    """One page of activities (or pages 1..page for a plain request) and whether there is more;
    from a case only those that fit the client, with how many each of those filters hides; when
    nothing is found, what to try instead. Two queries, whatever the size of the offer."""
    valid = form.validate()
    data = form.data if valid else {}
    fits = fit.fits if fit else []
    active = fit.active if fit else []

    def offer(**changes: Any) -> ModelSelect[Activity]:
        filters: dict[str, Any] = {name: data.get(field) for field, name in FILTERS.items()}
        filters = {
            name: UNFILTERED[name] if value is None else value for name, value in filters.items()
        }
        return Activity.search(**(filters | changes), include_archived=include_archived)

    base = offer()
    rows, more, only_this_page = load_more(narrowed(base, active), page, PAGE)
    # What each of the client's filters hides: the rows the other filters let through.
    # (An appended page of rows shows no notices: nothing to count.)
    hidden = [
        (f, narrowed(base, [other for other in active if other is not f]).where(~f.condition))
        for f in ([] if only_this_page else active)
    ]
    tries = suggestions(data, fit) if not rows and page == 1 else []
    counts = Activity.count_each(
        [query for _fit, query in hidden]
        + [narrowed(offer(**t.search_changes()), [] if t.lift_all else active) for t in tries]
    )
    for suggestion, count in zip(tries, counts[len(hidden) :], strict=True):
        suggestion.count = count
        suggestion.url = link(fits, lift_all=suggestion.lift_all, **suggestion.changes)
    return {
        "activities": rows,
        "more_url": link(fits, page=page + 1) if more else None,
        "search": form,
        "fit": fit,
        "hidden": [
            (f.hidden_text(count, fit.age, fit.interests), link(fits, lift=f.key))
            for (f, _query), count in zip(hidden, counts, strict=False)
            if count and fit
        ],
        "suggestions": [t for t in tries if t.count],
        "searched": (data.get("q") or "").strip(),
    }


def current_page() -> int:
    return max(1, min(parse_int(request.args.get("page")) or 1, 200))


@bp.get("/")
@login_required
def index() -> Response:
    """The offer: search and filter activities at phone size."""
    page = current_page()
    context = search_results(SearchForm(request.args), page)
    block = "rows" if page > 1 else "results"
    return render_page_or_block("activities/index.html", block, case=None, **context)


@bp.get("/cases/<int:case_id>/choose")
@login_required
def choose(case_id: int) -> Response:
    """The same search, starting from what fits the client, to pick an activity to enrol in."""
    case = Case.get_open_for(current_user, case_id)
    page = current_page()
    context = search_results(SearchForm(request.args), page, fit=client_fit(case))
    block = "rows" if page > 1 else "results"
    response = render_page_or_block("activities/index.html", block, case=case, **context)
    # A swapped list is not read out: say what the filters hide, or that nothing was found.
    said = [text for text, _url in context["hidden"]]
    if not context["activities"]:
        said.append(_("Geen activiteiten gevonden"))
    if wants_fragment() and page == 1 and said:
        return with_trigger(response, "announce", ". ".join(said) + ".")
    return response


@bp.get("/<int:activity_id>")
@login_required
def show(activity_id: int) -> str:
    """One activity with all its details."""
    return render_template("activities/show.html", activity=Activity.get_with_provider(activity_id))


@bp.get("/new")
@login_required
def new() -> str:
    """The form for a new activity."""
    form = ActivityForm(provider=request.args.get("provider", type=int))
    form.provider.choices = provider_choices()
    return render_template("activities/form.html", form=form, activity=None)


@bp.post("/")
@login_required
def create() -> Response | tuple[str, int]:
    """Save a new activity."""
    form = ActivityForm()
    form.provider.choices = provider_choices()
    if not form.validate_on_submit():
        return invalid("activities/form.html", form=form, activity=None)
    activity = Activity.create(**activity_fields(form))
    AuditEvent.record("create", activity)
    return redirect_to(url_for("activities.show", activity_id=activity.id))


@bp.get("/<int:activity_id>/edit")
@login_required
def edit(activity_id: int) -> str:
    """The form to change an activity."""
    activity = Activity.get_with_provider(activity_id)
    form = ActivityForm(
        obj=activity,
        provider=activity.provider_id,
        price_full=activity.price_full_cents,
        price_reduced=activity.price_reduced_cents,
        bring=activity.bring_list,
    )
    form.provider.choices = provider_choices(activity.provider)
    return render_template("activities/form.html", form=form, activity=activity)


@bp.post("/<int:activity_id>")
@login_required
def update(activity_id: int) -> Response | tuple[str, int]:
    """Save changes to an activity, unless someone else changed it first."""
    activity = Activity.get_with_provider(activity_id)
    form = ActivityForm()
    form.provider.choices = provider_choices(activity.provider)
    if not form.validate_on_submit():
        return invalid("activities/form.html", form=form, activity=activity)
    changed = (
        Activity.update(**activity_fields(form), version=Activity.version + 1)
        .where(Activity.id == activity.id, Activity.version == form.version.data)
        .execute()
    )
    if not changed:
        return stale("activities/form.html", form=form, activity=activity)
    AuditEvent.record("update", activity)
    return redirect_to(url_for("activities.show", activity_id=activity.id))


@bp.post("/<int:activity_id>/archive")
@login_required
def archive(activity_id: int) -> Response:
    """Take an activity out of the list, or put it back."""
    activity = Activity.get_with_provider(activity_id)
    Activity.update(archived=not activity.archived, version=Activity.version + 1).where(
        Activity.id == activity.id
    ).execute()
    AuditEvent.record("archive" if not activity.archived else "unarchive", activity)
    return redirect_to(url_for("activities.show", activity_id=activity.id))


@bp.get("/providers")
@login_required
def providers() -> str:
    """All providers with the number of activities each offers."""
    return render_template(
        "activities/providers.html", providers=list(Provider.listed(include_archived=True))
    )


@bp.get("/providers/new")
@login_required
def new_provider() -> str:
    """The form for a new provider."""
    return render_template("activities/provider_form.html", form=ProviderForm(), provider=None)


@bp.post("/providers")
@login_required
def create_provider() -> Response | tuple[str, int]:
    """Save a new provider, then add its first activity."""
    form = ProviderForm()
    if not form.validate_on_submit():
        return invalid("activities/provider_form.html", form=form, provider=None)
    provider = Provider.create(**provider_fields(form))
    AuditEvent.record("create", provider)
    return redirect_to(url_for("activities.new", provider=provider.id))


@bp.get("/providers/<int:provider_id>/edit")
@login_required
def edit_provider(provider_id: int) -> str:
    """The form to change a provider."""
    provider = Provider.get_or_none(Provider.id == provider_id) or abort(404)
    return render_template(
        "activities/provider_form.html", form=ProviderForm(obj=provider), provider=provider
    )


@bp.post("/providers/<int:provider_id>")
@login_required
def update_provider(provider_id: int) -> Response | tuple[str, int]:
    """Save changes to a provider, unless someone else changed it first."""
    provider = Provider.get_or_none(Provider.id == provider_id) or abort(404)
    form = ProviderForm()
    if not form.validate_on_submit():
        return invalid("activities/provider_form.html", form=form, provider=provider)
    changed = (
        Provider.update(**provider_fields(form), version=Provider.version + 1)
        .where(Provider.id == provider.id, Provider.version == form.version.data)
        .execute()
    )
    if not changed:
        return stale("activities/provider_form.html", form=form, provider=provider)
    AuditEvent.record("update", provider)
    return redirect_to(url_for("activities.providers"))


@bp.post("/providers/<int:provider_id>/archive")
@login_required
def archive_provider(provider_id: int) -> Response:
    """Archive a provider with all its activities, or bring it back."""
    provider = Provider.get_or_none(Provider.id == provider_id) or abort(404)
    with database.atomic():
        Provider.update(archived=not provider.archived, version=Provider.version + 1).where(
            Provider.id == provider.id
        ).execute()
        if not provider.archived:
            Activity.update(archived=True).where(Activity.provider == provider).execute()
    AuditEvent.record("archive" if not provider.archived else "unarchive", provider)
    response = redirect_to(url_for("activities.providers"))
    return with_trigger(response, "announce", _("Bewaard."))


def provider_choices(current: Provider | None = None) -> list[SelectChoice]:
    choices = Provider.choices()
    if current is not None and all(pk != current.id for pk, _name in choices):
        choices.append((current.id, current.name))
    return options(choices)


def activity_fields(form: ActivityForm) -> dict[str, Any]:
    return {
        "provider": form.provider.data,
        "title": form.title.data,
        "domain": form.domain.data,
        "description": form.description.data or "",
        "age_min": form.age_min.data,
        "age_max": form.age_max.data,
        "street": form.street.data or "",
        "postcode": form.postcode.data or "",
        "district": form.district.data or "",
        "schedule": form.schedule.data or "",
        "price_full_cents": form.price_full.data or 0,
        "price_reduced_cents": form.price_reduced.data,
        "what_to_bring": form.what_to_bring.data or "",
        "bring_keys": ",".join(k for k in THINGS_TO_BRING if k in (form.bring.data or [])) or None,
        "accessibility": form.accessibility.data or "",
    }


def provider_fields(form: ProviderForm) -> dict[str, Any]:
    return {
        name: (getattr(form, name).data or "")
        for name in (
            "name",
            "kind",
            "contact_name",
            "phone",
            "email",
            "street",
            "postcode",
            "district",
        )
    } | {"email": (form.email.data or "").lower()}


def invalid(template: str, **context: Any) -> tuple[str, int]:
    """The form again with the errors next to the fields."""
    return render_template(template, **context), 422


def stale(template: str, **context: Any) -> tuple[str, int]:
    """Someone saved in between: say so, keep what was typed, offer the fresh version."""
    return render_template(template, stale=True, **context), 409
