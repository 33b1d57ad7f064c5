"""Holder side of a youth wallet: ask the wallet provider for a guardian consent, then present with it.

When a verifier's DCQL query (OpenID4VP 1.0 §6) carries the optional ``guardian_consent`` Credential Query (the
verifier's youth policy, :mod:`verifier.youth`), a child's wallet sends ``POST /wallet/youth/consent-requests``
with the verifier's client id, the claim paths the other Credential Queries ask for, base64url(SHA-256(nonce))
and its holder key; the guardian approves (or a standing rule does) and the answer carries the consent credential
(``specs/credentials/guardian_consent``), presented next to the child's credentials with the same key.

A child's wallet comes under guardian control only with proof from the child's device: the child's wallet shows
a one-time pairing code (:meth:`YouthClient.pairing_code`), which the guardian's wallet sends with the child's
instance id (:func:`register_child_wallet`).

A child's PID comes only as a guardian authorises it: :meth:`YouthClient.request_credential` asks the wallet
provider, which has the issuer offer it under deferred issuance; the wallet redeems the offer (OpenID4VCI 1.0
§6.1, §8: 202 with ``transaction_id``), reports the transaction (:meth:`YouthClient.report_transaction`) and
polls the deferred endpoint (§9) until a guardian approves, or stops when the request is denied.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import httpx
from cryptography import x509

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.encoding import b64u_encode
from eidcore.errors import AccessDenied
from wallet_api.holder.provider_client import ProviderClient
from wallet_api.holder.vp import (
    AuthorizationRequest,
    Held,
    HeldSdJwtVc,
    ResponseResult,
    build_vp_token,
    fetch_request,
    send_error,
    send_response,
)

__all__ = ["CONSENT_QUERY_ID", "YouthClient", "asks_for_consent", "claim_paths", "nonce_hash", "present_with_consent",
           "register_child_wallet"]

CONSENT_QUERY_ID: Final = "guardian_consent"


def nonce_hash(nonce: str) -> str:
    """base64url(SHA-256(nonce)) without padding (guardian_consent ``transaction_nonce_hash``)."""
    return b64u_encode(hashlib.sha256(nonce.encode()).digest())


def asks_for_consent(request: AuthorizationRequest) -> bool:
    """True when the verifier's query has the guardian consent Credential Query."""
    return CONSENT_QUERY_ID in request.dcql_query.ids


def claim_paths(request: AuthorizationRequest) -> list[list[Any]]:
    """The claim paths of every Credential Query but the consent's (what the child would disclose)."""
    out: list[list[Any]] = []
    for qid in request.dcql_query.ids:
        if qid == CONSENT_QUERY_ID:
            continue
        for c in request.dcql_query.credential(qid).claims or ():
            if list(c.path) not in out:
                out.append(list(c.path))
    return out


