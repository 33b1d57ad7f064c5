"""Every single-use value is single use: c_nonce, pre-authorized code, tx_code after the attempt limit,
authorization code, PAR request_uri, DPoP jti, attestation PoP jti, refresh token after rotation."""

from __future__ import annotations

from typing import Any

import pytest

from eidcore import jose
from eidcore.errors import InvalidDPoPProof, InvalidGrant, InvalidNonce
from eidcore.oauth import client_attestation, dpop
from wallet_api.holder.vci import PRE_AUTH_GRANT, resolve_offer

TOKEN = "/issuer/token"


async def test_c_nonce_is_consumed_exactly_once(h: Any) -> None:
    client, tok = await h.pre_authorized_token("kari", ["pid_vc_sd_jwt"])
    key = jose.generate_signing_key()
    nonce = await client.nonce()
    first = await client.request_credential(tok, proofs=[client.proof(key, nonce)],
                                            credential_configuration_id="pid_vc_sd_jwt")
    assert len(first.credentials) == 1
    with pytest.raises(InvalidNonce):
        await client.request_credential(tok, proofs=[client.proof(key, nonce)],
                                        credential_configuration_id="pid_vc_sd_jwt")


async def test_pre_authorized_code_is_single_use(h: Any) -> None:
    created = await h.offer("kari", ["pid_vc_sd_jwt"])
    offer = await resolve_offer(h.stack.client, created["offer_uri"])
    client = await h.client()
    await client.token_pre_authorized(offer.pre_authorized_code, created["tx_code"])
    with pytest.raises(InvalidGrant):
        await client.token_pre_authorized(offer.pre_authorized_code, created["tx_code"])


async def test_tx_code_attempt_limit_kills_the_code(h: Any) -> None:
    limit = h.stack.settings.issuer.tx_code_max_attempts
    created = await h.offer("kari", ["pid_vc_sd_jwt"])
    tx = created["tx_code"]
    assert tx.isdigit() and len(tx) == h.stack.settings.issuer.tx_code_length
    assert tx not in created["offer_uri"], "the tx_code never travels inside the offer"
    offer = await resolve_offer(h.stack.client, created["offer_uri"])
    assert offer.tx_code is not None and offer.tx_code["input_mode"] == "numeric"
    assert offer.tx_code["length"] == len(tx) and offer.tx_code["description"]
    client = await h.client()
    wrong = str((int(tx) + 1) % 10 ** len(tx)).zfill(len(tx))
    for _ in range(limit):
        with pytest.raises(InvalidGrant):
            await client.token_pre_authorized(offer.pre_authorized_code, wrong)
    with pytest.raises(InvalidGrant) as exc:
        await client.token_pre_authorized(offer.pre_authorized_code, tx)
    assert "no longer valid" in exc.value.description or "unknown" in exc.value.description
    # below the limit the right code still works
    created = await h.offer("kari", ["pid_vc_sd_jwt"])
    offer = await resolve_offer(h.stack.client, created["offer_uri"])
    for _ in range(limit - 1):
        with pytest.raises(InvalidGrant):
            await client.token_pre_authorized(offer.pre_authorized_code, wrong)
    assert (await client.token_pre_authorized(offer.pre_authorized_code, created["tx_code"])).access_token


async def test_authorization_code_request_uri_and_refresh_token_are_single_use(h: Any) -> None:
    client = await h.client(dpop=True, attested=True)
    auth = await client.push_authorization(redirect_uri="http://127.0.0.1/callback", scope="pid_vc_sd_jwt")
    location = await h.login(auth, "kari")
    # the PAR request_uri was consumed by the first authorization request
    r = await h.stack.client.get(auth.authorize_url)
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    code = client.authorization_code(location, auth)
    tok = await client.token_authorization_code(code, auth)
    with pytest.raises(InvalidGrant):
        await client.token_authorization_code(code, auth)
    rotated = await client.refresh(tok)
    assert (await client.refresh(rotated)).access_token
    with pytest.raises(InvalidGrant):  # a rotated token is dead (and its reuse revokes the family, see
        await client.refresh(tok)      # test_proofs_status_and_refresh)


