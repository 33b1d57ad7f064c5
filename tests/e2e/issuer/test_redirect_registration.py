"""Registered clients and redirect URIs at the issuer's authorization server (RFC 9700 §2.1, §4.1; OAuth 2.1 §2.3,
§8.4.2; RFC 8252 §7.3; RFC 9126 §2.3): deny by default, exact string comparison (loopback: any port), and an attested
wallet instance's redirect URIs come from its wallet provider's registration. The attack these tests stop: a PAR
for the public wallet client with the attacker's redirect URI, so the victim's code (and PID) goes to the attacker.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from eidcore import jose
from eidcore.errors import ConfigurationError, InvalidClient, InvalidDPoPProof, InvalidGrant, InvalidRequest
from eidcore.keys import cert_fingerprint
from eidcore.oauth import client_attestation
from eidcore.settings import IssuerSettings, OAuthClientRegistration, WalletProviderRegistration, load_settings
from tests.e2e.conftest import make_stack
from tests.e2e.issuer.conftest import ISSUER, REDIRECT, Helper
from wallet_api.holder.vci import PRE_AUTH_GRANT, WalletAttestation

PAR = "/issuer/par"
EVIL = "https://evil.example/cb"
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def _form(redirect_uri: str, client_id: str = "lommebok-wallet") -> dict[str, str]:
    return {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri,
            "code_challenge": CHALLENGE, "code_challenge_method": "S256", "scope": "pid_vc_sd_jwt", "state": "s"}


def _attested_headers(h: Helper, att: WalletAttestation | None = None) -> dict[str, str]:
    att = att or h.attestation()
    pop = client_attestation.make_pop(att.instance_key, audience=ISSUER, clock=h.rt.clock)
    return {client_attestation.ATTESTATION_HEADER: att.attestation, client_attestation.POP_HEADER: pop}


def _assert_refused(r: Any, status: int, error: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"] == error, r.text
    assert "location" not in r.headers, "a refused request is never redirected"
    assert "request_uri" not in r.json()


# -- the attack ---------------------------------------------------------------------------------------------------


async def test_par_with_an_unregistered_redirect_uri_is_refused(h: Helper) -> None:
    r = await h.stack.client.post(PAR, data=_form(EVIL))
    _assert_refused(r, 400, "invalid_request")


async def test_par_with_an_unregistered_redirect_uri_is_refused_even_with_a_wallet_attestation(h: Helper) -> None:
    """The attacker attests their own, genuine wallet instance: the redirect URI still is not theirs to choose."""
    r = await h.stack.client.post(PAR, data=_form(EVIL), headers=_attested_headers(h))
    _assert_refused(r, 400, "invalid_request")
    # the same attacker through the reference client code path
    client = await h.client(dpop=True, attested=True)
    with pytest.raises(InvalidRequest):
        await client.push_authorization(redirect_uri=EVIL, scope="pid_vc_sd_jwt")


@pytest.mark.parametrize("uri", [
    "https://wallet.example/cb",                  # any https URI used to pass
    "http://127.0.0.1/callback/../evil",          # not the registered path
    "http://127.0.0.1/callback?next=https://evil.example",  # exact comparison: no extra query
    "http://127.0.0.1/Callback",                  # case matters in the path
    "http://127.0.0.1/callback#frag",
    "http://user@127.0.0.1/callback",             # userinfo
    "http://127.0.0.1.evil.example/callback",     # looks like loopback, is not
    "http://localhost/callback",                  # not registered (RFC 8252 §8.3: use the IP literal)
    "https://127.0.0.1/callback",                 # the registered scheme is http
    "javascript:alert(1)",
    "no.lommebok.wallet:/callback",               # a custom scheme nobody registered here
])
async def test_redirect_uri_must_match_a_registered_one_exactly(h: Helper, uri: str) -> None:
    r = await h.stack.client.post(PAR, data=_form(uri), headers=_attested_headers(h))
    _assert_refused(r, 400, "invalid_request")


async def test_unknown_client_id_is_refused(h: Helper) -> None:
    r = await h.stack.client.post(PAR, data=_form(REDIRECT, client_id="someone-else"))
    _assert_refused(r, 401, "invalid_client")


async def test_attestation_from_an_unregistered_wallet_provider_is_refused(h: Helper) -> None:
    """A certificate that chains to a trust anchor but is not a registered wallet provider's (here the verifier's
    access certificate) cannot vouch for a wallet instance: deny by default."""
    instance = jose.generate_signing_key()
    att = client_attestation.make_attestation(h.rt.keys.verifier.signing_key(), client_id="lommebok-wallet",
                                              instance_jwk=jose.public_jwk(instance.public_key), clock=h.rt.clock)
    r = await h.stack.client.post(PAR, data=_form(REDIRECT),
                                  headers=_attested_headers(h, WalletAttestation(att, instance)))
    _assert_refused(r, 401, "invalid_client")


async def test_token_endpoint_refuses_an_attestation_from_an_unregistered_wallet_provider(h: Helper) -> None:
    """The same deny-by-default at the token endpoint (here the pre-authorized code grant): the offer's code is
    not spent by the refused request."""
    instance = jose.generate_signing_key()
    att = client_attestation.make_attestation(h.rt.keys.verifier.signing_key(), client_id="lommebok-wallet",
                                              instance_jwk=jose.public_jwk(instance.public_key), clock=h.rt.clock)
    rogue = await h.client()
    rogue.attestation = WalletAttestation(att, instance)
    created = await h.offer("kari", ["pid_vc_sd_jwt"])
    code = created["credential_offer"]["grants"][PRE_AUTH_GRANT]["pre-authorized_code"]
    with pytest.raises(InvalidClient):
        await rogue.token_pre_authorized(code, created["tx_code"])
    honest = await h.client(attested=True, dpop=True)
    assert (await honest.token_pre_authorized(code, created["tx_code"])).access_token


async def test_attested_client_id_must_belong_to_its_wallet_provider(h: Helper) -> None:
    instance = jose.generate_signing_key()
    att = client_attestation.make_attestation(h.rt.keys.wallet_provider.signing_key(), client_id="another-wallet",
                                              instance_jwk=jose.public_jwk(instance.public_key), clock=h.rt.clock)
    r = await h.stack.client.post(PAR, data=_form(REDIRECT, client_id="another-wallet"),
                                  headers=_attested_headers(h, WalletAttestation(att, instance)))
    _assert_refused(r, 401, "invalid_client")


# -- what keeps working -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("uri", ["http://127.0.0.1/callback", "http://127.0.0.1:54321/callback",
                                 "http://[::1]:8080/callback"])
async def test_registered_loopback_redirect_uri_matches_any_port(h: Helper, uri: str) -> None:
    """RFC 8252 §7.3, OAuth 2.1 §8.4.2: a native app's loopback listener gets a port from the OS at run time."""
    r = await h.stack.client.post(PAR, data=_form(uri), headers=_attested_headers(h))
    assert r.status_code == 201, r.text
    r = await h.stack.client.post(PAR, data=_form(uri))
    assert r.status_code == 201, r.text


