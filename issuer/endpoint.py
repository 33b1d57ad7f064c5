"""The OpenID4VCI 1.0 resource endpoints: nonce (§7), credential (§8), deferred credential (§9), notification
(§11), with key proofs (Appendix F.1 ``jwt`` with ``jwk`` keys, optionally with a key attestation, Appendix D;
Appendix F.3 ``attestation``) and credential request / response encryption (§10: ECDH-ES with A128GCM / A256GCM).

The hot path costs one store write (the c_nonce's use, ``SET NX``) and one SQL statement (the issuance records; a
mandate or employee role batch adds one ``UPDATE`` naming what it was issued for, ``subject_ref``):
c_nonces and notification ids are sealed values (HMAC, no store write), access tokens are self-contained, claims
are read from the register once per access grant and kept only in this worker's memory (:class:`ClaimsCache`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.response import Response
from sqlalchemy import update
from sqlmodel import col

from eidcore import jose
from eidcore.errors import (
    CredentialRequestDenied,
    FormatError,
    InvalidClient,
    InvalidCredentialRequest,
    InvalidEncryptionParameters,
    InvalidNonce,
    InvalidNotificationId,
    InvalidNotificationRequest,
    InvalidProof,
    InvalidTransactionId,
    LommebokError,
    UnknownCredentialConfiguration,
    UnknownCredentialIdentifier,
)
from eidcore.identity import LevelOfAssurance
from eidcore.runtime import pseudonym
from eidcore.trust.x509 import validate_chain
from issuer.core import Configuration, Issuer, token_hash
from issuer.credentials import Subject, build_claims, sign_credential, subject_ref
from issuer.models import IssCredential
from issuer.oauth import NO_STORE, authorize_resource
from issuer.status import allocate
from issuer.wallet_status import check_wallet_status

__all__ = ["credential", "deferred", "nonce", "notification", "verify_proofs"]

log = logging.getLogger("lommebok.issuer")

PROOF_TYP = "openid4vci-proof+jwt"
KEY_ATTESTATION_TYP = "key-attestation+jwt"
PROOF_POLICY = jose.JwsPolicy(algorithms=frozenset({"ES256"}), typ=PROOF_TYP, max_bytes=16 * 1024)
KEY_ATTESTATION_POLICY = jose.JwsPolicy(algorithms=frozenset({"ES256"}), typ=KEY_ATTESTATION_TYP,
                                        max_bytes=32 * 1024)
ENCS = frozenset({"A128GCM", "A256GCM"})
_GRANT_TAG_LEN = 16
EVENTS = frozenset({"credential_accepted", "credential_failure", "credential_deleted"})


async def nonce(issuer: Issuer) -> Response[Any]:
    """§7: a fresh, unpredictable c_nonce (single use), ``Cache-Control: no-store``, and a DPoP nonce.

    The c_nonce is 128 random bits sealed with the time (HMAC, :meth:`Issuer.seal`), so issuing one costs no
    store write; :func:`take_c_nonce` checks the seal and age and records its use atomically in the shared store.
    """
    value = await issuer.seal("c_nonce", secrets.token_bytes(16))
    headers = {**NO_STORE, "DPoP-Nonce": await issuer.dpop_nonce()}
    return Response({"c_nonce": value}, headers=headers)


# --------------------------------------------------------------------------------------------------
# request body
# --------------------------------------------------------------------------------------------------


async def _json_body(issuer: Issuer, request: Request[Any, Any, Any]) -> tuple[dict[str, Any], bool]:
    """The request object, decrypted when sent as ``application/jwt`` (§10); returns (body, was_encrypted)."""
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    raw = await request.body()
    if ctype == "application/jwt":
        key = await issuer.request_encryption_key()
        try:
            jwe = jose.decrypt_jwe(raw.decode("ascii"), key)
        except (FormatError, UnicodeDecodeError) as exc:
            raise InvalidEncryptionParameters("the encrypted credential request does not decrypt") from exc
        if jwe.header.get("kid") not in (None, key.kid):
            raise InvalidEncryptionParameters("the request is encrypted to an unknown key")
        payload = jwe.plaintext
        if payload.count(b".") == 2 and not payload.lstrip().startswith(b"{"):
            # a JWT inside the JWE: take its claims (an unsecured JWT as the spec's examples show)
            try:
                payload = jose.parse_jws(payload.decode("ascii")).payload
            except (FormatError, UnicodeDecodeError) as exc:
                raise InvalidCredentialRequest("the encrypted payload is not a JSON object") from exc
        encrypted = True
    elif ctype == "application/json":
        payload = raw
        encrypted = False
    else:
        raise InvalidCredentialRequest("the body must be application/json (or application/jwt when encrypted)")
    try:
        body = jose.parse_json_object(payload, what="credential request")
    except FormatError as exc:
        raise InvalidCredentialRequest("the body is not a JSON object") from exc
    return body, encrypted


@dataclass(frozen=True)
class ResponseEncryption:
    jwk: dict[str, Any]
    enc: str


def _response_encryption(body: Mapping[str, Any], encrypted: bool) -> ResponseEncryption | None:
    cre = body.get("credential_response_encryption")
    if cre is None:
        return None
    if not isinstance(cre, dict):
        raise InvalidEncryptionParameters("credential_response_encryption must be an object")
    if not encrypted:
        raise InvalidEncryptionParameters("a request that asks for an encrypted response must itself be encrypted")
    jwk, enc = cre.get("jwk"), cre.get("enc")
    if cre.get("zip") is not None:
        raise InvalidEncryptionParameters("compression is not supported")
    if enc not in ENCS:
        raise InvalidEncryptionParameters("enc must be A128GCM or A256GCM")
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise InvalidEncryptionParameters("jwk must be a P-256 EC public key")
    if {"d", "p", "q", "k"} & set(jwk):
        raise InvalidEncryptionParameters("jwk must not hold private key material")
    if jwk.get("alg", "ECDH-ES") != "ECDH-ES":
        raise InvalidEncryptionParameters("jwk alg must be ECDH-ES")
    try:
        jose.public_key_from_jwk(jwk)
    except FormatError as exc:
        raise InvalidEncryptionParameters("jwk is not a usable public key") from exc
    return ResponseEncryption(dict(jwk), str(enc))


def _answer(body: dict[str, Any], enc: ResponseEncryption | None, status: int = 200) -> Response[Any]:
    if enc is None:
        return Response(body, status_code=status, headers=NO_STORE)
    token = jose.encrypt_jwe(jose.json_dumps(body), enc.jwk, alg="ECDH-ES", enc=enc.enc)
    return Response(token.encode("ascii"), status_code=status, media_type="application/jwt", headers=NO_STORE)


# --------------------------------------------------------------------------------------------------
# proofs
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProofResult:
    holder_jwks: list[dict[str, Any]]
    attested: bool
    #: RFC 7638 thumbprints of ``holder_jwks``, in the same order
    holder_jkts: list[str]


def _public(jwk: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y")}


async def _verify_key_attestation(issuer: Issuer, token: Any, c_nonce: str | None
                                  ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Appendix D: a key attestation from a trusted wallet provider; returns the attested keys and the claims.

    With ``c_nonce`` its ``nonce`` must equal it. A ``status`` reference is checked against the wallet provider's
    status list (a revoked or suspended wallet instance is refused).
    """
    if not isinstance(token, str) or issuer.rt.keys is None:
        raise InvalidProof("key_attestation must be a JWT")
    now = issuer.timestamp()
    skew = issuer.options.clock_skew
    try:
        unverified = jose.parse_jws(token, max_bytes=KEY_ATTESTATION_POLICY.max_bytes)
        chain = jose.x5c_certificates(unverified.header)
        if not chain:
            raise InvalidProof("the key attestation carries no x5c chain")
        leaf = validate_chain(chain, issuer.rt.keys.trust_anchors, at=issuer.rt.clock.now(), purpose="wallet_provider")
        verified = jose.verify_jwt(unverified, leaf.public_key(), KEY_ATTESTATION_POLICY)  # type: ignore[arg-type]
    except InvalidProof:
        raise
    except FormatError as exc:
        raise InvalidProof(f"key attestation rejected: {exc.description}") from exc
    c = verified.claims
    exp, iat = c.get("exp"), c.get("iat")
    if not isinstance(iat, int) or iat > now + skew:
        raise InvalidProof("the key attestation needs a valid iat")
    if not isinstance(exp, int) or exp <= now - skew:
        raise InvalidProof("the key attestation has expired or lacks exp")
    if c_nonce is not None and c.get("nonce") != c_nonce:
        raise InvalidProof("the key attestation's nonce is not the c_nonce")
    keys = c.get("attested_keys")
    if not isinstance(keys, list) or not keys or len(keys) > 100:
        raise InvalidProof("the key attestation needs attested_keys")
    out = []
    for k in keys:
        if not isinstance(k, dict) or {"d", "p", "q", "k"} & set(k):
            raise InvalidProof("attested_keys must be public JWKs")
        try:
            jose.public_key_from_jwk(k)
        except FormatError as exc:
            raise InvalidProof("an attested key is not usable") from exc
        out.append(_public(k))
    if c.get("status") is not None:
        try:
            await check_wallet_status(issuer, c["status"])
        except InvalidClient as exc:
            raise InvalidProof(f"key attestation rejected: {exc.description}") from exc
    return out, dict(c)


