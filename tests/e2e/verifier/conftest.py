"""The verifier end to end: the whole stack over HTTP, credentials made directly with eidcore, and a test-only
status list endpoint.

Credentials are signed with the dev issuer key (``rt.keys.issuer``, chain to ``rt.keys.trust_anchors``), so
these tests do not depend on the issuer service. Status list tokens come from a small test-only Litestar app
(:class:`StatusLists`) reached through ``rt.route_outbound`` at ``/issuer/status/vtest-<id>``: a path inside the
verifier's default allow-list, routed to the test app before the real issuer sees it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Litestar, Response, get
from litestar.params import FromPath

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK
from eidcore.credential_types import load_credential_types
from eidcore.formats.mdoc import issue_mdoc, status_list_reference
from eidcore.formats.sd_jwt_vc import SdJwtVcIssuer, StatusReference
from eidcore.keys import SigningIdentity
from eidcore.runtime import Runtime
from eidcore.settings import Settings
from eidcore.status_list import JWT_MEDIA_TYPE, StatusList, issue_jwt
from lommebok.app import create_root_app
from tests.e2e.conftest import BASE, Stack
from wallet_api.holder.vp import HeldMdoc, HeldSdJwtVc

STATUS_PREFIX = "/issuer/status/vtest-"


@dataclass
class StatusLists:
    """Test-only status lists (2 bits per entry: 0 valid, 1 revoked, 2 suspended), served as signed JWTs."""

    signer: SigningIdentity
    lists: dict[str, StatusList] = field(default_factory=dict)
    bad_signature: set[str] = field(default_factory=set)

    def new(self, base: str, value: int = 0, *, bad_signature: bool = False) -> StatusReference:
        list_id = secrets.token_hex(6)
        lst = StatusList(64, 2)
        idx = secrets.randbelow(64)
        lst.set(idx, value)
        self.lists[list_id] = lst
        if bad_signature:
            self.bad_signature.add(list_id)
        return StatusReference(uri=f"{base}{STATUS_PREFIX}{list_id}", idx=idx)

    def app(self, base: str) -> Litestar:
        @get("/issuer/status/{name:str}", sync_to_thread=False)
        def status(name: FromPath[str]) -> Response[str]:
            list_id = name.removeprefix("vtest-")
            lst = self.lists.get(list_id)
            if lst is None:
                return Response("not found", status_code=404)
            token = issue_jwt(lst, uri=f"{base}{STATUS_PREFIX}{list_id}", key=self.signer.signing_key(),
                              clock=SYSTEM_CLOCK, ttl=300, include_x5c=True)
            if list_id in self.bad_signature:
                head, payload, sig = token.split(".")
                raw = bytearray(jose.b64url_decode(sig))
                raw[5] ^= 0x01
                token = f"{head}.{payload}.{jose.b64url_encode(bytes(raw))}"
            return Response(token, media_type=JWT_MEDIA_TYPE)

        return Litestar([status])


def _present(claims: Any, path: Any) -> bool:
    for step in path:
        if not isinstance(claims, dict) or step not in claims:
            return False
        claims = claims[step]
    return True


class Router:
    """Outbound ASGI router: ``/issuer/status/vtest-*`` to the test app, everything else to the stack."""

    def __init__(self, stack_app: Any, test_app: Any) -> None:
        self.stack_app = stack_app
        self.test_app = test_app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(STATUS_PREFIX):
            await self.test_app(scope, receive, send)
        else:
            await self.stack_app(scope, receive, send)


@dataclass
class VerifierEnv:
    """The stack, the demo relying party's key, and credential factories signed by the dev issuer."""

    stack: Stack
    rp_key: str
    status: StatusLists
    types: Any = field(default_factory=load_credential_types)

    @property
    def rt(self) -> Any:
        return self.stack.runtime

    @property
    def client(self) -> httpx.AsyncClient:
        return self.stack.client

    @property
    def anchors(self) -> Any:
        return self.rt.keys.trust_anchors

    def auth(self, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.rp_key}"}

    async def create(self, key: str | None = None, **body: Any) -> dict[str, Any]:
        r = await self.client.post("/verifier/rp/transactions", json=body, headers=self.auth(key))
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    async def read(self, tx_id: str, key: str | None = None) -> dict[str, Any]:
        r = await self.client.get(f"/verifier/rp/transactions/{tx_id}", headers=self.auth(key))
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    # --- credentials ---------------------------------------------------------------------------------

    def fresh_status(self, type_id: str) -> StatusReference | None:
        """A valid entry in a new test status list when the type carries status (as the issuer gives every one)."""
        return self.status.new(self.stack.url("")) if self.types.get(type_id).carries_status else None

    def sd_jwt(self, type_id: str, *, claims: dict[str, Any] | None = None, disclosable: list[list[Any]] | None = None,
               status: StatusReference | Literal["fresh"] | None = "fresh", issuer: SigningIdentity | None = None,
               key: jose.SigningKey | None = None) -> HeldSdJwtVc:
        """An SD-JWT VC of ``type_id``; ``status`` ``"fresh"`` (default): a valid entry if the type carries status."""
        ct = self.types.get(type_id)
        if status == "fresh":
            status = self.fresh_status(type_id)
        claims = dict(claims if claims is not None else ct.example)
        if disclosable is None:
            disclosable = [list(p) for p in ct.sd_paths if _present(claims, p)]
        holder = key or jose.generate_signing_key()
        ident = issuer or self.rt.keys.issuer
        iss = SdJwtVcIssuer(ident.signing_key(), iss=self.rt.settings.service_url("issuer"))
        issued = iss.issue(claims, vct=ct.vct, disclosable=disclosable, holder_jwk=holder.public_jwk,
                           status=status, expires_in=3600)
        return HeldSdJwtVc(issued.compact, holder)

    def mdoc(self, type_id: str, *, claims: dict[str, Any] | None = None,
             status: StatusReference | Literal["fresh"] | None = "fresh", issuer: SigningIdentity | None = None
             ) -> HeldMdoc:
        """An mdoc of ``type_id``; ``status`` as for :meth:`sd_jwt`."""
        ct = self.types.get(type_id)
        if status == "fresh":
            status = self.fresh_status(type_id)
        device = ec.generate_private_key(ec.SECP256R1())
        ident = issuer or self.rt.keys.issuer
        issued = issue_mdoc(
            doc_type=ct.doctype, name_spaces=ct.mdoc_namespaces(claims if claims is not None else ct.example),
            device_key=device.public_key(), issuer_key=ident.key, issuer_chain=list(ident.chain),
            valid_until=dt.datetime.now(dt.UTC) + dt.timedelta(days=30),
            status=status_list_reference(status.idx, status.uri) if status else None,
        )
        return HeldMdoc(issued.to_b64u(), device)


