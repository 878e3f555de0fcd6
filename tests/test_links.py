"""The links a mediator shares: create, share, expire, revoke, renew; only the hash is stored;
unknown or tampered tokens; rate limiting of failed look-ups; tokens never in the logs."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from urllib.parse import unquote

import pytest

from tests.conftest import HTMX, in_db, make_case
from tests.test_activities import enrol, make_activity
from webapp import models
from webapp.db import database
from webapp.links import MAX_FAILED_LOOKUPS, TokenFilter, mask_tokens
from webapp.timeutil import utcnow

URL_RE = re.compile(r'class="share-url" type="url" readonly value="([^"]+)"')


def create_client_link(client, case, **kwargs) -> str:
    response = client.post(f"/activities/cases/{case.id}/client-link", **kwargs)
    assert response.status_code == 200, response.status_code
    match = URL_RE.search(response.get_data(as_text=True))
    assert match, "no link on the share page"
    return match.group(1)


def create_provider_link(client, case, enrolment) -> str:
    response = client.post(f"/activities/cases/{case.id}/enrolments/{enrolment.id}/provider-link")
    assert response.status_code == 200
    return URL_RE.search(response.get_data(as_text=True)).group(1)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_client_link_is_shared_by_sms_whatsapp_qr_and_copy(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(f"/activities/cases/{case.id}/client-link")
    body = response.get_data(as_text=True)
    url = URL_RE.search(body).group(1)
    assert url.startswith("http://localhost/p/")
    token = url.rsplit("/", 1)[1]
    assert len(token) >= 43
    assert "<svg" in body and 'class="qr"' in body  # drawn on the server
    # Addressed to Amina's phone (0486 11 22 33), in international form.
    sms = re.search(r'href="(sms:\+32486112233\?body=[^"]+)"', body).group(1)
    assert token in unquote(sms)
    whatsapp = re.search(r'href="(https://wa.me/32486112233\?text=[^"]+)"', body).group(1)
    assert token in unquote(whatsapp)
    assert "data-copy" in body  # the copy button, with the readonly field as fallback
    # Amina's language is Arabic: the prefilled message speaks it.
    assert "مرحبا" in unquote(sms)


def test_only_the_hash_of_the_token_is_stored(client, mediator, case) -> None:
    client.login(mediator)
    token = create_client_link(client, case).rsplit("/", 1)[1]
    link = in_db(lambda: models.AccessLink.get(models.AccessLink.purpose == "client"))
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    with database.connection_context():
        row = database.execute_sql("SELECT * FROM access_link").fetchone()
    assert token not in " ".join(str(v) for v in row)


def test_the_case_page_shows_the_link_state_but_never_the_token(client, mediator, case) -> None:
    client.login(mediator)
    token = create_client_link(client, case).rsplit("/", 1)[1]
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Werkt tot" in page and "Link intrekken" in page
    assert token not in page


def test_share_box_as_htmx_fragment(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(f"/activities/cases/{case.id}/client-link", headers=HTMX)
    body = response.get_data(as_text=True)
    # Only the client-link card, with its own share panel: other panels on the page stay.
    assert body.startswith('<div class="card link-box" id="client-link"') and "<html" not in body
    assert 'id="share-box-client"' in body and "announce" in response.headers["HX-Trigger"]
    assert "Klaar, sluiten" in body


def test_renew_replaces_the_old_link(client, mediator, case) -> None:
    client.login(mediator)
    old = path_of(create_client_link(client, case))
    new = path_of(create_client_link(client, case))
    assert old != new
    assert client.get(old).status_code == 410
    assert client.get(new).status_code == 200
    kinds = in_db(lambda: [e.kind for e in models.CaseEvent.select()])
    assert kinds.count("link_created") == 2


def test_revoke_stops_the_link(client, mediator, case) -> None:
    client.login(mediator)
    url = path_of(create_client_link(client, case))
    response = client.post(f"/activities/cases/{case.id}/client-link/revoke", headers=HTMX)
    assert response.status_code == 200 and "Link maken en delen" in response.get_data(as_text=True)
    gone = client.get(url)
    assert gone.status_code == 410
    assert "Deze link werkt niet meer" in gone.get_data(as_text=True)
    assert "link_revoked" in in_db(lambda: [e.kind for e in models.CaseEvent.select()])


def test_expired_link_answers_410(client, mediator, case) -> None:
    client.login(mediator)
    url = path_of(create_client_link(client, case))
    with database.connection_context():
        models.AccessLink.update(expires_at=utcnow() - dt.timedelta(minutes=1)).execute()
    response = client.get(url)
    assert response.status_code == 410
    assert "Vraag een nieuwe link aan de persoon die je deze link gaf." in response.get_data(
        as_text=True
    )


def test_client_link_expires_after_ninety_days(client, mediator, case) -> None:
    client.login(mediator)
    create_client_link(client, case)
    link = in_db(lambda: models.AccessLink.get(models.AccessLink.purpose == "client"))
    assert dt.timedelta(days=89) < link.expires_at - utcnow() <= dt.timedelta(days=90)


def test_provider_link_expires_a_few_days_after_the_last_session(client, mediator, case) -> None:
    start = utcnow() + dt.timedelta(days=20)
    enrolment = enrol(case, make_activity(), mediator, starts=[start])
    client.login(mediator)
    create_provider_link(client, case, enrolment)
    link = in_db(lambda: models.AccessLink.get(models.AccessLink.purpose == "provider"))
    assert link.expires_at == start + dt.timedelta(days=3)
    assert link.enrolment_id == enrolment.id


def test_provider_link_is_shared_by_mail(client, mediator, case) -> None:
    activity = make_activity()
    with database.connection_context():
        models.Provider.update(email="jeugd@kfc-olympia.example").execute()
    enrolment = enrol(case, activity, mediator)
    client.login(mediator)
    body = client.post(
        f"/activities/cases/{case.id}/enrolments/{enrolment.id}/provider-link"
    ).get_data(as_text=True)
    mailto = re.search(r'href="(mailto:[^"]+)"', body).group(1)
    assert mailto.startswith("mailto:jeugd%40kfc-olympia.example?subject=")
    assert "Amina B." in unquote(mailto) and "Bouzid" not in unquote(mailto)


def test_tampered_or_unknown_tokens_answer_404(client, mediator, case) -> None:
    client.login(mediator)
    url = path_of(create_client_link(client, case))
    tampered = url[:-1] + ("A" if url[-1] != "A" else "B")
    assert client.get(tampered).status_code == 404
    assert client.get("/p/" + "x" * 300).status_code == 404
    assert client.get("/a/niet-bestaand").status_code == 404
    # A client token does not open the provider page, and the other way round.
    assert client.get(url.replace("/p/", "/a/")).status_code == 404


def test_failed_lookups_are_rate_limited_per_address(client) -> None:
    for i in range(MAX_FAILED_LOOKUPS):
        assert client.get(f"/p/guess-{i:04d}-abcdefgh").status_code == 404
    response = client.get("/p/guess-last-abcdefgh")
    assert response.status_code == 429
    assert "Even geduld" in response.get_data(as_text=True)
    other = client.get("/p/guess", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 404


@pytest.mark.parametrize("prefix", ["/p/", "/a/", "/r/"])
def test_tokens_are_masked_in_the_request_log(prefix: str) -> None:
    token = "Zq8n3Jx_Kd9-vY0aBcDeFgHiJkLmNoPqRsTuVwXyZ12"
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - [x] "%s" %s %s',
        ("127.0.0.1", f"GET {prefix}{token}?lang=ar HTTP/1.1", "200", "-"),
        None,
    )
    TokenFilter().filter(record)
    line = record.getMessage()
    assert token not in line and f"GET {prefix}…?lang=ar" in line
    assert mask_tokens(f"POST {prefix}{token}/cant-come") == f"POST {prefix}…/cant-come"


def test_the_werkzeug_logger_masks_tokens_of_real_requests(client, caplog) -> None:
    assert any(isinstance(f, TokenFilter) for f in logging.getLogger("werkzeug").filters)
    with caplog.at_level(logging.INFO, logger="werkzeug"):
        logging.getLogger("werkzeug").info('"GET %s HTTP/1.1" 200 -', "/a/SecretTokenValue12345")
    assert "SecretTokenValue12345" not in caplog.text and "/a/…" in caplog.text


def test_link_actions_leave_audit_events_without_the_token(client, mediator, case) -> None:
    client.login(mediator)
    token = create_client_link(client, case).rsplit("/", 1)[1]
    events = in_db(lambda: list(models.AuditEvent.select()))
    assert any(e.action == "create" and e.object_type == "accesslink" for e in events)
    assert all(token not in f"{e.action}{e.object_type}" for e in events)


def test_another_mediator_cannot_make_or_revoke_links(client, mediator, other_mediator) -> None:
    case = make_case(mediator)
    enrolment = enrol(case, make_activity(), mediator)
    client.login(other_mediator)
    for url in (
        f"/activities/cases/{case.id}/client-link",
        f"/activities/cases/{case.id}/client-link/revoke",
        f"/activities/cases/{case.id}/enrolments/{enrolment.id}/provider-link",
        f"/activities/cases/{case.id}/enrolments/{enrolment.id}/provider-link/revoke",
    ):
        assert client.post(url).status_code == 404
    assert in_db(lambda: models.AccessLink.select().count()) == 0


def test_link_creation_needs_a_csrf_token(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(f"/activities/cases/{case.id}/client-link", csrf=False)
    assert response.status_code == 400
    assert in_db(lambda: models.AccessLink.select().count()) == 0


def test_seed_demo_prints_a_working_client_and_provider_link(app, runner) -> None:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    client_url = re.search(r"Link voor cliënt \([^)]+\): (\S+)", result.output).group(1)
    provider_url = re.search(
        r"Aanwezigheidslink voor aanbieder \([^)]+\): (\S+)", result.output
    ).group(1)
    visitor = app.test_client()
    client_page = visitor.get(path_of(client_url))
    assert client_page.status_code == 200
    provider_page = visitor.get(path_of(provider_url))
    assert provider_page.status_code == 200
    assert 'value="present"' in provider_page.get_data(as_text=True)  # a session to confirm
    assert in_db(lambda: models.Provider.select().count()) >= 8
