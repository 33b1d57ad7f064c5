"""Benchmark: SD-JWT VC (draft-ietf-oauth-sd-jwt-vc over RFC 9901) issue, present and verify a PID.

The PID has 12 selectively disclosable claims (PID Rulebook claim names). Lines:

- issue: one SD-JWT VC with an ``x5c`` header, ``cnf.jwk``, ``status``; limit = one raw ES256 signature;
- present: 6 claims disclosed plus a KB-JWT (from a loaded credential); limit = one raw ES256 signature;
- verify with key binding: issuer key from ``x5c`` (chain validated once, then cached), KB-JWT ``nonce``/``aud``/
  ``sd_hash``/``iat``; limit = two raw ES256 verifications (the issuer JWT and the KB-JWT).

Peers (benchmark dependency group): sd-jwt-python (PyPI ``sd-jwt``, import ``sd_jwt``) issue and verify, skipped
when it is not installed. Targets: verify >= 0.70 of its limit, issue >= 0.30.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from cryptography import x509

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.formats.sd_jwt import KeyBinding, KeyBindingRequired, SdJwtHolder
from eidcore.formats.sd_jwt_vc import SdJwtVcIssuer, SdJwtVcVerifier, StatusReference, X5cIssuerKey
from lommebok.bench.common import Backends, BenchLine, Limits, line, measure, measure_vs_limit

VCT = "urn:eudi:pid:1"
ISS = "https://issuer.example.no"
AUD = "x509_hash:bench-verifier"
NONCE = "n-0S6_WzA2Mj"

PID_CLAIMS: dict[str, Any] = {
    "family_name": "Nordmann",
    "given_name": "Kari",
    "birthdate": "1984-05-17",
    "place_of_birth": {"locality": "Bergen", "country": "NO"},
    "nationalities": ["NO"],
    "address": {"street_address": "Storgata 1", "postal_code": "0155", "locality": "Oslo", "country": "NO"},
    "personal_administrative_number": "17058412345",
    "birth_family_name": "Hansen",
    "email": "kari@example.no",
    "phone_number": "+4791234567",
    "date_of_issuance": "2026-11-28",
    "date_of_expiry": "2031-11-28",
    "issuing_authority": "Digdir",
    "issuing_country": "NO",
}
DISCLOSABLE = [[name] for name in (
    "family_name", "given_name", "birthdate", "place_of_birth", "nationalities", "address",
    "personal_administrative_number", "birth_family_name", "email", "phone_number", "date_of_issuance",
    "date_of_expiry",
)]
PRESENTED = [["family_name"], ["given_name"], ["birthdate"], ["address"], ["nationalities"], ["date_of_expiry"]]


def _chain() -> tuple[jose.SigningKey, x509.Certificate]:
    """A root CA and an issuer certificate (P-256, SAN = the issuer URL), valid around now."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from eidcore.keys import make_leaf, make_root_ca

    now = dt.datetime.now(dt.UTC)
    root_key, root = make_root_ca("Bench Root CA", now=now, days=30)
    leaf_key, leaf = make_leaf("Bench PID Issuer", root_key, root, now=now, days=10, uris=[ISS])
    return jose.SigningKey(leaf_key, "ES256", None, (leaf.public_bytes(Encoding.DER),)), root


