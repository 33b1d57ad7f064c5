"""Negative corpus: tampered or malformed status list tokens, lists and status claims.

Each case asserts the specific typed error (and the ``reason`` where the error carries one); none of them may
pass, and none may escape as a generic exception.
"""

from __future__ import annotations

import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import cbor, cose, jose
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import (
    Expired,
    InvalidClaim,
    InvalidHeader,
    InvalidSignature,
    LommebokError,
    MissingClaim,
    NotYetValid,
    ParsingError,
    StatusListError,
    UnsupportedAlgorithm,
    UntrustedIssuer,
)
from eidcore.status_list import parse_status_claim, status_from_mso, verify_cwt, verify_jwt

sys.path.insert(0, str(Path(__file__).parent))
from _status_list_helpers import (
    KEY,
    NOW,
    OTHER_KEY,
    URI,
    clock,
    cwt,
    cwt_claims,
    jwt,
    jwt_claims,
    unsigned_jwt,
)

KEYS = {"k1": KEY.public_key}
P384 = jose.generate_signing_key("ES384", kid="k1")


def vj(token: str, **kw: Any) -> object:
    args: dict[str, Any] = {"uri": URI, "clock": clock(), "keys": KEYS} | kw
    return verify_jwt(token, **args)


def vc(token: bytes, **kw: Any) -> object:
    args: dict[str, Any] = {"uri": URI, "clock": clock(), "keys": KEYS} | kw
    return verify_cwt(token, **args)


def _flip_signature(token: str) -> str:
    h, p, s = token.split(".")
    sig = bytearray(b64u_decode(s))
    sig[10] ^= 0x01
    return f"{h}.{p}.{b64u_encode(bytes(sig))}"


def _swap_payload(token: str, claims: dict[str, Any]) -> str:
    h, _, s = token.split(".")
    return f"{h}.{b64u_encode(jose.json_dumps(claims))}.{s}"


def _cwt_flip_signature(token: bytes) -> bytes:
    msg = cose.decode_sign1(token)
    sig = bytearray(msg.signature)
    sig[0] ^= 0x80
    return cbor.dumps(cbor.CBORTag(18, [msg.protected, dict(msg.unprotected), msg.payload, bytes(sig)]))


def _cwt_swap_payload(token: bytes, payload: bytes) -> bytes:
    msg = cose.decode_sign1(token)
    return cbor.dumps(cbor.CBORTag(18, [msg.protected, dict(msg.unprotected), payload, msg.signature]))


def _lst(raw_zlib: bytes, bits: int = 1) -> dict[str, Any]:
    return {"bits": bits, "lst": b64u_encode(raw_zlib)}


BOMB = zlib.compress(bytes(20 * 1024 * 1024), 9)
TRUNCATED = zlib.compress(bytes(range(256)) * 4, 9)[:-8]


def _p384_cwt() -> bytes:
    priv = P384.private_key
    assert isinstance(priv, ec.EllipticCurvePrivateKey)
    return cose.sign1(cbor.dumps(cwt_claims()), priv, protected={16: "application/statuslist+cwt"},
                      unprotected={4: b"k1"}).encode(tag=True)


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[], object]
    error: type[LommebokError]
    reason: str | None = None


