"""Classification once, labels derived: every scale's label follows from one internal grade."""

from __future__ import annotations

import itertools

import pytest

from safestream.core.classification import (
    Conduct,
    Depiction,
    Development,
    Grade,
    derive,
    grade_from_vic,
    parse_grade,
)
from safestream.core.errors import InvalidInput


@pytest.mark.parametrize(
    ("label", "us", "uk", "interpol", "vic"),
    [
        ("prepubescent_penetrative", "A1", "A", "baseline", 1),
        ("prepubescent_non_penetrative", "A1", "B", "baseline", 1),
        ("prepubescent_exhibition", "A2", "C", "baseline", 1),
        ("pubescent_penetrative", "B1", "A", "national", 1),
        ("pubescent_non_penetrative", "B1", "B", "national", 1),
        ("pubescent_exhibition", "B2", "C", "national", 1),
        ("prepubescent_penetrative_cgi", "A1", "A", "national", 3),
        ("unknown_penetrative", None, "A", "national", 1),
        ("exploitative", None, None, "not_illegal", 2),
        ("benign", None, None, "not_illegal", None),
        ("unclassified", None, None, None, 0),
    ],
)
def test_each_scale_is_derived_from_the_internal_label(
    label: str, us: str | None, uk: str | None, interpol: str | None, vic: int | None
) -> None:
    derived = derive(label)
    assert (derived.us_industry, derived.uk, derived.interpol, derived.vic_us) == (
        us,
        uk,
        interpol,
        vic,
    )


def test_an_industry_grade_alone_leaves_the_uk_category_unknown_rather_than_guessed() -> None:
    assert derive("A1").us_industry == "A1"
    assert derive("A1").uk is None
    assert derive("B2").uk == "C"  # exhibition is category C whatever the age


def test_every_grade_survives_its_own_label() -> None:
    for development, conduct, depiction in itertools.product(Development, Conduct, Depiction):
        grade = Grade(development, conduct, depiction)
        again = parse_grade(grade.label)
        assert derive(again) == derive(grade)


def test_an_unknown_label_is_refused_with_the_vocabulary() -> None:
    with pytest.raises(InvalidInput, match="prepubescent"):
        parse_grade("category-x")


def test_a_vic_category_read_back_keeps_its_category() -> None:
    for category in (0, 1, 2, 3):
        assert derive(grade_from_vic(category)).vic_us == category