def _peer_rates(seconds: float) -> dict[str, float] | None:
    """sd-jwt-python's issue and verify rates on the same claims (None when the bench group is not installed)."""
    try:
        from sd_jwt.common import SDObj
        from sd_jwt.holder import SDJWTHolder
        from sd_jwt.issuer import SDJWTIssuer
        from sd_jwt.verifier import SDJWTVerifier
    except ImportError:
        return None
    issuer_key = jose.generate_signing_key()
    holder_key = jose.generate_signing_key()
    ij, hj = jose.to_jwcrypto_jwk(issuer_key), jose.to_jwcrypto_jwk(holder_key)
    ipub = jose.to_jwcrypto_jwk(issuer_key.public_key)
    disclosable = {name for [name] in DISCLOSABLE}
    user_claims: dict[Any, Any] = {"iss": ISS, "vct": VCT, "iat": int(SYSTEM_CLOCK.timestamp())}
    for k, v in PID_CLAIMS.items():
        user_claims[SDObj(k) if k in disclosable else k] = v

    def make_issuer() -> Any:
        try:
            return SDJWTIssuer(user_claims, ij, holder_key=hj, extra_header_parameters={"typ": "dc+sd-jwt"})
        except TypeError:
            return SDJWTIssuer(user_claims, [ij], holder_key=hj, extra_header_parameters={"typ": "dc+sd-jwt"})

    issued = make_issuer().sd_jwt_issuance
    holder = SDJWTHolder(issued)
    holder.create_presentation({name: True for [name] in PRESENTED}, NONCE, AUD, hj)
    presentation = holder.sd_jwt_presentation

    def verify() -> object:
        v = SDJWTVerifier(presentation, lambda iss, header: ipub, expected_aud=AUD, expected_nonce=NONCE)
        return v.get_verified_payload()

    return {"issue": measure(make_issuer, seconds=seconds), "verify": measure(verify, seconds=seconds)}


def _ops(fn: Callable[[], object], seconds: float) -> float:
    return measure(fn, seconds=seconds)


def run(limits: Limits, quick: bool, backends: Backends) -> Iterator[BenchLine]:
    """Yield the SD-JWT VC issue / present / verify lines (and the peer lines when sd-jwt-python is installed)."""
    seconds = 0.6 if quick else 2.0
    issuer_key, root = _chain()
    holder_key = jose.generate_signing_key()
    issuer = SdJwtVcIssuer(issuer_key, iss=ISS)
    status = StatusReference(uri=f"{ISS}/statuslists/1", idx=4711)

    def issue() -> object:
        return issuer.issue(PID_CLAIMS, vct=VCT, disclosable=DISCLOSABLE, holder_jwk=holder_key.public_jwk,
                            status=status, expires_in=86400)

    issued = issuer.issue(PID_CLAIMS, vct=VCT, disclosable=DISCLOSABLE, holder_jwk=holder_key.public_jwk,
                          status=status, expires_in=86400)
    holder = SdJwtHolder()
    held = holder.load(issued.compact)
    kb = KeyBinding(holder_key, AUD, NONCE)

    def present() -> object:
        return holder.present(held, disclose=PRESENTED, key_binding=kb)

    presentation = present()
    assert isinstance(presentation, str)
    verifier = SdJwtVcVerifier(X5cIssuerKey([root]), accepted_vcts={VCT})
    policy = KeyBindingRequired(audience=AUD, nonce=NONCE)

    def verify() -> object:
        return verifier.verify(presentation, policy)

    verify()
    issue_ops, issue_limit = measure_vs_limit(issue, "sign", seconds=seconds)
    present_ops, present_limit = measure_vs_limit(present, "sign", seconds=seconds)
    verify_ops, verify_limit = measure_vs_limit(verify, "verify", seconds=seconds, limit_ops=2)
    peer = _peer_rates(seconds)
    peer_name = "sd-jwt-python" if peer else "sd-jwt-python (not installed: bench dependency group)"
    yield line("sdjwt_vc_issue_pid12", issue_ops, issue_limit, peer=peer_name,
               peer_ops=peer["issue"] if peer else None,
               note="PID, 12 disclosable claims, x5c header; limit = 1 ES256 sign; target >= 0.30")
    yield line("sdjwt_vc_present", present_ops, present_limit, note="6 claims + KB-JWT; limit = 1 ES256 sign")
    yield line("sdjwt_vc_verify_kb", verify_ops, verify_limit, peer=peer_name,
               peer_ops=peer["verify"] if peer else None,
               note="limit = 2 ES256 verifies; x5c chain validated once, then cached; target >= 0.70")