async def _attestation_proof(issuer: Issuer, conf: Configuration, items: Any) -> ProofResult:
    """Appendix F.3: the ``attestation`` proof type, a key attestation as the one proof; ``nonce`` = c_nonce."""
    if not isinstance(items, list) or len(items) != 1:
        raise InvalidProof("proofs.attestation must be an array of exactly one key attestation")
    keys, claims = await _verify_key_attestation(issuer, items[0], None)
    c_nonce = claims.get("nonce")
    if not isinstance(c_nonce, str) or not c_nonce:
        raise InvalidProof("the key attestation must carry the c_nonce from the nonce endpoint as nonce")
    await take_c_nonce(issuer, c_nonce)
    unique: dict[str, dict[str, Any]] = {}
    for k in keys:
        unique.setdefault(jose.jwk_thumbprint_b64u(k), k)
    batch_size = issuer.rt.settings.issuer.batch_size
    if len(unique) > batch_size:
        raise InvalidCredentialRequest(f"at most {batch_size} keys are accepted (batch_size)")
    del conf
    return ProofResult(list(unique.values()), True, list(unique))


async def take_c_nonce(issuer: Issuer, c_nonce: str) -> None:
    """§7: accept a c_nonce this issuer made, not older than its ttl, exactly once (atomic ``SET NX``)."""
    ttl = issuer.rt.settings.issuer.c_nonce_ttl
    if await issuer.unseal("c_nonce", c_nonce, ttl) is None:
        raise InvalidNonce("the c_nonce is unknown or expired; get a fresh one")
    if not await issuer.first_use("cnonce-used", c_nonce, ttl + 2 * issuer.options.clock_skew):
        raise InvalidNonce("the c_nonce was already used; get a fresh one")


