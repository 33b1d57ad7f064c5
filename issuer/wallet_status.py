"""The status of a wallet instance, from the ``status`` claim of its wallet attestation or key attestation
(OAuth 2.0 Attestation-Based Client Authentication; OpenID4VCI 1.0 Appendix D and E; draft-ietf-oauth-status-list-18).

The referenced Status List Token (JWT form) is fetched with ``rt.http``, its ``x5c`` chain validated to the
trust anchors for the ``wallet_provider`` role, its signature, ``sub`` and times checked, and it is cached for
its ``ttl`` (bounded by ``exp`` and by :data:`MAX_CACHE_SECONDS`). A revoked or suspended instance is refused
with ``invalid_client``; a list that cannot be fetched or verified fails closed (``temporarily_unavailable`` for
an unreachable list, ``invalid_client`` for one that does not verify).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from eidcore import jose
from eidcore.errors import FormatError, StatusInvalid, StatusSuspended, StorageUnavailable
from eidcore.oauth.client_attestation import InvalidClientAttestation
from eidcore.status_list import StatusValue, check_status
from eidcore.status_list.reference import parse_status_claim
from eidcore.status_list.token import VerifiedStatusList, verify_jwt
from eidcore.trust.x509 import validate_chain
from issuer.core import Issuer

__all__ = ["MAX_CACHE_SECONDS", "check_wallet_status"]

#: a wallet provider's list is reused at most this long, whatever its ttl says
MAX_CACHE_SECONDS = 300
#: without a ttl the list is fetched again after this long
DEFAULT_CACHE_SECONDS = 60
MAX_LIST_BYTES = 512 * 1024



async def _fetch(issuer: Issuer, uri: str) -> VerifiedStatusList:
    if issuer.rt.keys is None:  # pragma: no cover - keys load at start
        raise StorageUnavailable("no trust anchors are loaded")
    try:
        r = await issuer.rt.http.get(uri, headers={"Accept": "application/statuslist+jwt"})
    except httpx.HTTPError as exc:
        raise StorageUnavailable(f"the wallet provider's status list is unreachable ({type(exc).__name__})") from exc
    if r.status_code != 200 or len(r.content) > MAX_LIST_BYTES:
        raise StorageUnavailable(f"the wallet provider's status list answered {r.status_code}")
    token = r.text.strip()
    clock = issuer.rt.clock
    try:
        header = jose.parse_jws(token, max_bytes=MAX_LIST_BYTES).header
        chain = jose.x5c_certificates(header)
        if not chain:
            raise InvalidClientAttestation("the wallet provider's status list carries no x5c chain")
        leaf = validate_chain(chain, issuer.rt.keys.trust_anchors, at=clock.now(), purpose="wallet_provider")
        return verify_jwt(token, uri=uri, clock=clock, keys=[leaf.public_key()],  # type: ignore[list-item]
                          max_token_bytes=MAX_LIST_BYTES)
    except FormatError as exc:
        raise InvalidClientAttestation(f"the wallet provider's status list does not verify: {exc.description}"
                                       ) from exc


async def status_list(issuer: Issuer, uri: str) -> VerifiedStatusList:
    """The verified list at ``uri``, from the cache while its ``ttl`` lasts (one fetch at a time per list)."""
    cache = issuer.wallet_status_lists
    hit = cache.get(uri)
    if hit is not None:
        return hit
    async with cache.lock(uri):
        hit = cache.get(uri)
        if hit is not None:
            return hit
        verified = await _fetch(issuer, uri)
        fetched = issuer.timestamp()
        until = verified.cache_until(fetched)
        limit = fetched + (MAX_CACHE_SECONDS if verified.ttl is not None else DEFAULT_CACHE_SECONDS)
        keep = (min(until, limit) if until is not None else limit) - fetched
        if keep > 0:
            cache.set(uri, verified, ttl=keep)
        return verified


async def check_wallet_status(issuer: Issuer, status: Mapping[str, Any] | Any) -> None:
    """Refuse (``invalid_client``) a wallet instance whose ``status`` reference is revoked or suspended."""
    try:
        ref = parse_status_claim(status)
    except FormatError as exc:
        raise InvalidClientAttestation(f"the attestation's status claim is malformed: {exc.description}") from exc
    lst = await status_list(issuer, ref.uri)
    try:
        value = check_status(ref, lst)
    except StatusInvalid as exc:
        raise InvalidClientAttestation("the wallet instance is revoked") from exc
    except StatusSuspended as exc:
        raise InvalidClientAttestation("the wallet instance is suspended") from exc
    except FormatError as exc:
        raise InvalidClientAttestation(f"the wallet instance's status cannot be read: {exc.description}") from exc
    if value != StatusValue.VALID:
        raise InvalidClientAttestation("the wallet instance is not in a valid state")
