"""Outgoing messages on real transports: an SMTP server (aiosmtpd) and an HTTP server standing in
for the SMS gateway, both on 127.0.0.1. "Now" is frozen with `send-messages --now`."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
import threading
import traceback
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import in_db, make_case, make_client, make_user
from tests.test_activities import enrol, make_activity, make_provider
from tests.test_links import create_client_link, create_provider_link, path_of
from webapp import models
from webapp.db import database
from webapp.timeutil import local_today, to_utc

ROOT = Path(__file__).resolve().parents[1]


class Mailbox:
    """The aiosmtpd handler: keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


@pytest.fixture
def smtp() -> Any:
    mailbox = Mailbox()
    # aiosmtpd's start() connects to its own port to check it is up, so port 0 will not do.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        mailbox.port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


class Gateway(ThreadingHTTPServer):
    """A stand-in SMS gateway: records each request; answers 500 while `failing`."""

    requests: list[dict[str, Any]]
    failing = False


class GatewayHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        body = json.loads(self.rfile.read(length))
        self.server.requests.append({"auth": self.headers["Authorization"], **body})
        self.send_response(500 if self.server.failing else 202)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def gateway() -> Any:
    server = Gateway(("127.0.0.1", 0), GatewayHandler)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def transports(app, smtp, gateway) -> dict[str, str]:
    config = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMTP_TLS": "none",
        "MAIL_FROM": "vrijbaan@antwerpen.test",
        "SMS_GATEWAY_URL": gateway.url,
        "SMS_GATEWAY_KEY": "gateway-key",
        "SMS_SENDER": "Vrijbaan",
        "PUBLIC_BASE_URL": "https://vrijbaan.test",
    }
    app.config.update(config)
    return config


TOMORROW = local_today() + dt.timedelta(days=1)  # the session's day ("tomorrow" for NOW)
NOW = to_utc(dt.datetime.combine(TOMORROW - dt.timedelta(days=1), dt.time(10, 0)))
NIGHT = to_utc(dt.datetime.combine(TOMORROW - dt.timedelta(days=1), dt.time(22, 30)))


@pytest.fixture
def planned(client, mediator) -> dict[str, Any]:
    """A client (Arabic) who agreed to messages, with a session tomorrow at 10:00, their own
    link and the provider's attendance link."""
    case = make_case(mediator, make_client(first_name="Amina", language="ar"))
    provider = make_provider(email="jeugd@olympia.test", contact_name="Koen")
    start = to_utc(dt.datetime.combine(TOMORROW, dt.time(10, 0)))
    enrolment = enrol(case, make_activity(provider), mediator, starts=[start])
    client.login(mediator)
    client.post(f"/messages/cases/{case.id}/consent", data={"consent": "yes"})
    client_url = create_client_link(client, case)
    provider_url = create_provider_link(client, case, enrolment)
    return {
        "case": case,
        "enrolment": enrolment,
        "client_path": path_of(client_url),
        "provider_path": path_of(provider_url),
    }


def send(runner, now: dt.datetime = NOW) -> str:
    result = runner.invoke(args=["send-messages", "--now", now.isoformat()])
    assert result.exit_code == 0, "".join(traceback.format_exception(result.exception))
    return result.output


def rows(**where: Any) -> list[models.Message]:
    def query() -> list[models.Message]:
        q = models.Message.select().order_by(models.Message.id)
        for field, value in where.items():
            q = q.where(getattr(models.Message, field) == value)
        return list(q)

    return in_db(query)


def test_consent_is_recorded_with_date_and_wording_and_shown(client, planned) -> None:
    case = planned["case"]
    stored = in_db(lambda: models.Client.get_by_id(case.client_id))
    assert stored.messages_consent_at is not None
    assert stored.messages_consent_wording == models.CONSENT_WORDING
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "toestemming op" in page and models.CONSENT_WORDING in page
    client.post(f"/messages/cases/{case.id}/consent", data={"consent": "no"})
    stored = in_db(lambda: models.Client.get_by_id(case.client_id))
    assert stored.messages_consent_at is None
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Nog geen toestemming voor berichten" in page


def test_consent_of_someone_elses_case_is_not_found(client, other_mediator, planned) -> None:
    client.login(other_mediator)
    response = client.post(f"/messages/cases/{planned['case'].id}/consent", data={"consent": "yes"})
    assert response.status_code == 404


