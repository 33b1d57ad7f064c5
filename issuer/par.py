"""Pushed Authorization Request endpoint (RFC 9126 §2; OpenID4VCI 1.0 §5.1).

PAR is required (the authorization endpoint only takes a ``request_uri``). The client must be registered and the
``redirect_uri`` one registered for it (RFC 9700 §2.1; a loopback URI with any port, RFC 8252 §7.3), or, with a
wallet attestation, one registered for the wallet provider that signed it (:mod:`issuer.clients`). PKCE ``S256``
is required (RFC 7636); a DPoP proof (RFC 9449 §10) or ``dpop_jkt`` binds the code to a key. A refused request
stores nothing and is never redirected (RFC 6749 §4.1.2.1).
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Response

from eidcore.errors import InvalidDPoPProof, InvalidRequest
from eidcore.oauth import pkce
from issuer.core import Issuer, IssuerDep
from issuer.http import NO_STORE, body_dto, spec
from issuer.oauth import REQUEST_URI_PREFIX, authenticate_client, check_dpop, requested_configurations
from issuer.schemas import OAuthError, PushedAuthorizationRequest, PushedAuthorizationResponse

__all__ = ["ParController", "push_authorization_request"]


async def push_authorization_request(issuer: Issuer, request: Request[Any, Any, Any],
                                     params: PushedAuthorizationRequest) -> PushedAuthorizationResponse:
    """Check and store a pushed authorization request; its single-use ``request_uri`` (RFC 9126 §2.2)."""
    if params.request_uri is not None or params.request is not None:
        raise InvalidRequest("request_uri and request are not allowed in a pushed authorization request")
    client_id = params.client_id
    proof = await check_dpop(issuer, request, htu=issuer.url("/par"))
    auth = await authenticate_client(issuer, request, client_id,
                                     required=issuer.rt.settings.issuer.require_wallet_attestation)
    if params.response_type != "code":
        raise InvalidRequest("response_type must be code")
    # RFC 9700 §2.1: only a registered redirect URI, compared exactly; an attested instance gets its wallet
    # provider's, never one of its own choosing
    redirect_uri = issuer.clients.redirect_uri(client_id, params.redirect_uri, auth.wallet_provider)
    challenge = pkce.check_challenge_request(params.code_challenge, params.code_challenge_method)
    configs, used_details = requested_configurations(issuer, params.scope, params.authorization_details)
    offer: dict[str, Any] | None = None
    if params.issuer_state:
        offer = await issuer.get("offer-state", params.issuer_state)
        if offer is None:
            raise InvalidRequest("issuer_state is unknown or expired")
        if not set(configs) <= set(offer.get("configs", [])):
            raise InvalidRequest("the request asks for credentials the offer did not name")
    dpop_jkt = params.dpop_jkt
    if proof is not None:
        if dpop_jkt and dpop_jkt != proof.jkt:
            raise InvalidDPoPProof("dpop_jkt differs from the DPoP proof's key")
        dpop_jkt = proof.jkt
    request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(32)
    await issuer.put("par", request_uri, {
        "client_id": client_id, "instance_jkt": auth.instance_jkt, "redirect_uri": redirect_uri,
        "code_challenge": challenge, "configs": configs, "details": used_details, "state": params.state,
        "dpop_jkt": dpop_jkt, "offer": offer,
    }, issuer.options.par_ttl)
    return PushedAuthorizationResponse(request_uri=request_uri, expires_in=issuer.options.par_ttl)


class ParController(Controller):
    """``POST /par`` (RFC 9126 §2)."""

    path = "/par"
    tags = ("authorization server",)

    @post(operation_id="pushedAuthorizationRequest", status_code=201,
          dto=body_dto(PushedAuthorizationRequest, "form"), return_dto=None,
          responses={400: spec(OAuthError, "invalid_request, invalid_scope, invalid_dpop_proof"),
                     401: spec(OAuthError, "invalid_client, invalid_client_attestation, "
                                                               "use_attestation_challenge")})
    async def par(self, issuer: IssuerDep, request: Request[Any, Any, Any],
                  data: Annotated[PushedAuthorizationRequest, Body(media_type=RequestEncodingType.URL_ENCODED)]
                  ) -> Response[PushedAuthorizationResponse]:
        """Pushed Authorization Request: PKCE S256 and a wallet attestation as configured; answers a single-use
        ``request_uri``."""
        out = await push_authorization_request(issuer, request, data)
        return Response(out, status_code=201, headers=NO_STORE)
