"""Key proofs of a credential request (OpenID4VCI 1.0 §8.2): ``jwt`` proofs with ``jwk`` keys (Appendix F.1),
optionally with a key attestation (Appendix D), or one ``attestation`` proof (Appendix F.3); and the c_nonce they
carry (§7), taken exactly once.

The c_nonce is a sealed value (:meth:`issuer.core.Issuer.seal`, no store write to make one); its use is recorded
atomically in the shared store (``SET NX``). A key attestation's ``status`` is checked against the wallet
provider's status list (:mod:`issuer.wallet_status`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eidcore import jose
from eidcore.claims import validate_times
from eidcore.errors import FormatError, InvalidClient, InvalidCredentialRequest, InvalidNonce, InvalidProof
from eidcore.trust.x509 import validate_chain
from issuer.core import Configuration, Issuer
from issuer.wallet_status import check_wallet_status

__all__ = ["KEY_ATTESTATION_POLICY", "PROOF_POLICY", "ProofResult", "take_c_nonce", "verify_proofs"]

PROOF_TYP = "openid4vci-proof+jwt"
KEY_ATTESTATION_TYP = "key-attestation+jwt"
PROOF_POLICY = jose.JwsPolicy(algorithms=frozenset({"ES256"}), typ=PROOF_TYP, max_bytes=16 * 1024)
KEY_ATTESTATION_POLICY = jose.JwsPolicy(algorithms=frozenset({"ES256"}), typ=KEY_ATTESTATION_TYP,
                                        max_bytes=32 * 1024)

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
    try:  # RFC 7519 §4.1.4-§4.1.6 through the one time validator
        validate_times(c, now=now, leeway=skew, require=("iat", "exp"), integers=True, what="the key attestation")
    except FormatError as exc:
        raise InvalidProof(exc.description) from exc
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
        try:  # OpenID4VCI 1.0 Appendix F.1: iat within [now - proof_max_age, now + leeway]
            validate_times(claims, now=now, leeway=opts.clock_skew, require=("iat",), max_age=opts.proof_max_age,
                           max_age_leeway=False, integers=True, what="the proof")
        except FormatError as exc:
            raise InvalidProof(exc.description) from exc
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


