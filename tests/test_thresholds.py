"""Thresholds per case: added and edited in place, on the timeline, only on visible cases."""

from __future__ import annotations

import pytest

from tests.conftest import HTMX, in_db, make_case
from webapp import models


def category_id(key: str) -> int:
    return in_db(lambda: models.ThresholdCategory.get(models.ThresholdCategory.key == key).id)


def add(client, case, **data):
    values = {"category": category_id("financieel"), "status": "open", "note": "Clubgeld €240"}
    values.update(data)
    return client.post(f"/cases/{case.id}/thresholds/", data=values, headers=HTMX)


def test_the_case_page_shows_thresholds_and_an_add_button(client, mediator, case) -> None:
    client.login(mediator)
    add(client, case)
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'id="case-thresholds"' in page
    assert "financieel" in page and "Clubgeld €240" in page
    assert "Drempel toevoegen" in page


def test_add_form_as_page_and_as_fragment(client, mediator, case) -> None:
    client.login(mediator)
    page = client.get(f"/cases/{case.id}/thresholds/new")
    fragment = client.get(f"/cases/{case.id}/thresholds/new", headers=HTMX)
    assert page.status_code == fragment.status_code == 200
    assert "<html" in page.get_data(as_text=True)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and 'id="threshold-add"' in body
    assert "tijd / kinderopvang" in body  # all twelve categories


def test_adding_swaps_the_section_and_writes_the_timeline(client, mediator, case) -> None:
    client.login(mediator)
    response = add(client, case, signal="y", note_shareable="y")
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == "#case-thresholds"
    body = response.get_data(as_text=True)
    assert "<html" not in body and "Clubgeld €240" in body and "signaal" in body
    threshold = in_db(models.CaseThreshold.get)
    assert threshold.signal and threshold.note_shareable and threshold.created_by_id == mediator.id
    event = in_db(lambda: models.CaseEvent.get(models.CaseEvent.kind == "threshold_added"))
    assert event.detail == "financieel · open"


def test_adding_without_js_redirects_back(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(
        f"/cases/{case.id}/thresholds/",
        data={"category": category_id("taal"), "status": "open", "note": ""},
    )
    assert response.status_code == 303
    assert "Nog geen" not in client.get(response.headers["Location"]).get_data(as_text=True)


def test_bad_input_is_shown_next_to_the_field_and_kept(client, mediator, case) -> None:
    client.login(mediator)
    response = add(client, case, category="", note="x" * 600)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Kies een soort drempel." in body and "Maximaal 500 tekens." in body
    resolved = add(client, case, status="resolved", resolution="", note="Gratis busabonnement?")
    assert "Schrijf kort hoe de drempel opgelost is." in resolved.get_data(as_text=True)
    assert "Gratis busabonnement?" in resolved.get_data(as_text=True)
    assert in_db(lambda: models.CaseThreshold.select().count()) == 0


def test_edit_in_place_resolves_and_signals(client, mediator, case) -> None:
    client.login(mediator)
    add(client, case)
    t = in_db(models.CaseThreshold.get)
    widget = client.get(f"/cases/{case.id}/thresholds/{t.id}/edit", headers=HTMX)
    body = widget.get_data(as_text=True)
    assert widget.status_code == 200 and "<html" not in body
    assert f'name="t{t.id}-version" type="hidden" value="1"' in body
    assert client.get(f"/cases/{case.id}/thresholds/{t.id}/edit").status_code == 200
    prefix = f"t{t.id}-"
    response = client.post(
        f"/cases/{case.id}/thresholds/{t.id}",
        data={
            prefix + "version": "1",
            prefix + "status": "resolved",
            prefix + "resolution": "Vrijetijdstoelage aangevraagd",
            prefix + "note": "Clubgeld €240",
            prefix + "signal": "y",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "opgelost" in body and "Vrijetijdstoelage aangevraagd" in body
    t = in_db(models.CaseThreshold.get)
    assert (t.status, t.signal, t.version) == ("resolved", True, 2)
    assert t.resolved_at is not None
    event = in_db(lambda: models.CaseEvent.get(models.CaseEvent.kind == "threshold_updated"))
    assert event.detail == "financieel · opgelost · gesignaleerd"
    shown = client.get(f"/cases/{case.id}/thresholds/{t.id}", headers=HTMX)
    assert "Aanpassen" in shown.get_data(as_text=True)


def test_a_stale_edit_is_a_conflict_showing_the_newer_version(client, mediator, case) -> None:
    client.login(mediator)
    add(client, case)
    t = in_db(models.CaseThreshold.get)
    prefix = f"t{t.id}-"
    data = {prefix + "version": "1", prefix + "status": "unsolvable", prefix + "resolution": "x"}
    assert client.post(f"/cases/{case.id}/thresholds/{t.id}", data=data).status_code == 303
    data[prefix + "status"] = "open"
    stale = client.post(f"/cases/{case.id}/thresholds/{t.id}", data=data, headers=HTMX)
    assert stale.status_code == 409
    body = stale.get_data(as_text=True)
    assert "Iemand anders paste deze drempel net aan" in body and "niet oplosbaar" in body
    assert in_db(lambda: models.CaseThreshold.get().status) == "unsolvable"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("GET", "new"),
        ("POST", ""),
        ("GET", "{t}/edit"),
        ("POST", "{t}"),
        ("GET", "{t}"),
    ],
)
def test_another_mediators_case_is_not_found(
    client, mediator, other_mediator, method, path
) -> None:
    case = make_case(mediator)
    client.login(mediator)
    add(client, case)
    t = in_db(models.CaseThreshold.get)
    client.login(other_mediator)
    response = client.open(f"/cases/{case.id}/thresholds/{path.format(t=t.id)}", method=method)
    assert response.status_code == 404


def test_a_threshold_of_another_case_is_not_found(client, mediator) -> None:
    first, second = make_case(mediator), make_case(mediator)
    client.login(mediator)
    add(client, first)
    t = in_db(models.CaseThreshold.get)
    assert client.get(f"/cases/{second.id}/thresholds/{t.id}/edit").status_code == 404


def test_coordinator_edits_any_case(client, mediator, coordinator, case) -> None:
    client.login(coordinator)
    assert add(client, case).status_code == 200


def test_open_thresholds_come_first(client, mediator, case) -> None:
    client.login(mediator)
    add(client, case, category=category_id("financieel"), status="resolved", resolution="ok")
    add(client, case, category=category_id("taal"), status="open")
    labels = in_db(lambda: [t.category.key for t in models.thresholds_for_case(models.Case.get())])
    assert labels == ["taal", "financieel"]
