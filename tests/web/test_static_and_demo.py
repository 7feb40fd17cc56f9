"""Static files (the widget, CSS) and the demo call page that embeds the widget (demo mode only)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from safestream.core.config import Settings
from tests.web.conftest import ORG, Console, serving


@pytest.fixture
def demo(settings: Settings) -> Iterator[Console]:
    """The app as `make demo` serves it."""
    with serving(settings.with_changes(demo_mode=True)) as running:
        yield running


def test_widget_is_served_as_javascript_any_site_may_embed(console: Console) -> None:
    answer = console.client.get("/static/panic-button.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "Report abuse" in answer.text


def test_unknown_or_escaping_static_names_are_404(console: Console) -> None:
    assert console.client.get("/static/nothing.js").status_code == 404
    assert console.client.get("/static/..%2F__init__.py").status_code == 404


def test_demo_call_page_does_not_exist_outside_the_demo(console: Console) -> None:
    assert console.client.get("/demo/call").status_code == 404
    assert console.client.get(f"/demo/call?org={ORG}").status_code == 404


def test_demo_call_page_embeds_the_widget_with_the_key_it_was_given(demo: Console) -> None:
    key = demo.panic_key()
    page = demo.client.get(f"/demo/call?key={key}&stream=call-7").text
    tag = re.search(r'<script src="/static/panic-button.js"(.*?)></script>', page, re.S)
    assert tag is not None
    assert f'data-key="{key}"' in tag.group(1)
    assert 'data-stream-id="call-7"' in tag.group(1)
    assert "<canvas" in page


def test_demo_call_page_hands_out_no_organisations_key(demo: Console) -> None:
    demo.panic_key()  # the organisation has a key: the page must still not reveal it
    page = demo.client.get(f"/demo/call?org={ORG}").text
    assert 'data-key=""' in page
    assert "No publishable panic-button key" in page
