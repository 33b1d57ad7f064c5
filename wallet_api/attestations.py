"""Wallet instance attestations (OpenID4VCI 1.0 Appendix E, draft-ietf-oauth-attestation-based-client-auth) and key
attestations (OpenID4VCI 1.0 Appendix D) for active instances, each with a ``status`` reference into the
wallet-instance status list (draft-ietf-oauth-status-list) this service publishes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody
from sqlalchemy import func
from sqlmodel import col, select

from eidcore import jose
from eidcore.errors import FormatError, InstanceNotActive, InvalidRequest
from eidcore.oauth import client_attestation
from eidcore.runtime import Runtime
from eidcore.status_list import StatusList, StatusReference, StatusValue
from eidcore.status_list.token import issue_jwt
from wallet_api.conventions import CACHEABLE, SIGNED, DPoPHeader
from wallet_api.models import WalInstance
from wallet_api.provider import Wallet
from wallet_api.schemas import (
    MAX_ATTESTED_KEYS,
    EcPublicJwk,
    KeyAttestationRequest,
    KeyAttestationResponse,
    WalletAttestationResponse,
)

__all__ = ["ATTACK_POTENTIAL", "CLIENT_ID", "DEV_STATUS_LIST_TTL", "KEY_ATTESTATION_LIFETIME", "STATUS_LIST_TTL",
           "WALLET_ATTESTATION_LIFETIME", "AttestationsController", "InstanceStatusController", "key_attestation",
           "status_list_token", "status_list_ttl", "wallet_attestation"]

CLIENT_ID = "lommebok-wallet"
WALLET_NAME = "Lommebok"
WALLET_LINK = "https://github.com/lommebok/lommebok"
WALLET_ATTESTATION_LIFETIME = 3600
KEY_ATTESTATION_LIFETIME = 600
STATUS_LIST_BLOCK = 4096
KEY_ATTESTATION_TYP = "key-attestation+jwt"
#: OpenID4VCI 1.0 Appendix D.2 attack-potential values by Android security level
ATTACK_POTENTIAL = {"strongbox": "iso_18045_high", "tee": "iso_18045_moderate", "software": "iso_18045_basic"}
TAGS = ("attestations",)


def status_list_uri(rt: Runtime) -> str:
    return rt.settings.service_url("wallet") + "/status/instances"


def status_claim(rt: Runtime, inst: WalInstance) -> dict[str, Any]:
    return StatusReference(uri=status_list_uri(rt), idx=inst.status_idx).to_json_claim()


def wallet_attestation(rt: Runtime, inst: WalInstance) -> str:
    """A Client Attestation JWT for the instance (OpenID4VCI 1.0 Appendix E; HAIP: x5c, ES256)."""
    if inst.state != "active":
        raise InstanceNotActive(f"the wallet instance is {inst.state}", state=inst.state)
    assert rt.keys is not None
    return client_attestation.make_attestation(
        rt.keys.wallet_provider.signing_key(), client_id=CLIENT_ID, instance_jwk=inst.public_jwk, clock=rt.clock,
        lifetime=WALLET_ATTESTATION_LIFETIME,
        extra={"wallet_name": WALLET_NAME, "wallet_link": WALLET_LINK, "status": status_claim(rt, inst),
               **({"wallet_version": inst.wallet_version} if inst.wallet_version else {})},
    )


def _check_attested_key(jwk: object, i: int) -> dict[str, Any]:
    if isinstance(jwk, EcPublicJwk):
        jwk = jwk.as_dict()
    if not isinstance(jwk, Mapping):
        raise InvalidRequest(f"attested_keys[{i}] must be a JWK object")
    if set(jwk) & {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}:
        raise InvalidRequest(f"attested_keys[{i}] must not hold private key material")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise InvalidRequest(f"attested_keys[{i}] must be a P-256 EC key")
    try:
        jose.public_key_from_jwk(jwk)
    except FormatError as exc:
        raise InvalidRequest(f"attested_keys[{i}] is not a valid JWK: {exc.description}") from None
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


def key_attestation(rt: Runtime, inst: WalInstance, keys: Sequence[object], nonce: str | None) -> str:
    """A key attestation JWT (OpenID4VCI 1.0 Appendix D) for keys the instance holds in its secure storage."""
    if inst.state != "active":
        raise InstanceNotActive(f"the wallet instance is {inst.state}", state=inst.state)
    if not keys or len(keys) > MAX_ATTESTED_KEYS:
        raise InvalidRequest(f"attested_keys must hold 1 to {MAX_ATTESTED_KEYS} keys")
    attested = [_check_attested_key(k, i) for i, k in enumerate(keys)]
    if len({jose.jwk_thumbprint_b64u(k) for k in attested}) != len(attested):
        raise InvalidRequest("attested_keys holds the same key twice")
    if nonce is not None and (not nonce or len(nonce) > 512):
        raise InvalidRequest("nonce must be a non-empty string of at most 512 characters")
    assert rt.keys is not None
    now = int(rt.clock.timestamp())
    level = ATTACK_POTENTIAL.get(inst.security_level, "iso_18045_basic")
    claims: dict[str, Any] = {
        "iat": now, "exp": now + KEY_ATTESTATION_LIFETIME, "attested_keys": attested,
        "key_storage": [level], "user_authentication": [level], "status": status_claim(rt, inst),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return jose.sign_jwt(claims, rt.keys.wallet_provider.signing_key(), typ=KEY_ATTESTATION_TYP,
                         include_kid=False, include_x5c=True)


#: the wallet-instance list's ``ttl`` (draft-ietf-oauth-status-list-18 §6.1): 300 s, 30 s in dev, or
#: ``LOMMEBOK_STATUS_LIST_TTL`` (the same knob as the issuer's lists): how late an issuer may learn of a lost phone
STATUS_LIST_TTL = 300
DEV_STATUS_LIST_TTL = 30


def status_list_ttl(rt: Runtime) -> int:
    """The ``ttl`` of the wallet-instance status list (``Settings.status_list_ttl``, shared with the issuer; else
    :data:`STATUS_LIST_TTL`, or :data:`DEV_STATUS_LIST_TTL` in dev)."""
    if rt.settings.status_list_ttl is not None:
        return rt.settings.status_list_ttl
    return DEV_STATUS_LIST_TTL if rt.settings.environment == "dev" else STATUS_LIST_TTL


async def status_list_token(rt: Runtime) -> str:
    """The wallet-instance Status List Token (2 bits: 0 valid, 1 revoked, 2 suspended), signed with x5c."""
    async with rt.db.session() as s:
        rows = (await s.exec(select(WalInstance.status_idx, WalInstance.state)
                             .where(col(WalInstance.state) != "active"))).all()
        top = (await s.exec(select(func.max(WalInstance.status_idx)))).one()
    size = ((top if isinstance(top, int) else 0) // STATUS_LIST_BLOCK + 1) * STATUS_LIST_BLOCK
    lst = StatusList(size, 2)
    for idx, state in rows:
        lst.set(idx, StatusValue.INVALID if state == "revoked" else StatusValue.SUSPENDED)
    assert rt.keys is not None
    return issue_jwt(lst, uri=status_list_uri(rt), key=rt.keys.wallet_provider.signing_key(), clock=rt.clock,
                     expires_in=3600, ttl=status_list_ttl(rt), include_x5c=True)


class AttestationsController(Controller):
    """``/attestations``: wallet instance and key attestations for the calling (active) instance."""

    path = "/attestations"
    tags = TAGS

    @post("/wallet", operation_id="issueWalletAttestation", responses=SIGNED, status_code=200)
    async def issue_wallet_attestation(self, wallet: Wallet, request: Request[Any, Any, Any],
                                       dpop: DPoPHeader = None) -> Response[WalletAttestationResponse]:
        """A short-lived wallet instance attestation (``oauth-client-attestation+jwt``, cnf = instance key)."""
        me = await wallet.authenticate(request, dpop)
        jwt = wallet_attestation(wallet.rt, me)
        return Response(WalletAttestationResponse(wallet_attestation=jwt, expires_in=WALLET_ATTESTATION_LIFETIME),
                        headers={"Cache-Control": "no-store"})

    @post("/key", operation_id="issueKeyAttestation", responses=SIGNED, status_code=200)
    async def issue_key_attestation(self, wallet: Wallet, request: Request[Any, Any, Any],
                                    data: JSONBody[KeyAttestationRequest], dpop: DPoPHeader = None
                                    ) -> Response[KeyAttestationResponse]:
        """A key attestation (``key-attestation+jwt``, OpenID4VCI 1.0 Appendix D) for the app's credential keys."""
        me = await wallet.authenticate(request, dpop)
        jwt = key_attestation(wallet.rt, me, data.attested_keys, data.nonce)
        return Response(KeyAttestationResponse(key_attestation=jwt, expires_in=KEY_ATTESTATION_LIFETIME),
                        headers={"Cache-Control": "no-store"})


class InstanceStatusController(Controller):
    """``/status/instances``: the wallet-instance status list (draft-ietf-oauth-status-list, JWT form)."""

    path = "/status"
    tags = TAGS

    @get("/instances", operation_id="walletInstanceStatusList", media_type="application/statuslist+jwt",
         opt={CACHEABLE: True})
    async def instance_status_list(self, wallet: Wallet) -> Response[str]:
        """The wallet-instance status list (Token Status List, JWT form) the attestations refer to."""
        token = await status_list_token(wallet.rt)
        max_age = max(1, status_list_ttl(wallet.rt) // 2)
        return Response(token, media_type="application/statuslist+jwt",
                        headers={"Cache-Control": f"max-age={max_age}"})
