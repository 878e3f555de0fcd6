"""What an attack run found (issue 11), each replayed: racing logins, telling accounts apart,
locking others out, tokens in the error log, 5xx on bad input, lost updates, forged hosts."""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from werkzeug.security import generate_password_hash

from tests.conftest import (
    HTMX,
    PASSWORD,
    BrowserLikeClient,
    in_db,
    make_case,
    make_user,
)
from webapp import auth, create_app, models
from webapp.db import database
from webapp.models import people
from webapp.models.people import PASSWORD_METHOD

WRONG = "not the password at all"
REAL_UNKNOWN_ACCOUNT_HASH = people.UNKNOWN_ACCOUNT_HASH  # before the fixture below


@pytest.fixture(autouse=True)
def cheap_unknown_account_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in hash at the tests' cost (the real one costs 600 000 rounds, like a real
    password; test_the_stand_in_hash_costs_what_a_real_one_does checks that)."""
    cheap = generate_password_hash("nobody knows this", method="pbkdf2:sha256:1000")
    monkeypatch.setattr(people, "UNKNOWN_ACCOUNT_HASH", cheap)


def new_client(app: Flask) -> BrowserLikeClient:
    app.test_client_class = BrowserLikeClient
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password hash the app checks, in order (the hash itself, never the password)."""
    checked: list[str] = []
    real = people.check_password_hash

    def counting(pwhash: str, password: str) -> bool:
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(people, "check_password_hash", counting)
    return checked


def error_of(response: Any) -> str:
    match = re.search(
        r'class="error-summary" role="alert">([^<]*)<', response.get_data(as_text=True)
    )
    return match.group(1) if match else ""


# 1. A running login never undoes a deactivation or a password reset ---------------------------


def run_in_other_request(action: Callable[[], Any]) -> None:
    """Run action as another request would: in its own thread, with its own connection."""
    failure: list[BaseException] = []

    def target() -> None:
        try:
            action()
        except BaseException as error:  # noqa: BLE001  (reported in the test's own thread)
            failure.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failure:
        raise failure[0]


def during_the_password_check(monkeypatch: pytest.MonkeyPatch, action: Callable[[], Any]) -> None:
    """Run action while the login checks the password (where it spends half a second), the
    moment the attack run hit."""
    real = people.check_password_hash

    def checking(pwhash: str, password: str) -> bool:
        monkeypatch.setattr(people, "check_password_hash", real)
        run_in_other_request(action)
        return real(pwhash, password)

    monkeypatch.setattr(people, "check_password_hash", checking)


@pytest.mark.parametrize("password", [WRONG, PASSWORD], ids=["wrong-password", "right-password"])
def test_a_running_login_does_not_undo_a_deactivation(
    app, client, coordinator, mediator, monkeypatch, password
) -> None:
    admin = new_client(app)
    admin.login(coordinator)

    def deactivate() -> None:
        assert admin.post(f"/admin/users/{mediator.id}/deactivate").status_code == 303

    during_the_password_check(monkeypatch, deactivate)
    response = client.post("/login", data={"email": mediator.email, "password": password})
    assert response.status_code == 401
    assert in_db(lambda: models.User.get_by_id(mediator.id).active) is False
    assert (
        in_db(
            lambda: (
                models.LoginSession.select().where(models.LoginSession.user == mediator.id).count()
            )
        )
        == 0
    )


@pytest.mark.parametrize("password", [WRONG, PASSWORD], ids=["wrong-password", "right-password"])
def test_a_running_login_does_not_undo_a_password_reset(
    app, client, coordinator, mediator, monkeypatch, password
) -> None:
    admin = new_client(app)
    admin.login(coordinator)
    new_password: list[str] = []

    def reset() -> None:
        response = admin.post(f"/admin/users/{mediator.id}/password")
        assert response.status_code == 200
        new_password.append(
            re.search(
                r'<code class="secret">([^<]+)</code>', response.get_data(as_text=True)
            ).group(1)
        )

    during_the_password_check(monkeypatch, reset)
    response = client.post("/login", data={"email": mediator.email, "password": password})
    # The old password does not open a session that outlives the reset.
    assert response.status_code == 401
    stored = in_db(lambda: models.User.get_by_id(mediator.id))
    assert stored.check_password(new_password[0]) and not stored.check_password(PASSWORD)
    assert stored.password_given_at is not None