async def test_reference_holder_gets_a_pid_bound_to_its_instance(h: Helper) -> None:
    """The reference holder's loopback redirect (a port chosen at run time) carries the whole code flow; the
    authorization response goes to that exact URI and the PID is bound to the holder's key."""
    instance = jose.generate_signing_key()
    client = await h.client(dpop=True)
    client.attestation = h.attestation(instance)
    redirect = "http://127.0.0.1:49152/callback"
    auth = await client.push_authorization(redirect_uri=redirect, scope="pid_vc_sd_jwt")
    r = await h.stack.client.get(auth.authorize_url)
    session = parse_qs(urlsplit(r.headers["location"]).query)["session"][0]
    person = await h.rt_person("kari")
    r = await h.stack.client.post("/issuer/login", data={"session": session, "person_id": person.person_id,
                                                          "loa": "high"})
    assert r.status_code == 302
    location = r.headers["location"]
    assert location.split("?", 1)[0] == redirect
    tok = await client.token_authorization_code(client.authorization_code(location, auth), auth)
    creds, keys, _ = await h.credentials(client, tok, "pid_vc_sd_jwt")
    verified = h.verify_sd_jwt(creds[0])
    holder = jose.public_jwk(keys[0].public_key)
    assert jose.jwk_thumbprint_b64u(verified.holder_jwk) == jose.jwk_thumbprint_b64u(holder)
    # the issuance record names the wallet instance that started the flow
    from sqlmodel import select

    from issuer.models import IssCredential

    async with h.rt.db.session() as s:
        rows = (await s.exec(select(IssCredential))).all()
    assert [r.instance_jkt for r in rows] == [jose.jwk_thumbprint_b64u(jose.public_jwk(instance.public_key))]


