"""Negative corpus for SD-JWT (RFC 9901), KB-JWT and SD-JWT VC: every tampered or malformed input must fail
with its specific typed error (and, for key binding, the specific ``reason``).

Each case builds its input from scratch with the issuer, holder and "other" keys below, so one case never
depends on another.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from eidcore import jose
from eidcore.clock import FixedClock
from eidcore.encoding import b64u_encode
from eidcore.errors import (
    DuplicateDisclosure,
    Expired,
    InvalidCertificate,
    InvalidClaim,
    InvalidDisclosure,
    InvalidHeader,
    InvalidSignature,
    KeyBindingFailed,
    LommebokError,
    MissingClaim,
    NotYetValid,
    ParsingError,
    StatusListError,
    TypeMetadataError,
    UnreferencedDisclosure,
    UnsupportedAlgorithm,
    UntrustedIssuer,
)
from eidcore.formats.sd_jwt import (
    MUST_NOT_BE_PRESENT,
    Disclosure,
    KeyBindingPolicy,
    KeyBindingRequired,
    SdJwtHolder,
    SdJwtVerifier,
    sd,
    serialize_json,
)
from eidcore.formats.sd_jwt_vc import (
    JwksIssuerKey,
    JwtVcIssuerMetadataKey,
    SdJwtVcIssuer,
    SdJwtVcVerifier,
    StatusReference,
    TypeMetadata,
    X5cIssuerKey,
    check_integrity,
    check_sd_rules,
    effective_claim_metadata,
    resolve_type_metadata,
)

IK = jose.generate_signing_key(kid="issuer-1")
HK = jose.generate_signing_key()
OTHER = jose.generate_signing_key()
P384 = jose.generate_signing_key("ES384")
NOW = 1_800_000_000
CLOCK = FixedClock.at_timestamp(NOW)
AUD = "x509_hash:verifier.example"
NONCE = "nonce-42"
KB = KeyBindingRequired(audience=AUD, nonce=NONCE)
TYP = "example+sd-jwt"
VCT = "urn:eudi:pid:1"
ISS = "https://issuer.example.no"


# ---------------------------------------------------------------------------------------------- builders


def d(name: str | None, value: Any, salt: str = "c2FsdHNhbHRzYWx0c2FsdA") -> Disclosure:
    return Disclosure.create(salt, name, value)


def h(disclosure: Disclosure | str, alg: str = "sha-256") -> str:
    enc = disclosure if isinstance(disclosure, str) else disclosure.encoded
    fn = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}[alg]
    return b64u_encode(fn(enc.encode("ascii")).digest())


def enc_disclosure(array: Any) -> str:
    return b64u_encode(json.dumps(array).encode())


GIVEN = d("given_name", "Kari", "c2FsdC1naXZlbi1uYW1lMQ")
FAMILY = d("family_name", "Nordmann", "c2FsdC1mYW1pbHktbmFtZQ")
NO = d(None, "NO", "c2FsdC1uYXRpb25hbGl0eQ")


def payload(**extra: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "iss": ISS, "iat": NOW - 100, "exp": NOW + 3600, "cnf": {"jwk": HK.public_jwk},
        "_sd": sorted([h(GIVEN), h(FAMILY)]), "nationalities": [{"...": h(NO)}], "_sd_alg": "sha-256",
    }
    p.update(extra)
    return {k: v for k, v in p.items() if v is not DROP}


DROP: Any = object()


def jws_with_header(header: dict[str, Any], body: bytes, key: jose.SigningKey = IK) -> str:
    """A compact JWS with exactly ``header`` (any alg) and an ES256-shaped signature by ``key``."""
    signing_input = f"{b64u_encode(json.dumps(header).encode())}.{b64u_encode(body)}"
    der = key.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))  # type: ignore[call-arg]
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(der)
    return f"{signing_input}.{b64u_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def issuer_jwt(p: dict[str, Any] | None = None, *, key: jose.SigningKey = IK, typ: str | None = TYP,
               header: dict[str, Any] | None = None) -> str:
    body = json.dumps(payload() if p is None else p).encode()
    if header is not None:
        return jws_with_header(header, body, key)
    return jose.sign_jws(body, key, typ=typ)


def sdjwt(jwt: str, *disclosures: Disclosure | str) -> str:
    encs = [x if isinstance(x, str) else x.encoded for x in disclosures]
    return "".join(f"{e}~" for e in [jwt, *encs])


def good(p: dict[str, Any] | None = None) -> str:
    return sdjwt(issuer_jwt(p), GIVEN, FAMILY, NO)


def kb_jwt(prefix: str, *, key: jose.SigningKey = HK, typ: str | None = "kb+jwt",
           header: dict[str, Any] | None = None, **claims: Any) -> str:
    body: dict[str, Any] = {"iat": NOW, "aud": AUD, "nonce": NONCE,
                            "sd_hash": b64u_encode(hashlib.sha256(prefix.encode()).digest())}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not DROP}
    if header is not None:
        return jws_with_header(header, json.dumps(body).encode(), key)
    return jose.sign_jws(json.dumps(body).encode(), key, typ=typ, include_kid=False)


def with_kb(prefix: str | None = None, **kw: Any) -> str:
    prefix = good() if prefix is None else prefix
    return prefix + kb_jwt(prefix, **kw)


def verify(s: Any, policy: KeyBindingPolicy = MUST_NOT_BE_PRESENT, **kw: Any) -> object:
    kw.setdefault("typ", TYP)
    return SdJwtVerifier(IK.public_key, clock=CLOCK, **kw).verify(s, policy)


def flip(token: str, part: int, pos: int = 5) -> str:
    pieces = token.split(".")
    seg = pieces[part]
    ch = "A" if seg[pos] != "A" else "B"
    pieces[part] = seg[:pos] + ch + seg[pos + 1:]
    return ".".join(pieces)


def swap_payload(token: str, new_payload: dict[str, Any]) -> str:
    hh, _, ss = token.split(".")
    return f"{hh}.{b64u_encode(json.dumps(new_payload).encode())}.{ss}"


# ---------------------------------------------------------------------------------------------- VC builders


def cert_chain(*, leaf_key: jose.SigningKey, expired: bool = False,
               other_root: bool = False) -> tuple[list[bytes], x509.Certificate]:
    now = dt.datetime.fromtimestamp(NOW, dt.UTC)
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Root")])
    root = (x509.CertificateBuilder().subject_name(root_name).issuer_name(root_name)
            .public_key(root_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=10)).not_valid_after(now + dt.timedelta(days=100))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), True)
            .sign(root_key, hashes.SHA256()))
    end = now - dt.timedelta(days=1) if expired else now + dt.timedelta(days=30)
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Issuer")]))
            .issuer_name(root_name).public_key(leaf_key.public_key)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=5)).not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), True)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("issuer.example.no")]), False)
            .sign(root_key, hashes.SHA256()))
    anchor = root
    if other_root:
        anchor = cert_chain(leaf_key=leaf_key)[1]
    return [leaf.public_bytes(Encoding.DER)], anchor


def vc_payload(**extra: Any) -> dict[str, Any]:
    p: dict[str, Any] = {"iss": ISS, "iat": NOW - 100, "exp": NOW + 3600, "vct": VCT,
                         "cnf": {"jwk": HK.public_jwk}, "_sd": [h(GIVEN)], "_sd_alg": "sha-256"}
    p.update(extra)
    return {k: v for k, v in p.items() if v is not DROP}


def vc(p: dict[str, Any] | None = None, *extra: Disclosure, typ: str | None = "dc+sd-jwt",
       header: dict[str, Any] | None = None) -> str:
    return sdjwt(issuer_jwt(vc_payload() if p is None else p, typ=typ, header=header), GIVEN, *extra)


def vc_verify(s: str, policy: KeyBindingPolicy = MUST_NOT_BE_PRESENT, key: Any = None, **kw: Any) -> object:
    return SdJwtVcVerifier(IK.public_key if key is None else key, clock=CLOCK, **kw).verify(s, policy)


def vc_with_sd(name: str, value: Any) -> str:
    disc = d(name, value, "c2FsdC1uZXZlcg")
    p = vc_payload(**{name: DROP})
    p["_sd"] = sorted([h(GIVEN), h(disc)])
    return vc(p, disc)


def x5c_vc(key: jose.SigningKey, certs: list[bytes]) -> str:
    header = {"alg": "ES256", "typ": "dc+sd-jwt", "x5c": [base64.b64encode(c).decode() for c in certs]}
    return sdjwt(jws_with_header(header, json.dumps(vc_payload()).encode(), key), GIVEN)


def x5c_verify(s: str, anchor: x509.Certificate) -> object:
    return SdJwtVcVerifier(X5cIssuerKey([anchor], clock=CLOCK), clock=CLOCK).verify(s, MUST_NOT_BE_PRESENT)


def meta_verify(doc: Any, *, iss: str = ISS, fail: bool = False, kid: str | None = "issuer-1") -> object:
    def fetch(url: str) -> Any:
        if fail:
            raise OSError("network down")
        return doc

    header = {"alg": "ES256", "typ": "dc+sd-jwt", **({"kid": kid} if kid else {})}
    s = sdjwt(jws_with_header(header, json.dumps(vc_payload(iss=iss)).encode()), GIVEN)
    return SdJwtVcVerifier(JwtVcIssuerMetadataKey(fetch), clock=CLOCK).verify(s, MUST_NOT_BE_PRESENT)


def vc_issue(**kw: Any) -> object:
    claims = kw.pop("claims", {"given_name": "Kari", "status": None})
    claims = {k: v for k, v in claims.items() if v is not None}
    return SdJwtVcIssuer(IK, iss=ISS, clock=CLOCK).issue(claims, vct=VCT, holder_jwk=HK.public_jwk, **kw)


def tm(doc: dict[str, Any]) -> TypeMetadata:
    return TypeMetadata.parse(doc)


def loader(docs: dict[str, dict[str, Any]]) -> Callable[[str], bytes]:
    return lambda vct: json.dumps(docs[vct]).encode()


# ---------------------------------------------------------------------------------------------- the corpus


@dataclass(frozen=True)
class Case:
    id: str
    run: Callable[[], object]
    error: type[LommebokError]
    reason: str | None = None


OTHER_DISC = d("email", "x@example.no", "b3RoZXItc2FsdC0wMDAwMQ")
INNER = d("street", "Storgata 1", "aW5uZXItc2FsdC0wMDAwMDE")
OUTER = d("address", {"_sd": [h(INNER)]}, "b3V0ZXItc2FsdC0wMDAwMDE")

CASES: list[Case] = [
    # --- serialization ---------------------------------------------------------------------------------
    Case("no-tilde", lambda: verify(issuer_jwt()), ParsingError),
    Case("empty-string", lambda: verify(""), ParsingError),
    Case("only-tilde", lambda: verify("~"), ParsingError),
    Case("jwt-two-segments", lambda: verify("a.b~"), ParsingError),
    Case("empty-disclosure", lambda: verify(issuer_jwt() + "~~"), InvalidDisclosure),
    Case("last-component-not-jwt", lambda: verify(good() + "garbage"), ParsingError),
    Case("not-a-string", lambda: verify(12345), ParsingError),
    Case("too-large", lambda: verify(good() + "A" * 10, max_bytes=100), ParsingError),
    Case("header-not-base64", lambda: verify("!!!." + issuer_jwt().split(".", 1)[1] + "~"), ParsingError),
    Case("header-not-json", lambda: verify(b64u_encode(b"{nope") + "." + issuer_jwt().split(".", 1)[1] + "~"),
         ParsingError),
    Case("header-duplicate-member", lambda: verify(
        b64u_encode(b'{"alg":"ES256","alg":"none"}') + "." + issuer_jwt().split(".", 1)[1] + "~"), ParsingError),
    Case("payload-not-json", lambda: verify(sdjwt(jose.sign_jws(b"{not json", IK, typ=TYP))), ParsingError),
    Case("payload-json-array", lambda: verify(sdjwt(jose.sign_jws(b"[1,2]", IK, typ=TYP))), ParsingError),
    Case("payload-not-base64", lambda: verify(
        issuer_jwt().split(".")[0] + ".***." + issuer_jwt().split(".")[2] + "~"), ParsingError),
    Case("json-serialization-no-header", lambda: verify(
        {k: v for k, v in serialize_json(issuer_jwt(), []).items() if k != "header"}), ParsingError),
    Case("json-serialization-disclosures-not-list", lambda: verify(
        {**serialize_json(issuer_jwt(), []), "header": {"disclosures": "abc"}}), InvalidDisclosure),
    Case("json-serialization-two-signatures", lambda: verify(
        {"payload": "e30", "signatures": [{"protected": "e30", "signature": "AA"}] * 2}), ParsingError),
    Case("json-serialization-not-json", lambda: verify("{not json"), ParsingError),
    # --- issuer signature and header -------------------------------------------------------------------
    Case("signature-flipped", lambda: verify(sdjwt(flip(issuer_jwt(), 2), GIVEN, FAMILY, NO)),
         InvalidSignature),
    Case("payload-swapped", lambda: verify(sdjwt(swap_payload(issuer_jwt(), payload(iss="https://evil")),
                                                 GIVEN, FAMILY, NO)), InvalidSignature),
    Case("payload-exp-extended", lambda: verify(sdjwt(swap_payload(issuer_jwt(), payload(exp=NOW + 10**8)),
                                                      GIVEN, FAMILY, NO)), InvalidSignature),
    Case("signed-by-other-key", lambda: verify(sdjwt(issuer_jwt(key=OTHER), GIVEN, FAMILY, NO)),
         InvalidSignature),
    Case("signature-truncated", lambda: verify(sdjwt(issuer_jwt()[:-4], GIVEN, FAMILY, NO)), InvalidSignature),
    Case("signature-empty", lambda: verify(sdjwt(issuer_jwt().rsplit(".", 1)[0] + ".", GIVEN)), ParsingError),
    Case("alg-none", lambda: verify(good_header({"alg": "none", "typ": TYP})), UnsupportedAlgorithm),
    Case("alg-None-mixed-case", lambda: verify(good_header({"alg": "nOnE", "typ": TYP})), UnsupportedAlgorithm),
    Case("alg-hs256", lambda: verify(good_header({"alg": "HS256", "typ": TYP})), UnsupportedAlgorithm),
    Case("alg-rs256", lambda: verify(good_header({"alg": "RS256", "typ": TYP})), UnsupportedAlgorithm),
    Case("alg-es384-not-allowed", lambda: verify(good_header({"alg": "ES384", "typ": TYP})),
         UnsupportedAlgorithm),
    Case("alg-missing", lambda: verify(good_header({"typ": TYP})), ParsingError),
    Case("alg-not-string", lambda: verify(good_header({"alg": 7, "typ": TYP})), ParsingError),
    Case("es384-signature-with-p256-key", lambda: verify(sdjwt(issuer_jwt(key=P384), GIVEN),
                                                         algorithms=frozenset({"ES256", "ES384"})),
         UnsupportedAlgorithm),
    Case("typ-wrong", lambda: verify(sdjwt(issuer_jwt(typ="JWT"), GIVEN, FAMILY, NO)), InvalidHeader),
    Case("typ-missing", lambda: verify(sdjwt(issuer_jwt(typ=None), GIVEN, FAMILY, NO)), InvalidHeader),
    Case("typ-not-string", lambda: verify(good_header({"alg": "ES256", "typ": 1})), InvalidHeader),
    Case("crit-unknown", lambda: verify(good_header({"alg": "ES256", "typ": TYP, "crit": ["exp"], "exp": 1})),
         InvalidHeader),
    Case("crit-registered-name", lambda: verify(good_header({"alg": "ES256", "typ": TYP, "crit": ["alg"]})),
         InvalidHeader),
    Case("crit-empty-list", lambda: verify(good_header({"alg": "ES256", "typ": TYP, "crit": []})),
         InvalidHeader),
    Case("crit-not-list", lambda: verify(good_header({"alg": "ES256", "typ": TYP, "crit": "x"})), InvalidHeader),
    Case("b64-false", lambda: verify(good_header({"alg": "ES256", "typ": TYP, "b64": False})), InvalidHeader),
    Case("jwk-header-private", lambda: verify(good_header({"alg": "ES256", "typ": TYP,
                                                           "jwk": IK.private_jwk()})), InvalidHeader),
    Case("jwk-header-wrong-curve", lambda: verify(good_header({"alg": "ES256", "typ": TYP,
                                                               "jwk": P384.public_jwk})), InvalidHeader),
    Case("jwk-header-oct", lambda: verify(good_header({"alg": "ES256", "typ": TYP,
                                                       "jwk": {"kty": "oct", "k": "c2VjcmV0"}})), InvalidHeader),
    Case("jwk-header-not-object", lambda: verify(good_header({"alg": "ES256", "typ": TYP, "jwk": "x"})),
         InvalidHeader),
    Case("x5c-header-garbage", lambda: verify(good_header({"alg": "ES256", "typ": TYP, "x5c": ["!!"]})),
         InvalidHeader),
    Case("x5c-header-not-list", lambda: verify(good_header({"alg": "ES256", "typ": TYP, "x5c": "MII"})),
         InvalidHeader),
    Case("x5c-header-p384-leaf", lambda: verify(good_header(
        {"alg": "ES256", "typ": TYP, "x5c": [base64.b64encode(cert_chain(leaf_key=P384)[0][0]).decode()]})),
        InvalidHeader),
    # --- disclosures -------------------------------------------------------------------------------------
    Case("disclosure-not-base64", lambda: verify(sdjwt(issuer_jwt(), GIVEN, FAMILY, NO, "%%%")),
         InvalidDisclosure),
    Case("disclosure-padded", lambda: verify(sdjwt(issuer_jwt(), GIVEN.encoded + "==")), InvalidDisclosure),
    Case("disclosure-not-json", lambda: verify(sdjwt(issuer_jwt(), b64u_encode(b"[nope"))), InvalidDisclosure),
    Case("disclosure-object", lambda: verify(sdjwt(issuer_jwt(), enc_disclosure({"a": 1}))), InvalidDisclosure),
    Case("disclosure-one-element", lambda: verify(sdjwt(issuer_jwt(), enc_disclosure(["salt"]))),
         InvalidDisclosure),
    Case("disclosure-four-elements", lambda: verify(sdjwt(issuer_jwt(), enc_disclosure(["s", "n", 1, 2]))),
         InvalidDisclosure),
    Case("disclosure-salt-not-string", lambda: verify(sdjwt(issuer_jwt(), enc_disclosure([1, "n", "v"]))),
         InvalidDisclosure),
    Case("disclosure-name-not-string", lambda: verify(sdjwt(issuer_jwt(), enc_disclosure(["s", 1, "v"]))),
         InvalidDisclosure),
    Case("disclosure-name-_sd", lambda: referenced(enc_disclosure(["c2FsdA", "_sd", ["x"]])), InvalidDisclosure),
    Case("disclosure-name-dots", lambda: referenced(enc_disclosure(["c2FsdA", "...", "x"])), InvalidDisclosure),
    Case("disclosure-collides-with-plaintext", lambda: referenced(d("iss", "https://evil").encoded),
         InvalidDisclosure),
    Case("disclosure-collides-with-cnf", lambda: referenced(d("cnf", {"jwk": OTHER.public_jwk}).encoded),
         InvalidDisclosure),
    Case("two-disclosures-same-name", lambda: referenced(d("given_name", "Ola", "c2FsdC10d28").encoded),
         InvalidDisclosure),
    Case("array-disclosure-in-_sd", lambda: referenced(d(None, "NO", "c2FsdC1hcnJheQ").encoded),
         InvalidDisclosure),
    Case("object-disclosure-in-array", lambda: verify(sdjwt(issuer_jwt(payload(
        nationalities=[{"...": h(GIVEN)}], _sd=[h(FAMILY)])), GIVEN, FAMILY)), InvalidDisclosure),
    Case("same-disclosure-twice", lambda: verify(sdjwt(issuer_jwt(), GIVEN, GIVEN, FAMILY, NO)),
         DuplicateDisclosure),
    Case("digest-twice-in-_sd", lambda: verify(sdjwt(issuer_jwt(payload(_sd=[h(GIVEN), h(GIVEN)])), GIVEN)),
         DuplicateDisclosure),
    Case("decoy-digest-twice-in-_sd", lambda: verify(sdjwt(issuer_jwt(payload(_sd=["decoy", "decoy"])))),
         DuplicateDisclosure),
    Case("digest-in-_sd-and-array", lambda: verify(sdjwt(issuer_jwt(payload(
        nationalities=[{"...": h(NO)}], _sd=[h(NO)])), NO)), DuplicateDisclosure),
    Case("digest-twice-in-array", lambda: verify(sdjwt(issuer_jwt(payload(
        nationalities=[{"...": h(NO)}, {"...": h(NO)}])), NO)), DuplicateDisclosure),
    Case("digest-repeated-through-recursion", lambda: verify(sdjwt(issuer_jwt(payload(
        _sd=[h(OUTER), h(INNER)])), OUTER, INNER)), DuplicateDisclosure),
    Case("disclosure-from-other-credential", lambda: verify(sdjwt(issuer_jwt(), GIVEN, FAMILY, NO, OTHER_DISC)),
         UnreferencedDisclosure),
    Case("disclosure-salt-changed", lambda: verify(sdjwt(issuer_jwt(), d("given_name", "Kari", "b3RoZXI"))),
         UnreferencedDisclosure),
    Case("disclosure-value-changed", lambda: verify(sdjwt(issuer_jwt(), d("given_name", "Ola",
                                                                          "c2FsdC1naXZlbi1uYW1lMQ"))),
         UnreferencedDisclosure),
    Case("child-disclosure-without-parent", lambda: verify(sdjwt(issuer_jwt(payload(_sd=[h(OUTER)])), INNER)),
         UnreferencedDisclosure),
    Case("disclosure-hashed-with-other-alg", lambda: verify(sdjwt(issuer_jwt(payload(
        _sd=[h(GIVEN, "sha-512")])), GIVEN)), UnreferencedDisclosure),
    Case("_sd-not-array", lambda: verify(sdjwt(issuer_jwt(payload(_sd=h(GIVEN))), GIVEN)), InvalidClaim),
    Case("_sd-with-number", lambda: verify(sdjwt(issuer_jwt(payload(_sd=[1])))), InvalidClaim),
    Case("dots-with-other-keys", lambda: verify(sdjwt(issuer_jwt(payload(
        nationalities=[{"...": h(NO), "x": 1}])), NO)), InvalidClaim),
    Case("dots-in-plain-object", lambda: verify(sdjwt(issuer_jwt(payload(address={"...": h(NO)})), NO)),
         InvalidClaim),
    Case("dots-value-not-string", lambda: verify(sdjwt(issuer_jwt(payload(nationalities=[{"...": 5}])))),
         InvalidClaim),
    Case("nested-_sd_alg", lambda: verify(sdjwt(issuer_jwt(payload(address={"_sd_alg": "sha-256"})))),
         InvalidClaim),
    Case("_sd_alg-md5", lambda: verify(sdjwt(issuer_jwt(payload(_sd_alg="md5")))), UnsupportedAlgorithm),
    Case("_sd_alg-not-accepted", lambda: verify(sdjwt(issuer_jwt(payload(_sd_alg="sha-512", _sd=[])))),
         UnsupportedAlgorithm),
    Case("_sd_alg-not-string", lambda: verify(sdjwt(issuer_jwt(payload(_sd_alg=256)))), InvalidClaim),
    # --- validity -----------------------------------------------------------------------------------------
    Case("expired", lambda: verify(good(payload(exp=NOW - 61))), Expired),
    Case("expired-exactly-at-skew", lambda: verify(good(payload(exp=NOW - 60))), Expired),
    Case("nbf-future", lambda: verify(good(payload(nbf=NOW + 61))), NotYetValid),
    Case("iat-future", lambda: verify(good(payload(iat=NOW + 120))), NotYetValid),
    Case("exp-string", lambda: verify(good(payload(exp="tomorrow"))), InvalidClaim),
    Case("exp-bool", lambda: verify(good(payload(exp=True))), InvalidClaim),
    Case("nbf-null", lambda: verify(good(payload(nbf=None))), InvalidClaim),
    Case("exp-required-missing", lambda: verify(good(payload(exp=DROP)), require_exp=True), MissingClaim),
    Case("required-claim-missing", lambda: verify(good(payload(iss=DROP)), required_claims=("iss",)),
         MissingClaim),
    Case("expired-via-disclosed-exp", lambda: verify(sdjwt(issuer_jwt(payload(
        exp=DROP, _sd=[h(d("exp", NOW - 1000))])), d("exp", NOW - 1000))), Expired),
    # --- key binding ----------------------------------------------------------------------------------------
    Case("kb-required-absent", lambda: verify(good(), KB), KeyBindingFailed, "missing"),
    Case("kb-forbidden-present", lambda: verify(with_kb()), KeyBindingFailed, "unexpected"),
    Case("kb-typ-jwt", lambda: verify(with_kb(typ="JWT"), KB), KeyBindingFailed, "typ"),
    Case("kb-typ-missing", lambda: verify(with_kb(typ=None), KB), KeyBindingFailed, "typ"),
    Case("kb-typ-old-draft", lambda: verify(with_kb(typ="kb+sd-jwt"), KB), KeyBindingFailed, "typ"),
    Case("kb-signed-by-issuer-key", lambda: verify(with_kb(key=IK), KB), KeyBindingFailed, "signature"),
    Case("kb-signed-by-other-key", lambda: verify(with_kb(key=OTHER), KB), KeyBindingFailed, "signature"),
    Case("kb-signature-flipped", lambda: verify(good() + flip(kb_jwt(good()), 2, 10), KB), KeyBindingFailed,
         "signature"),
    Case("kb-alg-none", lambda: verify(with_kb(header={"alg": "none", "typ": "kb+jwt"}), KB),
         KeyBindingFailed, "alg"),
    Case("kb-alg-hs256", lambda: verify(with_kb(header={"alg": "HS256", "typ": "kb+jwt"}), KB),
         KeyBindingFailed, "alg"),
    Case("kb-crit-unknown", lambda: verify(with_kb(header={"alg": "ES256", "typ": "kb+jwt", "crit": ["x"],
                                                           "x": 1}), KB), KeyBindingFailed, "malformed"),
    Case("kb-payload-not-json", lambda: verify(good() + jose.sign_jws(b"nope", HK, typ="kb+jwt"), KB),
         KeyBindingFailed, "malformed"),
    Case("kb-header-not-base64", lambda: verify(good() + "###." + with_kb().split("~")[-1].split(".", 1)[1], KB),
         KeyBindingFailed, "malformed"),
    Case("kb-nonce-wrong", lambda: verify(with_kb(nonce="other"), KB), KeyBindingFailed, "nonce"),
    Case("kb-nonce-missing", lambda: verify(with_kb(nonce=DROP), KB), KeyBindingFailed, "nonce"),
    Case("kb-nonce-number", lambda: verify(with_kb(nonce=42), KB), KeyBindingFailed, "nonce"),
    Case("kb-aud-wrong", lambda: verify(with_kb(aud="https://other"), KB), KeyBindingFailed, "aud"),
    Case("kb-aud-without-prefix", lambda: verify(with_kb(aud="verifier.example"), KB), KeyBindingFailed, "aud"),
    Case("kb-aud-list", lambda: verify(with_kb(aud=[AUD]), KB), KeyBindingFailed, "aud"),
    Case("kb-aud-missing", lambda: verify(with_kb(aud=DROP), KB), KeyBindingFailed, "aud"),
    Case("kb-iat-future", lambda: verify(with_kb(iat=NOW + 120), KB), KeyBindingFailed, "iat"),
    Case("kb-iat-too-old", lambda: verify(with_kb(iat=NOW - 400), KB), KeyBindingFailed, "iat"),
    Case("kb-iat-missing", lambda: verify(with_kb(iat=DROP), KB), KeyBindingFailed, "iat"),
    Case("kb-iat-string", lambda: verify(with_kb(iat="now"), KB), KeyBindingFailed, "iat"),
    Case("kb-iat-bool", lambda: verify(with_kb(iat=True), KB), KeyBindingFailed, "iat"),
    Case("kb-sd_hash-wrong", lambda: verify(with_kb(sd_hash="AAAA"), KB), KeyBindingFailed, "sd_hash"),
    Case("kb-sd_hash-missing", lambda: verify(with_kb(sd_hash=DROP), KB), KeyBindingFailed, "sd_hash"),
    Case("kb-old-_sd_hash-name", lambda: verify(with_kb(sd_hash=DROP, _sd_hash=b64u_encode(
        hashlib.sha256(good().encode()).digest())), KB), KeyBindingFailed, "sd_hash"),
    Case("kb-sd_hash-sha512", lambda: verify(with_kb(sd_hash=b64u_encode(hashlib.sha512(good().encode())
                                                                         .digest())), KB),
         KeyBindingFailed, "sd_hash"),
    Case("kb-disclosure-removed-after-binding", lambda: verify(
        sdjwt(issuer_jwt(), GIVEN, FAMILY) + with_kb().rsplit("~", 1)[1], KB), KeyBindingFailed, "sd_hash"),
    Case("kb-disclosures-reordered-after-binding", lambda: verify(
        sdjwt(issuer_jwt(), FAMILY, GIVEN, NO) + kb_jwt(good()), KB), KeyBindingFailed, "sd_hash"),
    Case("kb-no-cnf", lambda: verify(with_kb(good(payload(cnf=DROP))), KB), KeyBindingFailed, "cnf"),
    Case("kb-cnf-without-jwk", lambda: verify(with_kb(good(payload(cnf={"kid": "x"}))), KB),
         KeyBindingFailed, "cnf"),
    Case("kb-cnf-private-jwk", lambda: verify(with_kb(good(payload(cnf={"jwk": HK.private_jwk()}))), KB),
         KeyBindingFailed, "cnf"),
    Case("kb-cnf-short-coordinate", lambda: verify(with_kb(good(payload(
        cnf={"jwk": {**HK.public_jwk, "x": "AAAA"}}))), KB), KeyBindingFailed, "cnf"),
    Case("kb-cnf-point-not-on-curve", lambda: verify(with_kb(good(payload(
        cnf={"jwk": {**HK.public_jwk, "y": HK.public_jwk["x"]}}))), KB), KeyBindingFailed, "cnf"),
    Case("kb-with-two-segments", lambda: verify(good() + "a.b", KB), ParsingError),
    Case("holder-refuses-issued-sd-jwt-kb", lambda: SdJwtHolder(clock=CLOCK).load(with_kb()),
         KeyBindingFailed, "unexpected"),
    # --- SD-JWT VC --------------------------------------------------------------------------------------------
    Case("vc-typ-old-vc+sd-jwt", lambda: vc_verify(vc(typ="vc+sd-jwt")), InvalidHeader),
    Case("vc-typ-missing", lambda: vc_verify(vc(typ=None)), InvalidHeader),
    Case("vc-typ-example", lambda: vc_verify(vc(typ=TYP)), InvalidHeader),
    Case("vc-vct-missing", lambda: vc_verify(vc(vc_payload(vct=DROP))), MissingClaim),
    Case("vc-vct-not-string", lambda: vc_verify(vc(vc_payload(vct=["a"]))), InvalidClaim),
    Case("vc-vct-empty", lambda: vc_verify(vc(vc_payload(vct=""))), InvalidClaim),
    Case("vc-vct-not-accepted", lambda: vc_verify(vc(), accepted_vcts={"urn:other"}), InvalidClaim),
    Case("vc-vct-disclosable", lambda: vc_verify(vc_with_sd("vct", VCT)), InvalidClaim),
    Case("vc-iss-disclosable", lambda: vc_verify(vc_with_sd("iss", ISS)), InvalidClaim),
    Case("vc-exp-disclosable", lambda: vc_verify(vc_with_sd("exp", NOW + 10)), InvalidClaim),
    Case("vc-nbf-disclosable", lambda: vc_verify(vc_with_sd("nbf", NOW - 10)), InvalidClaim),
    Case("vc-cnf-disclosable", lambda: vc_verify(vc_with_sd("cnf", {"jwk": HK.public_jwk})), InvalidClaim),
    Case("vc-status-disclosable",
         lambda: vc_verify(vc_with_sd("status", StatusReference(uri=ISS, idx=1).to_json_claim())),
         InvalidClaim),
    Case("vc-vct-integrity-disclosable", lambda: vc_verify(vc_with_sd("vct#integrity", "sha256-AAAA")),
         InvalidClaim),
    Case("vc-cnf-jwk-member-disclosable", lambda: vc_verify(vc(vc_payload(cnf={"_sd": [h(INNER)]}))),
         InvalidClaim),
    Case("vc-status-idx-negative", lambda: vc_verify(vc(vc_payload(status={"status_list": {"idx": -1,
                                                                                         "uri": ISS}}))),
         InvalidClaim),
    Case("vc-status-idx-string", lambda: vc_verify(vc(vc_payload(status={"status_list": {"idx": "1",
                                                                                        "uri": ISS}}))),
         InvalidClaim),
    Case("vc-status-idx-bool", lambda: vc_verify(vc(vc_payload(status={"status_list": {"idx": True,
                                                                                      "uri": ISS}}))),
         InvalidClaim),
    Case("vc-status-uri-missing", lambda: vc_verify(vc(vc_payload(status={"status_list": {"idx": 1}}))),
         MissingClaim),
    Case("vc-status-other-mechanism", lambda: vc_verify(vc(vc_payload(status={"identifier_list": {"id": "1"}}))),
         StatusListError),
    Case("vc-status-not-object", lambda: vc_verify(vc(vc_payload(status="revoked"))), InvalidClaim),
    Case("vc-status-required-absent", lambda: vc_verify(vc(), require_status=True), MissingClaim),
    Case("vc-iss-not-string", lambda: vc_verify(vc(vc_payload(iss=42))), InvalidClaim),
    Case("vc-kb-without-cnf", lambda: vc_verify(with_kb(vc(vc_payload(cnf=DROP)), ), KB),
         KeyBindingFailed, "cnf"),
    Case("vc-x5c-missing", lambda: x5c_verify(vc(), cert_chain(leaf_key=IK)[1]), InvalidHeader),
    Case("vc-x5c-other-anchor", lambda: x5c_verify(x5c_vc(IK, cert_chain(leaf_key=IK)[0]),
                                                   cert_chain(leaf_key=IK, other_root=True)[1]), UntrustedIssuer),
    Case("vc-x5c-expired-leaf", lambda: x5c_verify(x5c_vc(IK, (c := cert_chain(leaf_key=IK, expired=True))[0]),
                                                   c[1]), InvalidCertificate),
    Case("vc-x5c-signed-by-other-key", lambda: x5c_verify(x5c_vc(OTHER, (c := cert_chain(leaf_key=IK))[0]),
                                                          c[1]), InvalidSignature),
    Case("vc-meta-issuer-mismatch", lambda: meta_verify({"issuer": "https://evil", "jwks": {"keys": [
        IK.public_jwk]}}), UntrustedIssuer),
    Case("vc-meta-http-iss", lambda: meta_verify({"issuer": "http://issuer.example.no", "jwks": {"keys": [
        IK.public_jwk]}}, iss="http://issuer.example.no"), UntrustedIssuer),
    Case("vc-meta-both-jwks-and-uri", lambda: meta_verify({"issuer": ISS, "jwks": {"keys": []},
                                                           "jwks_uri": ISS + "/jwks"}), ParsingError),
    Case("vc-meta-neither-jwks-nor-uri", lambda: meta_verify({"issuer": ISS}), ParsingError),
    Case("vc-meta-jwks-uri-http", lambda: meta_verify({"issuer": ISS, "jwks_uri": "http://x/jwks"}),
         UntrustedIssuer),
    Case("vc-meta-kid-unknown", lambda: meta_verify({"issuer": ISS, "jwks": {"keys": [
        {**IK.public_jwk, "kid": "other"}]}}), UntrustedIssuer),
    Case("vc-meta-no-kid-several-keys", lambda: meta_verify({"issuer": ISS, "jwks": {"keys": [
        IK.public_jwk, OTHER.public_jwk]}}, kid=None), UntrustedIssuer),
    Case("vc-meta-wrong-key-published", lambda: meta_verify({"issuer": ISS, "jwks": {"keys": [
        {**OTHER.public_jwk, "kid": "issuer-1"}]}}), InvalidSignature),
    Case("vc-meta-fetch-fails", lambda: meta_verify({}, fail=True), UntrustedIssuer),
    Case("vc-meta-not-object", lambda: meta_verify(["x"]), ParsingError),
    Case("vc-jwks-resolver-iss-mismatch", lambda: vc_verify(vc(), key=JwksIssuerKey("https://other",
                                                                                     [IK.public_jwk])),
         UntrustedIssuer),
    # --- SD-JWT VC issuance -------------------------------------------------------------------------------------
    Case("issue-vct-disclosable-path", lambda: vc_issue(disclosable=[["vct"]]), InvalidClaim),
    Case("issue-cnf-disclosable-path", lambda: vc_issue(disclosable=[["cnf", "jwk"]]), InvalidClaim),
    Case("issue-status-marked-sd", lambda: vc_issue(claims={"status": sd({"status_list": {"idx": 1,
                                                                                           "uri": ISS}})}),
         InvalidClaim),
    Case("issue-iss-in-claims-twice", lambda: vc_issue(claims={"iss": "https://other"}), InvalidClaim),
    Case("issue-claim-named-_sd", lambda: vc_issue(claims={"_sd": ["x"]}), InvalidClaim),
    Case("issue-claim-named-dots", lambda: vc_issue(claims={"a": {"...": "x"}}), InvalidClaim),
    Case("issue-claim-named-_sd_alg", lambda: vc_issue(claims={"_sd_alg": "sha-256"}), InvalidClaim),
    Case("issue-path-matches-nothing", lambda: vc_issue(disclosable=[["no_such_claim"]]), InvalidClaim),
    Case("issue-path-through-scalar", lambda: vc_issue(disclosable=[["given_name", "x"]]), InvalidClaim),
    Case("issue-path-negative-index", lambda: vc_issue(disclosable=[["given_name", -1]]), InvalidClaim),
    Case("issue-empty-path", lambda: vc_issue(disclosable=[[]]), InvalidClaim),
    Case("issue-holder-key-private", lambda: SdJwtVcIssuer(IK, clock=CLOCK).issue(
        {}, vct=VCT, holder_jwk=HK.private_jwk()), InvalidClaim),
    Case("issue-not-json-value", lambda: vc_issue(claims={"x": object()}), InvalidClaim),
    Case("issue-nan-plaintext", lambda: vc_issue(claims={"x": float("nan")}), InvalidClaim),
    Case("issue-nan-disclosable", lambda: vc_issue(claims={"x": float("inf")}, disclosable=[["x"]]), InvalidClaim),
    Case("issue-vct-empty", lambda: SdJwtVcIssuer(IK, clock=CLOCK).issue({}, vct=""), InvalidClaim),
    Case("issue-bad-status-in-claims", lambda: vc_issue(claims={"status": {"status_list": {"idx": -3, "uri": ISS}}}),
         InvalidClaim),
    # --- type metadata ------------------------------------------------------------------------------------------
    Case("tm-integrity-mismatch", lambda: check_integrity(b"{}", "sha256-" + base64.b64encode(
        hashlib.sha256(b"[]").digest()).decode()), TypeMetadataError),
    Case("tm-integrity-unsupported-alg", lambda: check_integrity(b"{}", "md5-AAAA"), TypeMetadataError),
    Case("tm-integrity-weaker-alg-only-matches", lambda: check_integrity(b"{}", " ".join([
        "sha256-" + base64.b64encode(hashlib.sha256(b"{}").digest()).decode(),
        "sha512-" + base64.b64encode(hashlib.sha512(b"[]").digest()).decode()])), TypeMetadataError),
    Case("tm-extends-cycle", lambda: resolve_type_metadata("urn:a", loader({
        "urn:a": {"vct": "urn:a", "extends": "urn:b"}, "urn:b": {"vct": "urn:b", "extends": "urn:a"}})),
        TypeMetadataError),
    Case("tm-self-extends", lambda: resolve_type_metadata("urn:a", loader({
        "urn:a": {"vct": "urn:a", "extends": "urn:a"}})), TypeMetadataError),
    Case("tm-vct-mismatch", lambda: resolve_type_metadata("urn:a", loader({"urn:a": {"vct": "urn:b"}})),
         TypeMetadataError),
    Case("tm-extends-integrity-mismatch", lambda: resolve_type_metadata("urn:a", loader({
        "urn:a": {"vct": "urn:a", "extends": "urn:b", "extends#integrity": "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                                                           "AAAAAAAAAAA="},
        "urn:b": {"vct": "urn:b"}})), TypeMetadataError),
    Case("tm-loader-fails", lambda: resolve_type_metadata("urn:a", loader({})), TypeMetadataError),
    Case("tm-not-json", lambda: resolve_type_metadata("urn:a", lambda v: b"{nope"), TypeMetadataError),
    Case("tm-sd-value-invalid", lambda: tm({"vct": "urn:a", "claims": [{"path": ["a"], "sd": "sometimes"}]}),
         TypeMetadataError),
    Case("tm-path-empty", lambda: tm({"vct": "urn:a", "claims": [{"path": []}]}), TypeMetadataError),
    Case("tm-path-duplicate", lambda: tm({"vct": "urn:a", "claims": [{"path": ["a"]}, {"path": ["a"]}]}),
         TypeMetadataError),
    Case("tm-extending-type-relaxes-never", lambda: effective_claim_metadata([
        tm({"vct": "urn:child", "extends": "urn:base", "claims": [{"path": ["a"], "sd": "allowed"}]}),
        tm({"vct": "urn:base", "claims": [{"path": ["a"], "sd": "never"}]})]), TypeMetadataError),
    Case("tm-always-claim-in-plaintext", lambda: check_sd_rules(
        {"a": 1}, set(), [tm({"vct": "urn:a", "claims": [{"path": ["a"], "sd": "always"}]})]), TypeMetadataError),
    Case("tm-never-claim-disclosed", lambda: check_sd_rules(
        {"a": 1}, {("a",)}, [tm({"vct": "urn:a", "claims": [{"path": ["a"], "sd": "never"}]})]),
        TypeMetadataError),
    Case("tm-verify-vct-differs", lambda: SdJwtVcVerifier(IK.public_key, clock=CLOCK).verify(
        vc(), MUST_NOT_BE_PRESENT, type_metadata=[tm({"vct": "urn:other"})]), TypeMetadataError),
    Case("tm-issue-always-claim-not-disclosable", lambda: vc_issue(type_metadata=[tm(
        {"vct": VCT, "claims": [{"path": ["given_name"], "sd": "always"}]})]), InvalidClaim),
    Case("tm-issue-mandatory-claim-missing", lambda: vc_issue(type_metadata=[tm(
        {"vct": VCT, "claims": [{"path": ["birthdate"], "mandatory": True}]})]), InvalidClaim),
]


def good_header(header: dict[str, Any]) -> str:
    return sdjwt(issuer_jwt(header=header), GIVEN, FAMILY, NO)


def referenced(encoded: str) -> object:
    """Verify a credential whose ``_sd`` references ``encoded`` next to the usual claims."""
    p = payload()
    p["_sd"] = sorted([*p["_sd"], h(encoded)])
    return verify(sdjwt(issuer_jwt(p), GIVEN, FAMILY, NO, encoded))


def test_the_corpus_is_large_and_ids_are_unique() -> None:
    assert len(CASES) >= 150
    assert len({c.id for c in CASES}) == len(CASES)


def test_the_untampered_inputs_verify() -> None:
    """The builders make valid inputs: every failure below comes from the one change the case makes."""
    assert verify(good()) is not None
    assert verify(with_kb(), KB) is not None
    assert vc_verify(vc()) is not None
    chain, anchor = cert_chain(leaf_key=IK)
    assert x5c_verify(x5c_vc(IK, chain), anchor) is not None
    assert meta_verify({"issuer": ISS, "jwks": {"keys": [IK.public_jwk]}}) is not None
    assert vc_issue(disclosable=[["given_name"]]) is not None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_negative_case_raises_its_specific_error(case: Case) -> None:
    with pytest.raises(case.error) as err:
        case.run()
    assert type(err.value) is case.error
    if case.reason is not None:
        assert isinstance(err.value, KeyBindingFailed)
        assert err.value.reason == case.reason