async def verify_proofs(issuer: Issuer, conf: Configuration, proofs: Any, client_id: str | None) -> ProofResult:
    """Check ``proofs.jwt`` (§8.2, Appendix F.1) or ``proofs.attestation`` (Appendix F.3) and consume their
    c_nonce exactly once. Proof keys come in ``jwk``; ``kid`` (DID URLs) and ``x5c`` are refused as unsupported."""
    if not isinstance(proofs, dict) or len(proofs) != 1:
        raise InvalidProof("proofs must be an object with exactly one proof type")
    (ptype, items), = proofs.items()
    if ptype == "attestation":
        return await _attestation_proof(issuer, conf, items)
    if ptype != "jwt":
        raise InvalidProof(f"proof type {str(ptype)[:30]!r} is not supported (use jwt or attestation)")
    batch_size = issuer.rt.settings.issuer.batch_size
    if not isinstance(items, list) or not items:
        raise InvalidProof("proofs.jwt must be a non-empty array")
    if len(items) > batch_size:
        raise InvalidCredentialRequest(f"at most {batch_size} proofs are accepted (batch_size)")
    opts = issuer.options
    now = issuer.timestamp()
    nonces: set[str] = set()
    holder: list[dict[str, Any]] = []
    attested = False
    pending_attestations: list[Any] = []
    for item in items:
        if not isinstance(item, str):
            raise InvalidProof("each jwt proof must be a string")
        try:
            unverified = jose.parse_jws(item, max_bytes=PROOF_POLICY.max_bytes)
            h = unverified.header
            if sum(1 for k in ("jwk", "kid", "x5c") if k in h) != 1:
                raise InvalidProof("a jwt proof header carries exactly one of jwk, kid, x5c")
            if "kid" in h:
                raise InvalidProof("kid (a DID URL) proof keys are not supported: DIDs are not supported; "
                                   "put the key in jwk")
            if "x5c" in h:
                raise InvalidProof("x5c proof keys are not supported (no trust anchors are configured for "
                                   "holder certificates); put the key in jwk")
            verified = jose.verify_jws_with_header_jwk(unverified, PROOF_POLICY)
            claims = jose.parse_json_object(verified.payload, what="jwt proof")
        except InvalidProof:
            raise
        except FormatError as exc:
            raise InvalidProof(f"jwt proof rejected: {exc.description}") from exc
        aud = claims.get("aud")
        if aud != issuer.issuer_id and not (isinstance(aud, list) and aud == [issuer.issuer_id]):
            raise InvalidProof("the proof's aud is not this credential issuer")
        iat = claims.get("iat")
        if not isinstance(iat, int) or isinstance(iat, bool):
            raise InvalidProof("the proof needs a numeric iat")
        if iat > now + opts.clock_skew or iat < now - opts.proof_max_age:
            raise InvalidProof("the proof's iat is outside the accepted window")
        if "iss" in claims and client_id is not None and claims["iss"] != client_id:
            raise InvalidProof("the proof's iss is not the client_id")
        n = claims.get("nonce")
        if not isinstance(n, str) or not n:
            raise InvalidProof("the proof must carry the c_nonce from the nonce endpoint")
        nonces.add(n)
        key = _public(h["jwk"])
        if "key_attestation" in h:
            pending_attestations.append((h["key_attestation"], key))
        holder.append(key)
    if len(nonces) != 1:
        raise InvalidProof("all proofs of a request must carry the same c_nonce")
    holder_jkts = [jose.jwk_thumbprint_b64u(k) for k in holder]
    if len(set(holder_jkts)) != len(holder):
        raise InvalidProof("each proof of a batch must use a different key")
    c_nonce = nonces.pop()
    await take_c_nonce(issuer, c_nonce)
    if pending_attestations:
        attested = True
        keys: list[dict[str, Any]] = []
        for token, signer in pending_attestations:
            attested_keys, _ = await _verify_key_attestation(issuer, token, c_nonce)
            thumbs = {jose.jwk_thumbprint_b64u(k) for k in attested_keys}
            if jose.jwk_thumbprint_b64u(signer) not in thumbs:
                raise InvalidProof("the proof is not signed by an attested key")
            keys.extend(attested_keys)
        holder = keys
        holder_jkts = [jose.jwk_thumbprint_b64u(k) for k in holder]
    elif conf.id in opts.key_attestation_required:
        raise InvalidProof("this credential configuration requires a key attestation")
    unique: dict[str, dict[str, Any]] = {}
    for jkt, k in zip(holder_jkts, holder, strict=True):
        unique.setdefault(jkt, k)
    if len(unique) > batch_size:
        raise InvalidCredentialRequest(f"at most {batch_size} keys are accepted (batch_size)")
    return ProofResult(list(unique.values()), attested, list(unique))


