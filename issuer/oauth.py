"""Pieces of the issuer's authorization server shared by its endpoints (OpenID4VCI 1.0 §5, §6 on OAuth 2.0).

- attestation-based client authentication (draft-ietf-oauth-attestation-based-client-auth, OpenID4VCI 1.0
  Appendix E): challenge, PoP ``jti`` single use, the signer a registered wallet provider, the instance's
  ``status`` checked against the wallet provider's status list (:func:`authenticate_client`);
- DPoP (RFC 9449) proofs with server nonces and ``jti`` replay protection (:func:`check_dpop`);
- access tokens at the resource endpoints (RFC 6750 §2.1 Bearer, RFC 9449 §7 DPoP; :func:`authorize_resource`):
  self-contained and opaque (AES-256-GCM under a deployment key, with their expiry), so a check costs no store
  round trip; a revoked refresh-token family (RFC 9700 §4.14.2) revokes its access tokens too;
- what a request asks for: ``scope`` and ``authorization_details`` of type ``openid_credential`` (RFC 9396,
  OpenID4VCI 1.0 §5.1.1), and the level of assurance that needs;
- :class:`Grant`, what an access token allows.

The endpoints: :mod:`issuer.par`, :mod:`issuer.authorize`, :mod:`issuer.login`, :mod:`issuer.token`. Every
single-use value is taken with the store's atomic consume (see :mod:`issuer.core`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Request

from eidcore.errors import (
    InvalidClient,
    InvalidDPoPProof,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    UseDPoPNonce,
    UseDPoPNonceAtResource,
)
from eidcore.identity import LevelOfAssurance
from eidcore.oauth import client_attestation, dpop
from eidcore.settings import WalletProviderRegistration
from issuer.core import Issuer
from issuer.wallet_status import check_wallet_status

__all__ = [
    "REQUEST_URI_PREFIX",
    "ClientAuth",
    "Grant",
    "authenticate_client",
    "authorize_resource",
    "check_dpop",
    "family_revoked",
    "minimum_loa",
    "new_attestation_challenge",
    "requested_configurations",
    "revoke_family",
    "tx_code_hash",
]

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


# --------------------------------------------------------------------------------------------------
# client authentication and DPoP
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientAuth:
    """Who the client is: its client_id and, when it authenticated with a wallet attestation, the instance key and
    the registered wallet provider that signed the attestation."""

    client_id: str | None
    instance_jkt: str | None = None
    wallet_provider: WalletProviderRegistration | None = None


async def new_attestation_challenge(issuer: Issuer) -> str:
    challenge = secrets.token_urlsafe(24)
    await issuer.put("att-challenge", challenge, {}, issuer.options.attestation_challenge_ttl)
    return challenge


async def authenticate_client(issuer: Issuer, request: Request[Any, Any, Any], client_id: str | None, *,
                              required: bool) -> ClientAuth:
    """Attestation-based client authentication (draft §5.2 checks, PoP ``jti`` single use, challenge).

    The attestation's signer must be a registered wallet provider for the attested ``client_id``
    (:meth:`issuer.clients.ClientRegistry.attested_provider`), checked before any single-use value is spent.
    """
    att_values = request.headers.getall(client_attestation.ATTESTATION_HEADER, [])
    pop_values = request.headers.getall(client_attestation.POP_HEADER, [])
    if not att_values and not pop_values:
        if required:
            raise InvalidClient("client authentication with a wallet attestation is required")
        return ClientAuth(client_id)
    if len(att_values) > 1 or len(pop_values) > 1:
        raise client_attestation.InvalidClientAttestation("exactly one attestation and one PoP header are allowed")
    if issuer.rt.keys is None:  # pragma: no cover - keys load at start
        raise InvalidClient("no trust anchors are loaded")
    opts = issuer.options
    v = client_attestation.verify(
        att_values[0] if att_values else None, pop_values[0] if pop_values else None,
        audience=issuer.issuer_id, trust_anchors=issuer.rt.keys.trust_anchors, clock=issuer.rt.clock,
        client_id=client_id, max_pop_age=opts.proof_max_age, max_skew=opts.clock_skew,
    )
    provider = issuer.clients.attested_provider(v.provider, v.client_id)
    if not await issuer.first_use("att-jti", f"{v.instance_jkt}:{v.pop_jti}", opts.proof_max_age + 2 * opts.clock_skew):
        raise client_attestation.InvalidClientAttestation("the attestation PoP was used before (jti replay)")
    if v.status is not None:
        await check_wallet_status(issuer, v.status)
    if v.challenge is not None:
        if await issuer.consume("att-challenge", v.challenge) is None:
            raise client_attestation.InvalidClientAttestation("the attestation challenge is unknown or used")
    elif opts.attestation_challenge_required:
        fresh = await new_attestation_challenge(issuer)
        raise client_attestation.UseAttestationChallenge(
            "a fresh attestation challenge is required", headers={"OAuth-Client-Attestation-Challenge": fresh})
    return ClientAuth(v.client_id, v.instance_jkt, provider)


async def check_dpop(issuer: Issuer, request: Request[Any, Any, Any], *, htu: str,
                     access_token: str | None = None, resource: bool = False) -> dpop.DPoPProof | None:
    """Verify the request's DPoP proof (RFC 9449 §4.3), its server nonce (§8, §9) and ``jti`` single use."""
    values = request.headers.getall("dpop", [])
    if not values:
        return None
    if len(values) > 1:
        raise InvalidDPoPProof("exactly one DPoP header is allowed")
    opts = issuer.options
    proof = dpop.verify_proof(values[0], htm=request.method, htu=htu, clock=issuer.rt.clock,
                              access_token=access_token, max_age=opts.proof_max_age, max_skew=opts.clock_skew)
    if opts.dpop_nonce_required and not await issuer.dpop_nonce_valid(proof.nonce):
        nonce = await issuer.dpop_nonce()
        if resource:
            raise UseDPoPNonceAtResource("a fresh DPoP nonce is required", headers={
                "DPoP-Nonce": nonce, "WWW-Authenticate": 'DPoP error="use_dpop_nonce", algs="ES256"'})
        raise UseDPoPNonce("a fresh DPoP nonce is required", headers={"DPoP-Nonce": nonce})
    if not await issuer.first_use("dpop-jti", f"{proof.jkt}:{proof.jti}", opts.proof_max_age + 2 * opts.clock_skew):
        raise InvalidDPoPProof("the DPoP proof was used before (jti replay)")
    return proof