def test_the_day_before_the_client_gets_an_sms_and_the_provider_an_email(
    runner, transports, gateway, smtp, planned
) -> None:
    output = send(runner)
    assert "sent 2" in output
    [sms] = gateway.requests
    assert sms["to"] == "+32486112233" and sms["from"] == "Vrijbaan"
    assert sms["auth"] == "Bearer gateway-key"
    assert sms["text"].startswith("Hallo Amina") or "Amina" in sms["text"]
    assert "Te Boelaerlei 20" in sms["text"]
    assert "https://vrijbaan.test/p/" in sms["text"]
    assert "Bouzid" not in sms["text"] and "Voetbal" not in sms["text"]
    [mail] = smtp.messages
    assert mail["To"] == "jeugd@olympia.test"
    body = mail.get_content()
    assert "Amina B." in body and "Bouzid" not in body
    assert "https://vrijbaan.test/a/" in body
    assert "Sara El Amrani" in body and "0470 12 34 56" in body
    # The texts carry new links; the ones the mediator shared earlier stop working.
    new_client_path = "/" + sms["text"].split("https://vrijbaan.test/", 1)[1].split()[0]
    assert new_client_path != planned["client_path"]


def test_the_links_in_the_messages_open_the_pages_and_the_old_ones_stop(
    app, runner, transports, gateway, smtp, planned
) -> None:
    send(runner)
    visitor = app.test_client()
    text = gateway.requests[0]["text"]
    client_path = "/p/" + text.split("/p/", 1)[1].split()[0]
    assert visitor.get(client_path).status_code == 200
    assert visitor.get(planned["client_path"]).status_code == 410
    provider_path = "/a/" + smtp.messages[0].get_content().split("/a/", 1)[1].split()[0]
    assert visitor.get(provider_path).status_code == 200
    assert visitor.get(planned["provider_path"]).status_code == 410


def test_the_sms_is_in_the_clients_language(runner, transports, gateway, planned) -> None:
    send(runner)
    text = gateway.requests[0]["text"]
    # Arabic once the catalog has the message (MESSAGES_TRANSLATIONS.md); the day name is
    # Babel's own and is Arabic already.
    weekday_nl = ["maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"]
    assert weekday_nl[TOMORROW.weekday()] not in text
    assert "مرحب" in text, text


def test_sent_once_even_when_run_again(runner, transports, gateway, smtp, planned) -> None:
    send(runner)
    send(runner)
    send(runner, NOW + dt.timedelta(hours=2))
    assert len(gateway.requests) == 1
    assert len(smtp.messages) == 1
    assert {m.status for m in rows()} == {"sent"}


def test_nothing_at_night(runner, transports, gateway, smtp, planned) -> None:
    send(runner, NIGHT)
    assert gateway.requests == [] and smtp.messages == []
    assert {m.status for m in rows()} == {"queued"}
    next_morning = NIGHT + dt.timedelta(hours=11)  # 9:30 on the day of the session
    send(runner, next_morning)
    assert len(gateway.requests) == 1


def test_the_quiet_hours_can_be_configured(app, runner, transports, gateway, planned) -> None:
    app.config["MESSAGES_WINDOW"] = "11:00-20:00"
    send(runner)  # 10:00
    assert gateway.requests == []
    send(runner, NOW + dt.timedelta(hours=1))
    assert len(gateway.requests) == 1


def test_nothing_without_consent(client, runner, transports, gateway, planned) -> None:
    case = planned["case"]
    client.post(f"/messages/cases/{case.id}/consent", data={"consent": "no"})
    send(runner)
    assert gateway.requests == []
    [message] = rows(kind="client_session")
    assert (message.status, message.reason) == ("not_sent", "no_consent")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "Bericht niet verstuurd" in page and "geen toestemming" in page


def test_without_transport_messages_are_kept_as_not_sent(app, client, runner, planned) -> None:
    send(runner)
    assert {(m.status, m.reason) for m in rows()} == {("not_sent", "no_transport")}
    page = client.get(f"/cases/{planned['case'].id}").get_data(as_text=True)
    assert "geen verzending ingesteld" in page
    # The links the mediator shared still work: nothing was renewed.
    assert app.test_client().get(planned["client_path"]).status_code == 200