# --------------------------------------------------------------------------------------------------
# issuance
# --------------------------------------------------------------------------------------------------


class ClaimsCache:
    """Claims read once per access grant, kept only in this worker's memory (never in the shared store or logs).

    Keyed by the SHA-256 of the access token and the credential type; an entry lives no longer than the access
    token, and the cache is bounded (oldest first out). Another worker, or a new grant, reads the register again.
    """

    def __init__(self, max_entries: int = 2048) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], tuple[float, dict[str, Any]]] = OrderedDict()

    def get(self, key: tuple[str, str], now: float) -> dict[str, Any] | None:
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[0] <= now:
            del self._entries[key]
            return None
        return hit[1]

    def put(self, key: tuple[str, str], claims: dict[str, Any], expires: float) -> None:
        self._entries[key] = (expires, claims)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)


async def _claims(issuer: Issuer, conf: Configuration, state: Mapping[str, Any], grant_key: str | None
                  ) -> dict[str, Any]:
    subject = Subject(state["person_id"], state.get("orgnr"), state.get("mandate_id"))
    if grant_key is None:
        return await build_claims(issuer, conf.type, subject)
    cache: ClaimsCache = issuer.caches.setdefault("claims", ClaimsCache())
    key = (grant_key, conf.type.id)
    now = issuer.rt.clock.timestamp()
    claims = cache.get(key, now)
    if claims is None:
        claims = await build_claims(issuer, conf.type, subject)
        cache.put(key, claims, now + issuer.options.access_token_ttl)
    return claims


