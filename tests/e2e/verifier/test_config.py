"""`<data_dir>/verifier/config.json`: configured relying parties, and trust per credential type (deny by default)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from eidcore.errors import ConfigurationError
from eidcore.keys import load_or_create_dev_pki
from eidcore.runtime import Runtime
from eidcore.settings import Settings
from lommebok.app import create_root_app
from tests.e2e.conftest import BASE, Stack
from tests.e2e.verifier.conftest import Router, StatusLists, VerifierEnv
from verifier.config import load_verifier_config
from wallet_api.holder import vp

KEY = "configured-relying-party-key-0123456789abcdef"


def _write_config(data_dir: Path, doc: dict[str, Any]) -> None:
    (data_dir / "verifier").mkdir(parents=True, exist_ok=True)
    (data_dir / "verifier" / "config.json").write_text(json.dumps(doc))


@pytest.fixture
async def configured(tmp_path: Path) -> AsyncIterator[VerifierEnv]:
    data_dir = tmp_path / "var"
    load_or_create_dev_pki(data_dir / "keys", BASE)
    _write_config(data_dir, {
        "trust": {"pid": ["../keys/trust-anchors.pem"]},
        "relying_parties": [{"id": "rp-cfg", "name": "Configured", "allowed_profiles": ["pid-basic", "employee-role"],
                             "api_key_sha256": hashlib.sha256(KEY.encode()).hexdigest()}],
    })
    settings = Settings(data_dir=data_dir, public_base_url=BASE, seed_register=False)
    rt = Runtime(settings)
    app = create_root_app(settings, ("verifier",), runtime=rt)
    rt.route_outbound(httpx.ASGITransport(app=cast(Any, app)))
    await rt.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=cast(Any, app)), base_url=BASE)
    assert rt.keys is not None
    status = StatusLists(rt.keys.issuer)
    # the PID carries status: the verifier's status list fetches reach the test lists too
    rt.route_outbound(httpx.ASGITransport(app=cast(Any, Router(app, status.app(BASE)))))
    try:
        yield VerifierEnv(Stack(settings, rt, app, client), KEY, status)
    finally:
        await client.aclose()
        await rt.stop()


async def test_configured_relying_party_and_trust_by_type(configured: VerifierEnv) -> None:
    env = configured
    created = await env.create(profile="pid-basic", params={"format": "dc+sd-jwt"})
    ok = await vp.present(env.client, created["authorization_request"], [env.sd_jwt("pid")], trust_anchors=env.anchors)
    assert ok.status_code == 200
    assert (await env.read(created["transaction_id"]))["status"] == "validated"
    # the same dev issuer signs the employee credential, but no anchor is configured for that type
    created = await env.create(profile="employee-role", params={"orgnr": "311066587"})
    denied = await vp.present(env.client, created["authorization_request"], [env.sd_jwt("employee_role")],
                              trust_anchors=env.anchors)
    assert denied.status_code == 400
    tx = await env.read(created["transaction_id"])
    assert tx["status"] == "pending" and tx["refused_attempts"][-1]["check"] == "sd_jwt.issuer_trust"
    assert "no issuer is trusted" in denied.body["error_description"]


@pytest.mark.parametrize(("doc", "text"), [
    ({"trust": {"pid": ["missing.pem"]}}, "missing.pem"),
    ({"status_list_prefixes": ["ftp://x/"]}, "https"),
    ({"relying_parties": [{"id": "a", "name": "b", "api_key_sha256": "short"}]}, "64"),
    ({"other": 1}, "unknown"),
])
def test_bad_configuration_is_named(tmp_path: Path, doc: dict[str, Any], text: str) -> None:
    _write_config(tmp_path, doc)
    with pytest.raises(ConfigurationError, match=text):
        load_verifier_config(tmp_path)


@pytest.mark.parametrize("uri", ["http://localhost.evil.example/", "https://rp.example", "ftp://rp.example/"])
def test_relying_party_redirect_prefixes_must_be_safe(tmp_path: Path, uri: str) -> None:
    _write_config(tmp_path, {"relying_parties": [{"id": "a", "name": "b", "api_key_sha256": "0" * 64,
                                                  "redirect_uris": [uri]}]})
    with pytest.raises(ConfigurationError, match="redirect_uris"):
        load_verifier_config(tmp_path)
