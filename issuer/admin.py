"""The issuer's admin API (RFC 6750 bearer credentials with scopes, :mod:`eidcore.admin_auth`): credential offers
(OpenID4VCI 1.0 §4.1) for a person of the population register, credential status changes
(draft-ietf-oauth-status-list §7), and approval of deferred issuance (OpenID4VCI 1.0 §9). Granted mandates are in
:mod:`issuer.mandates`.

Scopes: the operator's token holds every one; the wallet provider's credential holds
:data:`WALLET_PROVIDER_SCOPES`, granted in ``create_app`` (``rt.allow_peer``):

- ``offers`` (any offer) / ``offers:delegated``: only what the wallet provider asks for on someone's behalf, a
  child's credential under deferred issuance (``require_approval``, the guardian approves) or a mandate credential
  for a recorded, unrevoked mandate of that agent;
- ``credentials:status`` (any status change) / ``credentials:status:instance``: only by ``instance_jkt`` (the
  wallet provider suspends the credentials of its own wallet instances);
- ``deferred:approve``;
- ``mandates`` / ``mandates:write`` (:mod:`issuer.mandates`).

A caller without the scope gets 403 ``insufficient_scope``; a missing or unknown token 401 ``invalid_token``.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.params import Body, FromPath
from litestar.response import Response
from litestar.types import Guard

from eidcore.admin_auth import admin_caller, admin_guard, admin_security
from eidcore.api.issuer_admin import DeferredApproval, OfferRequest, StatusChange, StatusChanged
from eidcore.errors import InsufficientScope, InvalidRequest, NotFound
from issuer.core import Issuer, IssuerDep
from issuer.deferred import approve_deferred
from issuer.http import NO_STORE, body_dto, spec
from issuer.login import ADULT_AGE
from issuer.models import IssMandate
from issuer.offers import create_offer
from issuer.schemas import OAuthError, OfferCreated
from issuer.status import change_status, change_status_by_ref, subject_id

__all__ = ["ADMIN_ERRORS", "WALLET_PROVIDER_SCOPES", "AdminController", "admin_guard_any", "check_delegated_offer",
           "status_change"]

WALLET_PROVIDER_SCOPES = frozenset({"offers:delegated", "credentials:status:instance", "mandates:write",
                                    "deferred:approve"})
"""What the wallet provider's credential may do at the issuer (``rt.allow_peer("issuer", "wallet", ...)``)."""

ADMIN_ERRORS = {400: spec(OAuthError, "invalid_request"),
                401: spec(OAuthError, "invalid_token: no or an unknown admin credential"),
                403: spec(OAuthError, "insufficient_scope: the credential lacks the scope")}


def admin_guard_any(*scopes: str) -> Guard:
    """The issuer's :func:`eidcore.admin_auth.admin_guard` letting in a caller holding any of ``scopes``."""
    return admin_guard("issuer", *scopes)


async def check_delegated_offer(issuer: Issuer, body: OfferRequest) -> None:
    """``offers:delegated``: only a child's credential under deferred issuance (a guardian approves it), or a
    mandate credential for a recorded, unrevoked mandate whose agent the offer is for; else 403."""
    person = await issuer.resolve_person(body.person)
    ids = body.configuration_ids()
    confs = [issuer.configuration(cid) for cid in ids]
    if body.require_approval and person.age(issuer.rt.clock) < ADULT_AGE:
        return
    if ids and all(c is not None and c.type.id == "mandate" for c in confs) and body.mandate_id:
        async with issuer.rt.db.session() as s:
            m = await s.get(IssMandate, body.mandate_id[:64])
        if m is not None and not m.revoked and m.agent_id == person.person_id:
            return
    raise InsufficientScope("this credential may offer only a child's credential under guardian approval or a "
                            "mandate credential for a recorded mandate",
                            headers={"WWW-Authenticate": 'Bearer realm="issuer-admin", error="insufficient_scope", '
                                                         'scope="offers"'})


