"""Logging in and out of the console, and what an anonymous visitor gets."""

from __future__ import annotations

from tests.web.conftest import PASSWORD, Console, email_of


def test_anonymous_visitor_is_sent_to_the_login_page(console: Console) -> None:
    answer = console.client.get("/console/queue")
    assert answer.status_code == 200
    assert answer.url.path == "/console/login"
    assert "Log in to the review console" in answer.text


def test_right_password_opens_the_queue(console: Console) -> None:
    console.login("reviewer")
    answer = console.client.get("/console")
    assert answer.url.path == "/console/queue"
    assert email_of("reviewer") in answer.text


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(console: Console) -> None:
    console.ensure_user("reviewer")
    token = console.csrf()
    answer = console.client.post(
        "/console/login",
        data={"email": email_of("reviewer"), "password": "not the password", "csrf_token": token},
    )
    assert answer.status_code == 401
    assert "Email or password is wrong" in answer.text
    assert console.client.get("/console/queue").url.path == "/console/login"


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(console: Console) -> None:
    token = console.csrf()
    answer = console.client.post(
        "/console/login",
        data={"email": "nobody@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.status_code == 401
    assert "Email or password is wrong" in answer.text


def test_login_without_csrf_token_is_rejected(console: Console) -> None:
    console.ensure_user("reviewer")
    console.csrf()  # the visitor has a session cookie, but the form field is missing
    answer = console.client.post(
        "/console/login", data={"email": email_of("reviewer"), "password": PASSWORD}
    )
    assert answer.status_code == 403
    assert "CSRF" in answer.text


def test_auditor_lands_on_the_audit_log(console: Console) -> None:
    console.login("auditor")
    assert console.client.get("/console").url.path == "/console/audit"


def test_logout_ends_the_session(console: Console) -> None:
    console.login("reviewer")
    token = console.csrf("/console/queue")
    answer = console.client.post("/console/logout", data={"csrf_token": token})
    assert answer.url.path == "/console/login"
    assert console.client.get("/console/queue").url.path == "/console/login"


def test_login_sends_back_to_the_page_asked_for(console: Console) -> None:
    console.ensure_user("reviewer")
    token = console.csrf("/console/login?next=/console/preferences")
    answer = console.client.post(
        "/console/login",
        data={
            "email": email_of("reviewer"),
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/console/preferences",
        },
    )
    assert answer.url.path == "/console/preferences"


def test_login_never_redirects_to_another_site(console: Console) -> None:
    console.ensure_user("reviewer")
    token = console.csrf()
    answer = console.client.post(
        "/console/login",
        data={
            "email": email_of("reviewer"),
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/console"
