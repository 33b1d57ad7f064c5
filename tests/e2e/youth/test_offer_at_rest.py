"""A child's credential offer is not in the wallet provider's database in clear: with its offer URI and tx_code
anyone who read ``wal_youth_credential_request`` could redeem the child's PID. Both are wrapped under the
key-encryption key, bound to their row and column; only the child's wallet gets them back in clear."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from eidcore.errors import ConfigurationError
from tests.e2e.conftest import Stack
from tests.e2e.youth.family import Family
from tests.e2e.youth.test_child_pid import youth_wallet
from wallet_api.models import YouthCredentialRequest
from wallet_api.youth_credentials import offer_of


@pytest.fixture
def family(stack: Stack) -> Family:
    return Family(stack)


async def _raw(stack: Stack, row_id: str) -> Any:
    async with stack.runtime.db.engine.connect() as conn:
        return (await conn.execute(text("SELECT offer_uri, tx_code FROM wal_youth_credential_request WHERE id = :i"),
                                   {"i": row_id})).one()


async def _set(stack: Stack, row_id: str, offer_uri: str, tx_code: str | None) -> None:
    async with stack.runtime.db.engine.begin() as conn:
        await conn.execute(text("UPDATE wal_youth_credential_request SET offer_uri = :o, tx_code = :t WHERE id = :i"),
                           {"o": offer_uri, "t": tx_code, "i": row_id})


async def _row(stack: Stack, row_id: str) -> YouthCredentialRequest:
    async with stack.runtime.db.session() as s:
        row = await s.get(YouthCredentialRequest, row_id)
    assert row is not None
    return row


async def test_a_childs_offer_and_tx_code_are_not_stored_in_clear(family: Family) -> None:
    kari = await family.guardian("kari")
    _, emma = await youth_wallet(family, "emma", kari)
    view = await emma.request_credential("pid_vc_sd_jwt")
    assert view["offer_uri"].startswith("openid-credential-offer://") and view["tx_code"]
    offer_uri, tx_code = await _raw(family.stack, view["id"])
    assert view["tx_code"] not in tx_code and view["offer_uri"] not in offer_uri
    assert "credential_offer" not in offer_uri
    assert (await emma.credential_request(view["id"]))["tx_code"] == view["tx_code"]  # the child still gets them


async def test_an_offer_moved_to_another_request_does_not_unwrap(family: Family) -> None:
    kari = await family.guardian("kari")
    _, emma = await youth_wallet(family, "emma", kari)
    first = await emma.request_credential("pid_vc_sd_jwt")
    second = await emma.request_credential("pid_mso_mdoc")
    await _set(family.stack, second["id"], *(await _raw(family.stack, first["id"])))
    with pytest.raises(ConfigurationError):
        await offer_of(family.rt, await _row(family.stack, second["id"]))


async def test_a_legacy_offer_in_clear_is_wrapped_on_read(family: Family) -> None:
    kari = await family.guardian("kari")
    _, emma = await youth_wallet(family, "emma", kari)
    view = await emma.request_credential("pid_vc_sd_jwt")
    await _set(family.stack, view["id"], view["offer_uri"], view["tx_code"])  # as an older version stored it
    assert (await emma.credential_request(view["id"]))["tx_code"] == view["tx_code"]
    offer_uri, tx_code = await _raw(family.stack, view["id"])
    assert tx_code.startswith("lkek1.") and view["tx_code"] not in tx_code and view["offer_uri"] != offer_uri
