"""Wallet API answers carry personal data, so none may be kept by a cache (issue "Close the holes a security test
found", item 2): every wallet API answer, errors included, carries ``Cache-Control: no-store`` and ``Pragma:
no-cache`` (RFC 9111 §5.2.2.5, §5.4); the issuer's admin answers that resolve a person too; the public
wallet-instance status list stays cacheable. On SQLite + in-memory store and on PostgreSQL + Redis."""

from __future__ import annotations

from typing import Any

import httpx

from eidcore.registers import SqlPopulationRegister
from eidcore.settings import ServiceName
from tests.e2e.conftest import Stack
from tests.e2e.youth.family import Family


def admin(stack: Stack, service: ServiceName = "wallet") -> dict[str, str]:
    """The bearer header of one service's admin API (each service takes only its own token)."""
    return {"Authorization": f"Bearer {stack.runtime.admin_tokens[service]}"}


async def national_id(stack: Stack, alias: str) -> str:
    person = await SqlPopulationRegister(stack.runtime.db).get_by_alias(alias)
    assert person.national_id is not None
    return person.national_id


def no_store(resp: httpx.Response, what: object) -> None:
    assert resp.headers.get("cache-control") == "no-store", (what, resp.status_code, resp.headers)
    assert resp.headers.get("pragma") == "no-cache", (what, resp.headers)



async def test_wallet_answers_with_personal_data_are_never_stored(stack: Stack) -> None:
    family = Family(stack)
    kari = await family.guardian("kari")
    emma = await family.child("emma", kari)
    me = (await kari.instances())[0]
    await kari.record_transaction({"relying_party": "x509_hash:rp", "claims": ["age_over_18"],
                                   "shared_at": "2026-01-01T00:00:00Z"})
    await kari.put_backup("AAAA")
    kari_nin = await national_id(stack, "kari")
    signed: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/transactions", {}),
        ("POST", "/transactions", {"json": {"relying_party": "x509_hash:rp", "claims": ["x"],
                                            "shared_at": "2026-01-01T00:00:00Z"}, "idempotent": True}),
        ("GET", "/instances", {}),
        ("GET", f"/instances/{me['id']}", {}),
        ("GET", "/backup", {}),
        ("PUT", "/backup", {"json": {"ciphertext": "AAAB"}}),
        ("GET", "/guardian/children", {}),
        ("GET", "/guardian/requests", {}),
        ("GET", "/guardian/credential-requests", {}),
        ("GET", f"/guardian/children/{emma.person_id}/rules", {}),
        ("GET", f"/guardian/children/{emma.person_id}/transactions", {}),
        ("GET", "/guardian/events", {"params": {"wait": 0}}),
        ("GET", "/mandates", {}),
        ("GET", "/instances/no-such-instance", {"expect": (404,)}),  # an error answer too
        ("GET", "/transactions", {"params": {"cursor": "%%%"}, "expect": (400,)}),
    ]
    for method, path, kw in signed:
        r = await kari.call(method, path, **kw)
        no_store(r, (method, path))
    no_store(await emma.wallet.call("POST", "/youth/pairing-codes"), "pairing code")
    plain: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/wallet/admin/persons/instances", {"json": {"person": kari_nin}, "headers": admin(stack)}),
        ("POST", f"/wallet/admin/instances/{me['id']}/person", {"json": {"person": kari_nin},
                                                               "headers": admin(stack)}),
        ("GET", "/wallet/admin/youth/relying-parties", {"headers": admin(stack)}),
        ("POST", "/wallet/admin/persons/instances", {"json": {"person": kari_nin}}),  # 401
    ]
    for method, path, kw in plain:
        no_store(await stack.client.request(method, path, **kw), (method, path))
    # the public wallet-instance status list (no personal data) stays cacheable
    r = await stack.client.get("/wallet/status/instances")
    assert r.status_code == 200 and r.headers["cache-control"].startswith("max-age="), r.headers


async def test_issuer_admin_answers_about_persons_are_never_stored(stack: Stack) -> None:
    kari, ola = await national_id(stack, "kari"), await national_id(stack, "ola")
    created = await stack.client.post("/issuer/admin/mandates", headers=admin(stack, "issuer"), json={
        "principal": kari, "agent": ola, "scope": {"service_areas": ["helse:fastlege"]}})
    assert created.status_code == 201, created.text
    assert created.headers.get("cache-control") == "no-store"
    for r in (await stack.client.post("/issuer/admin/offers", headers=admin(stack, "issuer"),
                                      json={"person": kari, "credential_configuration_ids": ["pid_vc_sd_jwt"]}),
              await stack.client.post("/issuer/admin/credentials/status", headers=admin(stack, "issuer"),
                                      json={"action": "suspend", "person": kari})):
        assert r.status_code in (200, 201), r.text
        assert r.headers.get("cache-control") == "no-store", r.request.url
