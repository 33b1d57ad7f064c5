"""The ``attestation`` proof type (OpenID4VCI 1.0 Appendix F.3), refused proof key kinds (``kid`` DID URLs, ``x5c``),
refresh-token family revocation on reuse (RFC 9700 §4.14.2), the wallet attestation's ``status`` checked against
the wallet provider's status list, signed issuer metadata (§12.2.3) and the status list ``ttl`` / ``max-age``."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import jose
from eidcore.errors import InvalidGrant, InvalidNonce, InvalidProof, InvalidToken
from eidcore.oauth import client_attestation
from eidcore.status_list import StatusList, StatusValue, issue_jwt, verify_jwt
from eidcore.trust.x509 import validate_chain

ISS = "http://localhost:8000/issuer"
CONFIG = "pid_vc_sd_jwt"

#: storage-independent behaviour: run on the embedded stack only (keeps the suite quick)
SQLITE_ONLY = pytest.mark.parametrize("stack", ["sqlite-memory"], indirect=True)


def _key_attestation(h: Any, keys: list[jose.SigningKey], nonce: str | None) -> str:
    now = int(h.rt.clock.timestamp())
    claims: dict[str, Any] = {"iat": now, "exp": now + 300,
                              "attested_keys": [jose.public_jwk(k.public_key) for k in keys],
                              "key_storage": ["iso_18045_high"], "user_authentication": ["iso_18045_high"]}
    if nonce is not None:
        claims["nonce"] = nonce
    return jose.sign_jwt(claims, h.rt.keys.wallet_provider.signing_key(), typ="key-attestation+jwt",
                         include_kid=False, include_x5c=True)


async def test_attestation_proof_type_binds_one_credential_per_attested_key(h: Any) -> None:
    client, tok = await h.pre_authorized_token("kari", [CONFIG])
    keys = [jose.generate_signing_key() for _ in range(2)]
    nonce = await client.nonce()
    att = _key_attestation(h, keys, nonce)
    resp = await client.request_credential(tok, key_attestation=att, credential_configuration_id=CONFIG)
    assert [h.verify_sd_jwt(c).holder_jwk for c in resp.credentials] == [jose.public_jwk(k.public_key) for k in keys]
    with pytest.raises(InvalidNonce):  # its nonce was the c_nonce, now used
        await client.request_credential(tok, key_attestation=att, credential_configuration_id=CONFIG)
    with pytest.raises(InvalidProof, match="nonce"):
        await client.request_credential(tok, key_attestation=_key_attestation(h, keys, None),
                                        credential_configuration_id=CONFIG)
    auth = {"Authorization": f"Bearer {tok.access_token}"}
    two = [_key_attestation(h, keys, await client.nonce()) for _ in range(2)]
    r = await h.stack.client.post("/issuer/credential", headers=auth,
                                  json={"credential_configuration_id": CONFIG, "proofs": {"attestation": two}})
    assert r.status_code == 400 and r.json()["error"] == "invalid_proof" and "exactly one" in r.text
    meta = (await h.stack.client.get("/.well-known/openid-credential-issuer/issuer")).json()
    assert "attestation" in meta["credential_configurations_supported"][CONFIG]["proof_types_supported"]


@SQLITE_ONLY
async def test_kid_and_x5c_proof_keys_are_refused_clearly(h: Any) -> None:
    client, tok = await h.pre_authorized_token("kari", [CONFIG])
    key = jose.generate_signing_key()
    claims = {"aud": ISS, "iat": int(h.rt.clock.timestamp())}
    did = jose.sign_jwt({**claims, "nonce": await client.nonce()}, key, typ="openid4vci-proof+jwt",
                        header={"kid": "did:example:123#key-1"}, include_kid=False)
    with pytest.raises(InvalidProof, match="DIDs are not supported"):
        await client.request_credential(tok, proofs=[did], credential_configuration_id=CONFIG)
    signer = h.rt.keys.issuer.signing_key()
    x5c = jose.sign_jwt({**claims, "nonce": await client.nonce()}, signer, typ="openid4vci-proof+jwt",
                        include_kid=False, include_x5c=True)
    with pytest.raises(InvalidProof, match="x5c proof keys are not supported"):
        await client.request_credential(tok, proofs=[x5c], credential_configuration_id=CONFIG)


async def test_a_reused_refresh_token_revokes_the_whole_family(h: Any) -> None:
    client = await h.client(dpop=True, attested=True)
    auth = await client.push_authorization(redirect_uri="http://127.0.0.1/callback", scope=CONFIG)
    tok = await client.token_authorization_code(client.authorization_code(await h.login(auth, "kari"), auth), auth)
    rotated = await client.refresh(tok)
    newest = await client.refresh(rotated)
    key = jose.generate_signing_key()
    ok = await client.request_credential(newest, proofs=[client.proof(key, await client.nonce())],
                                         credential_configuration_id=CONFIG)
    assert len(ok.credentials) == 1
    with pytest.raises(InvalidGrant, match="already used"):
        await client.refresh(tok)  # the first token, rotated away: a replay
    with pytest.raises(InvalidGrant):
        await client.refresh(newest)  # the family is revoked, the live token too
    with pytest.raises(InvalidToken):  # and so are its access tokens
        await client.request_credential(newest, proofs=[client.proof(key, await client.nonce())],
                                        credential_configuration_id=CONFIG)


def _status_list_app(h: Any, uri: str, values: dict[int, int], fetches: list[str]) -> httpx.MockTransport:
    lst = StatusList(16, 2)
    for idx, value in values.items():
        lst.set(idx, value)
    token = issue_jwt(lst, uri=uri, key=h.rt.keys.wallet_provider.signing_key(), clock=h.rt.clock, ttl=60,
                      include_x5c=True)

    def handler(request: httpx.Request) -> httpx.Response:
        fetches.append(str(request.url))
        if str(request.url) != uri:
            return httpx.Response(404)
        return httpx.Response(200, content=token, headers={"Content-Type": "application/statuslist+jwt"})

    return httpx.MockTransport(handler)


@SQLITE_ONLY
async def test_wallet_attestation_status_is_checked_and_cached(h: Any) -> None:
    uri = "http://localhost:8000/wallet/status/test-instances"
    fetches: list[str] = []
    h.rt.route_outbound(_status_list_app(h, uri, {1: StatusValue.INVALID, 2: StatusValue.SUSPENDED}, fetches))
    form = {"response_type": "code", "client_id": "lommebok-wallet", "redirect_uri": "http://127.0.0.1/callback",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
            "scope": CONFIG}

    async def par(idx: int) -> httpx.Response:
        instance = jose.generate_signing_key()
        att = client_attestation.make_attestation(
            h.rt.keys.wallet_provider.signing_key(), client_id="lommebok-wallet",
            instance_jwk=jose.public_jwk(instance.public_key), clock=h.rt.clock,
            extra={"status": {"status_list": {"idx": idx, "uri": uri}}})
        pop = client_attestation.make_pop(instance, audience=ISS, clock=h.rt.clock)
        r: httpx.Response = await h.stack.client.post("/issuer/par", data=form, headers={
            client_attestation.ATTESTATION_HEADER: att, client_attestation.POP_HEADER: pop})
        return r

    r = await par(0)
    assert r.status_code == 201, r.text
    r = await par(1)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client_attestation" and "revoked" in r.text
    r = await par(2)
    assert r.status_code == 401 and "suspended" in r.text
    assert fetches == [uri], "the list is fetched once and reused for its ttl"


@SQLITE_ONLY
async def test_signed_issuer_metadata(h: Any) -> None:
    r = await h.stack.client.get("/.well-known/openid-credential-issuer/issuer", headers={"Accept": "application/jwt"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/jwt")
    jws = jose.parse_jws(r.text)
    assert jws.header["typ"] == "openidvci-issuer-metadata+jwt" and jws.header["alg"] == "ES256"
    leaf = validate_chain(jose.x5c_certificates(jws.header), h.rt.keys.trust_anchors, at=h.rt.clock.now())
    public = leaf.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    claims = jose.verify_jwt(jws, public, jose.JwsPolicy(
        algorithms=frozenset({"ES256"}), typ="openidvci-issuer-metadata+jwt")).claims
    plain = (await h.stack.client.get("/.well-known/openid-credential-issuer/issuer")).json()
    assert claims["sub"] == ISS and isinstance(claims["iat"], int)
    assert claims["credential_issuer"] == plain["credential_issuer"] == ISS
    assert claims["credential_configurations_supported"] == plain["credential_configurations_supported"]
    json_first = await h.stack.client.get("/.well-known/openid-credential-issuer/issuer",
                                          headers={"Accept": "application/json, application/jwt;q=0.5"})
    assert json_first.headers["content-type"].startswith("application/json")


@SQLITE_ONLY
async def test_status_list_ttl_is_the_dev_default_and_max_age_follows_it(h: Any) -> None:
    client, tok = await h.pre_authorized_token("kari", [CONFIG])
    creds, _, _ = await h.credentials(client, tok, CONFIG)
    ref = h.verify_sd_jwt(creds[0]).status
    r = await h.stack.client.get(ref.uri.removeprefix("http://localhost:8000"))
    verified = verify_jwt(r.text, uri=ref.uri, clock=h.rt.clock, trust_anchors=h.rt.keys.trust_anchors)
    assert verified.ttl == 30
    assert "max-age=30" in r.headers["cache-control"]
