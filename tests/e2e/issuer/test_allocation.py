"""Status list index allocation in blocks reserved per worker (one durable write per block), on SQLite and on
PostgreSQL: indices are unique across workers, never sequential, and every issuance record is durable before the
credential response; access tokens are opaque and tamper-evident."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from eidcore import jose
from issuer.app import issuer_of
from issuer.models import IssCredential, IssStatusList
from issuer.status import IndexAllocator

#: storage-independent behaviour: run on the embedded stack only (keeps the suite quick)
SQLITE_ONLY = pytest.mark.parametrize("stack", ["sqlite-memory"], indirect=True)


async def test_two_workers_reserve_disjoint_blocks(h: Any) -> None:
    issuer = issuer_of(h.stack.app)
    block = issuer.options.status_block_size
    workers = [IndexAllocator(issuer.rt.db, issuer.options, issuer.secret, issuer.now) for _ in range(2)]
    taken: list[tuple[str, int]] = []
    for i in range(block + 5):  # past the first block of each worker
        list_id, indices = await workers[i % 2].take("youth", 1)
        taken += [(list_id, idx) for idx in indices]
    assert len(set(taken)) == len(taken), "no index is handed out twice"
    idx = [i for _, i in taken]
    assert idx != sorted(idx)
    async with h.rt.db.session() as s:
        lists = (await s.exec(select(IssStatusList).where(IssStatusList.type_id == "youth"))).all()
    # each worker reserved its blocks durably: the counter covers everything handed out, and no more than
    # one spare block per worker
    assert sum(lst.allocated for lst in lists) >= len(taken)
    assert sum(lst.allocated for lst in lists) <= len(taken) + 2 * block


async def test_a_batch_is_recorded_before_the_response_with_distinct_random_indices(h: Any) -> None:
    client, tok = await h.pre_authorized_token("kari", ["youth_vc_sd_jwt"])
    creds, _, _ = await h.credentials(client, tok, "youth_vc_sd_jwt", n=6)
    refs = [h.verify_sd_jwt(c).status for c in creds]
    assert len({r.idx for r in refs}) == 6 and [r.idx for r in refs] != sorted(r.idx for r in refs)
    async with h.rt.db.session() as s:
        rows = (await s.exec(select(IssCredential).where(col(IssCredential.idx).in_([r.idx for r in refs]),
                                                         IssCredential.type_id == "youth"))).all()
    assert sorted(r.idx for r in rows) == sorted(r.idx for r in refs)
    assert len({r.batch_id for r in rows}) == 1


@SQLITE_ONLY
async def test_a_tampered_access_token_is_refused(h: Any) -> None:
    _, tok = await h.pre_authorized_token("kari", ["pid_vc_sd_jwt"])
    raw = bytearray(jose.b64url_decode(tok.access_token, what="token"))
    raw[20] ^= 1
    forged = jose.b64url_encode(bytes(raw))
    r = await h.stack.client.post("/issuer/credential", headers={"Authorization": f"Bearer {forged}"},
                                  json={"credential_configuration_id": "pid_vc_sd_jwt", "proofs": {"jwt": ["x"]}})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