def test_a_revoked_link_is_never_sent(client, runner, transports, gateway, smtp, planned) -> None:
    case, enrolment = planned["case"], planned["enrolment"]
    client.post(f"/activities/cases/{case.id}/client-link/revoke")
    client.post(f"/activities/cases/{case.id}/enrolments/{enrolment.id}/provider-link/revoke")
    send(runner)
    [sms] = gateway.requests
    assert "/p/" not in sms["text"] and "Amina" in sms["text"]
    assert smtp.messages == []
    [mail] = rows(kind="provider_sessions")
    assert (mail.status, mail.reason) == ("not_sent", "no_link")
    assert in_db(lambda: models.AccessLink.current("client").count()) == 0


def test_an_expired_link_is_never_sent(runner, transports, gateway, planned) -> None:
    with database.connection_context():
        models.AccessLink.update(expires_at=NOW - dt.timedelta(days=400)).execute()
    send(runner)
    [sms] = gateway.requests
    assert "/p/" not in sms["text"] and "Amina" in sms["text"]  # the reminder, without the link


def test_a_failing_gateway_is_retried_then_marked_failed(
    client, runner, transports, gateway, planned
) -> None:
    gateway.failing = True
    send(runner)
    [message] = rows(kind="client_session")
    assert message.status == "queued" and message.attempts == 1
    send(runner)  # too early for the next try
    assert len(gateway.requests) == 1
    now = NOW
    for minutes in (5, 15, 60):
        now += dt.timedelta(minutes=minutes)
        send(runner, now)
    assert len(gateway.requests) == 4
    [message] = rows(kind="client_session")
    assert (message.status, message.attempts) == ("failed", 4)
    # The client's link was never replaced by one nobody received.
    assert app_get(client, planned["client_path"]) == 200
    page = client.get(f"/cases/{planned['case'].id}").get_data(as_text=True)
    assert "Bericht mislukt" in page
    assert "Hallo" not in page  # the timeline names the type, never the text


def app_get(client, path: str) -> int:
    return client.get(path).status_code


def test_an_unconfirmed_session_gets_one_friendly_reminder(
    runner, transports, smtp, planned
) -> None:
    day_after = to_utc(dt.datetime.combine(TOMORROW + dt.timedelta(days=1), dt.time(10, 0)))
    send(runner)
    send(runner, day_after)
    send(runner, day_after + dt.timedelta(hours=3))
    reminders = [m for m in smtp.messages if m["Subject"].startswith("Herinnering")]
    assert len(reminders) == 1
    assert "Amina B." in reminders[0].get_content()


def test_a_planned_home_visit_with_reminder(client, runner, transports, gateway, planned) -> None:
    case = planned["case"]
    when = dt.datetime.combine(TOMORROW, dt.time(16, 30))
    for remind, place in ((True, "Turnhoutsebaan 12"), (False, "Bib Permeke")):
        with database.connection_context():
            models.Visit.create(
                case=case,
                mediator=case.mediator_id,
                contact_type="huisbezoek",
                occurred_at=to_utc(when),
                place=place,
                planned=True,
                remind_client=remind,
                idempotency_key=f"plan-{remind}",
            )
    send(runner)
    texts = [r["text"] for r in gateway.requests]
    assert len(texts) == 2  # the session and the visit with "herinnering sturen"
    assert any("Turnhoutsebaan 12" in t for t in texts)
    assert not any("Bib Permeke" in t for t in texts)


def test_the_visit_form_has_the_reminder_checkbox(client, planned) -> None:
    page = client.get(f"/cases/{planned['case'].id}/visits/new").get_data(as_text=True)
    assert 'name="remind_client"' in page and "Herinnering sturen" in page


def test_the_client_can_stop_messages_and_get_changes_nothing(
    app, runner, transports, gateway, planned
) -> None:
    visitor = app.test_client()
    path = planned["client_path"]
    assert visitor.post(path + "/stop-messages", csrf=False).status_code == 400
    page = visitor.get(path).get_data(as_text=True)
    assert "Stuur mij geen berichten meer" in page or "stop-messages" in page
    assert visitor.get(path + "/stop-messages").status_code == 405
    assert (
        in_db(lambda: models.Client.get_by_id(planned["case"].client_id)).messages_stopped_at
        is None
    )
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = visitor.post(path + "/stop-messages", data={"csrf_token": token})
    assert response.status_code == 303
    send(runner)
    assert gateway.requests == []
    [message] = rows(kind="client_session")
    assert message.reason == "stopped"


