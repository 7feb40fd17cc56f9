"""Identifiers are NFKC-normalised and invisible characters refused, at intake and linking."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from safestream.core.entities import Entity, EntityKind, normalize_identifier_text
from safestream.core.errors import InvalidInput
from safestream.core.reports import ReportIn

INVISIBLE = {
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "byte order mark": "\ufeff",
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "soft hyphen": "\u00ad",
}


@pytest.mark.parametrize("char", INVISIBLE.values(), ids=INVISIBLE.keys())
def test_identifier_with_an_invisible_format_character_is_refused(char: str) -> None:
    with pytest.raises(InvalidInput, match="invisible"):
        normalize_identifier_text(f"pay{char}er")


def test_compatibility_forms_fold_to_one_identifier() -> None:
    # Fullwidth letters and the "ﬁ" ligature are the same account as their plain spelling.
    assert normalize_identifier_text("ｐａｙｅｒ\ufb01") == "payerfi"


def test_linking_compares_the_normalised_identifier() -> None:
    plain = Entity.of(EntityKind.PAYMENT_ACCOUNT, "payer-1")
    assert Entity.of(EntityKind.PAYMENT_ACCOUNT, "ｐａｙｅｒ-１") == plain
    with pytest.raises(InvalidInput, match="invisible"):
        Entity.of(EntityKind.ACCOUNT, "acme:u\u200b1")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reported_accounts": [{"platform": "acme", "id": "u\u200b1"}]}, "reported_accounts.0.id"),
        ({"payment_accounts": ["gcash\u202e1"]}, "payment_accounts.0"),
        (
            {"reported_accounts": [{"platform": "acme", "id": "u1", "email": "a\u2060@b.org"}]},
            "reported_accounts.0.email",
        ),
        (
            {"live_stream": {"stream_id": "s", "viewers": [{"account_id": "v\ufeff1"}]}},
            "live_stream.viewers.0.account_id",
        ),
        (
            {
                "live_stream": {
                    "stream_id": "s",
                    "payments": [{"payer_account": "p\u200c", "amount": 1, "currency": "USD"}],
                }
            },
            "live_stream.payments.0.payer_account",
        ),
    ],
)
def test_report_model_refuses_invisible_characters_naming_the_field(
    body: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        ReportIn.model_validate(body)
    located = [".".join(str(p) for p in e["loc"]) for e in caught.value.errors()]
    assert located == [field]


def test_report_model_stores_the_normalised_identifiers() -> None:
    body = ReportIn.model_validate(
        {
            "reported_accounts": [{"platform": "acme", "id": "ｕ１", "email": "Ｕ@Example.org"}],
            "payment_accounts": ["ｇｃａｓｈ-１"],
        }
    )
    assert body.reported_accounts[0].id == "u1"
    assert body.reported_accounts[0].email == "u@example.org"
    assert body.payment_accounts == ["gcash-1"]