@dataclass
class YouthClient:
    """The child's wallet instance talking to the wallet provider about consents."""

    provider: ProviderClient

    async def ask(self, request: AuthorizationRequest, holder_key: jose.SigningKey, *,
                  relying_party_name: str | None = None, claims: Sequence[Sequence[Any]] | None = None
                  ) -> dict[str, Any]:
        """Create a consent request for this Authorization Request; the answer's ``status`` is ``approved``
        (with ``consent``) when a standing rule allows it, ``denied``, or ``pending``."""
        body: dict[str, Any] = {
            "client_id": request.client_id, "transaction_nonce_hash": nonce_hash(request.nonce),
            "claims": [list(c) for c in (claims if claims is not None else claim_paths(request))],
            "holder_jwk": holder_key.public_jwk,
        }
        if relying_party_name is not None:
            body["relying_party_name"] = relying_party_name
        r = await self.provider.call("POST", "/youth/consent-requests", json=body)
        out: dict[str, Any] = r.json()
        return out

    async def pairing_code(self) -> dict[str, Any]:
        """A one-time pairing code for this (the child's) wallet instance: ``instance_id``, ``pairing_code`` and
        ``expires_in``, what the app shows the guardian (as text or a QR code)."""
        r = await self.provider.call("POST", "/youth/pairing-codes")
        out: dict[str, Any] = r.json()
        return out

    async def request_credential(self, configuration_id: str = "pid_vc_sd_jwt") -> dict[str, Any]:
        """Ask for a credential under guardian approval; the answer carries the issuer's ``offer_uri``/``tx_code``."""
        r = await self.provider.call("POST", "/youth/credential-requests",
                                     json={"credential_configuration_id": configuration_id})
        out: dict[str, Any] = r.json()
        return out

    async def credential_request(self, request_id: str) -> dict[str, Any]:
        """The credential request's state (``offered``, ``awaiting_approval``, ``approved``, ``denied``)."""
        r = await self.provider.call("GET", f"/youth/credential-requests/{request_id}")
        out: dict[str, Any] = r.json()
        return out

    async def report_transaction(self, request_id: str, transaction_id: str) -> dict[str, Any]:
        """Tell the wallet provider the issuer's deferred ``transaction_id`` (the guardian approves it)."""
        r = await self.provider.call("POST", f"/youth/credential-requests/{request_id}/transaction",
                                     json={"transaction_id": transaction_id})
        out: dict[str, Any] = r.json()
        return out

    async def outcome(self, request_id: str) -> dict[str, Any]:
        """The request's current state (``consent`` once approved)."""
        r = await self.provider.call("GET", f"/youth/consent-requests/{request_id}")
        out: dict[str, Any] = r.json()
        return out

    @staticmethod
    def held(view: dict[str, Any], holder_key: jose.SigningKey) -> HeldSdJwtVc:
        """The approved consent as a held credential (bound to ``holder_key``)."""
        consent = view.get("consent")
        if not isinstance(consent, str):
            raise AccessDenied(f"the consent request is {view.get('status')}: no consent was issued")
        return HeldSdJwtVc(consent, holder_key)


async def register_child_wallet(guardian: ProviderClient, child_id: str, pairing: dict[str, Any]) -> dict[str, Any]:
    """The guardian's wallet registers the child's wallet with what the child's wallet shows (``instance_id`` and
    ``pairing_code`` of :meth:`YouthClient.pairing_code`): it is bound to the child, under guardian control."""
    r = await guardian.call("POST", f"/guardian/children/{child_id}/wallets",
                            json={"instance_id": pairing["instance_id"], "pairing_code": pairing["pairing_code"]})
    out: dict[str, Any] = r.json()
    return out


async def present_with_consent(http: httpx.AsyncClient, uri: str, held: Sequence[Held], youth: YouthClient,
                               holder_key: jose.SigningKey, *, trust_anchors: Sequence[x509.Certificate],
                               clock: Clock = SYSTEM_CLOCK, relying_party_name: str | None = None,
                               wait_seconds: float = 60.0, poll_seconds: float = 1.0) -> tuple[str, ResponseResult]:
    """The child's whole presentation (OpenID4VP 1.0): fetch the request; when it asks for the guardian consent,
    ask the wallet provider and wait (polling) until a rule or a guardian decides; then present with the consent,
    or answer ``access_denied`` when it is denied, expires, or no decision comes within ``wait_seconds``.

    Returns the consent request's final status (``approved``, ``denied``, ``expired``, ``pending`` when waiting
    timed out, or ``not_asked``) and the verifier's answer.
    """
    request = await fetch_request(http, uri, trust_anchors=trust_anchors, clock=clock)
    creds = list(held)
    status = "not_asked"
    if asks_for_consent(request):
        view = await youth.ask(request, holder_key, relying_party_name=relying_party_name)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while view["status"] == "pending" and loop.time() < deadline:
            await asyncio.sleep(poll_seconds)
            view = await youth.outcome(view["id"])
        status = view["status"]
        if status != "approved":
            return status, await send_error(http, request, "access_denied", f"the guardian consent is {status}")
        creds.append(YouthClient.held(view, holder_key))
    return status, await send_response(http, request, build_vp_token(request, creds, clock=clock))
