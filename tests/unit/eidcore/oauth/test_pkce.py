"""RFC 7636 PKCE, S256 only."""

from __future__ import annotations

import pytest

from eidcore.errors import InvalidGrant, InvalidRequest
from eidcore.oauth import pkce


def test_rfc7636_appendix_b_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce.s256_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    pkce.verify(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


def test_round_trip_with_fresh_verifier() -> None:
    v = pkce.make_verifier()
    challenge = pkce.check_challenge_request(pkce.s256_challenge(v), "S256")
    pkce.verify(v, challenge)


@pytest.mark.parametrize(
    ("challenge", "method"),
    [(None, "S256"), ("", "S256"), ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "plain"),
     ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", None), ("short", "S256"),
     ("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=", "S256")],
)
def test_authorization_request_without_s256_is_refused(challenge: str | None, method: str | None) -> None:
    with pytest.raises(InvalidRequest):
        pkce.check_challenge_request(challenge, method)


@pytest.mark.parametrize(
    "verifier", [None, "", "x" * 42, "x" * 129, "a" * 42 + "!", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"]
)
def test_wrong_or_malformed_verifier_is_invalid_grant(verifier: str | None) -> None:
    with pytest.raises(InvalidGrant):
        pkce.verify(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
