"""Credential offers (OpenID4VCI 1.0 §4.1): made for a person of the population register through the admin API
(:mod:`issuer.admin`), by value or by reference (``credential_offer_uri``, §4.1.3, served here), with a
pre-authorized code (and a ``tx_code`` by default, §4.1.1) or an ``issuer_state`` for the authorization code flow.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import quote

from litestar import Controller, get
from litestar.params import FromPath
from litestar.response import Response

from eidcore.errors import InvalidRequest, NotFound
from eidcore.qr import qr_svg
from issuer.core import PRE_AUTH_GRANT, Issuer, IssuerDep
from issuer.http import NO_STORE, spec
from issuer.oauth import tx_code_hash
from issuer.schemas import CredentialOffer, OAuthError, OfferRequest

__all__ = ["OfferController", "create_offer"]


async def create_offer(issuer: Issuer, body: OfferRequest) -> dict[str, Any]:
    """Create a credential offer for a person (pre-authorized code with tx_code by default)."""
    person = await issuer.resolve_person(body.person)
    ids = body.configuration_ids()
    if not ids or len(ids) > 10 or len(set(ids)) != len(ids):
        raise InvalidRequest("credential_configuration_ids must be a non-empty list of distinct ids")
    for cid in ids:
        if issuer.configuration(cid) is None:
            raise InvalidRequest(f"unknown credential configuration {cid[:60]!r}")
    context = {"person_id": person.person_id, "configs": ids, "loa": body.loa, "orgnr": body.orgnr,
               "mandate_id": body.mandate_id, "require_approval": body.require_approval}
    settings = issuer.rt.settings.issuer
    ttl = settings.pre_authorized_code_ttl
    tx_code: str | None = None
    grants: dict[str, Any]
    if body.grant == "pre-authorized_code":
        code = secrets.token_urlsafe(32)
        entry: dict[str, Any] = {"pre-authorized_code": code}
        if body.tx_code:
            tx_code = "".join(secrets.choice("0123456789") for _ in range(settings.tx_code_length))
            context["tx_code_hash"] = await tx_code_hash(issuer, code, tx_code)
            entry["tx_code"] = {"input_mode": "numeric", "length": settings.tx_code_length,
                                "description": "Skriv inn koden du fikk / Enter the code you were given"}
        await issuer.put("preauth", code, context, ttl)
        grants = {PRE_AUTH_GRANT: entry}
    else:
        state = secrets.token_urlsafe(32)
        await issuer.put("offer-state", state, context, ttl)
        grants = {"authorization_code": {"issuer_state": state}}
    offer = {"credential_issuer": issuer.issuer_id, "credential_configuration_ids": ids, "grants": grants}
    out: dict[str, Any] = {"credential_offer": offer, "tx_code": tx_code, "expires_in": ttl}
    if body.by_reference:
        ref = secrets.token_urlsafe(24)
        await issuer.put("offer-uri", ref, offer, min(ttl, issuer.options.offer_uri_ttl))
        uri = issuer.url(f"/offers/{ref}")
        out["credential_offer_uri"] = uri
        out["offer_uri"] = "openid-credential-offer://?credential_offer_uri=" + quote(uri, safe="")
    else:
        out["offer_uri"] = "openid-credential-offer://?credential_offer=" + quote(
            json.dumps(offer, separators=(",", ":")), safe="")
    out["qr_svg"] = qr_svg(out["offer_uri"])
    return out


class OfferController(Controller):
    """``GET /offers/{ref}``: a credential offer by reference (§4.1.3)."""

    path = "/offers"
    tags = ("openid4vci",)

    @get("/{ref:str}", operation_id="credentialOfferByReference",
         responses={200: spec(CredentialOffer, "The credential offer"),
                    404: spec(OAuthError, "No such (or an expired) offer")})
    async def by_reference(self, issuer: IssuerDep, ref: FromPath[str]
                           ) -> Response[dict[str, Any]]:
        """A credential offer fetched by ``credential_offer_uri`` (OpenID4VCI 1.0 §4.1.3)."""
        offer = await issuer.get("offer-uri", ref[:100])
        if offer is None:
            raise NotFound("no such credential offer")
        return Response(offer, headers=NO_STORE)
