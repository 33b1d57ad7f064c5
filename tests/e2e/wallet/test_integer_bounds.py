"""Integer parameters of the wallet API stay within range (issue "Close the holes a security test found", item 4):
a cursor (or ETag version) of 10^30, 2^63, -1 or not a number is refused with 400 (412 for If-Match) problem
details at the edge, never a 500 from the database; limits and waits likewise. On SQLite + in-memory store and on
PostgreSQL + Redis."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack
from tests.e2e.youth.family import Family

from .conftest import NewWallet


def problem(resp: httpx.Response, status: int, code: str, what: object = "") -> None:
    assert resp.status_code == status, (what, resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith("application/problem+json"), (what, resp.text)
    assert resp.json()["type"] == f"urn:lommebok:error:{code}", (what, resp.text)


def cursor(value: Any) -> str:
    """A cursor in the API's own encoding, holding ``value``."""
    return base64.urlsafe_b64encode(json.dumps({"o": value}).encode()).decode().rstrip("=")


OUT_OF_RANGE: list[Any] = [10 ** 30, 2 ** 63, -1, "12", 1.5, True, None]


@pytest.mark.parametrize("path", ["/transactions", "/instances"])
async def test_cursor_out_of_range_is_refused_not_a_server_error(stack: Stack, new_wallet: NewWallet,
                                                                 path: str) -> None:
    c, _ = await new_wallet()
    await c.record_transaction({"relying_party": "x509_hash:rp", "claims": ["x"], "shared_at": "2026-01-01T00:00:00Z"})
    raw = [cursor(v) for v in OUT_OF_RANGE] + [str(10 ** 30), str(2 ** 63), "-1", "abc", "", "%%%", "x" * 201]
    if path == "/transactions":
        raw.append(cursor(2 ** 31))  # within int64, beyond the transaction id column (INTEGER on PostgreSQL)
    for value in raw:
        r = await c.call("GET", path, params={"cursor": value}, expect=(400,))
        problem(r, 400, "invalid_request", value)
    # the largest valid values are answered (an empty or full page), not a server error
    top = 2 ** 31 - 1 if path == "/transactions" else 2 ** 63 - 1
    r = await c.call("GET", path, params={"cursor": cursor(top)})
    assert r.status_code == 200 and r.json()["next_cursor"] is None, r.text


async def test_integer_query_parameters_out_of_range_are_refused(stack: Stack) -> None:
    family = Family(stack)
    kari = await family.guardian("kari")
    emma_id = await family.person_id("emma")
    cases: list[tuple[str, str]] = [("/transactions", "limit"), ("/instances", "limit"),
                                    (f"/guardian/children/{emma_id}/transactions", "limit"),
                                    ("/guardian/events", "wait")]
    for path, name in cases:
        for value in (str(10 ** 30), str(2 ** 63), "-1", "abc", "1.5", ""):
            r = await kari.call("GET", path, params={name: value}, expect=(400,))
            problem(r, 400, "invalid_request", (path, name, value))


async def test_if_match_out_of_range_is_a_failed_precondition(stack: Stack, new_wallet: NewWallet) -> None:
    c, view = await new_wallet()
    values: list[str | bytes] = [f'"v{10 ** 30}"', f'"v{2 ** 63}"', '"v-1"', '"vabc"', '"v"', '"v1.5"',
                                 '"v\u00b2"'.encode("latin-1"), '"v\u00b9\u00b2"'.encode("latin-1")]
    for value in values:
        r = await c.call("PUT", "/backup", json={"ciphertext": "AAAA"}, headers={"If-Match": value},
                         expect=(412,))
        problem(r, 412, "precondition_failed", value)
        r = await c.call("POST", f"/instances/{view['id']}/status", json={"action": "suspend"}, idempotent=True,
                         headers={"If-Match": value}, expect=(412,))
        problem(r, 412, "precondition_failed", value)
