"""The activity chooser from a case knows the client: it starts filtered on age, reduced-rate card
and interests, says what those filters hide (and lifts them), suggests what to try when nothing
matches, and a free activity enrols as "gratis" without asking."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any

import pytest

from tests.conftest import HTMX, count_queries, in_db, make_case, make_client
from tests.test_activities import enrol_data, make_activity, make_provider
from webapp import models
from webapp.activities.chooser import alternatives
from webapp.db import database
from webapp.timeutil import local_today


def eight_year_old(**fields: Any) -> models.Client:
    born = dt.date(local_today().year - 8, 1, 1)  # 8 all year long
    return make_client(first_name="Rayan", last_name="Bakkali", birth_date=born, **fields)


def offer_for_children_and_adults() -> None:
    turnclub = make_provider(name="Turnclub Hoboken", kind="turnclub", district="Hoboken")
    make_activity(turnclub, title="Gymnastiek voor kinderen", age_min=6, age_max=12)
    make_activity(title="Zwemles", age_min=6, age_max=12, price_reduced_cents=1200)
    make_activity(title="Muziek voor volwassenen", domain="cultuur", age_min=18, age_max=None)
    make_activity(title="Filmklas", domain="cultuur", age_min=14, age_max=20)
    make_activity(title="Voetbal U13", age_min=11, age_max=13)


def links(page: str) -> dict[str, str]:
    """The page's links by their text (the first of each)."""
    found: dict[str, str] = {}
    for href, text in re.findall(r'<a[^>]*href="([^"]+)"[^>]*>(.*?)</a>', page, re.DOTALL):
        found.setdefault(re.sub(r"<[^>]+>", "", text).strip(), html.unescape(href))
    return found


def checkbox(page: str, value: str) -> str:
    found = re.search(rf'<input type="checkbox" name="fit" value="{value}"[^>]*>', page)
    assert found, value
    return found.group(0)


def titles(page: str) -> list[str]:
    return re.findall(r'<span class="title">([^<]+)', page)


def test_an_8_year_old_sees_what_fits_and_what_is_hidden(client, mediator) -> None:
    case = make_case(mediator, eight_year_old())
    offer_for_children_and_adults()
    client.login(mediator)
    url = f"/activities/cases/{case.id}/choose"

    page = client.get(url).get_data(as_text=True)
    assert titles(page) == ["Gymnastiek voor kinderen", "Zwemles"]
    assert "Past bij Rayan" in page and "checked" in checkbox(page, "age")
    assert "3 activiteiten passen niet bij 8 jaar" in page

    # "toon toch" lifts the age filter, as a plain link (no JavaScript needed).
    everything = client.get(links(page)["toon toch"]).get_data(as_text=True)
    assert len(titles(everything)) == 5 and "Muziek voor volwassenen" in everything
    assert "passen niet bij" not in everything
    assert "checked" not in checkbox(everything, "age")  # the chip stays, to put it back

    # The form sends the chips: ticked again, the filter is back.
    again = client.get(f"{url}?fitted=1&fit=age").get_data(as_text=True)
    assert titles(again) == ["Gymnastiek voor kinderen", "Zwemles"]


