"""eidcore.jose: JWS sign/verify with allow-lists, JWK helpers and RFC 7638 thumbprints, JWE ECDH-ES."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import jose
from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import (
    EncryptionError,
    InvalidHeader,
    InvalidSignature,
    ParsingError,
    UnsupportedAlgorithm,
)

KEY = jose.generate_signing_key(kid="k1")
OTHER = jose.generate_signing_key()


# ------------------------------------------------------------------------------------------------ JWK


def test_thumbprint_matches_openid4vp_appendix_b_vector() -> None:
    jwk = {"kty": "EC", "crv": "P-256", "x": "DxiH5Q4Yx3UrukE2lWCErq8N8bqC9CHLLrAwLz5BmE0",
           "y": "XtLM4-3h5o3HUH0MHVJV0kyq0iBlrBwlh8qEDMZ4-Pc"}
    expected = "4283ec927ae0f208daaa2d026a814f2b22dca52cf85ffa8f3f8626c6bd669047"
    assert jose.jwk_thumbprint(jwk).hex() == expected
    assert b64u_decode(jose.jwk_thumbprint_b64u(jwk)).hex() == expected
    # members outside the required set do not change it (RFC 7638 §3.2)
    assert jose.jwk_thumbprint({**jwk, "kid": "ac", "use": "enc", "alg": "ECDH-ES"}).hex() == expected


def test_thumbprint_rfc7638_rsa_example() -> None:
    """RFC 7638 §3.1 example: thumbprint NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs."""
    n = ("0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3o"
         "knjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu"
         "6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8aw"
         "apJzKnqDKgw")
    jwk = {"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    assert jose.jwk_thumbprint_b64u(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


@pytest.mark.parametrize("jwk", [{}, {"kty": "EC", "crv": "P-256", "x": "a"}, {"kty": "XX"},
                                 {"kty": "EC", "crv": "P-256", "x": 1, "y": "b"}], ids=["empty", "no-y",
                                                                                     "bad-kty", "x-not-str"])
def test_thumbprint_of_malformed_jwk_is_parsing_error(jwk: dict[str, Any]) -> None:
    with pytest.raises(ParsingError):
        jose.jwk_thumbprint(jwk)


def test_public_jwk_roundtrip_and_private_jwk_reload() -> None:
    pub = jose.public_jwk(KEY.public_key)
    assert set(pub) == {"kty", "crv", "x", "y"}
    assert len(b64u_decode(pub["x"])) == 32
    again = jose.public_key_from_jwk(pub)
    assert jose.public_jwk(again) == pub
    reloaded = jose.signing_key_from_jwk(KEY.private_jwk())
    assert reloaded.kid == "k1" and reloaded.alg == "ES256"
    assert reloaded.public_jwk == KEY.public_jwk


def test_signing_key_from_pem() -> None:
    from cryptography.hazmat.primitives import serialization

    pem = KEY.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    assert jose.signing_key_from_pem(pem, kid="x").public_jwk["x"] == KEY.public_jwk["x"]
    with pytest.raises(ParsingError):
        jose.signing_key_from_pem(b"-----BEGIN NOTHING-----")


@pytest.mark.parametrize(("jwk", "error"), [
    ({**KEY.public_jwk, "d": "AAAA"}, InvalidHeader),
    ({"kty": "oct", "k": "c2VjcmV0"}, InvalidHeader),  # a symmetric key is secret material
    ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, UnsupportedAlgorithm),
    ({**KEY.public_jwk, "x": "AAAA"}, ParsingError),
    ({**KEY.public_jwk, "y": KEY.public_jwk["x"]}, ParsingError),
    ({**KEY.public_jwk, "crv": "P-192"}, UnsupportedAlgorithm),
    ({"kty": "OKP", "crv": "X25519", "x": "AAAA"}, ParsingError),
    ("not a dict", ParsingError),
], ids=["private-d", "oct", "rsa", "short-x", "off-curve", "unknown-curve", "okp-x25519", "not-object"])
def test_public_key_from_bad_jwk(jwk: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        jose.public_key_from_jwk(jwk)


# ------------------------------------------------------------------------------------------------ JWS


@pytest.mark.parametrize("alg", ["ES256", "ES384", "ES512", "EdDSA"])
def test_sign_and_verify_each_supported_algorithm(alg: str) -> None:
    key = jose.generate_signing_key(alg)  # type: ignore[arg-type]
    token = jose.sign_jwt({"sub": "a", "n": 1}, key, typ="test+jwt")
    result = jose.verify_jwt(token, key.public_jwk, jose.JwsPolicy(algorithms=frozenset({alg}), typ="test+jwt"))
    assert result.claims == {"sub": "a", "n": 1}
    assert result.header == {"alg": alg, "typ": "test+jwt"}
    assert jose.public_jwk(result.key) == jose.public_jwk(key.public_key)


def test_es256_signature_is_raw_r_s_and_verifies_with_plain_cryptography() -> None:
    token = jose.sign_jws(b"payload", KEY)
    h, p, s = token.split(".")
    sig = b64u_decode(s)
    assert len(sig) == 64
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    KEY.public_key.verify(der, f"{h}.{p}".encode(), ec.ECDSA(hashes.SHA256()))
    assert json.loads(b64u_decode(h)) == {"alg": "ES256", "kid": "k1"}


def test_verify_accepts_key_as_object_jwk_or_signing_key() -> None:
    token = jose.sign_jws(b"x", KEY)
    for key in (KEY.public_key, KEY.public_jwk, KEY):
        assert jose.verify_jws(token, key).payload == b"x"


def test_typ_comparison_ignores_case_and_application_prefix() -> None:
    token = jose.sign_jws(b"x", KEY, typ="application/KB+JWT")
    assert jose.verify_jws(token, KEY, jose.JwsPolicy(typ="kb+jwt")).header["typ"] == "application/KB+JWT"


def test_understood_crit_header_is_accepted() -> None:
    token = jose.sign_jws(b"x", KEY, header={"crit": ["ext"], "ext": 1})
    assert jose.verify_jws(token, KEY, jose.JwsPolicy(understood_crit=frozenset({"ext"}))).header["ext"] == 1


def test_verify_with_header_jwk() -> None:
    token = jose.sign_jws(b"proof", KEY, typ="openid4vci-proof+jwt", include_jwk=True, include_kid=False)
    result = jose.verify_jws_with_header_jwk(token, jose.JwsPolicy(typ="openid4vci-proof+jwt"))
    assert jose.public_jwk(result.key) == jose.public_jwk(KEY.public_key)
    with pytest.raises(InvalidHeader):
        jose.verify_jws_with_header_jwk(jose.sign_jws(b"proof", KEY))


def test_policy_refuses_unsupported_algorithms_up_front() -> None:
    with pytest.raises(UnsupportedAlgorithm):
        jose.JwsPolicy(algorithms=frozenset({"HS256"}))
    with pytest.raises(UnsupportedAlgorithm):
        jose.JwsPolicy(algorithms=frozenset({"none"}))


def test_sign_refuses_alg_and_private_jwk_in_extra_header() -> None:
    with pytest.raises(InvalidHeader):
        jose.sign_jws(b"x", KEY, header={"alg": "none"})
    with pytest.raises(InvalidHeader):
        jose.sign_jws(b"x", KEY, header={"jwk": KEY.private_jwk()})
    with pytest.raises(InvalidHeader):
        jose.sign_jws(b"x", KEY, include_x5c=True)


def test_private_key_given_as_verification_key_is_refused() -> None:
    with pytest.raises(InvalidHeader):
        jose.verify_jws(jose.sign_jws(b"x", KEY), KEY.private_key)  # type: ignore[arg-type]


def _forge(header: dict[str, Any], payload: bytes = b"{}", key: jose.SigningKey = KEY) -> str:
    """A compact JWS with exactly ``header``, ES256-signed by ``key`` whatever ``alg`` says."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    si = f"{b64u_encode(json.dumps(header).encode())}.{b64u_encode(payload)}"
    r, s = decode_dss_signature(key.private_key.sign(si.encode(), ec.ECDSA(hashes.SHA256())))  # type: ignore[call-arg]
    return f"{si}.{b64u_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


