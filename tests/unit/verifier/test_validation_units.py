"""Status-list fetching rules (allow-list, signature, cache by ttl), retention and redirect templates."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from eidcore.clock import FixedClock
from eidcore.keys import create_dev_pki
from eidcore.runtime import Runtime
from eidcore.settings import Settings
from eidcore.status_list import JWT_MEDIA_TYPE, StatusList, StatusReference, issue_jwt
from eidcore.storage import Database
from verifier.models import VerRelyingParty, VerTransaction
from verifier.response import fill_response_code as _fill
from verifier.transactions import Verifier
from verifier.validation import CheckFailed, TrustConfig, Validator

BASE = "http://localhost:8000"
URI = f"{BASE}/issuer/status/1"
(_, ROOT), IDS = create_dev_pki(BASE)


class FakeHttp:
    """Serves one status list token and counts fetches."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.fetches = 0

    async def get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        self.fetches += 1
        return httpx.Response(200, text=self.token, headers={"content-type": JWT_MEDIA_TYPE})


def _validator(clock: FixedClock, http: Any) -> Validator:
    return Validator(TrustConfig({}, {}), clock=clock, http=http, status_prefixes=[f"{BASE}/issuer/status/"])


async def test_status_list_is_cached_until_its_ttl() -> None:
    clock = FixedClock.at_timestamp(time.time())
    lst = StatusList(16, 2)
    lst.set(3, 1)
    http = FakeHttp(issue_jwt(lst, uri=URI, key=IDS["issuer"].signing_key(), clock=clock, ttl=120,
                              include_x5c=True))
    v = _validator(clock, http)
    await v.check_status(StatusReference(uri=URI, idx=0), [ROOT])
    with pytest.raises(CheckFailed) as info:
        await v.check_status(StatusReference(uri=URI, idx=3), [ROOT])
    assert info.value.check == "status.revoked"
    assert http.fetches == 1
    clock.advance(121)
    await v.check_status(StatusReference(uri=URI, idx=0), [ROOT])
    assert http.fetches == 2


async def test_status_list_signed_by_an_untrusted_key() -> None:
    clock = FixedClock.at_timestamp(time.time())
    (_, _root), others = create_dev_pki(BASE)
    http = FakeHttp(issue_jwt(StatusList(16, 1), uri=URI, key=others["issuer"].signing_key(), clock=clock,
                              include_x5c=True))
    with pytest.raises(CheckFailed) as info:
        await _validator(clock, http).check_status(StatusReference(uri=URI, idx=0), [ROOT])
    assert info.value.check == "status_list.signature"


@pytest.mark.parametrize("uri", [
    "http://169.254.169.254/latest", "file:///etc/passwd", f"{BASE}/issuer/status/../admin",
    f"{BASE}/issuer/statusx/1", "http://user@localhost:8000/issuer/status/1", f"{BASE}/issuer/status/%2e%2e/x",
    "https://localhost:8000/issuer/status/1",
])
async def test_status_uris_off_the_allow_list_are_never_fetched(uri: str) -> None:
    clock = FixedClock.at_timestamp(time.time())
    http = FakeHttp("")
    with pytest.raises(CheckFailed) as info:
        await _validator(clock, http).check_status(StatusReference(uri=uri, idx=0), [ROOT])
    assert info.value.check == "status_list.uri"
    assert http.fetches == 0


def test_redirect_templates() -> None:
    assert _fill("https://rp.example/cb?x=1", "c o") == "https://rp.example/cb?x=1&response_code=c+o"
    assert _fill("https://rp.example/done/{response_code}", "a/b") == "https://rp.example/done/a%2Fb"


async def test_retention_deletes_old_results(db: Database, tmp_path: Path) -> None:
    rt = Runtime(Settings(data_dir=tmp_path, public_base_url=BASE))
    rt.db = db
    svc = Verifier(rt)
    now = int(time.time())
    async with db.session() as s:
        s.add(VerRelyingParty(id="rp-x", name="x", api_key_sha256="0" * 64, created_at=now))
        await s.commit()
        for tx_id, finished, expires in (("old", now - 100, now - 200), ("new", now - 5, now + 100),
                                         ("stale-pending", None, now - 100), ("pending", None, now + 100)):
            s.add(VerTransaction(id=tx_id, rp_id="rp-x", status="validated" if finished else "pending",
                                 dcql_query={}, client_id="c", response_mode="direct_post", nonce="n", state="s",
                                 created_at=now - 300, expires_at=expires, finished_at=finished, result={"a": 1}))
        await s.commit()
    assert await svc.purge_before(now - 50) == 2
    async with db.session() as s:
        left = {tx.id for tx in (await s.exec(VerTransaction.__table__.select())).all()}  # type: ignore[attr-defined]
    assert left == {"new", "pending"}
