"""Helpers for the issuer's end-to-end tests: a wallet built on ``wallet_api.holder.vci`` talking HTTP to the
in-process stack, and verification of what it receives with eidcore."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from eidcore import jose
from eidcore.formats.mdoc import MdocVerifier
from eidcore.formats.sd_jwt import MUST_NOT_BE_PRESENT
from eidcore.formats.sd_jwt_vc import SdJwtVcVerifier, X5cIssuerKey
from eidcore.oauth import client_attestation
from wallet_api.holder.vci import (
    AuthorizationRequest,
    CredentialOffer,
    IssuerMetadata,
    TokenResponse,
    VciClient,
    WalletAttestation,
    fetch_metadata,
    resolve_offer,
)

ISSUER = "http://localhost:8000/issuer"
REDIRECT = "http://127.0.0.1/callback"  # registered for lommebok-wallet in dev (any port)


@dataclass
class Helper:
    stack: Any

    @property
    def rt(self) -> Any:
        return self.stack.runtime

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.rt.admin_tokens['issuer']}"}

    async def metadata(self) -> IssuerMetadata:
        return await fetch_metadata(self.stack.client, ISSUER)

    async def offer(self, person: str, configs: list[str], **extra: Any) -> dict[str, Any]:
        r = await self.stack.client.post("/issuer/admin/offers", headers=self.admin,
                                         json={"person": person, "credential_configuration_ids": configs, **extra})
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    async def client(self, *, dpop: bool = False, attested: bool = False) -> VciClient:
        meta = await self.metadata()
        att = self.attestation() if attested else None
        return VciClient(self.stack.client, meta, clock=self.rt.clock,
                         dpop_key=jose.generate_signing_key() if dpop else None, attestation=att)

    def attestation(self, instance: jose.SigningKey | None = None) -> WalletAttestation:
        key = instance or jose.generate_signing_key()
        att = client_attestation.make_attestation(
            self.rt.keys.wallet_provider.signing_key(), client_id="lommebok-wallet",
            instance_jwk=jose.public_jwk(key.public_key), clock=self.rt.clock)
        return WalletAttestation(att, key)

    async def pre_authorized_token(self, person: str, configs: list[str], *, client: VciClient | None = None,
                                   **extra: Any) -> tuple[VciClient, TokenResponse]:
        created = await self.offer(person, configs, **extra)
        offer = await resolve_offer(self.stack.client, created["offer_uri"])
        c = client or await self.client()
        assert offer.pre_authorized_code is not None
        tok = await c.token_pre_authorized(offer.pre_authorized_code, created["tx_code"])
        return c, tok

    async def login(self, auth: AuthorizationRequest, person: str, loa: str = "high") -> str:
        """Open the authorization URL, pick the person on the test login page, return the redirect location."""
        r = await self.stack.client.get(auth.authorize_url)
        assert r.status_code == 302, r.text
        login_url = r.headers["location"]
        session = parse_qs(urlsplit(login_url).query)["session"][0]
        page = await self.stack.client.get("/issuer/login", params={"session": session, "q": person})
        p = await self.rt_person(person)
        assert page.status_code == 200 and "<form" in page.text and p.person_id in page.text
        if p.national_id:  # search by number too
            page = await self.stack.client.get("/issuer/login", params={"session": session, "q": p.national_id})
            assert p.person_id in page.text
        r = await self.stack.client.post("/issuer/login", data={"session": session, "person_id": p.person_id,
                                                                 "loa": loa})
        assert r.status_code == 302, r.text
        location: str = r.headers["location"]
        assert location.startswith(REDIRECT)
        return location

    async def rt_person(self, alias: str) -> Any:
        from eidcore.registers.sql import SqlPopulationRegister

        return await SqlPopulationRegister(self.rt.db, clock=self.rt.clock).get_by_alias(alias)

    async def credentials(self, c: VciClient, tok: TokenResponse, config: str, n: int = 1, **kw: Any
                          ) -> tuple[list[str], list[jose.SigningKey], Any]:
        keys = [jose.generate_signing_key() for _ in range(n)]
        nonce = await c.nonce()
        resp = await c.request_credential(tok, proofs=[c.proof(k, nonce) for k in keys],
                                          credential_configuration_id=config, **kw)
        return resp.credentials, keys, resp

    def verify_sd_jwt(self, credential: str) -> Any:
        v = SdJwtVcVerifier(X5cIssuerKey(self.rt.keys.trust_anchors, clock=self.rt.clock), clock=self.rt.clock,
                            require_status=True)
        return v.verify(credential, MUST_NOT_BE_PRESENT)

    def verify_mdoc(self, credential: str, doctype: str) -> Any:
        return MdocVerifier(self.rt.keys.trust_anchors, clock=self.rt.clock).verify_issuer_signed(
            credential, expected_doc_type=doctype)


@pytest.fixture
def h(stack: Any) -> Helper:
    return Helper(stack)


@pytest.fixture
def helper_cls() -> type[Helper]:
    """The helper class, for tests that build their own stack."""
    return Helper


__all__ = ["ISSUER", "REDIRECT", "CredentialOffer", "Helper"]