def test_the_mediators_summary_at_seven(app, runner, transports, smtp, planned) -> None:
    user = make_user("jan.dewit@vrijbaan.test", "Jan De Wit", daily_summary=True)
    case = make_case(user, make_client(first_name="Youssef", last_name="Amrani"))
    with database.connection_context():
        models.Visit.create(
            case=case,
            mediator=user,
            contact_type="huisbezoek",
            occurred_at=to_utc(dt.datetime.combine(TOMORROW - dt.timedelta(days=1), dt.time(14))),
            planned=True,
            notes="privé: schulden",
            idempotency_key="sum-1",
        )
        models.Task.create(
            case=case, text="Schuldbemiddelaar bellen", due=TOMORROW - dt.timedelta(days=3)
        )
    early = to_utc(dt.datetime.combine(TOMORROW - dt.timedelta(days=1), dt.time(6, 30)))
    send(runner, early)
    assert smtp.messages == []
    send(runner, early + dt.timedelta(minutes=35))
    [mail] = [m for m in smtp.messages if m["To"] == "jan.dewit@vrijbaan.test"]
    body = mail.get_content()
    assert "Youssef A." in body and "14:00" in body
    assert "te doen sinds" in body  # the late to-do, by date only
    assert "Amrani" not in body and "schulden" not in body and "Schuldbemiddelaar" not in body


def test_the_coordinator_sees_todays_messages(client, coordinator, runner, transports, planned):
    gateway_failing_case = planned["case"]
    send(runner)
    client.login(coordinator)
    page = client.get("/messages/").get_data(as_text=True)
    assert "2 verstuurd, 0 mislukt" in page
    assert f"/cases/{gateway_failing_case.id}" in page
    name = in_db(lambda: models.Case.get_by_id(gateway_failing_case.id).client.short_name)
    assert f">{name}</a>" in page


def test_a_busy_day_lists_its_messages_a_page_at_a_time(client, coordinator) -> None:
    from webapp.messages import MESSAGES_PAGE_SIZE
    from webapp.timeutil import utcnow

    n = MESSAGES_PAGE_SIZE + 3
    with database.atomic():
        models.Message.insert_many(
            [
                {
                    "kind": "reminder",
                    "channel": "sms",
                    "target": f"session:{i}",
                    "due_on": local_today(),
                    "status": "failed" if i == 0 else "sent",
                    "updated_at": utcnow() - dt.timedelta(seconds=i),
                }
                for i in range(n)
            ]
        ).execute()
    client.login(coordinator)
    page = client.get("/messages/").get_data(as_text=True)
    assert f"{n - 1} verstuurd, 1 mislukt" in page  # the counts are the whole day's
    assert page.count("<li>") == MESSAGES_PAGE_SIZE
    assert 'href="/messages/?page=2"' in page
    more = client.get("/messages/?page=2").get_data(as_text=True)
    assert more.count("<li>") == n and "?page=3" not in more


def test_mediators_do_not_see_the_message_list(client, mediator) -> None:
    client.login(mediator)
    assert client.get("/messages/").status_code == 403


def test_two_runs_at_once_send_each_message_once(app, transports, gateway, smtp, planned, tmp_path):
    # More sessions, so that both processes have work to race for.
    with database.connection_context():
        session = models.Session.select().first()
    for n in range(6):
        other = make_case(
            planned["case"].mediator, make_client(first_name=f"Kind{n}", phone=f"048611220{n}")
        )
        with database.connection_context():
            models.Client.update(messages_consent_at=NOW, messages_consent_wording="x").where(
                models.Client.id == other.client_id
            ).execute()
        enrol(other, make_activity(), planned["case"].mediator, starts=[session.starts_at])
    env = {
        **os.environ,
        **transports,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "VRIJBAAN_INSTANCE": str(tmp_path),
        "SECRET_KEY": "test-secret",
    }
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "send-messages"]
    command += ["--now", NOW.isoformat()]
    runs = [
        subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outcomes
    phones = [r["to"] for r in gateway.requests]
    assert len(phones) == 7 and len(set(phones)) == 7
    assert len(rows(status="sent", channel="sms")) == 7


def test_the_summary_is_switched_on_under_my_account(client, mediator) -> None:
    client.login(mediator)
    page = client.get("/account").get_data(as_text=True)
    assert "Stuur mij het dagoverzicht" in page
    response = client.post("/messages/summary", data={"daily_summary": "yes"})
    assert response.status_code == 303
    assert in_db(lambda: models.User.get_by_id(mediator.id)).daily_summary is True
    assert "Geen dagoverzicht meer" in client.get("/account").get_data(as_text=True)
    client.post("/messages/summary", data={"daily_summary": "no"})
    assert in_db(lambda: models.User.get_by_id(mediator.id)).daily_summary is False
