"""Publishable panic-button keys: stable per organisation, unforgeable, bound to one server."""

from __future__ import annotations

import pytest

from safestream.api.web.panic_keys import PanicKeyRejected, PanicKeys


def test_key_names_its_organisation() -> None:
    keys = PanicKeys(b"s" * 32)
    assert keys.org_of(keys.issue(12)) == 12


def test_same_organisation_gets_the_same_key() -> None:
    assert PanicKeys(b"s" * 32).issue(3) == PanicKeys(b"s" * 32).issue(3)


def test_key_with_its_organisation_changed_is_refused() -> None:
    keys = PanicKeys(b"s" * 32)
    forged = keys.issue(1).replace("pk_panic_1_", "pk_panic_2_")
    with pytest.raises(PanicKeyRejected):
        keys.org_of(forged)


def test_key_of_another_server_is_refused() -> None:
    with pytest.raises(PanicKeyRejected):
        PanicKeys(b"t" * 32).org_of(PanicKeys(b"s" * 32).issue(1))


@pytest.mark.parametrize("text", ["", "ss_abc", "pk_panic_x_00", "pk_panic_1_" + "z" * 32])
def test_malformed_keys_are_refused(text: str) -> None:
    with pytest.raises(PanicKeyRejected):
        PanicKeys(b"s" * 32).org_of(text)
