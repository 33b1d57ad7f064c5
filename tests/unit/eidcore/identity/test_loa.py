"""Levels of assurance: ordering and the ID-porten / eIDAS / Ansattporten / legacy acr mappings."""

from __future__ import annotations

import pytest

from eidcore.errors import InvalidClaim
from eidcore.identity import (
    LevelOfAssurance,
    acr_values_at_least,
    loa_from_acr,
    loa_from_helseid_security_level,
    satisfies,
    to_eidas_acr,
    to_idporten_acr,
)

LOW, SUBSTANTIAL, HIGH = LevelOfAssurance.LOW, LevelOfAssurance.SUBSTANTIAL, LevelOfAssurance.HIGH


def test_levels_are_ordered() -> None:
    assert LOW < SUBSTANTIAL < HIGH
    assert HIGH > SUBSTANTIAL >= SUBSTANTIAL
    assert LOW <= LOW
    assert not HIGH < LOW
    assert sorted([HIGH, LOW, SUBSTANTIAL]) == [LOW, SUBSTANTIAL, HIGH]
    assert max(LOW, HIGH, SUBSTANTIAL) is HIGH


def test_levels_do_not_compare_with_other_types() -> None:
    with pytest.raises(TypeError):
        _ = HIGH < 3


@pytest.mark.parametrize(
    ("acr", "loa"),
    [
        ("idporten-loa-low", LOW),
        ("idporten-loa-substantial", SUBSTANTIAL),
        ("idporten-loa-high", HIGH),
        ("eidas-loa-substantial", SUBSTANTIAL),
        ("eidas-loa-high", HIGH),
        ("substantial", SUBSTANTIAL),  # Ansattporten
        ("high", HIGH),
        ("Level3", SUBSTANTIAL),  # ID-porten before 2023
        ("Level4", HIGH),
    ],
)
def test_loa_from_acr(acr: str, loa: LevelOfAssurance) -> None:
    assert loa_from_acr(acr) is loa


@pytest.mark.parametrize("acr", ["", "Level2", "IDPORTEN-LOA-HIGH", "idporten-loa-medium", "eidas-loa-low"])
def test_unknown_acr_is_invalid_claim(acr: str) -> None:
    with pytest.raises(InvalidClaim):
        loa_from_acr(acr)
    assert not satisfies(acr, LOW)


def test_to_idporten_and_eidas_acr_round_trip() -> None:
    for loa in LevelOfAssurance:
        assert loa_from_acr(to_idporten_acr(loa)) is loa
    assert to_idporten_acr(SUBSTANTIAL) == "idporten-loa-substantial"
    assert to_eidas_acr(HIGH) == "eidas-loa-high"
    with pytest.raises(InvalidClaim):
        to_eidas_acr(LOW)


def test_acr_values_at_least() -> None:
    assert acr_values_at_least(SUBSTANTIAL) == ["idporten-loa-substantial", "idporten-loa-high"]
    assert acr_values_at_least(HIGH, include_eidas=True) == ["idporten-loa-high", "eidas-loa-high"]
    assert acr_values_at_least(LOW) == ["idporten-loa-low", "idporten-loa-substantial", "idporten-loa-high"]


def test_satisfies_compares_returned_acr_with_required_level() -> None:
    assert satisfies("idporten-loa-high", SUBSTANTIAL)
    assert satisfies("idporten-loa-substantial", SUBSTANTIAL)
    assert not satisfies("idporten-loa-substantial", HIGH)
    assert not satisfies("idporten-loa-low", SUBSTANTIAL)


def test_helseid_security_level() -> None:
    assert loa_from_helseid_security_level("3") is SUBSTANTIAL
    assert loa_from_helseid_security_level("4") is HIGH
    with pytest.raises(InvalidClaim):
        loa_from_helseid_security_level("2")