async def _issue(issuer: Issuer, conf: Configuration, state: Mapping[str, Any], holder_jwks: list[dict[str, Any]],
                 grant_key: str | None = None, holder_jkts: list[str] | None = None) -> dict[str, Any]:
    claims = await _claims(issuer, conf, state, grant_key)
    batch_id = secrets.token_urlsafe(16)
    if holder_jkts is None:
        holder_jkts = [jose.jwk_thumbprint_b64u(k) for k in holder_jwks]
    allocations = await allocate(
        issuer, conf, person_id=state["person_id"], holder_jkts=holder_jkts,
        instance_jkt=state.get("instance_jkt"), client_id=state.get("client_id"), loa=state["loa"],
        batch_id=batch_id,
    )
    ref = subject_ref(conf.type.id, claims)
    if ref is not None:
        await _record_subject_ref(issuer, batch_id, ref)
    creds = [{"credential": sign_credential(issuer, conf, claims, k, a)}
             for k, a in zip(holder_jwks, allocations, strict=True)]
    notification_id = await issuer.seal("notification", batch_id.encode("ascii") + _grant_tag(state))
    log.info("issued %d x %s (batch %s, subject %s)", len(creds), conf.id, batch_id[:8],
             pseudonym(state["person_id"], salt="lommebok-issuer-subject"))
    return {"credentials": creds, "notification_id": notification_id}


async def _record_subject_ref(issuer: Issuer, batch_id: str, ref: str) -> None:
    """Name what the batch was issued for (mandate or organisation) before the credentials leave, so a revocation
    selects only them. Mandate and employee role credentials only: PID and youth issuance keep their one write.
    Until this commits the records have no ``subject_ref``; revocations by reference also take the agent's records
    without one (:func:`issuer.mandates.change_status_by_ref`), so none slips through in between."""
    async with issuer.rt.db.session() as s:
        await s.exec(update(IssCredential).where(col(IssCredential.batch_id) == batch_id)
                     .values(subject_ref=ref))
        await s.commit()


def _configuration(issuer: Issuer, body: Mapping[str, Any], state: Mapping[str, Any]) -> Configuration:
    ident, cid = body.get("credential_identifier"), body.get("credential_configuration_id")
    if ident is not None and cid is not None:
        raise InvalidCredentialRequest("send credential_identifier or credential_configuration_id, not both")
    identifiers = state.get("identifiers")
    if identifiers:
        if ident is None:
            raise InvalidCredentialRequest("this access token needs credential_identifier")
        if not isinstance(ident, str) or ident not in identifiers:
            raise UnknownCredentialIdentifier("unknown credential_identifier")
        cid = identifiers[ident]
    else:
        if ident is not None:
            raise UnknownCredentialIdentifier("this access token has no credential identifiers")
        if cid is None:
            raise InvalidCredentialRequest("credential_configuration_id is required")
    if not isinstance(cid, str) or issuer.configuration(cid) is None:
        raise UnknownCredentialConfiguration("unknown credential_configuration_id")
    if cid not in state["configs"]:
        raise InvalidCredentialRequest("this access token does not cover that credential configuration")
    conf = issuer.configuration(cid)
    assert conf is not None
    return conf


async def credential(issuer: Issuer, request: Request[Any, Any, Any]) -> Response[Any]:
    """§8: issue one credential per proof key (batch), immediately or deferred."""
    token, state = await authorize_resource(issuer, request, "/credential")
    body, encrypted = await _json_body(issuer, request)
    for legacy in ("proof", "format", "credential_definition"):
        if legacy in body:
            raise InvalidCredentialRequest(f"{legacy} is not a parameter of OpenID4VCI 1.0")
    enc = _response_encryption(body, encrypted)
    conf = _configuration(issuer, body, state)
    if LevelOfAssurance(state["loa"]) < conf.required_loa:
        raise CredentialRequestDenied(f"{conf.type.id} needs level of assurance {conf.required_loa.value}")
    if "proofs" not in body:
        raise InvalidProof("proofs is required: this credential is bound to a holder key")
    proofs = await verify_proofs(issuer, conf, body["proofs"], state.get("client_id"))
    if state.get("require_approval"):
        tid = secrets.token_urlsafe(24)
        await issuer.put("deferred", tid, {"state": dict(state), "config": conf.id, "keys": proofs.holder_jwks,
                                           "approved": False}, issuer.options.deferred_ttl)
        return _answer({"transaction_id": tid, "interval": issuer.options.deferred_interval}, enc, 202)
    try:
        out = await _issue(issuer, conf, state, proofs.holder_jwks, token_hash(token), proofs.holder_jkts)
    except LommebokError as exc:
        if isinstance(exc, CredentialRequestDenied):
            raise
        if exc.status >= 500:
            raise
        raise CredentialRequestDenied(f"cannot issue: {exc.description}") from exc
    return _answer(out, enc)


