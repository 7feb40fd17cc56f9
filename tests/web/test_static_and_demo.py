"""Static files (the widget, CSS) and the demo call page that embeds the widget."""

from __future__ import annotations

import re

from safestream.api.web.panic_keys import PanicKeys
from safestream.api.web.session import load_or_create_secret
from tests.web.conftest import ORG, Console


def test_widget_is_served_as_javascript_any_site_may_embed(console: Console) -> None:
    answer = console.client.get("/static/panic-button.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert "Report abuse" in answer.text


def test_unknown_or_escaping_static_names_are_404(console: Console) -> None:
    assert console.client.get("/static/nothing.js").status_code == 404
    assert console.client.get("/static/..%2F__init__.py").status_code == 404


def test_demo_call_page_embeds_the_widget_with_the_organisations_key(console: Console) -> None:
    page = console.client.get(f"/demo/call?org={ORG}&stream=call-7").text
    tag = re.search(r'<script src="/static/panic-button.js"(.*?)></script>', page, re.S)
    assert tag is not None
    key = re.search(r'data-key="([^"]+)"', tag.group(1))
    assert key is not None
    keys = PanicKeys(load_or_create_secret(console.settings.home))
    assert keys.org_of(key.group(1)) > 0
    assert 'data-stream-id="call-7"' in tag.group(1)
    assert "<canvas" in page


def test_demo_page_without_a_key_explains_how_to_get_one(console: Console) -> None:
    page = console.client.get("/demo/call").text
    assert "No publishable panic-button key" in page