def test_the_chooser_answers_htmx_with_the_results_only(client, mediator) -> None:
    case = make_case(mediator, eight_year_old())
    offer_for_children_and_adults()
    client.login(mediator)
    response = client.get(f"/activities/cases/{case.id}/choose?q=zwem", headers=HTMX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert body.lstrip().startswith('<div id="activity-results">') and "<html" not in body
    assert titles(body) == ["Zwemles"]
    # The swapped list is announced: what the age hides, or that nothing was found.
    response = client.get(f"/activities/cases/{case.id}/choose", headers=HTMX)
    said = json.loads(response.headers["HX-Trigger"])["announce"]
    assert said == "3 activiteiten passen niet bij 8 jaar."
    response = client.get(f"/activities/cases/{case.id}/choose?q=xyzzy", headers=HTMX)
    assert "Geen activiteiten gevonden." in json.loads(response.headers["HX-Trigger"])["announce"]
    lifted = client.get(f"/activities/cases/{case.id}/choose?q=e&fitted=1", headers=HTMX).get_data(
        as_text=True
    )
    assert "Muziek voor volwassenen" in lifted and "passen niet bij" not in lifted


def test_a_card_holder_sees_the_price_they_pay_and_what_works_with_the_card(
    client, mediator
) -> None:
    valid = local_today() + dt.timedelta(days=200)
    case = make_case(
        mediator, eight_year_old(card_type="a-kaart", card_valid_until=valid), interests="sport"
    )
    make_activity(title="Zwemles", age_min=6, age_max=12, price_reduced_cents=1200)
    make_activity(title="Judo", age_min=6, age_max=12, price_reduced_cents=None)
    make_activity(title="Speelplein", domain="jeugd", age_min=6, age_max=12, price_full_cents=0)
    make_activity(title="Tekenklas", domain="cultuur", age_min=6, age_max=12)
    client.login(mediator)
    page = client.get(f"/activities/cases/{case.id}/choose").get_data(as_text=True)
    assert titles(page) == ["Zwemles"]
    assert "met kansentarief € 12" in page and "volle prijs € 185" in page
    assert "1 activiteit werkt niet met kansentarief" in page
    assert "2 activiteiten vallen buiten sport" in page
    assert "checked" in checkbox(page, "card") and "checked" in checkbox(page, "interests")

    free = client.get(links(page)["toon toch"]).get_data(as_text=True)  # the first: the card
    assert "Judo" in free and "Speelplein" not in free

    # A card that ran out does not filter, and the list shows the usual prices.
    with database.connection_context():
        models.Client.update(card_valid_until=local_today() - dt.timedelta(days=1)).execute()
    expired = client.get(f"/activities/cases/{case.id}/choose").get_data(as_text=True)
    assert 'value="card"' not in expired and "Judo" in expired


def test_turnen_finds_nothing_and_suggests_what_to_try(client, mediator) -> None:
    case = make_case(mediator, eight_year_old())
    offer_for_children_and_adults()
    client.login(mediator)
    page = client.get(f"/activities/cases/{case.id}/choose?q=turnen").get_data(as_text=True)
    assert titles(page) == []
    assert "Niets gevonden voor ‘turnen’." in page and "Probeer:" in page
    found = links(page)
    assert "gymnastiek" in found and "turnclub" in found and "alles in sport" in found
    assert "(1 activiteit)" in page  # gymnastiek: the one that fits an 8-year-old
    assert "(2 activiteiten)" in page  # all sport for 8 years: gymnastics and swimming
    assert titles(client.get(found["gymnastiek"]).get_data(as_text=True)) == [
        "Gymnastiek voor kinderen"
    ]
    sport = client.get(found["alles in sport"]).get_data(as_text=True)
    assert titles(sport) == ["Gymnastiek voor kinderen", "Zwemles"]

    # Two words: each one dropped in turn.
    two = client.get(f"/activities/cases/{case.id}/choose?q=zwemles+kiel").get_data(as_text=True)
    assert "zwemles" in links(two) and "kiel" not in links(two)  # kiel alone: nothing

    # Nothing to suggest still says what to try, and offers the whole offer.
    odd = client.get(f"/activities/cases/{case.id}/choose?q=xyzzy").get_data(as_text=True)
    assert "zonder zoekwoord" in links(odd) and "(2 activiteiten)" in odd
    none = client.get(f"/activities/cases/{case.id}/choose?q=xyzzy&domain=jeugd").get_data(
        as_text=True
    )
    assert "Probeer:" not in none
    assert "Probeer een ander of korter woord, of minder filters." in none
    assert "Toon het hele aanbod" in none and "(5 activiteiten)" in none
    assert len(titles(client.get(links(none)["Toon het hele aanbod"]).get_data(as_text=True))) == 5

    # The offer outside a case suggests the same way.
    offer = client.get("/activities/?q=turnen").get_data(as_text=True)
    assert "turnclub" in links(offer)


def test_a_suggestion_is_not_offered_twice(client, mediator) -> None:
    case = make_case(mediator, eight_year_old(), interests="sport")
    make_activity(title="Zwemles", age_min=6, age_max=12)
    client.login(mediator)
    page = client.get(f"/activities/cases/{case.id}/choose?q=turnen").get_data(as_text=True)
    # Sport is Rayan's only interest: "alles in sport" is the list without the word.
    assert page.count(">alles in sport</a>") == 1 and "zonder zoekwoord" not in page


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("turnen", ["gymnastiek", "turnclub", "sport"]),
        ("Zwemmen", ["zwembad", "zwemles"]),
        ("voetballen", ["voetbal", "football"]),
        ("dansen", ["dans"]),
        ("muziek", ["muziekschool", "academie"]),
        ("tekenen", ["beeldend", "kunst"]),
        ("cultuur", ["cultuur"]),
    ],
)
def test_words_have_broader_alternatives(typed: str, expected: list[str]) -> None:
    assert set(expected) <= set(alternatives(typed))


