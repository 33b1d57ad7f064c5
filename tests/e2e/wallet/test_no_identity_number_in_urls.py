"""No national identity number in a URL (issue "Close the holes a security test found", item 3): URLs end up in
access logs and proxies, so an administrator looks a person's wallet instances up (and the issuer's administrator
a person's mandates) with the number in a JSON body; the old routes with the number in the path or query are gone,
and no route of the three services takes a person in its path or query. On SQLite + in-memory store and on
PostgreSQL + Redis."""

from __future__ import annotations

from typing import Any

import httpx

from eidcore.registers import SqlPopulationRegister
from eidcore.settings import ServiceName
from tests.e2e.conftest import Stack

from .conftest import NewWallet


def admin(stack: Stack, service: ServiceName = "wallet") -> dict[str, str]:
    """The bearer header of one service's admin API (each service takes only its own token)."""
    return {"Authorization": f"Bearer {stack.runtime.admin_tokens[service]}"}


def problem(resp: httpx.Response, status: int, code: str, what: object = "") -> None:
    assert resp.status_code == status, (what, resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith("application/problem+json"), (what, resp.text)
    assert resp.json()["type"] == f"urn:lommebok:error:{code}", (what, resp.text)


async def national_id(stack: Stack, alias: str) -> str:
    person = await SqlPopulationRegister(stack.runtime.db).get_by_alias(alias)
    assert person.national_id is not None
    return person.national_id



async def test_admin_looks_up_a_persons_instances_with_the_number_in_the_body(stack: Stack,
                                                                            new_wallet: NewWallet) -> None:
    _, view = await new_wallet()
    nin = await national_id(stack, "erik")
    r = await stack.client.post(f"/wallet/admin/instances/{view['id']}/person", json={"person": nin},
                                headers=admin(stack))
    assert r.status_code == 200, r.text
    r = await stack.client.post("/wallet/admin/persons/instances", json={"person": nin}, headers=admin(stack))
    assert r.status_code == 200, r.text
    assert [i["id"] for i in r.json()["items"]] == [view["id"]]
    assert nin not in str(r.request.url)
    # the old route with the number in the path is gone
    old = await stack.client.get(f"/wallet/admin/persons/{nin}/instances", headers=admin(stack))
    assert old.status_code in (404, 405), old.text
    # bad bodies: problem details, no 500
    problem(await stack.client.post("/wallet/admin/persons/instances", json={"person": nin}), 401, "invalid_token")
    problem(await stack.client.post("/wallet/admin/persons/instances", json={}, headers=admin(stack)),
            400, "invalid_request")
    problem(await stack.client.post("/wallet/admin/persons/instances", json={"person": "1" * 11},
                                    headers=admin(stack)), 404, "not_found")
    problem(await stack.client.post("/wallet/admin/persons/instances", json={"person": nin, "x": 1},
                                    headers=admin(stack)), 400, "invalid_request")


async def test_issuer_admin_lists_mandates_with_the_number_in_the_body(stack: Stack) -> None:
    kari, ola = await national_id(stack, "kari"), await national_id(stack, "ola")
    issuer_admin = admin(stack, "issuer")
    created = await stack.client.post("/issuer/admin/mandates", headers=issuer_admin, json={
        "principal": kari, "agent": ola, "scope": {"service_areas": ["helse:fastlege"]}})
    assert created.status_code == 201, created.text
    r = await stack.client.post("/issuer/admin/mandates/query", json={"principal": kari}, headers=issuer_admin)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store", r.text
    assert [m["mandate_id"] for m in r.json()["mandates"]] == [created.json()["mandate_id"]]
    r = await stack.client.post("/issuer/admin/mandates/query", json={"agent": kari}, headers=issuer_admin)
    assert r.json()["mandates"] == []
    old = await stack.client.get("/issuer/admin/mandates", params={"principal": kari}, headers=issuer_admin)
    assert old.status_code in (404, 405), old.text
    bad = await stack.client.post("/issuer/admin/mandates/query", json={"principal": kari, "x": 1},
                                  headers=issuer_admin)
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request", bad.text


async def test_no_route_takes_a_national_identity_number_in_its_path_or_query(stack: Stack) -> None:
    """Every route of the three services: no path parameter and no query parameter names a person."""
    from litestar.routes import HTTPRoute

    person_words = ("person", "nin", "national", "fnr", "principal", "agent", "identity_number", "ssn")
    found: list[str] = []
    for mounted in stack.app.mounts:
        app: Any = mounted.app
        for route in app.routes:
            if not isinstance(route, HTTPRoute):
                continue
            for handler in route.route_handlers:
                for name, field in handler.parsed_fn_signature.parameters.items():
                    kwarg = field.kwarg_definition
                    if name in ("request", "data", "rt", "state", "scope") or getattr(kwarg, "header", None):
                        continue
                    where = "path" if name in route.path_parameters else "query"
                    label = getattr(kwarg, "query", None) or name
                    if any(w in str(label).lower() for w in person_words):
                        found.append(f"{mounted.prefix}{route.path} ({where}: {label})")
    assert found == [], found
