"""/metrics: Prometheus with the metrics token, or the operator's API key; nobody else."""

from __future__ import annotations

import pytest

from safestream.store.access import create_api_key, create_org
from tests.api.conftest import METRICS_TOKEN, Api


def _status(api: Api, bearer: str | None) -> int:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    return api.client.get("/metrics", headers=headers).status_code


def test_metrics_token_reads_metrics(api: Api) -> None:
    assert _status(api, METRICS_TOKEN) == 200


def test_operator_api_key_reads_metrics(api: Api) -> None:
    create_org(api.db, "Hotline", kind="operator")
    assert _status(api, create_api_key(api.db, "Hotline").key) == 200


def test_anonymous_caller_gets_401_with_a_bearer_challenge(api: Api) -> None:
    answer = api.client.get("/metrics")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "safestream_" not in answer.text


def test_platform_api_key_cannot_read_other_organisations_volumes(api: Api) -> None:
    assert _status(api, api.headers["Authorization"].removeprefix("Bearer ")) == 401


@pytest.mark.parametrize("bearer", ["", "wrong-token", METRICS_TOKEN + "x", METRICS_TOKEN[:-1]])
def test_anything_but_the_token_is_refused(api: Api, bearer: str) -> None:
    assert _status(api, bearer) == 401