def test_a_free_activity_enrols_as_gratis(client, mediator) -> None:
    case = make_case(mediator, eight_year_old())
    library = make_provider(name="Bibliotheek Permeke", kind="bibliotheek")
    activity = make_activity(
        library,
        title="Voorleesuurtje",
        domain="cultuur",
        age_min=4,
        age_max=8,
        price_full_cents=0,
        price_reduced_cents=None,
    )
    client.login(mediator)
    url = f"/activities/cases/{case.id}/enrol/{activity.id}"
    form = client.get(url).get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="free"', form)
    assert 'value="full"' not in form and 'value="allowance"' not in form
    response = client.post(url, data=enrol_data(cost_arrangement="free"))
    assert response.status_code == 303
    enrolment = in_db(lambda: models.Enrolment.get(models.Enrolment.case == case.id))
    assert enrolment.cost_arrangement == "free"
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Voorleesuurtje" in page and "gratis" in page


def test_nothing_to_choose_for_a_free_activity_still_saves(client, mediator) -> None:
    case = make_case(mediator, eight_year_old())
    activity = make_activity(title="Speelplein", price_full_cents=0, price_reduced_cents=None)
    client.login(mediator)
    data = enrol_data()
    del data["cost_arrangement"]
    url = f"/activities/cases/{case.id}/enrol/{activity.id}"
    assert client.post(url, data=data).status_code == 303
    assert in_db(lambda: models.Enrolment.get().cost_arrangement) == "free"


@pytest.mark.parametrize(
    ("card", "full", "reduced", "default"),
    [
        ("a-kaart", 1200, 0, "free"),  # free with the card
        ("", 1200, 0, "reduced"),  # no card: the kansentarief, the mediator will see
        ("uitpas", 18500, 3700, "reduced"),
        ("", 18500, None, "full"),  # no reduced rate: the full price, not nothing
    ],
)
def test_the_cost_starts_from_what_the_client_would_pay(
    client, mediator, card, full, reduced, default
) -> None:
    valid = local_today() + dt.timedelta(days=30) if card else None
    case = make_case(mediator, eight_year_old(card_type=card, card_valid_until=valid))
    activity = make_activity(price_full_cents=full, price_reduced_cents=reduced, age_min=None)
    client.login(mediator)
    form = client.get(f"/activities/cases/{case.id}/enrol/{activity.id}").get_data(as_text=True)
    assert re.search(rf'<input checked[^>]*value="{default}"', form), default
    assert ("Rayan heeft een A-kaart" in form) == (card == "a-kaart")


def test_the_chooser_runs_a_constant_number_of_queries(client, mediator) -> None:
    valid = local_today() + dt.timedelta(days=200)
    case = make_case(
        mediator, eight_year_old(card_type="uitpas", card_valid_until=valid), interests="sport"
    )
    provider = make_provider()

    def add(count: int) -> None:
        with database.connection_context():
            models.Activity.insert_many(
                [
                    {
                        "provider": provider.id,
                        "title": f"Activiteit {i}",
                        "domain": ("sport", "cultuur", "jeugd")[i % 3],
                        "age_min": (4, 12, 18)[i % 3],
                        "price_full_cents": 1000,
                        "price_reduced_cents": (200, None)[i % 2],
                    }
                    for i in range(count)
                ]
            ).execute()

    add(10)
    client.login(mediator)
    urls = [
        (f"/activities/cases/{case.id}/choose", {}),
        (f"/activities/cases/{case.id}/choose?q=activiteit", HTMX),
        (f"/activities/cases/{case.id}/choose?q=turnen", {}),
        (f"/activities/cases/{case.id}/choose?q=turnen", HTMX),
    ]
    few = []
    for url, headers in urls:
        with count_queries() as queries:
            assert client.get(url, headers=headers).status_code == 200
        few.append(len(queries))
    add(990)
    for (url, headers), before in zip(urls, few, strict=True):
        with count_queries() as queries:
            assert client.get(url, headers=headers).status_code == 200
        assert len(queries) == before, url
    assert "Meer tonen" in client.get(urls[0][0]).get_data(as_text=True)


def test_more_keeps_the_state_of_the_client_filters(client, mediator) -> None:
    case = make_case(mediator, eight_year_old())
    provider = make_provider()
    with database.connection_context():
        models.Activity.insert_many(
            [
                {
                    "provider": provider.id,
                    "title": f"Voor iedereen {i:02d}",
                    "domain": "sport",
                    "age_min": None,
                }
                for i in range(25)
            ]
            + [{"provider": provider.id, "title": "Zzz voor 18+", "domain": "sport", "age_min": 18}]
        ).execute()
    client.login(mediator)
    page = client.get(f"/activities/cases/{case.id}/choose?fitted=1&fit=age").get_data(as_text=True)
    more = links(page)["Meer tonen"]
    assert "fitted=1" in more and "fit=age" in more and "page=2" in more
    rest = client.get(more, headers=HTMX).get_data(as_text=True)
    assert "Voor iedereen 24" in rest and "Zzz voor 18+" not in rest
