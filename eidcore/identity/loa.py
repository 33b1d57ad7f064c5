"""Levels of assurance: eIDAS low / substantial / high, and the acr values that name them in Norway.

eIDAS levels of assurance (Regulation (EU) 910/2014 art. 8, CIR (EU) 2015/1502), mapped to:

- ID-porten acr values since 2023: ``idporten-loa-low``, ``idporten-loa-substantial`` (formerly ``Level3``),
  ``idporten-loa-high`` (formerly ``Level4``); for eIDAS-notified foreign eIDs ``eidas-loa-substantial`` and
  ``eidas-loa-high``;
- Ansattporten's short acr values ``substantial`` and ``high``;
- the legacy ID-porten values ``Level3`` / ``Level4`` and HelseID's legacy ``security_level`` ``3`` / ``4``.

A relying party must validate the returned ``acr`` against the level it required: use :func:`satisfies`.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

from eidcore.errors import InvalidClaim

__all__ = [
    "LevelOfAssurance",
    "acr_values_at_least",
    "loa_from_acr",
    "loa_from_helseid_security_level",
    "satisfies",
    "to_eidas_acr",
    "to_idporten_acr",
]


class LevelOfAssurance(Enum):
    """An eIDAS level of assurance; ordered, so ``LevelOfAssurance.HIGH > LevelOfAssurance.SUBSTANTIAL``."""

    LOW = "low"
    SUBSTANTIAL = "substantial"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """0 for low, 1 for substantial, 2 for high."""
        return _RANK[self.value]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, LevelOfAssurance):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, LevelOfAssurance):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, LevelOfAssurance):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, LevelOfAssurance):
            return NotImplemented
        return self.rank >= other.rank


_RANK: Final = {"low": 0, "substantial": 1, "high": 2}

_IDPORTEN: Final = {
    LevelOfAssurance.LOW: "idporten-loa-low",
    LevelOfAssurance.SUBSTANTIAL: "idporten-loa-substantial",
    LevelOfAssurance.HIGH: "idporten-loa-high",
}
_EIDAS: Final = {
    LevelOfAssurance.SUBSTANTIAL: "eidas-loa-substantial",
    LevelOfAssurance.HIGH: "eidas-loa-high",
}
_FROM_ACR: Final[dict[str, LevelOfAssurance]] = {
    **{acr: loa for loa, acr in _IDPORTEN.items()},
    **{acr: loa for loa, acr in _EIDAS.items()},
    # eIDAS level names; Ansattporten's acr uses "substantial" and "high".
    "low": LevelOfAssurance.LOW,
    "substantial": LevelOfAssurance.SUBSTANTIAL,
    "high": LevelOfAssurance.HIGH,
    # ID-porten before 2023.
    "Level3": LevelOfAssurance.SUBSTANTIAL,
    "Level4": LevelOfAssurance.HIGH,
}


def loa_from_acr(acr: str) -> LevelOfAssurance:
    """The level an ``acr`` value names (ID-porten OIDC acr values; Ansattporten; legacy Level3/Level4).

    Matching is exact (case-sensitive). An unknown value raises :class:`~eidcore.errors.InvalidClaim`.
    """
    loa = _FROM_ACR.get(acr)
    if loa is None:
        raise InvalidClaim("unknown acr value", claim="acr")
    return loa


def loa_from_helseid_security_level(value: str) -> LevelOfAssurance:
    """HelseID's legacy ``security_level`` ("3" ≈ substantial, "4" ≈ high; older Norwegian framework)."""
    if value == "3":
        return LevelOfAssurance.SUBSTANTIAL
    if value == "4":
        return LevelOfAssurance.HIGH
    raise InvalidClaim("unknown security_level", claim="security_level")


def to_idporten_acr(loa: LevelOfAssurance) -> str:
    """The ID-porten acr value for ``loa`` (``idporten-loa-low|substantial|high``)."""
    return _IDPORTEN[loa]


def to_eidas_acr(loa: LevelOfAssurance) -> str:
    """The ID-porten eIDAS acr value for ``loa``; ID-porten names none for low (raises InvalidClaim)."""
    acr = _EIDAS.get(loa)
    if acr is None:
        raise InvalidClaim("ID-porten has no eIDAS acr value for level low", claim="acr")
    return acr


def acr_values_at_least(minimum: LevelOfAssurance, *, include_eidas: bool = False) -> list[str]:
    """The ID-porten ``acr_values`` that meet ``minimum``, lowest first (for an authorization request)."""
    values = [acr for loa, acr in _IDPORTEN.items() if loa >= minimum]
    if include_eidas:
        values += [acr for loa, acr in _EIDAS.items() if loa >= minimum]
    return values


def satisfies(acr: str, minimum: LevelOfAssurance) -> bool:
    """True when the returned ``acr`` names a level at or above ``minimum`` (unknown values never satisfy)."""
    loa = _FROM_ACR.get(acr)
    return loa is not None and loa >= minimum
