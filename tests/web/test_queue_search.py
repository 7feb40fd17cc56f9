"""Full-text search in the queue: words of any report field, on SQLite and PostgreSQL, in scope."""

from __future__ import annotations

import re

from safestream.cases.review import record_decision
from safestream.core.principal import Principal
from safestream.core.reports import ReportedAccount, ReportIn
from safestream.store.access import add_user, create_org
from safestream.store.case_browse import CaseBrowser, CaseFilter, StatusFilter
from tests.web.conftest import LIGHT_ARGON2, PASSWORD, Console


def _report(account: str, description: str, email: str | None = None) -> ReportIn:
    return ReportIn(
        reported_accounts=[ReportedAccount(platform="examplecall", id=account, email=email)],
        description=description,
    )


def _search(console: Console, words: str) -> list[int]:
    page = console.client.get("/console/queue", params={"search": words, "status": "any"})
    assert page.status_code == 200
    return [int(n) for n in re.findall(r'<a href="/console/cases/(\d+)">#', page.text)]


def test_a_word_of_a_description_finds_its_case(console_on_each_store: Console) -> None:
    console = console_on_each_store
    console.file(_report("calm", "A cooking stream with nothing wrong."))
    _, wanted = console.file(_report("host", "The host asked the Viewers for gift cards."))
    console.login("reviewer")
    assert _search(console, "gift viewers") == [wanted]


def test_every_word_must_appear(console_on_each_store: Console) -> None:
    console = console_on_each_store
    console.file(_report("one", "gift cards requested"))
    console.login("reviewer")
    assert _search(console, "gift bitcoin") == []


def test_names_emails_and_account_ids_are_searchable_words(console_on_each_store: Console) -> None:
    console = console_on_each_store
    console.file(_report("someone", "Nothing here."))
    _, wanted = console.file(_report("nightowl-42", "Nothing here.", email="owl@example.org"))
    console.login("reviewer")
    assert _search(console, "nightowl-42") == [wanted]
    assert _search(console, "owl@example.org") == [wanted]


def test_field_names_are_not_searchable_words(console: Console) -> None:
    console.file(_report("any", "Nothing here."))
    console.login("reviewer")
    assert _search(console, "description") == []
    assert _search(console, "reported_accounts") == []


def test_search_syntax_characters_are_taken_as_text(console_on_each_store: Console) -> None:
    console = console_on_each_store
    _, wanted = console.file(_report("quote", 'He said "NEAR" and OR twice.'))
    console.login("reviewer")
    for typed in ['"NEAR"', "NEAR(", "OR", "*", "-", "a:b:c", "'; drop table reports; --"]:
        found = _search(console, typed)
        assert found in ([], [wanted]), typed
    assert _search(console, '"near"') == [wanted]


def test_closed_cases_are_found_too(console: Console) -> None:
    _, closed = console.file(_report("closed", "archived gift card case"))
    record_decision(console.db, Principal.system("test"), closed, "dismiss")
    console.login("reviewer")
    assert _search(console, "archived") == [closed]


def test_an_agency_finds_only_the_cases_referred_to_it(console_on_each_store: Console) -> None:
    console = console_on_each_store
    _, referred = console.file(_report("a", "gift cards in the referred case"))
    _, other = console.file(_report("b", "gift cards in another case"))
    create_org(console.db, "NCA", kind="agency", agency_code="UK-NCA")
    record_decision(console.db, Principal.system("test"), referred, "refer", agency="UK-NCA")
    agent = add_user(
        console.db, "agent@example.org", org="NCA", role="reviewer", password=PASSWORD,
        hasher=LIGHT_ARGON2,
    )  # fmt: skip
    gift = CaseFilter(status=StatusFilter.ANY, search="gift")
    browse = CaseBrowser(console.db)
    assert [c.id for c in browse.page(agent.principal, gift).cases] == [referred]
    everyone = browse.page(Principal.system("test"), gift).cases
    assert [c.id for c in everyone] == [referred, other]