# -- binding to the instance that started the flow ------------------------------------------------------------------


async def test_code_cannot_be_redeemed_by_another_wallet_instance(h: Helper) -> None:
    victim = await h.client(attested=True, dpop=True)
    auth = await victim.push_authorization(redirect_uri=REDIRECT, scope="pid_vc_sd_jwt")
    code = victim.authorization_code(await h.login(auth, "kari"), auth)
    # another genuine instance, with the stolen code and PKCE verifier
    attacker = await h.client(attested=True, dpop=True)
    with pytest.raises(InvalidGrant):
        await attacker.token_authorization_code(code, auth)


async def test_attested_wallet_without_dpop_gets_no_token_and_keeps_its_code(h: Helper) -> None:
    """An attested instance's access token is sender-constrained (HAIP): a Bearer token could be redeemed for a
    credential on any key. The refusal comes before the code is taken, so the same wallet retries with DPoP."""
    client = await h.client(attested=True, dpop=True)
    auth = await client.push_authorization(redirect_uri=REDIRECT, scope="pid_vc_sd_jwt")
    code = client.authorization_code(await h.login(auth, "kari"), auth)
    key, client.dpop_key = client.dpop_key, None
    with pytest.raises(InvalidDPoPProof):
        await client.token_authorization_code(code, auth)
    client.dpop_key = key
    assert (await client.token_authorization_code(code, auth)).token_type == "DPoP"


async def test_access_token_cannot_be_used_with_another_dpop_key(h: Helper) -> None:
    client = await h.client(dpop=True, attested=True)
    auth = await client.push_authorization(redirect_uri=REDIRECT, scope="pid_vc_sd_jwt")
    tok = await client.token_authorization_code(client.authorization_code(await h.login(auth, "kari"), auth), auth)
    assert tok.token_type == "DPoP"
    client.dpop_key = jose.generate_signing_key()
    with pytest.raises(InvalidDPoPProof):
        await h.credentials(client, tok, "pid_vc_sd_jwt")


async def test_holder_refuses_an_authorization_response_at_another_uri(h: Helper) -> None:
    client = await h.client(attested=True, dpop=True)
    auth = await client.push_authorization(redirect_uri=REDIRECT, scope="pid_vc_sd_jwt")
    location = await h.login(auth, "kari")
    moved = location.replace("/callback", "/elsewhere", 1)
    with pytest.raises(InvalidRequest):
        client.authorization_code(moved, auth)


# -- an explicit registration ---------------------------------------------------------------------------------------

APP_LINK = "https://app.lommebok.example/oauth/callback"
CUSTOM = "no.example.wallet:/oauth/callback"


@pytest.fixture(params=["sqlite-memory", "postgres-redis"])
async def registered(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Helper]:
    """A stack whose issuer has an explicit registration: a public web client, and the wallet provider (pinned by
    its certificate) whose wallets use an app-claimed https link or a custom scheme."""
    from eidcore.keys import load_or_create_dev_pki

    keys = load_or_create_dev_pki(tmp_path / "var" / "keys", "http://localhost:8000")
    fingerprint = cert_fingerprint(keys.wallet_provider.certificate)
    issuer = IssuerSettings(
        clients=[OAuthClientRegistration(client_id="lommebok-wallet", redirect_uris=["http://127.0.0.1/callback"])],
        wallet_providers=[WalletProviderRegistration(name="example wallet", certificate_sha256=[fingerprint],
                                                     client_ids=["lommebok-wallet"],
                                                     redirect_uris=[APP_LINK, CUSTOM])])
    overrides: dict[str, object] = {"issuer": issuer}
    if request.param == "postgres-redis":
        overrides.update(database_url=request.getfixturevalue("clean_postgres_url"),
                         redis_url=request.getfixturevalue("redis_url"))
    s, rt = await make_stack(tmp_path, **overrides)
    try:
        yield Helper(s)
    finally:
        await s.client.aclose()
        await rt.stop()


