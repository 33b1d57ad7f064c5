"""Revocation, suspension and reinstatement through the admin API, visible in the served JWT and CWT status lists
(draft-ietf-oauth-status-list-18), verified with eidcore against the trust anchors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from eidcore import jose
from eidcore.errors import StatusInvalid, StatusSuspended
from eidcore.status_list import StatusReference, StatusValue, check_status, verify_cwt, verify_jwt
from issuer.models import IssCredential


async def _status(h: Any, ref: StatusReference) -> StatusValue:
    """Fetch the list in both forms, verify both, and check they agree; return the value (or raise)."""
    path = ref.uri.removeprefix("http://localhost:8000")
    rj = await h.stack.client.get(path)
    rc = await h.stack.client.get(path, headers={"Accept": "application/statuslist+cwt"})
    assert rj.headers["content-type"].startswith("application/statuslist+jwt")
    assert rc.headers["content-type"].startswith("application/statuslist+cwt")
    for r in (rj, rc):
        assert r.headers["etag"] and "max-age=" in r.headers["cache-control"]
    anchors = h.rt.keys.trust_anchors
    vj = verify_jwt(rj.text, uri=ref.uri, clock=h.rt.clock, trust_anchors=anchors)
    vc = verify_cwt(rc.content, uri=ref.uri, clock=h.rt.clock, trust_anchors=anchors)
    assert vj.ttl and vc.ttl and vj.exp and vc.exp
    results = []
    for v in (vj, vc):
        try:
            results.append(check_status(ref, v))
        except StatusInvalid:
            results.append(StatusValue.INVALID)
        except StatusSuspended:
            results.append(StatusValue.SUSPENDED)
    assert results[0] == results[1]
    return results[0]


async def _post_status(h: Any, **body: Any) -> dict[str, Any]:
    r = await h.stack.client.post("/issuer/admin/credentials/status", json=body, headers=h.admin)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_revoke_suspend_reinstate_show_in_jwt_and_cwt_lists(h: Any) -> None:
    client, tok = await h.pre_authorized_token("kari", ["pid_vc_sd_jwt", "pid_mso_mdoc"])
    sd, _, _ = await h.credentials(client, tok, "pid_vc_sd_jwt", 2)
    md, _, _ = await h.credentials(client, tok, "pid_mso_mdoc")
    refs = [h.verify_sd_jwt(c).status for c in sd]
    mref = h.verify_mdoc(md[0], "eu.europa.ec.eudi.pid.1").status["status_list"]
    refs.append(StatusReference(uri=mref["uri"], idx=mref["idx"]))
    assert [await _status(h, r) for r in refs] == [StatusValue.VALID] * 3
    async with h.rt.db.session() as s:
        rows = {(r.list_id, r.idx): r.id for r in (await s.exec(select(IssCredential))).all()}
    ids = [rows[(r.uri.rsplit("/", 1)[1], r.idx)] for r in refs]

    out = await _post_status(h, action="revoke", credential_id=ids[0])
    assert out == {"updated": 1, "credentials": [ids[0]]}
    assert await _status(h, refs[0]) == StatusValue.INVALID
    assert await _status(h, refs[1]) == StatusValue.VALID

    out = await _post_status(h, action="suspend", person="kari", credential_type="pid")
    assert sorted(out["credentials"]) == sorted(ids[1:])
    assert [await _status(h, r) for r in refs] == [StatusValue.INVALID, StatusValue.SUSPENDED,
                                                   StatusValue.SUSPENDED]

    out = await _post_status(h, action="reinstate", person=(await h.rt_person("kari")).national_id)
    assert sorted(out["credentials"]) == sorted(ids[1:]), "a revocation is final"
    assert [await _status(h, r) for r in refs] == [StatusValue.INVALID, StatusValue.VALID, StatusValue.VALID]

    # conditional GET: the same version answers 304
    path = refs[1].uri.removeprefix("http://localhost:8000")
    first = await h.stack.client.get(path)
    again = await h.stack.client.get(path, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


async def test_revoke_by_wallet_instance(h: Any) -> None:
    client = await h.client(dpop=True, attested=True)
    c, tok = await h.pre_authorized_token("ola", ["youth_vc_sd_jwt"], client=client)
    creds, _, _ = await h.credentials(c, tok, "youth_vc_sd_jwt", 2)
    jkt = jose.jwk_thumbprint_b64u(jose.public_jwk(client.attestation.instance_key.public_key))
    out = await _post_status(h, action="suspend", instance_jkt=jkt)
    assert out["updated"] == 2
    for cred in creds:
        assert await _status(h, h.verify_sd_jwt(cred).status) == StatusValue.SUSPENDED
    assert (await _post_status(h, action="revoke", instance_jkt="unknown"))["updated"] == 0


@pytest.mark.parametrize("n", [40])
async def test_indices_are_random_not_sequential(h: Any, n: int) -> None:
    client, tok = await h.pre_authorized_token("kari", ["youth_vc_sd_jwt"], tx_code=False)
    idx = []
    for _ in range(n // 10):
        creds, _, _ = await h.credentials(client, tok, "youth_vc_sd_jwt", 10)
        idx += [h.verify_sd_jwt(c).status.idx for c in creds]
    assert len(set(idx)) == n
    assert sorted(idx) != list(range(min(idx), min(idx) + n)), "indices must not be a sequence"
    assert max(idx) > 2 * n, "indices spread over the list"
