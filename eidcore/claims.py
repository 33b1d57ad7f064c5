"""One validator for the time claims of JWTs and CWTs, with one configured leeway.

RFC 7519 §4.1.4 (``exp``: not accepted on or after the time, §7.2 step 10), §4.1.5 (``nbf``: not accepted before
it), §4.1.6 (``iat``), allowing "some small leeway, usually no more than a few minutes, to account for clock
skew"; RFC 8392 §3.1.4-§3.1.6 gives CWTs the same claims under the integer keys 4, 5 and 6 (:data:`CWT_KEYS`).
RFC 8725 §3.10 asks every JWT use to check these the same way; here they are checked once, for every JWT and CWT
eidcore verifies (SD-JWT VC and KB-JWT, status list tokens, DPoP proofs, client attestations and their PoPs).

The rule, with ``L`` the leeway and ``now`` the injected clock's time (seconds since the epoch):

- ``exp`` present: refused when ``now >= exp + L`` (:class:`~eidcore.errors.Expired`);
- ``nbf`` present: refused when ``now + L < nbf`` (:class:`~eidcore.errors.NotYetValid`);
- ``iat`` present: refused when ``now + L < iat`` (issued in the future, :class:`~eidcore.errors.NotYetValid`);
  with ``max_age``, also when ``now > iat + max_age (+ L unless max_age_leeway=False)``
  (:class:`~eidcore.errors.Expired`);
- a name in ``require`` that is absent: :class:`~eidcore.errors.MissingClaim`;
- a value that is not a NumericDate (a finite number: ``null``, booleans, NaN and infinities are not; only
  integers with ``integers=True``): :class:`~eidcore.errors.InvalidClaim`.

Every error carries ``details["claim"]`` (the claim name, ``exp``/``nbf``/``iat``) and ``details["reason"]``
(``missing``, ``type``, ``exp``, ``nbf``, ``iat``, ``max_age``), so a protocol that answers with its own error
(DPoP, client attestation, key binding) wraps it without parsing messages. Messages never carry claim values.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from eidcore.errors import Expired, InvalidClaim, MissingClaim, NotYetValid

__all__ = ["CWT_KEYS", "DEFAULT_LEEWAY", "JWT_KEYS", "TimeClaim", "TimeClaims", "validate_times"]

#: Clock skew tolerated on ``exp``, ``nbf`` and ``iat``, seconds: the one leeway of every JWT and CWT check.
DEFAULT_LEEWAY: Final = 60

TimeClaim = Literal["exp", "nbf", "iat"]

#: Where the time claims live in a JWT claims set (RFC 7519 §4.1) and in a CWT claims map (RFC 8392 §3.1).
JWT_KEYS: Final[Mapping[TimeClaim, str | int]] = {"exp": "exp", "nbf": "nbf", "iat": "iat"}
CWT_KEYS: Final[Mapping[TimeClaim, str | int]] = {"exp": 4, "nbf": 5, "iat": 6}
_IAT: Final = ("iat",)


@dataclass(frozen=True, slots=True)
class TimeClaims:
    """The time claims that passed :func:`validate_times` (``None`` when absent), as numbers."""

    exp: int | float | None
    nbf: int | float | None
    iat: int | float | None


def _numeric_date(claims: Mapping[Any, Any], name: TimeClaim, key: str | int, *, required: bool, integers: bool,
                  what: str) -> int | float | None:
    if key not in claims:
        if required:
            raise MissingClaim(f"{what} has no {name}", claim=name, reason="missing")
        return None
    value = claims[key]
    if isinstance(value, bool) or not isinstance(value, int if integers else int | float) or not math.isfinite(value):
        kind = "an integer NumericDate" if integers else "a NumericDate"
        raise InvalidClaim(f"{name} must be {kind}", claim=name, reason="type")
    return value


def validate_times(
    claims: Mapping[Any, Any],
    *,
    now: float,
    leeway: float = DEFAULT_LEEWAY,
    require: Collection[str] = _IAT,
    max_age: float | None = None,
    max_age_leeway: bool = True,
    integers: bool = False,
    keys: Mapping[TimeClaim, str | int] = JWT_KEYS,
    what: str = "the token",
) -> TimeClaims:
    """Check ``exp``, ``nbf`` and ``iat`` of ``claims`` at ``now`` (RFC 7519 §4.1.4-§4.1.6, RFC 8392 §3.1.4-§3.1.6).

    ``require`` lists the claims that must be present; ``max_age`` bounds how old ``iat`` may be (``iat`` is then
    needed: list it in ``require``); ``max_age_leeway=False`` applies the leeway to future ``iat`` only (DPoP and
    attestation PoP windows); ``integers`` refuses fractional NumericDates; ``keys`` is :data:`CWT_KEYS` for a
    CWT; ``what`` names the token in messages. See the module docstring for the errors.
    """
    exp = _numeric_date(claims, "exp", keys["exp"], required="exp" in require, integers=integers, what=what)
    nbf = _numeric_date(claims, "nbf", keys["nbf"], required="nbf" in require, integers=integers, what=what)
    iat = _numeric_date(claims, "iat", keys["iat"], required="iat" in require, integers=integers, what=what)
    if exp is not None and now >= exp + leeway:
        raise Expired(f"{what} has expired (exp)", claim="exp", reason="exp")
    if nbf is not None and now + leeway < nbf:
        raise NotYetValid(f"{what} is not yet valid (nbf)", claim="nbf", reason="nbf")
    if iat is not None:
        if now + leeway < iat:
            raise NotYetValid(f"{what} was issued in the future (iat)", claim="iat", reason="iat")
        if max_age is not None and now > iat + max_age + (leeway if max_age_leeway else 0):
            raise Expired(f"{what} is older than the accepted maximum age (iat)", claim="iat", reason="max_age")
    return TimeClaims(exp=exp, nbf=nbf, iat=iat)