JOSE_NEGATIVE: list[tuple[str, Any, jose.JwsPolicy, type[Exception]]] = [
    ("alg-none", _forge({"alg": "none"}), jose.ES256_ONLY, UnsupportedAlgorithm),
    ("alg-NONE", _forge({"alg": "NONE"}), jose.ES256_ONLY, UnsupportedAlgorithm),
    ("alg-hs256", _forge({"alg": "HS256"}), jose.ES256_ONLY, UnsupportedAlgorithm),
    ("alg-hs384", _forge({"alg": "HS384"}), jose.ES256_ONLY, UnsupportedAlgorithm),
    ("alg-hs512", _forge({"alg": "HS512"}), jose.ES256_ONLY, UnsupportedAlgorithm),
    ("alg-ps256", _forge({"alg": "PS256"}), jose.ES256_ONLY, UnsupportedAlgorithm),
    ("alg-eddsa-not-allowed", _forge({"alg": "EdDSA"}), jose.ES256_ONLY, UnsupportedAlgorithm),
    ("alg-es256k", _forge({"alg": "ES256K"}), jose.ES256_ONLY, UnsupportedAlgorithm),
    ("alg-missing", _forge({"typ": "JWT"}), jose.ES256_ONLY, ParsingError),
    ("alg-array", _forge({"alg": ["ES256"]}), jose.ES256_ONLY, ParsingError),
    ("eddsa-alg-with-ec-key", _forge({"alg": "EdDSA"}), jose.JwsPolicy(algorithms=frozenset({"EdDSA"})),
     UnsupportedAlgorithm),
    ("typ-required-missing", _forge({"alg": "ES256"}), jose.JwsPolicy(typ="dpop+jwt"), InvalidHeader),
    ("typ-wrong", _forge({"alg": "ES256", "typ": "jwt"}), jose.JwsPolicy(typ="dpop+jwt"), InvalidHeader),
    ("typ-array", _forge({"alg": "ES256", "typ": ["dpop+jwt"]}), jose.JwsPolicy(typ="dpop+jwt"),
     InvalidHeader),
    ("crit-unknown", _forge({"alg": "ES256", "crit": ["foo"], "foo": 1}), jose.ES256_ONLY, InvalidHeader),
    ("crit-missing-member", _forge({"alg": "ES256", "crit": ["foo"]}),
     jose.JwsPolicy(understood_crit=frozenset({"foo"})), InvalidHeader),
    ("crit-registered", _forge({"alg": "ES256", "crit": ["kid"], "kid": "x"}), jose.ES256_ONLY, InvalidHeader),
    ("crit-empty", _forge({"alg": "ES256", "crit": []}), jose.ES256_ONLY, InvalidHeader),
    ("crit-non-string", _forge({"alg": "ES256", "crit": [1]}), jose.ES256_ONLY, InvalidHeader),
    ("b64-false", _forge({"alg": "ES256", "b64": False, "crit": ["b64"]}), jose.ES256_ONLY, InvalidHeader),
    ("jwk-private", _forge({"alg": "ES256", "jwk": KEY.private_jwk()}), jose.ES256_ONLY, InvalidHeader),
    ("jwk-p384-for-es256", _forge({"alg": "ES256", "jwk": jose.generate_signing_key("ES384").public_jwk}),
     jose.ES256_ONLY, InvalidHeader),
    ("jwk-okp-for-es256", _forge({"alg": "ES256", "jwk": jose.generate_signing_key("EdDSA").public_jwk}),
     jose.ES256_ONLY, InvalidHeader),
    ("jwk-symmetric", _forge({"alg": "ES256", "jwk": {"kty": "oct", "k": "AAAA"}}), jose.ES256_ONLY,
     InvalidHeader),
    ("jwk-list", _forge({"alg": "ES256", "jwk": [1]}), jose.ES256_ONLY, InvalidHeader),
    ("x5c-not-base64", _forge({"alg": "ES256", "x5c": ["***"]}), jose.ES256_ONLY, InvalidHeader),
    ("x5c-not-der", _forge({"alg": "ES256", "x5c": ["AAAA"]}), jose.ES256_ONLY, InvalidHeader),
    ("x5c-empty", _forge({"alg": "ES256", "x5c": []}), jose.ES256_ONLY, InvalidHeader),
    ("header-duplicate-alg", b64u_encode(b'{"alg":"ES256","alg":"none"}') + ".e30.AAAA", jose.ES256_ONLY,
     ParsingError),
    ("header-array", b64u_encode(b"[]") + ".e30.AAAA", jose.ES256_ONLY, ParsingError),
    ("two-parts", "a.b", jose.ES256_ONLY, ParsingError),
    ("four-parts", "a.b.c.d", jose.ES256_ONLY, ParsingError),
    ("padded-signature", jose.sign_jws(b"x", KEY) + "=", jose.ES256_ONLY, ParsingError),
    ("too-large", jose.sign_jws(b"x" * 2000, KEY), jose.JwsPolicy(max_bytes=1000), ParsingError),
    ("signature-other-key", jose.sign_jws(b"x", OTHER), jose.ES256_ONLY, InvalidSignature),
    ("signature-short", jose.sign_jws(b"x", KEY)[:-8], jose.ES256_ONLY, InvalidSignature),
    ("signature-der-instead-of-raw", (lambda t: t.rsplit(".", 1)[0] + "." + b64u_encode(
        KEY.private_key.sign(t.rsplit(".", 1)[0].encode(), ec.ECDSA(hashes.SHA256()))))(  # type: ignore[call-arg]
        jose.sign_jws(b"x", KEY)), jose.ES256_ONLY, InvalidSignature),
    ("payload-changed", (lambda t: t.split(".")[0] + "." + b64u_encode(b"y") + "." + t.split(".")[2])(
        jose.sign_jws(b"x", KEY)), jose.ES256_ONLY, InvalidSignature),
]


