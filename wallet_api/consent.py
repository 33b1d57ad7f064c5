"""The guardian consent credential (``specs/credentials/guardian_consent``), issued by the wallet provider.

SD-JWT VC (draft-ietf-oauth-sd-jwt-vc, RFC 9901) with ``vct`` ``urn:no:digdir:eudi:guardian_consent:1``, signed
with the wallet provider's key (``x5c`` chain; ``iss`` = the wallet provider's URL, a URI SAN of its certificate),
``cnf.jwk`` = the child's holder key, and no selectively disclosable claim (the verifier needs every claim):
``child_pseudonym`` / ``guardian_pseudonym`` (pairwise per verifier), ``guardian_basis``, ``client_id``,
``approved_claims`` (DCQL claim paths), ``transaction_nonce_hash`` = base64url(SHA-256(OpenID4VP nonce)) and
``approved_at``. It expires within minutes (the type's default validity, 300 s, at most its maximum).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric import ec

from eidcore.encoding import b64u_encode
from eidcore.formats.sd_jwt_vc import SdJwtVcIssuer
from eidcore.runtime import Runtime

__all__ = ["CONSENT_VALIDITY", "CONSENT_VCT", "issue_consent", "nonce_hash", "pairwise"]

CONSENT_VCT: Final = "urn:no:digdir:eudi:guardian_consent:1"
CONSENT_VALIDITY: Final = 300
"""Seconds (``specs/credentials/guardian_consent/credential.json`` ``validity.default_seconds``)."""


def nonce_hash(nonce: str) -> str:
    """``transaction_nonce_hash``: base64url(SHA-256(nonce)) without padding (guardian_consent notes)."""
    return b64u_encode(hashlib.sha256(nonce.encode()).digest())


def pairwise(rt: Runtime, person_id: str, client_id: str) -> str:
    """A pseudonym of a person for one verifier: HMAC-SHA-256 keyed with a secret derived from the wallet
    provider's private key, over the client id and the person id (22 base64url characters)."""
    assert rt.keys is not None
    priv = rt.keys.wallet_provider.signing_key().private_key
    assert isinstance(priv, ec.EllipticCurvePrivateKey)
    secret = hashlib.sha256(b"lommebok-youth-pairwise:" + priv.private_numbers().private_value.to_bytes(32, "big"))
    mac = hmac.new(secret.digest(), f"{client_id}\x00{person_id}".encode(), hashlib.sha256).digest()
    return b64u_encode(mac[:16])


def issue_consent(rt: Runtime, *, holder_jwk: Mapping[str, Any], client_id: str,
                  approved_claims: Sequence[Sequence[str | int | None]], transaction_nonce_hash: str,
                  child_id: str, guardian_id: str, basis: str = "parental_responsibility",
                  validity: int = CONSENT_VALIDITY) -> str:
    """Issue a guardian consent credential (SD-JWT VC §3.2, no disclosures, ends with ``~``)."""
    assert rt.keys is not None
    now = rt.clock.timestamp()
    claims = {
        "child_pseudonym": pairwise(rt, child_id, client_id),
        "guardian_pseudonym": pairwise(rt, guardian_id, client_id),
        "guardian_basis": basis,
        "client_id": client_id,
        "approved_claims": [list(p) for p in approved_claims],
        "transaction_nonce_hash": transaction_nonce_hash,
        "approved_at": datetime.fromtimestamp(int(now), UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    issuer = SdJwtVcIssuer(rt.keys.wallet_provider.signing_key(), iss=rt.settings.service_url("wallet"),
                           clock=rt.clock, include_x5c=True)
    issued = issuer.issue(claims, vct=CONSENT_VCT, holder_jwk=holder_jwk, expires_in=validity)
    return issued.compact