# 2. The same answer, for the same work, whether the account exists or not ----------------------


def test_the_stand_in_hash_costs_what_a_real_one_does() -> None:
    assert REAL_UNKNOWN_ACCOUNT_HASH.startswith(PASSWORD_METHOD + "$")


def test_unknown_closed_and_known_accounts_get_the_same_answer_for_the_same_work(
    client, mediator, hashes
) -> None:
    closed = make_user("jan.oud@vrijbaan.test", "Jan Oud", active=False)
    attempts = {
        "unknown address": ("niemand@vrijbaan.test", WRONG),
        "known, wrong password": (mediator.email, WRONG),
        "closed, right password": (closed.email, PASSWORD),
        "closed, wrong password": (closed.email, WRONG),
    }
    answers = {}
    for n, (what, (email, password)) in enumerate(attempts.items()):
        before = len(hashes)
        response = client.post(
            "/login",
            data={"email": email, "password": password},
            environ_base={"REMOTE_ADDR": f"192.0.2.{n + 1}"},
        )
        answers[what] = (response.status_code, error_of(response), len(hashes) - before)
    assert set(answers.values()) == {
        (401, "Dit e-mailadres en wachtwoord horen niet bij elkaar.", 1)
    }, answers


def test_the_sixth_failure_answers_the_same_for_an_unknown_and_a_known_account(
    client, mediator, hashes
) -> None:
    answers = {}
    for n, email in enumerate([mediator.email, "niemand@vrijbaan.test"]):
        answers[email] = []
        for _ in range(auth.MAX_FAILURES_PER_ACCOUNT + 1):
            before = len(hashes)
            response = client.post(
                "/login",
                data={"email": email, "password": WRONG},
                environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"},
            )
            answers[email].append((response.status_code, error_of(response), len(hashes) - before))
    known, unknown = answers.values()
    assert known == unknown
    assert known[-1] == (429, "Te veel pogingen. Probeer het over een kwartier opnieuw.", 0)
    assert known[0][0] == 401


# 3. Nobody locks out the whole team, or the right password ------------------------------------