@pytest.mark.parametrize(("token", "policy", "error"), [c[1:] for c in JOSE_NEGATIVE],
                         ids=[c[0] for c in JOSE_NEGATIVE])
def test_jws_negative(token: str, policy: jose.JwsPolicy, error: type[Exception]) -> None:
    with pytest.raises(error) as err:
        jose.verify_jws(token, KEY.public_key, policy)
    assert type(err.value) is error


def test_any_single_byte_change_to_a_signed_jws_is_caught() -> None:
    token = jose.sign_jwt({"sub": "x", "nonce": "abc"}, KEY, typ="kb+jwt")
    policy = jose.JwsPolicy(typ="kb+jwt")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i, ch in enumerate(token):
        if ch == ".":
            continue
        for repl in (alphabet[(alphabet.index(ch) + 1) % 64], "."):
            tampered = token[:i] + repl + token[i + 1:]
            with pytest.raises((ParsingError, InvalidSignature, InvalidHeader, UnsupportedAlgorithm)):
                result = jose.verify_jws(tampered, KEY, policy)
                # a change in the unused low bits of the last base64 character decodes to the same bytes
                if result.payload == jose.verify_jws(token, KEY, policy).payload:
                    raise InvalidSignature("same bytes")


# ------------------------------------------------------------------------------------------------ JWE