async def status_change(issuer: Issuer, body: StatusChange) -> StatusChanged:
    """Revoke, suspend or reinstate (committed before the answer)."""
    selectors = [k for k in ("credential_id", "instance_jkt", "person", "subject_ref") if getattr(body, k) is not None]
    if len(selectors) != 1:
        raise InvalidRequest("give exactly one of credential_id, instance_jkt, person, subject_ref")
    ctype = body.credential_type
    if ctype is not None and ctype not in issuer.types:
        raise InvalidRequest("unknown credential_type")
    sel = selectors[0]
    value: str = getattr(body, sel)
    if sel == "subject_ref":  # what the credentials were issued for: mandate:<id>, employment:<orgnr>, ...
        changed = await change_status_by_ref(issuer, body.action, value, credential_type=ctype)
    elif sel == "person":
        person = await issuer.resolve_person(value)
        changed = await change_status(issuer, body.action, subject=subject_id(person.person_id),
                                      credential_type=ctype)
    elif sel == "credential_id":
        changed = await change_status(issuer, body.action, credential_id=value, credential_type=ctype)
    else:
        changed = await change_status(issuer, body.action, instance_jkt=value, credential_type=ctype)
    return StatusChanged(updated=len(changed), credentials=changed)


class AdminController(Controller):
    """``/admin/offers``, ``/admin/credentials/status``, ``/admin/deferred/{transaction_id}/approve``."""

    path = "/admin"
    tags = ("admin",)

    @post("/offers", operation_id="adminCreateOffer", status_code=201, dto=body_dto(OfferRequest), return_dto=None,
          guards=[admin_guard_any("offers", "offers:delegated")],
          security=admin_security("offers", "offers:delegated"),
          responses={201: spec(OfferCreated, "The offer, its URI, tx_code and QR code"),
                     404: spec(OAuthError, "No such person"), **ADMIN_ERRORS})
    async def create_offer(self, issuer: IssuerDep, request: Request[Any, Any, Any],
                           data: Annotated[OfferRequest, Body()]) -> Response[dict[str, Any]]:
        """Create a credential offer for a person (offer URI, tx_code and QR code SVG)."""
        if not admin_caller(request).allows("offers"):
            await check_delegated_offer(issuer, data)
        return Response(await create_offer(issuer, data), status_code=201, headers=NO_STORE)

    @post("/credentials/status", operation_id="adminCredentialStatus", status_code=200,
          dto=body_dto(StatusChange), return_dto=None,
          guards=[admin_guard_any("credentials:status", "credentials:status:instance")],
          security=admin_security("credentials:status", "credentials:status:instance"),
          responses={404: spec(OAuthError, "No such person"), **ADMIN_ERRORS})
    async def change_status(self, issuer: IssuerDep, request: Request[Any, Any, Any],
                            data: Annotated[StatusChange, Body()]) -> Response[StatusChanged]:
        """Revoke, suspend or reinstate issued credentials (committed before the answer)."""
        if not admin_caller(request).allows("credentials:status") and (
                data.instance_jkt is None or any(getattr(data, k) is not None
                                                 for k in ("credential_id", "person", "subject_ref"))):
            raise InsufficientScope("this credential may change the status only by instance_jkt",
                                    headers={"WWW-Authenticate": 'Bearer realm="issuer-admin", '
                                                                 'error="insufficient_scope", '
                                                                 'scope="credentials:status"'})
        return Response(await status_change(issuer, data), headers=NO_STORE)

    @post("/deferred/{transaction_id:str}/approve", operation_id="adminApproveDeferred", status_code=204,
          dto=body_dto(DeferredApproval, "optional-json"), return_dto=None,
          guards=[admin_guard("issuer", "deferred:approve")], security=admin_security("deferred:approve"),
          responses={404: spec(OAuthError, "No such deferred transaction"), **ADMIN_ERRORS})
    async def approve(self, issuer: IssuerDep, transaction_id: FromPath[str],
                      data: Annotated[DeferredApproval | None, Body(description="Optional")] = None) -> None:
        """Approve a deferred issuance; the wallet's next deferred poll gets the credential.

        An optional JSON body ``{"person": <identifier or person id>}`` makes the approval apply only if the
        transaction is that person's.
        """
        person_id = None
        if data is not None and data.person is not None:
            person_id = (await issuer.resolve_person(data.person)).person_id
        if not await approve_deferred(issuer, transaction_id[:200], person_id=person_id):
            raise NotFound("no such deferred transaction")
