"""Credential endpoint (OpenID4VCI 1.0 §8): one credential per proof key (batch issuance, §8.2), immediately or
deferred (202 with a ``transaction_id``, §9), with credential request and response encryption (§10: ECDH-ES with
A128GCM / A256GCM).

The hot path costs one store write (the c_nonce's use, ``SET NX``) and one SQL statement (the issuance records; a
mandate or employee role batch adds one ``UPDATE`` naming what it was issued for, ``subject_ref``):
c_nonces and notification ids are sealed values (HMAC, no store write), access tokens are self-contained, claims
are read from the register once per access grant and kept only in this worker's memory
(:class:`issuer.caches.ClaimsCache`). Errors are §8.3.1's (``invalid_credential_request``, ``invalid_proof``,
``invalid_nonce``, ``unknown_credential_configuration``, ``unknown_credential_identifier``,
``invalid_encryption_parameters``, ``credential_request_denied``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.params import Body
from litestar.response import Response
from sqlalchemy import update
from sqlmodel import col

from eidcore import jose
from eidcore.errors import (
    CredentialRequestDenied,
    FormatError,
    InvalidCredentialRequest,
    InvalidEncryptionParameters,
    InvalidProof,
    LommebokError,
    ProtocolError,
    UnknownCredentialConfiguration,
    UnknownCredentialIdentifier,
)
from eidcore.identity import LevelOfAssurance
from eidcore.runtime import pseudonym
from issuer.core import Configuration, Issuer, IssuerDep, token_hash
from issuer.credentials import Subject, build_claims, sign_credential, subject_ref
from issuer.http import NO_STORE, EncodedBody, body_dto, encoded_body, spec, validate
from issuer.models import IssCredential
from issuer.oauth import authorize_resource
from issuer.proofs import verify_proofs
from issuer.schemas import CredentialRequest, CredentialResponse, OAuthError
from issuer.status import allocate

__all__ = ["CredentialController", "ResponseEncryption", "answer", "credential", "decode_request", "grant_tag",
           "issue", "response_encryption"]

log = logging.getLogger("lommebok.issuer")

ENCS = frozenset({"A128GCM", "A256GCM"})
_GRANT_TAG_LEN = 16
#: the §8.3.1 error for a request member of the wrong shape
FIELD_ERRORS: dict[str, type[ProtocolError]] = {"proofs": InvalidProof,
                                                "credential_response_encryption": InvalidEncryptionParameters}
ERRORS = {400: spec(OAuthError, "OpenID4VCI 1.0 §8.3.1: invalid_credential_request, "
                                                    "invalid_proof, invalid_nonce, unknown_credential_configuration, "
                                                    "unknown_credential_identifier, invalid_encryption_parameters, "
                                                    "credential_request_denied, invalid_dpop_proof"),
          401: spec(OAuthError, "invalid_token, use_dpop_nonce (WWW-Authenticate)")}


async def decode_request(issuer: Issuer, data: EncodedBody) -> tuple[dict[str, Any], bool]:
    """The request object, decrypted when sent as ``application/jwt`` (§10); returns (body, was_encrypted)."""
    ctype, raw = data.content_type, data.raw
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


def response_encryption(body: Mapping[str, Any], encrypted: bool) -> ResponseEncryption | None:
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


def answer(body: dict[str, Any], enc: ResponseEncryption | None, status: int = 200) -> Response[Any]:
    if enc is None:
        return Response(body, status_code=status, headers=NO_STORE)
    token = jose.encrypt_jwe(jose.json_dumps(body), enc.jwk, alg="ECDH-ES", enc=enc.enc)
    return Response(token.encode("ascii"), status_code=status, media_type="application/jwt", headers=NO_STORE)


async def _claims(issuer: Issuer, conf: Configuration, state: Mapping[str, Any], grant_key: str | None
                  ) -> dict[str, Any]:
    subject = Subject(state["person_id"], state.get("orgnr"), state.get("mandate_id"))
    if grant_key is None:
        return await build_claims(issuer, conf.type, subject)
    cache = issuer.claims_cache
    key = (grant_key, conf.type.id)
    claims = cache.get(key)
    if claims is None:
        claims = await build_claims(issuer, conf.type, subject)
        cache.set(key, claims, ttl=issuer.options.access_token_ttl)
    return claims


async def issue(issuer: Issuer, conf: Configuration, state: Mapping[str, Any], holder_jwks: list[dict[str, Any]],
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
    notification_id = await issuer.seal("notification", batch_id.encode("ascii") + grant_tag(state))
    log.info("issued %d x %s (batch %s, subject %s)", len(creds), conf.id, batch_id[:8],
             pseudonym(state["person_id"], salt="lommebok-issuer-subject"))
    return {"credentials": creds, "notification_id": notification_id}


async def _record_subject_ref(issuer: Issuer, batch_id: str, ref: str) -> None:
    """Name what the batch was issued for (mandate or organisation) before the credentials leave, so a revocation
    selects only them. Mandate and employee role credentials only: PID and youth issuance keep their one write.
    Until this commits the records have no ``subject_ref``; revocations by reference also take the agent's records
    without one (:func:`issuer.status.change_status_by_ref`), so none slips through in between."""
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


async def credential(issuer: Issuer, request: Request[Any, Any, Any], data: EncodedBody) -> Response[Any]:
    """§8: issue one credential per proof key (batch), immediately or deferred."""
    token, state = await authorize_resource(issuer, request, "/credential")
    body, encrypted = await decode_request(issuer, data)
    validate(CredentialRequest, body, error=InvalidCredentialRequest, field_errors=FIELD_ERRORS)
    for legacy in ("proof", "format", "credential_definition"):
        if legacy in body:
            raise InvalidCredentialRequest(f"{legacy} is not a parameter of OpenID4VCI 1.0")
    enc = response_encryption(body, encrypted)
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
        return answer({"transaction_id": tid, "interval": issuer.options.deferred_interval}, enc, 202)
    try:
        out = await issue(issuer, conf, state, proofs.holder_jwks, token_hash(token), proofs.holder_jkts)
    except LommebokError as exc:
        if isinstance(exc, CredentialRequestDenied):
            raise
        if exc.status >= 500:
            raise
        raise CredentialRequestDenied(f"cannot issue: {exc.description}") from exc
    return answer(out, enc)


def grant_tag(state: Mapping[str, Any]) -> bytes:
    """The grant a notification id belongs to, as sealed into it: a digest of the access token's ``grant_id``
    (kept across refresh, :class:`issuer.oauth.Grant`), so the id names no grant and no person."""
    grant_id = state.get("grant_id")
    if not isinstance(grant_id, str) or not grant_id:
        return b""
    return hashlib.sha256(b"lommebok-notification-grant\0" + grant_id.encode("ascii")).digest()[:_GRANT_TAG_LEN]


class CredentialController(Controller):
    """``POST /credential``."""

    path = "/credential"
    tags = ("openid4vci",)

    @post(operation_id="credential", status_code=200,
          dto=body_dto(CredentialRequest, "encoded", InvalidCredentialRequest), return_dto=None,
          responses={200: spec(CredentialResponse, "The credentials (or a JWE, "
                                                                       "application/jwt, when asked for)"),
                     202: spec(CredentialResponse, "Deferred: transaction_id and interval"),
                     **ERRORS})
    async def credential(self, issuer: IssuerDep, request: Request[Any, Any, Any],
                         data: Annotated[EncodedBody | None, Body(media_type="application/json",
                                                                  description="application/json, or application/jwt "
                                                                              "encrypted to the issuer (§10)")] = None
                         ) -> Response[Any]:
        """Credential endpoint (OpenID4VCI 1.0 §8): one credential per proof key; 202 when deferred."""
        return await credential(issuer, request, encoded_body(request, data))