@pytest.mark.parametrize("enc", ["A128GCM", "A256GCM"])
def test_jwe_ecdh_es_roundtrip(enc: str) -> None:
    recipient = jose.generate_signing_key()
    jwk = jose.public_jwk(recipient.public_key, kid="enc-1")
    token = jose.encrypt_jwe(b'{"vp_token":{}}', jwk, enc=enc)
    header = json.loads(b64u_decode(token.split(".")[0]))
    assert header["alg"] == "ECDH-ES" and header["enc"] == enc and header["kid"] == "enc-1"
    assert token.split(".")[1] == ""
    result = jose.decrypt_jwe(token, recipient)
    assert result.plaintext == b'{"vp_token":{}}'
    assert jose.decrypt_jwe(token, recipient.private_jwk()).plaintext == b'{"vp_token":{}}'


def test_jwe_with_wrong_key_or_tampered_ciphertext_fails() -> None:
    recipient, other = jose.generate_signing_key(), jose.generate_signing_key()
    token = jose.encrypt_jwe(b"secret", jose.public_jwk(recipient.public_key))
    with pytest.raises(EncryptionError):
        jose.decrypt_jwe(token, other)
    parts = token.split(".")
    ct = bytearray(b64u_decode(parts[3]))
    ct[0] ^= 1
    parts[3] = b64u_encode(bytes(ct))
    with pytest.raises(EncryptionError):
        jose.decrypt_jwe(".".join(parts), recipient)


def test_jwe_policy_refuses_other_algorithms() -> None:
    recipient = jose.generate_signing_key()
    token = jose.encrypt_jwe(b"x", jose.public_jwk(recipient.public_key), enc="A256GCM")
    with pytest.raises(UnsupportedAlgorithm):
        jose.decrypt_jwe(token, recipient, policy=jose.JwePolicy(encryptions=frozenset({"A128GCM"})))
    with pytest.raises(UnsupportedAlgorithm):
        jose.encrypt_jwe(b"x", jose.public_jwk(recipient.public_key), enc="A128CBC-HS256")
    with pytest.raises(UnsupportedAlgorithm):
        jose.JwePolicy(algorithms=frozenset({"RSA-OAEP"}))
    with pytest.raises(EncryptionError):
        jose.encrypt_jwe(b"x", {**jose.public_jwk(recipient.public_key), "alg": "ECDH-ES+A128KW"})