async def test_attested_instance_gets_only_its_wallet_providers_redirect_uris(registered: Helper) -> None:
    h = registered
    # the client registration's loopback URI is not the wallet provider's: an attested instance cannot use it
    r = await h.stack.client.post(PAR, data=_form(REDIRECT), headers=_attested_headers(h))
    _assert_refused(r, 400, "invalid_request")
    for uri in (APP_LINK, CUSTOM):
        r = await h.stack.client.post(PAR, data=_form(uri), headers=_attested_headers(h))
        assert r.status_code == 201, r.text
    for uri in (APP_LINK + "/", "https://app.lommebok.example/oauth/callback?x=1", EVIL):
        r = await h.stack.client.post(PAR, data=_form(uri), headers=_attested_headers(h))
        _assert_refused(r, 400, "invalid_request")
    # without an attestation the client's own registration applies
    assert (await h.stack.client.post(PAR, data=_form("http://127.0.0.1:5000/callback"))).status_code == 201
    _assert_refused(await h.stack.client.post(PAR, data=_form(APP_LINK)), 400, "invalid_request")


async def test_code_flow_with_an_app_claimed_redirect_uri(registered: Helper) -> None:
    h = registered
    client = await h.client(dpop=True, attested=True)
    auth = await client.push_authorization(redirect_uri=APP_LINK, scope="pid_vc_sd_jwt")
    r = await h.stack.client.get(auth.authorize_url)
    session = parse_qs(urlsplit(r.headers["location"]).query)["session"][0]
    person = await h.rt_person("kari")
    r = await h.stack.client.post("/issuer/login", data={"session": session, "person_id": person.person_id,
                                                          "loa": "high"})
    assert r.status_code == 302 and r.headers["location"].startswith(APP_LINK + "?")
    tok = await client.token_authorization_code(client.authorization_code(r.headers["location"], auth), auth)
    creds, _, _ = await h.credentials(client, tok, "pid_vc_sd_jwt")
    assert len(creds) == 1


# -- settings -------------------------------------------------------------------------------------------------------


def test_registration_is_read_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOMMEBOK_ISSUER__CLIENTS", json.dumps(
        [{"client_id": "web", "redirect_uris": ["https://web.example/cb"]}]))
    monkeypatch.setenv("LOMMEBOK_ISSUER__WALLET_PROVIDERS", json.dumps(
        [{"name": "wp", "certificate_sha256": ["AB:" * 31 + "CD"], "client_ids": ["w"],
          "redirect_uris": ["https://w.example/cb", "http://127.0.0.1/cb"]}]))
    s = load_settings()
    assert s.issuer.clients is not None and s.issuer.clients[0].redirect_uris == ("https://web.example/cb",)
    assert s.issuer.wallet_providers is not None
    assert s.issuer.wallet_providers[0].certificate_sha256 == ("ab" * 31 + "cd",)


@pytest.mark.parametrize("bad", [
    {"client_id": "c", "redirect_uris": ["https://x.example/cb#frag"]},
    {"client_id": "c", "redirect_uris": ["http://wallet.example/cb"]},
    {"client_id": "c", "redirect_uris": ["javascript:alert(1)"]},
    {"client_id": "c", "redirect_uris": ["/relative"]},
    {"client_id": "c", "redirect_uris": ["https://*.example/cb"]},
])
def test_registered_redirect_uris_are_validated(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        load_settings(issuer={"clients": [bad]})


def test_wallet_provider_registration_names_its_certificate() -> None:
    with pytest.raises(ConfigurationError):
        load_settings(issuer={"wallet_providers": [{"name": "wp", "client_ids": ["w"],
                                                   "redirect_uris": ["https://w.example/cb"]}]})


async def test_production_needs_an_explicit_registration(tmp_path: Path) -> None:
    from issuer.app import create_app
    from issuer.clients import ClientRegistry

    settings = load_settings(environment="production", data_dir=tmp_path, issuer_admin_token="t" * 32)
    with pytest.raises(ConfigurationError):
        ClientRegistry.from_settings(settings, None)
    with pytest.raises(ConfigurationError):
        create_app(settings)
