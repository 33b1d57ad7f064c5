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
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.formats.sd_jwt import KeyBinding, KeyBindingRequired, SdJwtHolder
from eidcore.formats.sd_jwt_vc import SdJwtVcIssuer, SdJwtVcVerifier, StatusReference, X5cIssuerKey
from lommebok.bench.common import BenchLine, Limits, line, measure

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
    """A root CA and an issuer certificate (P-256), valid around now."""
    now = dt.datetime.now(dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench Root CA")])
    root = (
        x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
        .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench PID Issuer")]))
        .issuer_name(root_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    from cryptography.hazmat.primitives.serialization import Encoding

    key = jose.SigningKey(leaf_key, "ES256", None, (leaf.public_bytes(Encoding.DER),))
    return key, root


def _peer_lines(limits: Limits, seconds: float, ours: dict[str, float]) -> Iterator[BenchLine]:
    try:
        from sd_jwt.common import SDObj
        from sd_jwt.holder import SDJWTHolder
        from sd_jwt.issuer import SDJWTIssuer
        from sd_jwt.verifier import SDJWTVerifier
    except ImportError:
        note = "peer sd-jwt-python not installed (bench dependency group)"
        yield line("sd-jwt vc issue (peer)", 0.0, limits.sign, peer="sd-jwt-python", peer_ops=None, note=note)
        yield line("sd-jwt vc verify with key binding (peer)", 0.0, limits.verify / 2,
                   peer="sd-jwt-python", peer_ops=None, note=note)
        return
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

    peer_issue = measure(make_issuer, seconds=seconds)
    peer_verify = measure(verify, seconds=seconds)
    yield line("sd-jwt vc issue (peer)", peer_issue, limits.sign, peer="sd-jwt-python", peer_ops=peer_issue,
               note=f"ours/peer = {ours['issue'] / peer_issue:.1f}x")
    yield line("sd-jwt vc verify with key binding (peer)", peer_verify, limits.verify / 2, peer="sd-jwt-python",
               peer_ops=peer_verify, note=f"ours/peer = {ours['verify'] / peer_verify:.1f}x")


def _ops(fn: Callable[[], object], seconds: float) -> float:
    return measure(fn, seconds=seconds)


def run(limits: Limits, quick: bool) -> Iterator[BenchLine]:
    """Yield the SD-JWT VC issue / present / verify lines (and the peer lines when sd-jwt-python is installed)."""
    seconds = 0.6 if quick else 2.0
    issuer_key, root = _chain()
    holder_key = jose.generate_signing_key()
    issuer = SdJwtVcIssuer(issuer_key, iss=ISS)
    status = StatusReference(4711, f"{ISS}/statuslists/1")

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
    ours = {"issue": _ops(issue, seconds), "verify": _ops(verify, seconds)}
    present_ops = _ops(present, seconds)
    yield line("sd-jwt vc issue (PID, 12 disclosable claims)", ours["issue"], limits.sign,
               note="limit = 1 ES256 sign; target >= 0.30")
    yield line("sd-jwt vc present (6 claims + KB-JWT)", present_ops, limits.sign, note="limit = 1 ES256 sign")
    yield line("sd-jwt vc verify with key binding", ours["verify"], limits.verify / 2,
               note="limit = 2 ES256 verifies; x5c chain cached; target >= 0.70")
    yield from _peer_lines(limits, seconds, ours)