@pytest.mark.parametrize(("mutate", "error"), [
    (lambda h: {**h, "alg": "RSA-OAEP"}, UnsupportedAlgorithm),
    (lambda h: {**h, "alg": "dir"}, UnsupportedAlgorithm),
    (lambda h: {**h, "enc": "A128CBC-HS256"}, UnsupportedAlgorithm),
    (lambda h: {**h, "zip": "DEF"}, InvalidHeader),
    (lambda h: {**h, "crit": ["x"]}, InvalidHeader),
    (lambda h: {k: v for k, v in h.items() if k != "epk"}, InvalidHeader),
    (lambda h: {**h, "epk": {**h["epk"], "d": "AAAA"}}, InvalidHeader),
    (lambda h: {**h, "epk": jose.generate_signing_key("ES384").public_jwk}, InvalidHeader),
], ids=["alg-rsa", "alg-dir", "enc-cbc", "zip", "crit", "no-epk", "epk-private", "epk-other-curve"])
def test_jwe_header_negative(mutate: Any, error: type[Exception]) -> None:
    recipient = jose.generate_signing_key()
    token = jose.encrypt_jwe(b"x", jose.public_jwk(recipient.public_key))
    parts = token.split(".")
    header = json.loads(b64u_decode(parts[0]))
    parts[0] = b64u_encode(json.dumps(mutate(header)).encode())
    with pytest.raises(error):
        jose.decrypt_jwe(".".join(parts), recipient)


def test_jwe_compact_shape_errors() -> None:
    recipient = jose.generate_signing_key()
    with pytest.raises(ParsingError):
        jose.decrypt_jwe("a.b.c", recipient)
    token = jose.encrypt_jwe(b"x", jose.public_jwk(recipient.public_key))
    parts = token.split(".")
    parts[1] = "AAAA"
    with pytest.raises(ParsingError):
        jose.decrypt_jwe(".".join(parts), recipient)
    with pytest.raises(ParsingError):
        jose.decrypt_jwe(token, recipient, policy=jose.JwePolicy(max_bytes=10))


# OpenID4VP 1.0 §8.3 (Encrypted Responses): the spec's example direct_post.jwt response and its private key.
# Source: openid/OpenID4VP 1.0/openid-4-verifiable-presentations-1_0.md @ 46f6965b (standards.md §8.4).
OID4VP_RECIPIENT = {"kty": "EC", "kid": "ac", "use": "enc", "crv": "P-256", "alg": "ECDH-ES",
                    "x": "YO4epjifD-KWeq1sL2tNmm36BhXnkJ0He-WqMYrp9Fk",
                    "y": "Hekpm0zfK7C-YccH5iBjcIXgf6YdUvNUac_0At55Okk",
                    "d": "Et-3ce0omz8_TuZ96Df9lp0GAaaDoUnDe6X-CRO7Aww"}
OID4VP_JWE = (
    "eyJhbGciOiJFQ0RILUVTIiwiZW5jIjoiQTEyOEdDTSIsImtpZCI6ImFjIiwiZXBrIjp7Imt0eSI6IkVDIiwieCI6"
    "Im5ubVZwbTNWM2piaGNhZlFhUkJrU1ZOSGx3Wkh3dC05ck9wSnVmeVlJdWsiLCJ5IjoicjRmakRxd0p5czlxVU9Q"
    "LV9iM21SNVNaRy0tQ3dPMm1pYzVWU05UWU45ZyIsImNydiI6IlAtMjU2In19..uAYcHRUSSn2X0WPX.yVzlGSYG4"
    "qbg0bq18JcUiDRw56yVnbKR8E7S7YlEtzT00RqE3Pw5oTpUG3hdLN4taHZ9gC1kwak8JOnJgQ.1wR024_3-qtAlx"
    "1oFIUpQQ")


def test_openid4vp_example_encrypted_response_decrypts() -> None:
    result = jose.decrypt_jwe(OID4VP_JWE, OID4VP_RECIPIENT)
    assert json.loads(result.plaintext) == {"vp_token": {"example_credential_id": ["eyJhb...YMetA"]}}
    assert result.header["kid"] == "ac" and result.header["enc"] == "A128GCM"
    assert result.header["epk"]["x"] == "nnmVpm3V3jbhcafQaRBkSVNHlwZHwt-9rOpJufyYIuk"
    with pytest.raises(UnsupportedAlgorithm):
        jose.decrypt_jwe(OID4VP_JWE, OID4VP_RECIPIENT, policy=jose.JwePolicy(encryptions=frozenset({"A256GCM"})))
