"""Deferred Credential endpoint (OpenID4VCI 1.0 §9): 202 again until the issuance is approved, then the
credentials; the ``transaction_id`` is single use. Approval comes through the admin API
(``POST /admin/deferred/{transaction_id}/approve``, :func:`approve_deferred`: an officer's or a guardian's
decision). Errors are §9.3's (``invalid_transaction_id``) and §8.3.1's.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.params import Body
from litestar.response import Response

from eidcore.errors import InvalidCredentialRequest, InvalidEncryptionParameters, InvalidTransactionId, ProtocolError
from issuer.core import Issuer, IssuerDep
from issuer.credential import ERRORS, answer, decode_request, issue, response_encryption
from issuer.http import EncodedBody, body_dto, encoded_body, spec, validate
from issuer.oauth import authorize_resource
from issuer.schemas import CredentialResponse, DeferredCredentialRequest

__all__ = ["DeferredController", "approve_deferred", "deferred"]

FIELD_ERRORS: dict[str, type[ProtocolError]] = {"transaction_id": InvalidTransactionId,
                                                "credential_response_encryption": InvalidEncryptionParameters}


async def approve_deferred(issuer: Issuer, transaction_id: str, *, person_id: str | None = None) -> bool:
    """Mark a deferred issuance as approved (the officer's or guardian's decision, via the admin API).

    With ``person_id`` the transaction must be that person's (a guardian approves their child's issuance, not
    whatever transaction id a wallet reported); otherwise it is treated as unknown.
    """
    data = await issuer.get("deferred", transaction_id)
    if data is None:
        return False
    if person_id is not None and data.get("state", {}).get("person_id") != person_id:
        return False
    data["approved"] = True
    await issuer.put("deferred", transaction_id, data, issuer.options.deferred_ttl)
    return True


async def deferred(issuer: Issuer, request: Request[Any, Any, Any], encoded: EncodedBody) -> Response[Any]:
    """§9: the deferred credential endpoint (202 again until approved; the transaction_id is single use)."""
    token, state = await authorize_resource(issuer, request, "/deferred")
    body, encrypted = await decode_request(issuer, encoded)
    validate(DeferredCredentialRequest, body, error=InvalidCredentialRequest, field_errors=FIELD_ERRORS)
    enc = response_encryption(body, encrypted)
    tid = body.get("transaction_id")
    if not isinstance(tid, str) or not tid or len(tid) > 200:
        raise InvalidTransactionId("transaction_id is required")
    data = await issuer.get("deferred", tid)
    if data is None or data["state"].get("person_id") != state.get("person_id"):
        raise InvalidTransactionId("unknown transaction_id")
    if not data.get("approved"):
        return answer({"transaction_id": tid, "interval": issuer.options.deferred_interval}, enc, 202)
    taken = await issuer.consume("deferred", tid)
    if taken is None:
        raise InvalidTransactionId("unknown transaction_id")
    conf = issuer.configuration(taken["config"])
    if conf is None:  # pragma: no cover - configurations do not change at run time
        raise InvalidTransactionId("unknown transaction_id")
    out = await issue(issuer, conf, taken["state"], taken["keys"])
    del token
    return answer(out, enc)


class DeferredController(Controller):
    """``POST /deferred``."""

    path = "/deferred"
    tags = ("openid4vci",)

    @post(operation_id="deferredCredential", status_code=200,
          dto=body_dto(DeferredCredentialRequest, "encoded", InvalidCredentialRequest), return_dto=None,
          responses={200: spec(CredentialResponse, "The credentials"),
                     202: spec(CredentialResponse, "Not yet approved: transaction_id, interval"),
                     **ERRORS})
    async def deferred(self, issuer: IssuerDep, request: Request[Any, Any, Any],
                       data: Annotated[EncodedBody | None, Body(media_type="application/json",
                                                                description="application/json, or application/jwt "
                                                                            "encrypted to the issuer (§10)")] = None
                       ) -> Response[Any]:
        """Deferred credential endpoint (OpenID4VCI 1.0 §9)."""
        return await deferred(issuer, request, encoded_body(request, data))