async def approve_deferred(issuer: Issuer, transaction_id: str, *, person_id: str | None = None) -> bool:
    """Mark a deferred issuance as approved (the officer's or guardian's decision, via the admin API).

    With ``person_id`` the transaction must be that person's (a guardian approves their child's issuance, not
    whatever transaction id a wallet reported); otherwise it is treated as unknown.
    """
    data = await issuer.get("deferred", transaction_id)
    if data is None:
        return False
    if person_id is not None and data.get("state", {}).get("person_id") != person_id:
        return False
    data["approved"] = True
    await issuer.put("deferred", transaction_id, data, issuer.options.deferred_ttl)
    return True


async def deferred(issuer: Issuer, request: Request[Any, Any, Any]) -> Response[Any]:
    """§9: the deferred credential endpoint (202 again until approved; the transaction_id is single use)."""
    token, state = await authorize_resource(issuer, request, "/deferred")
    body, encrypted = await _json_body(issuer, request)
    enc = _response_encryption(body, encrypted)
    tid = body.get("transaction_id")
    if not isinstance(tid, str) or not tid or len(tid) > 200:
        raise InvalidTransactionId("transaction_id is required")
    data = await issuer.get("deferred", tid)
    if data is None or data["state"].get("person_id") != state.get("person_id"):
        raise InvalidTransactionId("unknown transaction_id")
    if not data.get("approved"):
        return _answer({"transaction_id": tid, "interval": issuer.options.deferred_interval}, enc, 202)
    taken = await issuer.consume("deferred", tid)
    if taken is None:
        raise InvalidTransactionId("unknown transaction_id")
    conf = issuer.configuration(taken["config"])
    if conf is None:  # pragma: no cover - configurations do not change at run time
        raise InvalidTransactionId("unknown transaction_id")
    out = await _issue(issuer, conf, taken["state"], taken["keys"])
    del token
    return _answer(out, enc)


def _grant_tag(state: Mapping[str, Any]) -> bytes:
    """The grant a notification id belongs to, as sealed into it: a digest of the access token's ``grant_id``
    (kept across refresh, :class:`issuer.oauth.Grant`), so the id names no grant and no person."""
    grant_id = state.get("grant_id")
    if not isinstance(grant_id, str) or not grant_id:
        return b""
    return hashlib.sha256(b"lommebok-notification-grant\0" + grant_id.encode("ascii")).digest()[:_GRANT_TAG_LEN]


async def notification(issuer: Issuer, request: Request[Any, Any, Any]) -> None:
    """§11: the notification endpoint (idempotent, 204).

    A notification id is accepted only with an access token of the grant it was issued under; another grant's
    token gets ``invalid_notification_id`` (400), as does an id this issuer did not make or has forgotten.
    """
    _, state = await authorize_resource(issuer, request, "/notification")
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype != "application/json":
        raise InvalidNotificationRequest("the body must be application/json")
    try:
        body = json.loads(await request.body())
    except ValueError as exc:
        raise InvalidNotificationRequest("the body is not JSON") from exc
    if not isinstance(body, dict):
        raise InvalidNotificationRequest("the body must be a JSON object")
    nid, event = body.get("notification_id"), body.get("event")
    if not isinstance(nid, str) or not nid or len(nid) > 200:
        raise InvalidNotificationId("notification_id is required")
    if event not in EVENTS:
        raise InvalidNotificationRequest("event must be credential_accepted, credential_failure or credential_deleted")
    desc = body.get("event_description")
    if desc is not None and not isinstance(desc, str):
        raise InvalidNotificationRequest("event_description must be a string")
    sealed = await issuer.unseal("notification", nid, issuer.options.notification_ttl)
    tag = _grant_tag(state)
    if sealed is None or not tag or len(sealed) <= len(tag) or not hmac.compare_digest(sealed[-len(tag):], tag):
        raise InvalidNotificationId("unknown notification_id")
    batch = sealed[:-len(tag)]
    log.info("notification %s for batch %s", event, batch[:8].decode("ascii", "replace"))
