"""Each service's admin API takes its own bearer token only (RFC 6750 §3.1: anything else is ``invalid_token``),
in development (tokens generated per service) and in production (tokens from the environment)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from eidcore.keys import load_or_create_dev_pki
from eidcore.runtime import Runtime
from eidcore.settings import SERVICES, IssuerSettings, OAuthClientRegistration, Settings
from lommebok.app import create_root_app
from tests.e2e.conftest import BASE, Stack

#: one admin call per guard (issuer/admin.py, verifier/app.py, verifier/oidc.py, wallet_api/app.py, guardian.py);
#: with the right token each answers something other than 401 (a 400 for the empty body, or the list)
ADMIN_CALLS = [
    ("issuer", "POST", "/issuer/admin/offers", {}),
    ("issuer", "POST", "/issuer/admin/mandates/query", {}),
    ("verifier", "POST", "/verifier/admin/relying-parties", {}),
    ("verifier", "POST", "/verifier/admin/oidc-clients", {}),
    ("wallet", "POST", "/wallet/admin/persons/instances", {"person": "nobody"}),
    ("wallet", "GET", "/wallet/admin/youth/relying-parties", None),
]


@pytest.fixture(params=["sqlite-memory", "postgres-redis"])
async def production_stack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    """The all-in-one app in production: keys from a directory, each service's admin token from its setting."""
    overrides: dict[str, object] = {}
    if request.param == "postgres-redis":
        overrides = {"database_url": request.getfixturevalue("clean_postgres_url"),
                     "redis_url": request.getfixturevalue("redis_url")}
    keys = tmp_path / "keys"
    load_or_create_dev_pki(keys, BASE, service_urls={s: f"{BASE}/{s}" for s in SERVICES})
    tokens = {f"{s}_admin_token": secrets.token_urlsafe(32) for s in SERVICES}
    tokens["wallet_issuer_token"] = secrets.token_urlsafe(32)  # the wallet provider's own credential at the issuer
    settings = Settings(environment="production", data_dir=tmp_path / "var", public_base_url=BASE, keys_dir=keys,
                        kek=secrets.token_urlsafe(32), issuer=IssuerSettings(clients=(OAuthClientRegistration(
                            client_id="wallet", redirect_uris=("https://wallet.example/cb",)),)),
                        **tokens, **overrides)  # type: ignore[arg-type]
    rt = Runtime(settings)
    app = create_root_app(settings, runtime=rt)
    rt.route_outbound(httpx.ASGITransport(app=app))
    await rt.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE)
    try:
        yield Stack(settings, rt, app, client)
    finally:
        await client.aclose()
        await rt.stop()


async def _check_each_token_opens_its_own_admin_api_only(stack: Stack) -> None:
    tokens = stack.runtime.admin_tokens
    assert set(tokens) == set(SERVICES) and len(set(tokens.values())) == 3
    for owner, method, path, body in ADMIN_CALLS:
        for service, token in tokens.items():
            r = await stack.client.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"})
            if service == owner:
                assert r.status_code != 401, (path, r.text)
            else:
                assert r.status_code == 401, f"the {service}'s admin token opened {method} {path}: {r.status_code}"
                assert r.headers["www-authenticate"].startswith("Bearer")


async def test_the_issuers_token_is_refused_by_the_verifiers_and_wallets_admin_apis(stack: Stack) -> None:
    """Development: a token generated per service, in its own file."""
    for service in SERVICES:
        path = stack.runtime.admin_token_files[service]
        assert path.name == f"admin-token-{service}" and path.stat().st_mode & 0o077 == 0
    await _check_each_token_opens_its_own_admin_api_only(stack)


async def test_in_production_each_admin_api_takes_only_its_own_token(production_stack: Stack) -> None:
    assert production_stack.runtime.admin_token_files == {}
    await _check_each_token_opens_its_own_admin_api_only(production_stack)
