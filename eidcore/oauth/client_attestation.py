"""OAuth 2.0 Attestation-Based Client Authentication (draft-ietf-oauth-attestation-based-client-auth), as
OpenID4VCI 1.0 Appendix E (wallet attestation) and HAIP 1.0 use it.

- The **Client Attestation JWT** (header ``OAuth-Client-Attestation``; ``typ`` ``oauth-client-attestation+jwt``)
  is signed by the wallet provider, whose certificate chain (``x5c``) must lead to a trust anchor the caller
  configures for wallet providers (deny by default). Claims: ``sub`` (the client id), ``exp``, ``cnf.jwk`` (the
  wallet instance key), optional ``iat``, ``wallet_name``, ``wallet_link``, ``status``.
- The **Client Attestation PoP JWT** (header ``OAuth-Client-Attestation-PoP``; ``typ``
  ``oauth-client-attestation-pop+jwt``) is signed by the ``cnf`` key: ``aud`` (this server), ``jti``, ``iat``,
  optional ``challenge``.

:func:`verify` runs the server checks (draft §5.2) that need no storage; the caller makes ``pop_jti``
single-use and checks the challenge it issued.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from eidcore import jose
from eidcore.claims import DEFAULT_LEEWAY, validate_times
from eidcore.clock import Clock
from eidcore.errors import FormatError, InvalidClient, LommebokError
from eidcore.trust.x509 import validate_chain

ATTESTATION_TYP = "oauth-client-attestation+jwt"
POP_TYP = "oauth-client-attestation-pop+jwt"
ATTESTATION_HEADER = "OAuth-Client-Attestation"
POP_HEADER = "OAuth-Client-Attestation-PoP"
ALGORITHMS = frozenset({"ES256", "ES384", "ES512"})
_ATT_POLICY = jose.JwsPolicy(algorithms=ALGORITHMS, typ=ATTESTATION_TYP, max_bytes=16 * 1024)
_POP_POLICY = jose.JwsPolicy(algorithms=ALGORITHMS, typ=POP_TYP, max_bytes=8 * 1024)


class InvalidClientAttestation(InvalidClient):
    """The client attestation or its proof of possession is invalid (draft §5.2 ``invalid_client_attestation``)."""

    code = "invalid_client_attestation"
    status = 401


class UseAttestationChallenge(InvalidClient):
    """The server requires a fresh attestation challenge in the PoP (draft §8 ``use_attestation_challenge``)."""

    code = "use_attestation_challenge"
    status = 400


@dataclass(frozen=True)
class VerifiedClientAttestation:
    """The outcome of a successful client authentication by attestation."""

    client_id: str
    instance_jwk: dict[str, Any]
    instance_jkt: str
    pop_jti: str
    pop_iat: int
    challenge: str | None
    attestation_exp: int
    wallet_name: str | None
    status: dict[str, Any] | None
    provider: x509.Certificate


def verify(
    attestation: str | None,
    pop: str | None,
    *,
    audience: str,
    trust_anchors: Sequence[x509.Certificate],
    clock: Clock,
    client_id: str | None = None,
    expected_challenge: str | None = None,
    challenge_required: bool = False,
    max_pop_age: int = 300,
    max_skew: int = DEFAULT_LEEWAY,
) -> VerifiedClientAttestation:
    """Authenticate a client by its attestation and PoP (draft §5.2 server checks, in order).

    ``audience`` is this server's issuer identifier; ``client_id`` is the one the request names, if any.
    """
    if not attestation:
        raise InvalidClientAttestation(f"the {ATTESTATION_HEADER} header is required")
    if not pop:
        raise InvalidClientAttestation(f"the {POP_HEADER} header is required")
    now = clock.timestamp()
    try:
        unverified = jose.parse_jws(attestation, max_bytes=_ATT_POLICY.max_bytes)
        chain = jose.x5c_certificates(unverified.header)
        if not chain:
            raise InvalidClientAttestation("the client attestation carries no x5c chain")
        provider = validate_chain(chain, trust_anchors, at=clock.now(), purpose="wallet_provider")
        att = jose.verify_jwt(unverified, provider.public_key(), _ATT_POLICY)  # type: ignore[arg-type]
    except LommebokError as exc:
        if isinstance(exc, InvalidClientAttestation):
            raise
        raise InvalidClientAttestation(f"client attestation rejected: {exc.description}") from exc
    claims = att.claims
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidClientAttestation("the client attestation needs sub")
    if client_id is not None and client_id != sub:
        raise InvalidClientAttestation("client_id does not match the attestation's sub")
    try:
        validate_times(claims, now=now, leeway=max_skew, require=("exp",), integers=True,
                       what="the client attestation")
    except FormatError as exc:
        raise InvalidClientAttestation(exc.description) from exc
    exp: int = claims["exp"]  # present and an integer: validated above
    cnf = claims.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
    if not isinstance(jwk, Mapping):
        raise InvalidClientAttestation("the client attestation needs cnf.jwk")
    if set(jwk) & {"d", "p", "q", "dp", "dq", "qi", "k"}:
        raise InvalidClientAttestation("cnf.jwk must not hold private key material")
    try:
        instance_key = jose.public_key_from_jwk(jwk)
        p = jose.verify_jwt(pop, instance_key, _POP_POLICY)
    except FormatError as exc:
        raise InvalidClientAttestation(f"client attestation PoP rejected: {exc.description}") from exc
    pc = p.claims
    aud = pc.get("aud")
    if aud != audience and not (isinstance(aud, list) and aud == [audience]):
        raise InvalidClientAttestation("the PoP's aud is not this server")
    jti = pc.get("jti")
    if not isinstance(jti, str) or not 8 <= len(jti) <= 256:
        raise InvalidClientAttestation("the PoP needs a jti")
    try:
        validate_times(pc, now=now, leeway=max_skew, require=("iat",), max_age=max_pop_age,
                       max_age_leeway=False, integers=True, what="the client attestation PoP")
    except FormatError as exc:
        raise InvalidClientAttestation(exc.description) from exc
    pop_iat: int = pc["iat"]  # present and an integer: validated above
    challenge = pc.get("challenge")
    if challenge_required and (challenge is None or challenge != expected_challenge):
        raise UseAttestationChallenge("a fresh attestation challenge is required")
    if challenge is not None and expected_challenge is not None and challenge != expected_challenge:
        raise InvalidClientAttestation("the PoP's challenge does not match")
    public = {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y")}
    status = claims.get("status")
    name = claims.get("wallet_name")
    return VerifiedClientAttestation(
        client_id=sub, instance_jwk=public, instance_jkt=jose.jwk_thumbprint_b64u(public), pop_jti=jti,
        pop_iat=pop_iat, challenge=challenge if isinstance(challenge, str) else None, attestation_exp=exp,
        wallet_name=name if isinstance(name, str) else None,
        status=dict(status) if isinstance(status, Mapping) else None, provider=provider,
    )


def make_attestation(
    provider: jose.SigningKey,
    *,
    client_id: str,
    instance_jwk: Mapping[str, Any],
    clock: Clock,
    lifetime: int = 3600,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Sign a client attestation for a wallet instance (wallet provider side; ``provider`` carries ``x5c``)."""
    now = int(clock.timestamp())
    claims: dict[str, Any] = {"sub": client_id, "iat": now, "exp": now + lifetime,
                              "cnf": {"jwk": dict(instance_jwk)}, **(extra or {})}
    return jose.sign_jwt(claims, provider, typ=ATTESTATION_TYP, include_kid=False, include_x5c=True)


def make_pop(instance: jose.SigningKey, *, audience: str, clock: Clock, challenge: str | None = None) -> str:
    """Sign the attestation PoP for one request (wallet side)."""
    claims: dict[str, Any] = {"aud": audience, "jti": secrets.token_urlsafe(18), "iat": int(clock.timestamp())}
    if challenge is not None:
        claims["challenge"] = challenge
    return jose.sign_jwt(claims, instance, typ=POP_TYP, include_kid=False)