def test_parallel_guesses_never_check_more_passwords_than_the_limit(app, mediator, hashes) -> None:
    """Ten guesses at once: each thread waits inside the password check until every other
    guess has either reached the check too or been answered, so a limit read before it is
    counted (the bug) lets all ten through, and a limit counted first lets five."""
    guesses = 10
    arrived = finished = 0
    together = threading.Condition()
    counting = people.check_password_hash

    def held(pwhash: str, password: str) -> bool:
        nonlocal arrived
        with together:
            arrived += 1
            together.notify_all()
            together.wait_for(lambda: arrived + finished >= guesses, timeout=30)
        return counting(pwhash, password)

    people.check_password_hash = held  # restored by the `hashes` fixture's monkeypatch
    clients = [new_client(app) for _ in range(guesses)]
    for browser in clients:
        browser.refresh_csrf()
    answers: list[int] = []

    def guess(browser: BrowserLikeClient) -> None:
        nonlocal finished
        try:
            response = browser.post("/login", data={"email": mediator.email, "password": WRONG})
            answers.append(response.status_code)
        finally:
            with together:
                finished += 1
                together.notify_all()

    threads = [threading.Thread(target=guess, args=(browser,)) for browser in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(hashes) == auth.MAX_FAILURES_PER_ACCOUNT
    assert sorted(answers) == [401] * 5 + [429] * 5


def test_throttle_counts_every_parallel_hit(app) -> None:
    hits = 20
    start = threading.Barrier(hits)
    seen: list[int] = []

    def hit() -> None:
        with database.connection_context():
            start.wait(timeout=30)
            seen.append(models.Throttle.hit("test-key", auth.ACCOUNT_WINDOW))

    threads = [threading.Thread(target=hit) for _ in range(hits)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert in_db(lambda: models.Throttle.count_for("test-key", auth.ACCOUNT_WINDOW)) == hits
    assert max(seen) == hits and len(seen) == hits


def test_the_right_password_works_on_a_known_device_while_the_account_is_under_attack(
    app, mediator
) -> None:
    phone = new_client(app)
    phone.login(mediator)
    phone.post("/logout")
    attacker = new_client(app)
    for _ in range(auth.MAX_FAILURES_PER_ACCOUNT + 3):
        attacker.post("/login", data={"email": mediator.email, "password": WRONG})
    # A device that never logged in waits, even with the right password (it could be a guess).
    refused = new_client(app).post("/login", data={"email": mediator.email, "password": PASSWORD})
    assert refused.status_code == 429
    # The person's own phone gets in.
    assert phone.login(mediator).status_code == 303
    # A forged or copied-from-another-account device cookie does not help the attacker.
    attacker.set_cookie(auth.KNOWN_DEVICE_COOKIE, "W10.forged", path="/login")
    forged = attacker.post("/login", data={"email": mediator.email, "password": PASSWORD})
    assert forged.status_code == 429


@pytest.fixture
def proxied(database_url: str) -> Iterator[Flask]:
    """The app behind one proxy (VRIJBAAN_PROXIES=1), as the README's production set-up."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": database_url,
            "SESSION_COOKIE_SECURE": False,
            "PROXIES": 1,
        }
    )
    yield app
    if not database.is_closed():
        database.close()


def fail_from(browser: BrowserLikeClient, address: str, n: int, tag: str = "") -> list[int]:
    """n failed logins for n unknown addresses (so only the address counter fills up)."""
    return [
        browser.post(
            "/login",
            data={"email": f"guess{i}{tag}@vrijbaan.test", "password": WRONG},
            headers={"X-Forwarded-For": address},
        ).status_code
        for i in range(n)
    ]


def test_behind_the_proxy_each_visitor_has_their_own_address_counter(proxied, monkeypatch):
    monkeypatch.setattr(auth, "MAX_FAILURES_PER_ADDRESS", 3)
    browser = new_client(proxied)
    assert fail_from(browser, "203.0.113.5", 4) == [401, 401, 401, 429]
    assert fail_from(browser, "198.51.100.7", 1, tag="b") == [401]


def test_without_a_proxy_the_forwarded_header_is_ignored(app, client, monkeypatch) -> None:
    monkeypatch.setattr(auth, "MAX_FAILURES_PER_ADDRESS", 3)
    assert fail_from(client, "203.0.113.5", 4) == [401, 401, 401, 429]
    assert fail_from(client, "198.51.100.7", 1, tag="b") == [429]


# 7. Hosts, HTTPS and the strict Referer check behind the proxy ---------------------------------


def test_hsts_and_the_strict_referer_check_work_behind_the_proxy(proxied, mediator) -> None:
    browser = new_client(proxied)
    https = {"X-Forwarded-Proto": "https"}
    page = browser.get("/login", headers=https)
    assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    same_site = {**https, "Referer": "https://localhost/login"}
    login = browser.post(
        "/login", data={"email": mediator.email, "password": PASSWORD}, headers=same_site
    )
    assert login.status_code == 303
    browser.post("/logout", headers=same_site)
    elsewhere = {**https, "Referer": "https://evil.example/login"}
    forged = browser.post(
        "/login", data={"email": mediator.email, "password": PASSWORD}, headers=elsewhere
    )
    assert forged.status_code == 400 and "Het formulier is verlopen" in forged.get_data(
        as_text=True
    )


def test_https_is_not_believed_from_a_visitor_without_a_proxy(client) -> None:
    page = client.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)
    assert "Strict-Transport-Security" not in page.headers


def test_an_unknown_host_is_refused_and_mints_no_link(client, mediator, case) -> None:
    client.login(mediator)
    response = client.post(
        f"/activities/cases/{case.id}/client-link", headers={"Host": "evil.example"}
    )
    assert response.status_code == 400
    assert "evil.example" not in response.get_data(as_text=True)
    assert in_db(lambda: models.AccessLink.select().count()) == 0
    assert client.get("/login", headers={"Host": "evil.example"}).status_code == 400


def test_links_use_the_public_address_and_its_host_only(app, client, mediator, case) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://vrijbaan.example.be"
    client.login(mediator)
    page = client.post(f"/activities/cases/{case.id}/client-link").get_data(as_text=True)
    assert "https://vrijbaan.example.be/p/" in page and "http://localhost/p/" not in page


def test_production_without_a_public_address_stops_with_an_explanation(monkeypatch) -> None:
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL is not set"):
        create_app({"SECRET_KEY": "x", "DATABASE_URL": "sqlite:///:memory:"})
    app = create_app(
        {
            "SECRET_KEY": "x",
            "DATABASE_URL": "sqlite:///:memory:",
            "PUBLIC_BASE_URL": "https://vrijbaan.example.be/",
        }
    )
    assert app.config["TRUSTED_HOSTS"] == ["vrijbaan.example.be"]


def test_the_development_server_needs_no_setting(monkeypatch) -> None:
    # `flask --app wsgi run` (the README's "try it") sets this; gunicorn does not.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x", "DATABASE_URL": "sqlite:///:memory:"})
    assert "localhost" in app.config["TRUSTED_HOSTS"]
    assert "evil.example" not in app.config["TRUSTED_HOSTS"]


# 4. No token in any log line, errors included --------------------------------------------------


def test_a_failing_link_request_logs_no_token(app, client, mediator, case, caplog, monkeypatch):
    with database.connection_context():
        _link, token = models.AccessLink.issue(
            "client", valid_for=auth.ACCOUNT_WINDOW * 1000, created_by=mediator, client=case.client
        )

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"the database went away while reading /p/{token} ({token})")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr(models.Client, "get_by_id", broken)
    with caplog.at_level(logging.INFO):
        response = client.get(f"/p/{token}")
    assert response.status_code == 500
    assert "Exception on /p/…" in caplog.text and "RuntimeError" in caplog.text
    assert token not in caplog.text
    for record in caplog.records:
        assert token not in logging.Formatter().format(record)


# 5. Bad input answers 4xx with a plain message, never 5xx --------------------------------------


def test_an_htmx_post_of_the_organisation_forms_shows_the_errors(client, coordinator) -> None:
    client.login(coordinator)
    org = in_db(lambda: models.ReferringOrganisation.create(name="CAW Antwerpen", kind="caw"))
    for url in ("/referrals/organisations", f"/referrals/organisations/{org.id}"):
        response = client.post(url, data={"name": "", "version": "1"}, headers=HTMX)
        assert response.status_code == 422
        assert "Vul de naam in." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "url", ["/login", "/account/password", "/referrals/organisations", "/cases/new"]
)
def test_a_file_in_place_of_text_is_refused_plainly(client, coordinator, url) -> None:
    if url != "/login":
        client.login(coordinator)
    data = {"email": (io.BytesIO(b"x" * 100), "email.txt"), "name": (io.BytesIO(b"x"), "n.txt")}
    response = client.post(url, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "een bestand in plaats van tekst" in response.get_data(as_text=True)


def test_superscript_digits_and_huge_numbers_in_the_query_string(client, coordinator) -> None:
    client.login(coordinator)
    case = make_case(coordinator)
    for query in ("page=²", "page=99999999999999999999999", "who=²", "step=²", "page=-1"):
        assert client.get(f"/cases/?{query}").status_code == 200, query
    for query in ("before=²", f"before={2**63}", "before=-5"):
        assert client.get(f"/cases/{case.id}/audit?{query}").status_code == 200, query
    for query in ("page=²", "page=²&provider=²&endpoint=x&_external=1&_anchor=y&_method=x"):
        assert client.get(f"/activities/?{query}").status_code == 200, query


@pytest.mark.parametrize("number", [2**63, 2**31, 10**30])
def test_ids_beyond_what_the_database_stores_are_not_found(client, coordinator, number) -> None:
    client.login(coordinator)
    assert client.get(f"/cases/{number}").status_code == 404
    assert client.get(f"/admin/users/{number}/edit").status_code == 404
    # No URL takes an id that large (the converter refuses it): no rule for a POST there.
    response = client.post(f"/referrals/organisations/{number}", data={"name": "x"})
    assert response.status_code == 405


@pytest.mark.parametrize("version", ["²", str(2**63), str(10**30), "-1", ""])
def test_a_garbled_version_is_a_conflict_not_a_crash(client, coordinator, version) -> None:
    client.login(coordinator)
    case = make_case(coordinator)
    data = {"first_name": "Amina", "last_name": "Bouzid", "language": "ar", "version": version}
    response = client.post(f"/cases/{case.id}/client", data=data)
    assert response.status_code == 409, response.status_code
    org = in_db(lambda: models.ReferringOrganisation.create(name="CAW Antwerpen", kind="caw"))
    response = client.post(
        f"/referrals/organisations/{org.id}",
        data={"name": "CAW", "kind": "caw", "version": version},
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("when", "status"),
    [("0001-01-01T00:00", 400), ("9999-12-31T23:59", 422), ("2026-02-30T10:00", 422)],
)
def test_impossible_visit_times_are_refused(client, mediator, case, when, status) -> None:
    client.login(mediator)
    response = client.post(
        f"/cases/{case.id}/visits",
        data={"contact_type": "huisbezoek", "occurred_at": when, "duration": "30"},
    )
    assert response.status_code == status, response.status_code
    assert in_db(lambda: models.Visit.select().count()) == 0


# 6. No lost update on the organisation and user edit forms -------------------------------------


def test_two_coordinators_editing_an_organisation_do_not_lose_a_change(app, coordinator) -> None:
    org = in_db(lambda: models.ReferringOrganisation.create(name="CAW Antwerpen", kind="caw"))
    first, second = new_client(app), new_client(app)
    first.login(coordinator)
    second.login(coordinator)
    shown = 'name="version" type="hidden" value="1"'
    assert shown in first.get(f"/referrals/organisations/{org.id}").get_data(as_text=True)
    assert shown in second.get(f"/referrals/organisations/{org.id}").get_data(as_text=True)
    base = {"name": "CAW Antwerpen", "kind": "caw", "version": "1"}
    saved = first.post(f"/referrals/organisations/{org.id}", data={**base, "phone": "03 200 00 00"})
    assert saved.status_code == 200
    late = second.post(f"/referrals/organisations/{org.id}", data={**base, "district": "Deurne"})
    assert late.status_code == 409
    page = late.get_data(as_text=True)
    assert "Iemand anders bewaarde deze organisatie" in page
    # What differs, this input against what is stored now; the input stays in the form.
    assert '<th scope="row">District</th><td>Deurne</td><td>—</td>' in page
    assert '<th scope="row">Telefoonnummer</th><td>—</td><td>03 200 00 00</td>' in page
    assert '<option selected value="Deurne">' in page or 'value="Deurne" selected' in page
    assert 'name="version" type="hidden" value="2"' in page
    stored = in_db(lambda: models.ReferringOrganisation.get_by_id(org.id))
    assert (stored.phone, stored.district, stored.version) == ("03 200 00 00", "", 2)
    # The way forward: saving again, now with the version shown, keeps both.
    again = second.post(
        f"/referrals/organisations/{org.id}",
        data={**base, "phone": "03 200 00 00", "district": "Deurne", "version": "2"},
        headers=HTMX,
    )
    assert again.status_code == 200
    stored = in_db(lambda: models.ReferringOrganisation.get_by_id(org.id))
    assert (stored.phone, stored.district) == ("03 200 00 00", "Deurne")


def test_two_coordinators_editing_a_user_do_not_lose_a_change(app, coordinator, mediator) -> None:
    first, second = new_client(app), new_client(app)
    first.login(coordinator)
    second.login(coordinator)
    form = first.get(f"/admin/users/{mediator.id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form
    base = {"name": mediator.name, "role": "mediator", "service": "ocmw", "version": "1"}
    assert (
        first.post(
            f"/admin/users/{mediator.id}", data={**base, "phone": "0470 00 00 00"}
        ).status_code
        == 303
    )
    late = second.post(
        f"/admin/users/{mediator.id}", data={**base, "service": "sport"}, headers=HTMX
    )
    assert late.status_code == 409
    page = late.get_data(as_text=True)
    assert "Iemand anders bewaarde de gegevens" in page
    assert '<th scope="row">Dienst</th><td>Sporting A</td><td>OCMW</td>' in page
    stored = in_db(lambda: models.User.get_by_id(mediator.id))
    assert (stored.phone, stored.service, stored.version) == ("0470 00 00 00", "ocmw", 2)


# Dependencies -----------------------------------------------------------------------------------


def test_the_production_lock_pins_what_pyproject_asks_with_hashes() -> None:
    import tomllib
    from pathlib import Path

    root = Path(__file__).parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    asked = project["dependencies"] + project["optional-dependencies"]["postgres"]
    lock = (root / ".ci" / "requirements.lock").read_text()
    pinned = dict(re.findall(r"^([a-z0-9_.-]+)==(\S+) \\$", lock, flags=re.MULTILINE))
    for requirement in asked:
        name, version = re.sub(r"\[.*\]", "", requirement).split("==")
        assert pinned.get(name.lower().replace("_", "-")) == version, requirement
    # Every pinned package comes with the hash of its files.
    assert lock.count("==") == len(pinned) and lock.count("--hash=sha256:") >= len(pinned)