async def test_dpop_proof_jti_is_single_use(h: Any) -> None:
    key = jose.generate_signing_key()
    htu = "http://localhost:8000/issuer/token"
    nonce = (await h.stack.client.post("/issuer/nonce")).headers["dpop-nonce"]
    proof = dpop.make_proof(key, htm="POST", htu=htu, clock=h.rt.clock, nonce=nonce)
    codes = []
    for _ in range(2):
        created = await h.offer("kari", ["pid_vc_sd_jwt"], tx_code=False)
        codes.append(created["credential_offer"]["grants"][PRE_AUTH_GRANT]["pre-authorized_code"])
    r = await h.stack.client.post(TOKEN, data={"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": codes[0]},
                                  headers={"DPoP": proof})
    assert r.status_code == 200 and r.json()["token_type"] == "DPoP"
    r = await h.stack.client.post(TOKEN, data={"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": codes[1]},
                                  headers={"DPoP": proof})
    assert r.status_code == 400 and r.json()["error"] == InvalidDPoPProof.code
    # without a server nonce the AS demands one (RFC 9449 §8)
    r = await h.stack.client.post(TOKEN, data={"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": codes[1]},
                                  headers={"DPoP": dpop.make_proof(key, htm="POST", htu=htu, clock=h.rt.clock)})
    assert r.status_code == 400 and r.json()["error"] == "use_dpop_nonce" and r.headers["dpop-nonce"]


async def test_attestation_pop_jti_is_single_use(h: Any) -> None:
    att = h.attestation()
    pop = client_attestation.make_pop(att.instance_key, audience="http://localhost:8000/issuer", clock=h.rt.clock)
    headers = {client_attestation.ATTESTATION_HEADER: att.attestation, client_attestation.POP_HEADER: pop}
    form = {"response_type": "code", "client_id": "lommebok-wallet", "redirect_uri": "http://127.0.0.1/callback",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
            "scope": "pid_vc_sd_jwt"}
    r = await h.stack.client.post("/issuer/par", data=form, headers=headers)
    assert r.status_code == 201, r.text
    r = await h.stack.client.post("/issuer/par", data=form, headers=headers)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client_attestation"
    # a PoP for another audience is refused too
    other = client_attestation.make_pop(att.instance_key, audience="https://other.example", clock=h.rt.clock)
    r = await h.stack.client.post("/issuer/par", data=form, headers={**headers, client_attestation.POP_HEADER: other})
    assert r.status_code == 401 and r.json()["error"] == "invalid_client_attestation"


async def test_attestation_challenge_is_single_use(h: Any) -> None:
    att = h.attestation()
    challenge = (await h.stack.client.post("/issuer/challenge")).json()["attestation_challenge"]
    form = {"response_type": "code", "client_id": "lommebok-wallet", "redirect_uri": "http://127.0.0.1/callback",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256",
            "scope": "pid_vc_sd_jwt"}
    for expected in (201, 401):
        pop = client_attestation.make_pop(att.instance_key, audience="http://localhost:8000/issuer",
                                          clock=h.rt.clock, challenge=challenge)
        r = await h.stack.client.post("/issuer/par", data=form, headers={
            client_attestation.ATTESTATION_HEADER: att.attestation, client_attestation.POP_HEADER: pop})
        assert r.status_code == expected, r.text


async def test_code_is_bound_to_the_dpop_key_used_at_par(h: Any) -> None:
    client = await h.client(dpop=True, attested=True)
    auth = await client.push_authorization(redirect_uri="http://127.0.0.1/callback", scope="pid_vc_sd_jwt")
    code = client.authorization_code(await h.login(auth, "kari"), auth)
    client.dpop_key = jose.generate_signing_key()  # another key at the token endpoint
    with pytest.raises(InvalidGrant):
        await client.token_authorization_code(code, auth)