CASES = [
    # ---- JWT: header ---------------------------------------------------------------------------------------
    Case("jwt wrong typ", lambda: vj(jwt(typ="JWT")), InvalidHeader),
    Case("jwt typ of a credential", lambda: vj(jwt(typ="dc+sd-jwt")), InvalidHeader),
    Case("jwt missing typ", lambda: vj(jwt(typ=None)), InvalidHeader),
    Case("jwt alg none", lambda: vj(unsigned_jwt({"alg": "none", "typ": "statuslist+jwt"}, jwt_claims())),
         UnsupportedAlgorithm),
    Case("jwt alg HS256", lambda: vj(unsigned_jwt({"alg": "HS256", "typ": "statuslist+jwt"}, jwt_claims(),
                                                  b"\x00" * 32)), UnsupportedAlgorithm),
    Case("jwt alg ES384 not allowed", lambda: vj(jwt(key=P384), keys={"k1": P384.public_key}),
         UnsupportedAlgorithm),
    Case("jwt unknown crit header", lambda: vj(jwt(header={"crit": ["x-ext"], "x-ext": 1})), InvalidHeader),
    Case("jwt not three parts", lambda: vj("eyJhbGciOiJFUzI1NiJ9.e30"), ParsingError),
    Case("jwt header not base64url", lambda: vj("###.e30.AA"), ParsingError),
    Case("jwt larger than allowed", lambda: vj(jwt(), max_token_bytes=100), ParsingError),
    # ---- JWT: signature and keys ---------------------------------------------------------------------------
    Case("jwt bad signature", lambda: vj(_flip_signature(jwt())), InvalidSignature),
    Case("jwt payload swapped after signing", lambda: vj(_swap_payload(jwt(), jwt_claims(sub=URI + "/x"))),
         InvalidSignature),
    Case("jwt signed by an untrusted key", lambda: vj(jwt(key=OTHER_KEY), keys=[KEY.public_key]),
         InvalidSignature),
    Case("jwt unknown kid", lambda: vj(jwt(), keys={"other": KEY.public_key}), UntrustedIssuer),
    Case("jwt no trusted keys", lambda: vj(jwt(), keys=[]), UntrustedIssuer),
    # ---- JWT: claims ---------------------------------------------------------------------------------------
    Case("jwt wrong sub", lambda: vj(jwt(jwt_claims(sub="https://evil.example/lists/7"))), StatusListError,
         "sub_mismatch"),
    Case("jwt expired", lambda: vj(jwt(jwt_claims(exp=NOW - 120))), Expired),
    Case("jwt iat in the future", lambda: vj(jwt(jwt_claims(iat=NOW + 600))), NotYetValid),
    Case("jwt older than max_age", lambda: vj(jwt(jwt_claims(iat=NOW - 7200)), max_age=3600), Expired),
    Case("jwt does not cover the requested time", lambda: vj(jwt(), at_time=NOW + 7200), StatusListError,
         "time_not_covered"),
    Case("jwt missing sub", lambda: vj(jwt(jwt_claims(sub=...))), MissingClaim),
    Case("jwt missing iat", lambda: vj(jwt(jwt_claims(iat=...))), MissingClaim),
    Case("jwt missing status_list", lambda: vj(jwt(jwt_claims(status_list=...))), MissingClaim),
    Case("jwt sub not a string", lambda: vj(jwt(jwt_claims(sub=7))), InvalidClaim),
    Case("jwt iat not a number", lambda: vj(jwt(jwt_claims(iat="yesterday"))), InvalidClaim),
    Case("jwt exp is a boolean", lambda: vj(jwt(jwt_claims(exp=True))), InvalidClaim),
    Case("jwt ttl zero", lambda: vj(jwt(jwt_claims(ttl=0))), InvalidClaim),
    Case("jwt ttl negative", lambda: vj(jwt(jwt_claims(ttl=-5))), InvalidClaim),
    Case("jwt ttl a string", lambda: vj(jwt(jwt_claims(ttl="300"))), InvalidClaim),
    Case("jwt iss not a string", lambda: vj(jwt(jwt_claims(iss=["a"]))), InvalidClaim),
    # ---- JWT: the list inside ------------------------------------------------------------------------------
    Case("jwt bits 3", lambda: vj(jwt(jwt_claims(status_list={"bits": 3, "lst": "eNrbuRgAAhcBXQ"}))),
         StatusListError, "bits"),
    Case("jwt bits 16", lambda: vj(jwt(jwt_claims(status_list={"bits": 16, "lst": "eNrbuRgAAhcBXQ"}))),
         StatusListError, "bits"),
    Case("jwt bits missing", lambda: vj(jwt(jwt_claims(status_list={"lst": "eNrbuRgAAhcBXQ"}))),
         StatusListError, "missing_bits"),
    Case("jwt lst missing", lambda: vj(jwt(jwt_claims(status_list={"bits": 1}))), StatusListError,
         "missing_lst"),
    Case("jwt status_list not an object", lambda: vj(jwt(jwt_claims(status_list="eNrbuRgAAhcBXQ"))),
         StatusListError, "status_list"),
    Case("jwt lst padded base64", lambda: vj(jwt(jwt_claims(status_list={"bits": 1, "lst": "eNrbuRgAAhcBXQ=="}))),
         ParsingError),
    Case("jwt lst truncated zlib", lambda: vj(jwt(jwt_claims(status_list=_lst(TRUNCATED)))), ParsingError),
    Case("jwt lst not zlib", lambda: vj(jwt(jwt_claims(status_list=_lst(b"\x00\x01\x02\x03")))), ParsingError),
    Case("jwt lst zip bomb", lambda: vj(jwt(jwt_claims(status_list=_lst(BOMB)))), StatusListError, "too_large"),
    Case("jwt lst over a caller's smaller cap",
         lambda: vj(jwt(jwt_claims(status_list=_lst(zlib.compress(bytes(5000)))), ), max_list_bytes=4096),
         StatusListError, "too_large"),
    # ---- CWT -----------------------------------------------------------------------------------------------
    Case("cwt wrong content type", lambda: vc(cwt(protected={16: "application/cwt"})), InvalidHeader),
    Case("cwt statuslist+jwt type", lambda: vc(cwt(protected={16: "application/statuslist+jwt"})), InvalidHeader),
    Case("cwt missing typ", lambda: vc(cwt(protected={})), InvalidHeader),
    Case("cwt typ only unprotected", lambda: vc(cwt(protected={}, unprotected={
        4: b"k1", 16: "application/statuslist+cwt"})), InvalidHeader),
    Case("cwt wrapped in CWT tag 61", lambda: vc(cbor.dumps(cbor.CBORTag(61, cbor.loads(cwt())))), ParsingError),
    Case("cwt as COSE_Mac0 (tag 17)", lambda: vc(cose.mac0(cbor.dumps(cwt_claims()), b"k" * 32, protected={
        16: "application/statuslist+cwt"}).encode(tag=True)), ParsingError),
    Case("cwt alg ES384 not allowed", lambda: vc(_p384_cwt(), keys=[P384.public_key]), UnsupportedAlgorithm),
    Case("cwt bad signature", lambda: vc(_cwt_flip_signature(cwt())), InvalidSignature),
    Case("cwt payload swapped after signing",
         lambda: vc(_cwt_swap_payload(cwt(), cbor.dumps(cwt_claims(k2=URI + "/x")))), InvalidSignature),
    Case("cwt unknown kid", lambda: vc(cwt(unprotected={4: b"zz"})), UntrustedIssuer),
    Case("cwt kid not bytes", lambda: vc(cwt(unprotected={4: "k1"})), InvalidHeader),
    Case("cwt wrong sub", lambda: vc(cwt(cwt_claims(k2="https://evil.example/lists/7"))), StatusListError,
         "sub_mismatch"),
    Case("cwt expired", lambda: vc(cwt(cwt_claims(k4=NOW - 3600))), Expired),
    Case("cwt iat in the future", lambda: vc(cwt(cwt_claims(k6=NOW + 3600))), NotYetValid),
    Case("cwt missing sub", lambda: vc(cwt(cwt_claims(k2=...))), MissingClaim),
    Case("cwt missing iat", lambda: vc(cwt(cwt_claims(k6=...))), MissingClaim),
    Case("cwt missing status list", lambda: vc(cwt(cwt_claims(k65533=...))), MissingClaim),
    Case("cwt ttl not an unsigned integer", lambda: vc(cwt(cwt_claims(k65534=1.5))), InvalidClaim),
    Case("cwt exp NaN (never expires unless refused)", lambda: vc(cwt(cwt_claims(k4=float("nan")))), InvalidClaim),
    Case("cwt iat infinite", lambda: vc(cwt(cwt_claims(k6=float("-inf")))), InvalidClaim),
    Case("cwt ttl NaN", lambda: vc(cwt(cwt_claims(k65534=float("nan")))), InvalidClaim),
    Case("cwt nbf in the future", lambda: vc(cwt(cwt_claims(k5=NOW + 3600))), NotYetValid),
    Case("cwt lst text instead of bstr", lambda: vc(cwt(cwt_claims(k65533={"bits": 1, "lst": "eNrbuRgAAhcBXQ"}))),
         StatusListError, "lst"),
    Case("cwt lst zip bomb", lambda: vc(cwt(cwt_claims(k65533={"bits": 1, "lst": BOMB}))), StatusListError,
         "too_large"),
    Case("cwt lst truncated", lambda: vc(cwt(cwt_claims(k65533={"bits": 2, "lst": TRUNCATED}))), ParsingError),
    Case("cwt claims not a map", lambda: vc(cwt(payload=cbor.dumps([2, URI]))), ParsingError),
    Case("cwt not CBOR", lambda: vc(b"\xff\x00garbage"), ParsingError),
    Case("cwt trailing bytes", lambda: vc(cwt() + b"\x00"), ParsingError),
    Case("cwt not a byte string", lambda: vc("d28443a1"), ParsingError),  # type: ignore[arg-type]
    # ---- Referenced Token status claim ---------------------------------------------------------------------
    Case("status claim not an object", lambda: parse_status_claim(["status_list"]), InvalidClaim),
    Case("status claim empty", lambda: parse_status_claim({}), MissingClaim),
    Case("status claim only identifier_list", lambda: parse_status_claim(
        {"identifier_list": {"id": b"\x01", "uri": URI}}, cbor=True), StatusListError, "unsupported_mechanism"),
    Case("status_list not an object", lambda: parse_status_claim({"status_list": [0, URI]}), InvalidClaim),
    Case("status_list idx missing", lambda: parse_status_claim({"status_list": {"uri": URI}}), MissingClaim),
    Case("status_list uri missing", lambda: parse_status_claim({"status_list": {"idx": 3}}), MissingClaim),
    Case("status_list idx negative", lambda: parse_status_claim({"status_list": {"idx": -1, "uri": URI}}),
         InvalidClaim),
    Case("status_list idx boolean", lambda: parse_status_claim({"status_list": {"idx": True, "uri": URI}}),
         InvalidClaim),
    Case("status_list idx string", lambda: parse_status_claim({"status_list": {"idx": "3", "uri": URI}}),
         InvalidClaim),
    Case("status_list uri empty", lambda: parse_status_claim({"status_list": {"idx": 3, "uri": ""}}),
         InvalidClaim),
    Case("mdoc status certificate not bytes", lambda: status_from_mso(
        {"status": {"status_list": {"idx": 3, "uri": URI, "certificate": "MIIB"}}}), InvalidClaim),
]


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_negative(case: Case) -> None:
    with pytest.raises(LommebokError) as exc:
        case.run()
    assert type(exc.value) is case.error, f"{case.name}: got {type(exc.value).__name__}: {exc.value}"
    if case.reason is not None:
        assert exc.value.details.get("reason") == case.reason