def _www_authenticate(error: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'DPoP error="{error}", algs="ES256", Bearer error="{error}"'}


async def authorize_resource(issuer: Issuer, request: Request[Any, Any, Any], path: str) -> tuple[str, dict[str, Any]]:
    """Check the access token (RFC 6750 §2.1 Bearer or RFC 9449 §7 DPoP) for a resource request."""
    header = request.headers.get("authorization")
    if not header:
        raise InvalidToken("an access token is required", headers=_www_authenticate("invalid_token"))
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if not token or len(token) > 4096:
        raise InvalidToken("the access token is malformed", headers=_www_authenticate("invalid_token"))
    state = await issuer.decrypt("access_token", token)
    if state is None:
        raise InvalidToken("the access token is unknown or expired", headers=_www_authenticate("invalid_token"))
    if state.get("family") and await family_revoked(issuer, state["family"]):
        raise InvalidToken("the grant of this access token was revoked", headers=_www_authenticate("invalid_token"))
    jkt = state.get("jkt")
    if jkt:
        if scheme.lower() != "dpop":
            raise InvalidToken("this access token is DPoP-bound: use the DPoP scheme",
                               headers=_www_authenticate("invalid_token"))
        proof = await check_dpop(issuer, request, htu=issuer.url(path), access_token=token, resource=True)
        if proof is None:
            raise InvalidDPoPProof("a DPoP proof is required with a DPoP-bound access token")
        if proof.jkt != jkt:
            raise InvalidDPoPProof("the DPoP proof is signed by another key than the token is bound to")
    elif scheme.lower() != "bearer":
        raise InvalidToken("use the Bearer scheme", headers=_www_authenticate("invalid_token"))
    return token, state


# --------------------------------------------------------------------------------------------------
# requested credentials
# --------------------------------------------------------------------------------------------------


def requested_configurations(issuer: Issuer, scope: str | None, details: str | None) -> tuple[list[str], bool]:
    """The configuration ids asked for by ``scope`` and/or ``authorization_details`` (and whether details were used)."""
    wanted: list[str] = []
    if scope:
        for s in scope.split():
            if issuer.configuration(s) is None:
                raise InvalidScope(f"unknown scope {s[:60]!r}")
            if s not in wanted:
                wanted.append(s)
    used_details = False
    if details:
        try:
            items = json.loads(details)
        except ValueError as exc:
            raise InvalidRequest("authorization_details is not JSON") from exc
        if not isinstance(items, list) or not items or len(items) > 20:
            raise InvalidRequest("authorization_details must be a non-empty JSON array")
        for item in items:
            if not isinstance(item, dict) or item.get("type") != "openid_credential":
                raise InvalidRequest("authorization_details entries must have type openid_credential")
            cid = item.get("credential_configuration_id")
            if not isinstance(cid, str) or issuer.configuration(cid) is None:
                raise InvalidRequest("authorization_details names an unknown credential_configuration_id")
            locations = item.get("locations")
            if locations is not None and (not isinstance(locations, list) or issuer.issuer_id not in locations):
                raise InvalidRequest("authorization_details locations must name this credential issuer")
            if cid not in wanted:
                wanted.append(cid)
        used_details = True
    if not wanted:
        raise InvalidRequest("scope or authorization_details is required")
    return wanted, used_details


def minimum_loa(issuer: Issuer, configs: list[str]) -> LevelOfAssurance:
    levels = [c.required_loa for cid in configs if (c := issuer.configuration(cid)) is not None]
    return max(levels) if levels else LevelOfAssurance.LOW


@dataclass
class Grant:
    """What an access token allows (sealed inside the access token; refresh tokens keep it in the store)."""

    person_id: str
    loa: str
    configs: list[str]
    details: bool
    client_id: str | None
    instance_jkt: str | None
    orgnr: str | None = None
    mandate_id: str | None = None
    require_approval: bool = False
    refresh: bool = False
    #: the refresh-token family (RFC 9700 §4.14.2): every token rotated from one authorization shares it
    family: str | None = None
    #: this grant's identifier, kept across refresh; notification ids are bound to it (OpenID4VCI 1.0 §11)
    grant_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _hash_tx_code(key: bytes, code: str, tx_code: str) -> str:
    return hmac.new(key, f"{code}\x00{tx_code}".encode(), hashlib.sha256).hexdigest()


async def tx_code_hash(issuer: Issuer, code: str, tx_code: str) -> str:
    return _hash_tx_code(await issuer.secret("tx-code-key"), code, tx_code)


async def revoke_family(issuer: Issuer, family: str) -> None:
    """RFC 9700 §4.14.2: a rotated refresh token came back, so revoke every token of its grant (refresh tokens
    and the access tokens issued with them)."""
    await issuer.put("refresh-family-revoked", family, {}, issuer.options.refresh_token_ttl)


async def family_revoked(issuer: Issuer, family: str) -> bool:
    return await issuer.get("refresh-family-revoked", family) is not None
