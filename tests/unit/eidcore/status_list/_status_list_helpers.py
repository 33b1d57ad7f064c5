"""Builders for status list token tests: keys, a pinned clock, and raw tokens with arbitrary contents."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import cbor, cose, jose
from eidcore.clock import FixedClock
from eidcore.encoding import b64u_encode
from eidcore.status_list import CWT_MEDIA_TYPE, JWT_TYP, StatusList

URI = "https://issuer.example.no/statuslists/7"
NOW = 1_800_000_000
KEY = jose.generate_signing_key("ES256", kid="k1")
OTHER_KEY = jose.generate_signing_key("ES256", kid="k1")


def clock(at: int = NOW) -> FixedClock:
    return FixedClock.at_timestamp(at)


def ec_private(key: jose.SigningKey) -> ec.EllipticCurvePrivateKey:
    priv = key.private_key
    assert isinstance(priv, ec.EllipticCurvePrivateKey)
    return priv


def ec_public(key: jose.SigningKey) -> ec.EllipticCurvePublicKey:
    pub = key.public_key
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    return pub


def sample_list(bits: int = 2, size: int = 64) -> StatusList:
    lst = StatusList(size, bits)
    lst.set(1, 1)
    if bits >= 2:
        lst.set(2, 2)
    return lst


def jwt_claims(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": URI, "iat": NOW - 10, "exp": NOW + 3600, "ttl": 300,
                              "status_list": sample_list().to_json()}
    for k, v in overrides.items():
        if v is ...:
            claims.pop(k, None)
        else:
            claims[k] = v
    return claims


def jwt(claims: dict[str, Any] | None = None, *, key: jose.SigningKey = KEY, typ: str | None = JWT_TYP,
        header: dict[str, Any] | None = None) -> str:
    return jose.sign_jwt(jwt_claims() if claims is None else claims, key, typ=typ, header=header)


def unsigned_jwt(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    h = b64u_encode(json.dumps(header).encode())
    p = b64u_encode(json.dumps(claims).encode())
    return f"{h}.{p}.{b64u_encode(signature) if signature else 'AA'}"


def cwt_claims(**overrides: Any) -> dict[int, Any]:
    claims: dict[int, Any] = {2: URI, 6: NOW - 10, 4: NOW + 3600, 65534: 300,
                              65533: sample_list().to_cbor_map()}
    for k, v in overrides.items():
        label = int(k[1:])
        if v is ...:
            claims.pop(label, None)
        else:
            claims[label] = v
    return claims


def cwt(claims: Any = None, *, key: jose.SigningKey = KEY, protected: dict[int | str, Any] | None = None,
        unprotected: dict[int | str, Any] | None = None, payload: bytes | None = None) -> bytes:
    body = payload if payload is not None else cbor.dumps(cwt_claims() if claims is None else claims)
    prot: dict[int | str, Any] = {16: CWT_MEDIA_TYPE} if protected is None else protected
    unprot: dict[int | str, Any] = {4: b"k1"} if unprotected is None else unprotected
    return cose.sign1(body, ec_private(key), protected=prot, unprotected=unprot).encode(tag=True)