@pytest.fixture(params=["sqlite-memory", "postgres-redis"])
async def vstack(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stack]:
    """The stack as ``tests/e2e/conftest.py`` builds it, serving the verifier alone (``--service verifier``), so
    these tests do not depend on the other services; SQLite + memory, then PostgreSQL + Redis."""
    overrides: dict[str, object] = {"seed_register": False}
    if request.param == "postgres-redis":
        overrides.update(database_url=request.getfixturevalue("clean_postgres_url"),
                         redis_url=request.getfixturevalue("redis_url"))
    settings = Settings(data_dir=tmp_path / "var", public_base_url=BASE, **overrides)  # type: ignore[arg-type]
    rt = Runtime(settings)
    app = create_root_app(settings, ("verifier",), runtime=rt)
    rt.route_outbound(httpx.ASGITransport(app=cast(Any, app)))
    await rt.start()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=cast(Any, app)), base_url=BASE)
    try:
        yield Stack(settings, rt, app, client)
    finally:
        await client.aclose()
        await rt.stop()


@pytest.fixture
async def env(vstack: Stack) -> AsyncIterator[VerifierEnv]:
    """The stack with the verifier's outbound status-list fetches also reaching the test status lists."""
    rt = vstack.runtime
    assert rt.keys is not None
    status = StatusLists(rt.keys.issuer)
    rt.route_outbound(httpx.ASGITransport(app=cast(Any, Router(vstack.app, status.app(vstack.url(""))))))
    # the demo relying party's key file exists once the verifier app is built (dev environment)
    key = (vstack.settings.data_dir / "secrets" / "rp-demo").read_text().strip()
    yield VerifierEnv(vstack, key, status)
