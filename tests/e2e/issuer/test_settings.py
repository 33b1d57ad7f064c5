"""Settings and options that tighten the issuer: wallet attestation required (``LOMMEBOK_ISSUER__REQUIRE_WALLET_
ATTESTATION``), an attestation challenge required in every PoP, and key attestations required for a configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eidcore.errors import InvalidClient, InvalidProof


async def _stack(tmp: Path, **issuer_settings: Any) -> Any:
    import httpx

    from eidcore.runtime import Runtime
    from eidcore.settings import IssuerSettings, Settings
    from lommebok.app import create_root_app
    from tests.e2e.conftest import Stack

    settings = Settings(data_dir=tmp / "var", public_base_url="http://localhost:8000",
                        issuer=IssuerSettings(require_wallet_attestation=True, **issuer_settings))
    rt = Runtime(settings)
    app = create_root_app(settings, runtime=rt)
    rt.route_outbound(httpx.ASGITransport(app=app))  # type: ignore[arg-type]
    await rt.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
                               base_url="http://localhost:8000")
    return Stack(settings, rt, app, client)


async def test_required_attestation_challenge_and_key_attestation(tmp_path: Path, helper_cls: Any) -> None:
    stack = await _stack(tmp_path, attestation_challenge_required=True,
                         key_attestation_required=("youth_vc_sd_jwt",))
    try:
        h = helper_cls(stack)
        meta = (await stack.client.get("/.well-known/oauth-authorization-server/issuer")).json()
        assert meta["token_endpoint_auth_methods_supported"] == ["attest_jwt_client_auth"]
        assert meta["pre-authorized_grant_anonymous_access_supported"] is False
        conf = (await h.metadata()).credential_issuer["credential_configurations_supported"]["youth_vc_sd_jwt"]
        assert conf["proof_types_supported"]["jwt"]["key_attestations_required"] == {}
        # without a wallet attestation the token endpoint refuses the pre-authorized code
        with pytest.raises(InvalidClient):
            await h.pre_authorized_token("kari", ["youth_vc_sd_jwt"])
        # with one, the client meets the challenge demand (use_attestation_challenge, then retry)
        client = await h.client(dpop=True, attested=True)
        c, tok = await h.pre_authorized_token("kari", ["youth_vc_sd_jwt"], client=client)
        assert tok.token_type == "DPoP"
        with pytest.raises(InvalidProof):
            await h.credentials(c, tok, "youth_vc_sd_jwt")
        # the code flow works end to end under both demands
        auth = await client.push_authorization(redirect_uri="http://127.0.0.1/callback", scope="pid_vc_sd_jwt")
        tok = await client.token_authorization_code(client.authorization_code(await h.login(auth, "kari"), auth), auth)
        creds, _, _ = await h.credentials(client, tok, "pid_vc_sd_jwt", 2)
        assert len(creds) == 2
    finally:
        await stack.client.aclose()
        await stack.runtime.stop()
