"""Saved views: each reviewer names queue filters, opens them again, and sees only their own."""

from __future__ import annotations

import re

import httpx

from safestream.core.principal import Principal
from safestream.core.reports import ReportedAccount, ReportIn
from safestream.store.access import add_user, list_users
from safestream.store.saved_views import SavedViewRepository
from tests.web.conftest import LIGHT_ARGON2, ORG, PASSWORD, Console


def _report(account: str, description: str) -> ReportIn:
    return ReportIn(
        reported_accounts=[ReportedAccount(platform="examplecall", id=account)],
        description=description,
    )


def _user(console: Console, email: str) -> Principal:
    return next(u for u in list_users(console.db) if u.email == email).principal


def _save(console: Console, name: str, query: str) -> httpx.Response:
    token = console.csrf("/console/queue")
    return console.client.post(
        "/console/views", data={"name": name, "query": query, "csrf_token": token}
    )


def _views(page: str) -> dict[str, str]:
    found = re.findall(
        r'<a class="button[^"]*" href="/console/queue\?([^"]*)"[^>]*>([^<]+)</a>', page
    )
    return {name: query.replace("&amp;", "&") for query, name in found}


def test_a_saved_view_is_listed_and_opens_its_filter(console_on_each_store: Console) -> None:
    console = console_on_each_store
    console.file(_report("calm", "a cooking stream"))
    _, wanted = console.file(_report("gifts", "asked for gift cards"))
    console.login("reviewer")
    answer = _save(console, "Gift cards", "search=gift&status=any&after=1.2.3&flash=claimed")
    assert "View saved" in answer.text
    assert _views(answer.text)["Gift cards"] == "status=any&search=gift"
    opened = console.client.get("/console/queue?status=any&search=gift").text
    assert re.findall(r'<a href="/console/cases/(\d+)">#', opened) == [str(wanted)]
    assert 'aria-current="page">Gift cards</a>' in opened


def test_saving_under_the_same_name_replaces_the_view(console: Console) -> None:
    console.login("reviewer")
    _save(console, "Mine", "priority=1")
    page = _save(console, "Mine", "priority=2").text
    assert _views(page)["Mine"] == "priority=2"


def test_a_view_needs_a_name(console: Console) -> None:
    console.login("reviewer")
    answer = _save(console, "   ", "priority=1")
    assert answer.status_code == 422
    assert "give the view a name" in answer.text


def test_views_are_private_to_their_owner(console: Console) -> None:
    console.login("reviewer")
    _save(console, "Only mine", "priority=1")
    [view] = SavedViewRepository(console.db).list(_user(console, "reviewer@example.org"))
    add_user(
        console.db, "other@example.org", org=ORG, role="reviewer", password=PASSWORD,
        hasher=LIGHT_ARGON2,
    )  # fmt: skip
    token = console.csrf("/console/login")
    console.client.post(
        "/console/login",
        data={"email": "other@example.org", "password": PASSWORD, "csrf_token": token},
    )
    assert "Only mine" not in console.client.get("/console/queue").text
    token = console.csrf("/console/queue")
    answer = console.client.post(f"/console/views/{view.id}/delete", data={"csrf_token": token})
    assert answer.status_code == 404
    assert SavedViewRepository(console.db).list(_user(console, "reviewer@example.org")) == [view]


def test_the_owner_deletes_a_view(console: Console) -> None:
    console.login("reviewer")
    _save(console, "Short-lived", "priority=3")
    [view] = SavedViewRepository(console.db).list(_user(console, "reviewer@example.org"))
    token = console.csrf("/console/queue")
    answer = console.client.post(f"/console/views/{view.id}/delete", data={"csrf_token": token})
    assert "Saved view deleted." in answer.text
    assert "Short-lived" not in answer.text
