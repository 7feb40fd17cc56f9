"""The API reference pages work on a closed network, and `/` leads somewhere useful."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import Api

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _script_sources(html: str) -> list[str]:
    return re.findall(r'<script[^>]+src="([^"]+)"', html)


def test_swagger_page_loads_its_scripts_from_this_server(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200
    sources = _script_sources(page.text)
    assert sources and all(src.startswith("/") and not src.startswith("//") for src in sources)
    for src in sources:
        script = api.client.get(src)
        assert script.status_code == 200 and len(script.content) > 100_000


def test_redoc_page_loads_its_script_from_this_server(api: Api) -> None:
    page = api.client.get("/redoc")
    sources = _script_sources(page.text)
    assert sources and all(src.startswith("/") for src in sources)
    assert "fonts.googleapis" not in page.text
    assert api.client.get(sources[0]).status_code == 200


def test_root_redirects_to_the_console(api: Api) -> None:
    answer = api.client.get("/", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"] == "/console"
