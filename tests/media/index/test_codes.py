"""Hex text <-> code arrays."""

from __future__ import annotations

import numpy as np
import pytest

from safestream.core.errors import InvalidSignal
from safestream.media.index import codes_to_hex, hex_to_codes

BRIDGE = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def test_hex_round_trips_through_codes() -> None:
    codes = hex_to_codes([BRIDGE, "0" * 64])
    assert codes.shape == (2, 32) and codes.dtype == np.uint8
    assert codes_to_hex(codes) == [BRIDGE, "0" * 64]


def test_first_hex_digits_are_the_first_byte() -> None:
    assert hex_to_codes([BRIDGE])[0, 0] == 0xF8


def test_upper_case_hex_is_accepted() -> None:
    assert codes_to_hex(hex_to_codes([BRIDGE.upper()])) == [BRIDGE]


@pytest.mark.parametrize("text", ["", "f8f8", BRIDGE + "0", "z" * 64])
def test_text_that_is_not_64_hex_digits_is_rejected(text: str) -> None:
    with pytest.raises(InvalidSignal):
        hex_to_codes([text])
