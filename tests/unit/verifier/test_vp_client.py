"""The wallet's OpenID4VP request checks (wallet_api.holder.vp): JAR typ, client id prefixes, chain, binding."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from eidcore import jose
from eidcore.errors import InvalidCertificate, InvalidHeader, InvalidRequest, InvalidSignature, UntrustedIssuer
from eidcore.keys import create_dev_pki
from wallet_api.holder import vp

BASE = "http://localhost:8000"
RESPONSE_URI = f"{BASE}/verifier/response/t1"
QUERY = {"credentials": [{"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:eudi:pid:1"]}}]}

(_, ROOT), IDS = create_dev_pki(BASE)
VERIFIER = IDS["verifier"]
ANCHORS = [ROOT]
HASH = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.chain_der[0]).digest()).rstrip(b"=").decode()


def _claims(client_id: str, **extra: Any) -> dict[str, Any]:
    return {"client_id": client_id, "response_type": "vp_token", "response_mode": "direct_post",
            "response_uri": RESPONSE_URI, "nonce": "n-123", "state": "s-1", "dcql_query": QUERY, **extra}


def _jar(claims: dict[str, Any], typ: str = "oauth-authz-req+jwt", key: jose.SigningKey | None = None) -> str:
    return jose.sign_jwt(claims, key or VERIFIER.signing_key(), typ=typ, include_x5c=True, include_kid=False)


@pytest.mark.parametrize("client_id", [f"x509_hash:{HASH}", "x509_san_dns:localhost"])
def test_signed_requests_verify(client_id: str) -> None:
    req = vp.verify_request_object(_jar(_claims(client_id)), client_id=client_id, trust_anchors=ANCHORS)
    assert req.nonce == "n-123" and req.state == "s-1" and req.dcql_query.ids == ("pid",)
    assert req.verifier_certificate is not None


def test_unsigned_redirect_uri_request() -> None:
    cid = f"redirect_uri:{RESPONSE_URI}"
    header = jose.b64url_encode(jose.json_dumps({"alg": "none", "typ": "oauth-authz-req+jwt"}))
    body = jose.b64url_encode(jose.json_dumps(_claims(cid)))
    req = vp.verify_request_object(f"{header}.{body}.", client_id=cid, trust_anchors=ANCHORS)
    assert req.client_id_prefix == "redirect_uri"
    with pytest.raises(InvalidRequest, match="unsigned"):
        vp.verify_request_object(_jar(_claims(cid)), client_id=cid, trust_anchors=ANCHORS)
    other = jose.b64url_encode(jose.json_dumps({**_claims(cid), "response_uri": f"{BASE}/elsewhere"}))
    with pytest.raises(InvalidRequest, match="response_uri"):
        vp.verify_request_object(f"{header}.{other}.", client_id=cid, trust_anchors=ANCHORS)


def test_wrong_typ_is_refused() -> None:
    cid = f"x509_hash:{HASH}"
    with pytest.raises(InvalidHeader, match="typ"):
        vp.verify_request_object(_jar(_claims(cid), typ="JWT"), client_id=cid, trust_anchors=ANCHORS)


def test_x509_hash_of_another_certificate_is_refused() -> None:
    cid = "x509_hash:" + "A" * 43
    with pytest.raises(UntrustedIssuer, match="x509_hash"):
        vp.verify_request_object(_jar(_claims(cid)), client_id=cid, trust_anchors=ANCHORS)


def test_x509_san_dns_must_be_a_san_and_the_response_host() -> None:
    cid = "x509_san_dns:verifier.example"
    with pytest.raises(UntrustedIssuer, match="dNSName"):
        vp.verify_request_object(_jar(_claims(cid)), client_id=cid, trust_anchors=ANCHORS)


def test_untrusted_chain_and_bad_signature() -> None:
    (_, other_root), _ids = create_dev_pki(BASE)
    cid = f"x509_hash:{HASH}"
    with pytest.raises(UntrustedIssuer):
        vp.verify_request_object(_jar(_claims(cid)), client_id=cid, trust_anchors=[other_root])
    head, _payload, sig = _jar(_claims(cid)).split(".")
    tampered = jose.b64url_encode(jose.json_dumps({**_claims(cid), "nonce": "other"}))
    with pytest.raises(InvalidSignature):
        vp.verify_request_object(f"{head}.{tampered}.{sig}", client_id=cid, trust_anchors=ANCHORS)


def test_trust_anchor_in_x5c_is_refused() -> None:
    cid = f"x509_hash:{HASH}"
    key = jose.SigningKey(VERIFIER.key, "ES256", None, (*VERIFIER.chain_der, ROOT.public_bytes(Encoding.DER)))
    with pytest.raises((InvalidHeader, InvalidCertificate), match="trust anchor"):
        vp.verify_request_object(_jar(_claims(cid), key=key), client_id=cid, trust_anchors=ANCHORS)


@pytest.mark.parametrize(("change", "text"), [
    ({"client_id": "x509_san_dns:localhost"}, "client_id"),
    ({"response_mode": "fragment"}, "direct_post"),
    ({"redirect_uri": "https://x.example"}, "redirect_uri"),
    ({"nonce": ""}, "nonce"),
    ({"transaction_data": ["e30"]}, "transaction_data"),
    ({"exp": 1_000_000}, "expired"),
])
def test_request_claims_are_checked(change: dict[str, Any], text: str) -> None:
    cid = f"x509_hash:{HASH}"
    with pytest.raises(InvalidRequest, match=text):
        vp.verify_request_object(_jar({**_claims(cid), **change}), client_id=cid, trust_anchors=ANCHORS)


def test_wallet_nonce_must_come_back() -> None:
    cid = f"x509_hash:{HASH}"
    with pytest.raises(InvalidRequest, match="wallet_nonce"):
        vp.verify_request_object(_jar(_claims(cid, wallet_nonce="a")), client_id=cid, trust_anchors=ANCHORS,
                                 wallet_nonce="b")


def test_authorization_uri_parsing() -> None:
    p = vp.parse_authorization_uri("openid4vp://?client_id=x509_hash%3Aabc&request_uri=https%3A%2F%2Fv.example%2Fr")
    assert p == {"client_id": "x509_hash:abc", "request_uri": "https://v.example/r"}
    with pytest.raises(InvalidRequest):
        vp.parse_authorization_uri("openid4vp://?request_uri=x")
    with pytest.raises(InvalidRequest):
        vp.parse_authorization_uri("mailto:someone@example.com")


def test_encryption_key_selection() -> None:
    jwk = {**jose.generate_signing_key().public_jwk, "use": "enc", "alg": "ECDH-ES", "kid": "k"}
    jwk.pop("alg")
    jwk["alg"] = "ECDH-ES"
    cid = f"x509_hash:{HASH}"
    meta = {"jwks": {"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "use": "sig"}, jwk]},
            "encrypted_response_enc_values_supported": ["A256GCM"]}
    req = vp.verify_request_object(_jar(_claims(cid, response_mode="direct_post.jwt", client_metadata=meta)),
                                   client_id=cid, trust_anchors=ANCHORS)
    key, enc = req.encryption_key()
    assert key["kid"] == "k" and enc == "A256GCM"
    assert req.jwk_thumbprint() is not None and len(req.jwk_thumbprint() or b"") == 32
