"""The reference holder's other issuance paths over HTTP (both stacks): the authorization code flow for an offer
and wallet-initiated (PAR, PKCE, DPoP, wallet attestation, the test login page driven over HTTP), and deferred
issuance (poll at the issuer's interval until an administrator approves)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from eidcore.errors import AccessDenied, UnknownCredentialConfiguration
from eidcore.formats.sd_jwt.present import SdJwtHolder
from wallet_api.holder.login import TestLoginForm
from wallet_api.holder.store import LocalStore
from wallet_api.holder.wallet import Wallet

from .conftest import device_maker
from .test_journey import admin

ISSUER = "http://localhost:8000/issuer"


async def registered(stack: Any, path: Path, **kw: Any) -> Wallet:
    w = Wallet(LocalStore(path), stack.client, base_url="http://localhost:8000",
               trust_anchors=stack.runtime.keys.trust_anchors, clock=stack.runtime.clock, **kw)
    await w.register(device_maker(stack))
    return w


async def offer(stack: Any, person: str, configs: list[str], **extra: Any) -> dict[str, Any]:
    r = await stack.client.post("/issuer/admin/offers", headers=admin(stack),
                                json={"person": person, "credential_configuration_ids": configs, **extra})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_offer_with_authorization_code_grant(clocked_stack: Any, tmp_path: Path) -> None:
    stack = clocked_stack  # the issuer requires a wallet attestation here
    w = await registered(stack, tmp_path / "w")
    created = await offer(stack, "kari", ["pid_vc_sd_jwt"], grant="authorization_code")
    assert "authorization_code" in created["credential_offer"]["grants"]
    received = await w.receive(created["offer_uri"], login=TestLoginForm(stack.client, "kari"))
    assert [r["type"] for r in received] == ["urn:eudi:pid:1"]
    claims = SdJwtHolder().load(received[0]["credential"]).claims
    assert (claims["given_name"], claims["family_name"]) == ("Kari", "Fjellheim")
    assert (await w.status())["person_bound"] is True


async def test_wallet_initiated_issuance(stack: Any, tmp_path: Path) -> None:
    w = await registered(stack, tmp_path / "w")
    received = await w.request(ISSUER, ["pid_vc_sd_jwt", "pid_mso_mdoc"], TestLoginForm(stack.client, "ola"))
    assert sorted(r["format"] for r in received) == ["dc+sd-jwt", "mso_mdoc"]
    assert {r["issuer"] for r in received} == {ISSUER}
    assert len(w.store.credentials()) == 2


async def test_login_below_the_required_level_is_refused(stack: Any, tmp_path: Path) -> None:
    w = await registered(stack, tmp_path / "w")
    with pytest.raises(AccessDenied) as exc:
        await w.request(ISSUER, ["pid_vc_sd_jwt"], TestLoginForm(stack.client, "kari", loa="substantial"))
    assert "level of assurance" in exc.value.description
    assert w.store.credentials() == []


async def test_offer_for_another_person_is_refused_after_login(stack: Any, tmp_path: Path) -> None:
    w = await registered(stack, tmp_path / "w")
    created = await offer(stack, "kari", ["pid_vc_sd_jwt"], grant="authorization_code")
    with pytest.raises(AccessDenied) as exc:
        await w.receive(created["offer_uri"], login=TestLoginForm(stack.client, "ola"))
    assert "another person" in exc.value.description


async def test_unknown_configuration_is_refused_before_login(stack: Any, tmp_path: Path) -> None:
    w = await registered(stack, tmp_path / "w")
    with pytest.raises(UnknownCredentialConfiguration):
        await w.request(ISSUER, ["nope_vc_sd_jwt"], TestLoginForm(stack.client, "kari"))


async def test_deferred_issuance_polls_at_the_interval(stack: Any, tmp_path: Path) -> None:
    waits: list[float] = []

    async def officer_approves_while_the_wallet_waits(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:  # approved during the second wait: the first poll still gets 202
            for p in w.store.pending():
                r = await stack.client.post(f"/issuer/admin/deferred/{p['transaction_id']}/approve",
                                            headers=admin(stack))
                assert r.status_code == 204, r.text

    w = await registered(stack, tmp_path / "w", sleep=officer_approves_while_the_wallet_waits)
    created = await offer(stack, "kari", ["pid_vc_sd_jwt"], require_approval=True)
    received = await w.receive(created["offer_uri"], created["tx_code"], wait_deferred=60)
    assert waits == [5.0, 5.0]  # the issuer's interval, before each poll
    assert [r["type"] for r in received] == ["urn:eudi:pid:1"]
    assert w.store.pending() == []
    assert (await w.status())["person_bound"] is True


async def test_deferred_issuance_left_pending_then_collected(stack: Any, tmp_path: Path) -> None:
    w = await registered(stack, tmp_path / "w")
    created = await offer(stack, "erik", ["pid_vc_sd_jwt"], require_approval=True)
    assert await w.receive(created["offer_uri"], created["tx_code"]) == []
    [pending] = w.store.pending()
    assert pending["configuration_id"] == "pid_vc_sd_jwt" and pending["interval"] == 5
    assert await w.poll_deferred() == []  # not approved yet: 202 again
    assert len(w.store.pending()) == 1
    r = await stack.client.post(f"/issuer/admin/deferred/{pending['transaction_id']}/approve", headers=admin(stack))
    assert r.status_code == 204
    got = await w.poll_deferred()
    assert [g["type"] for g in got] == ["urn:eudi:pid:1"] and w.store.pending() == []
    assert got[0]["key_id"] == pending["key_id"]


async def test_deferred_poll_refreshes_an_expired_access_token(clocked_stack: Any, tmp_path: Path) -> None:
    stack = clocked_stack
    w = await registered(stack, tmp_path / "w")
    created = await offer(stack, "kari", ["pid_vc_sd_jwt"], grant="authorization_code", require_approval=True)
    assert await w.receive(created["offer_uri"], login=TestLoginForm(stack.client, "kari")) == []
    [pending] = w.store.pending()
    first_token = pending["token"]
    assert first_token["refresh_token"]
    stack.runtime.clock.advance(3600)  # the access token (10 minutes) expires while the officer decides
    r = await stack.client.post(f"/issuer/admin/deferred/{pending['transaction_id']}/approve", headers=admin(stack))
    assert r.status_code == 204
    got = await w.poll_deferred()
    assert [g["type"] for g in got] == ["urn:eudi:pid:1"] and w.store.pending() == []
    stale = await stack.client.post("/issuer/token", data={"grant_type": "refresh_token",
                                                            "refresh_token": first_token["refresh_token"]})
    assert stale.json()["error"] == "invalid_grant"  # rotated: the old refresh token is spent
