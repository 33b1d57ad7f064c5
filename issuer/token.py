"""Token endpoint (RFC 6749 §3.2, §5; OpenID4VCI 1.0 §6) and the attestation challenge endpoint.

Built the way authlib builds it: one class per grant type behind :class:`GrantType`, and the cross-cutting
checks as extensions the endpoint applies to every grant (:class:`TokenExtension`):

- :class:`AuthorizationCodeGrant` (RFC 6749 §4.1.3): the code from the login, single use, for the same client,
  wallet instance and ``redirect_uri``; a refresh token comes with it;
- :class:`PreAuthorizedCodeGrant` (OpenID4VCI 1.0 §6.1): the code from an offer, with its ``tx_code`` (an attempt
  limit after which the code is dead) and optional ``authorization_details`` narrowing the offer;
- :class:`RefreshTokenGrant` (RFC 6749 §6): rotated on every use; a rotated token that comes back revokes its
  whole family and the family's access tokens (RFC 9700 §4.14.2);
- extensions: :class:`DPoPExtension` (RFC 9449: the proof, the key a code or refresh token is bound to, and
  HAIP's rule that an attested wallet instance must use DPoP), :class:`PkceExtension` (RFC 7636 ``S256``), and
  :class:`ClientAttestationAuth` (attestation-based client authentication, the client authentication method).

Every refusal keeps its OAuth error code (``invalid_request``, ``invalid_grant``, ``unsupported_grant_type``,
``invalid_client``, ``invalid_dpop_proof``, ``use_dpop_nonce``, ...). Access tokens are self-contained and opaque
(AES-256-GCM, :meth:`issuer.core.Issuer.encrypt`).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Protocol

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Response

from eidcore.errors import InvalidDPoPProof, InvalidGrant, InvalidRequest, UnsupportedGrantType
from eidcore.oauth import dpop, pkce
from eidcore.openid4vci import PRE_AUTHORIZED_CODE_GRANT, AuthorizationDetail
from issuer.core import Issuer, IssuerDep
from issuer.http import NO_STORE, body_dto, spec
from issuer.oauth import (
    ClientAuth,
    Grant,
    authenticate_client,
    check_dpop,
    family_revoked,
    new_attestation_challenge,
    requested_configurations,
    revoke_family,
    tx_code_hash,
)
from issuer.schemas import AttestationChallengeResponse, OAuthError, TokenRequest, TokenResponse

__all__ = [
    "AuthorizationCodeGrant", "ClientAttestationAuth", "ClientAuthMethod", "DPoPExtension", "GrantType",
    "PkceExtension", "PreAuthorizedCodeGrant", "RefreshTokenGrant", "TokenController", "TokenEndpoint",
    "TokenExtension", "TokenRequestContext", "issue_tokens",
]


def _param(value: str | None, name: str, *, max_len: int = 2048) -> str:
    if not value:
        raise InvalidRequest(f"{name} is required")
    if len(value) > max_len:
        raise InvalidRequest(f"{name} is too long")
    return value


@dataclass
class TokenRequestContext:
    """One token request as the grant and the extensions see it."""

    issuer: Issuer
    request: Request[Any, Any, Any]
    params: TokenRequest
    endpoint: TokenEndpoint
    grant_type: str
    #: the request's DPoP proof (RFC 9449 §4), set by :class:`DPoPExtension` before the grant runs
    proof: dpop.DPoPProof | None = None
    auth: ClientAuth | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    async def authenticate_client(self, client_id: str | None, *, required: bool) -> ClientAuth:
        """Authenticate the client (the endpoint's method), then let every extension look at who it is."""
        self.auth = await self.endpoint.client_auth.authenticate(self, client_id, required=required)
        for ext in self.endpoint.extensions:
            await ext.after_authentication(self, self.auth)
        return self.auth

    async def validated(self, bound: Mapping[str, Any]) -> None:
        """The grant took and checked its code or token (``bound``: what it was bound to): run the extensions'
        checks of it (PKCE, the DPoP key binding)."""
        for ext in self.endpoint.extensions:
            await ext.after_validation(self, bound)


class TokenExtension:
    """Checks the endpoint applies to every grant (authlib's grant extensions); each hook does nothing here."""

    async def before(self, ctx: TokenRequestContext) -> None:
        """Before the grant looks at the request."""

    async def after_authentication(self, ctx: TokenRequestContext, auth: ClientAuth) -> None:
        """Right after client authentication, before any code, tx_code attempt or refresh token is taken."""

    async def after_validation(self, ctx: TokenRequestContext, bound: Mapping[str, Any]) -> None:
        """After the grant took its code or token and checked it."""


class DPoPExtension(TokenExtension):
    """RFC 9449: the DPoP proof (§4.3, with a server nonce §8 and ``jti`` single use), the key a code
    (``dpop_jkt``, §10) or refresh token (§5) is bound to, and HAIP 1.0: an attested wallet instance
    sender-constrains its tokens with DPoP, so a stolen access token cannot be redeemed on another key."""

    async def before(self, ctx: TokenRequestContext) -> None:
        ctx.proof = await check_dpop(ctx.issuer, ctx.request, htu=ctx.issuer.url("/token"))

    async def after_authentication(self, ctx: TokenRequestContext, auth: ClientAuth) -> None:
        if auth.instance_jkt is not None and ctx.proof is None:
            raise InvalidDPoPProof("a wallet that authenticates with a wallet attestation must send a DPoP proof")

    async def after_validation(self, ctx: TokenRequestContext, bound: Mapping[str, Any]) -> None:
        if ctx.grant_type == "authorization_code" and bound.get("dpop_jkt") and (
                ctx.proof is None or ctx.proof.jkt != bound["dpop_jkt"]):
            raise InvalidGrant("the code is bound to another DPoP key (dpop_jkt)")
        if ctx.grant_type == "refresh_token" and bound.get("jkt") and (
                ctx.proof is None or ctx.proof.jkt != bound["jkt"]):
            raise InvalidGrant("the refresh token is bound to another DPoP key")


class PkceExtension(TokenExtension):
    """RFC 7636 §4.6: the ``code_verifier`` must match the ``S256`` challenge of the authorization request."""

    async def after_validation(self, ctx: TokenRequestContext, bound: Mapping[str, Any]) -> None:
        if ctx.grant_type == "authorization_code":
            pkce.verify(ctx.params.code_verifier, bound["code_challenge"])


class ClientAuthMethod(Protocol):
    """How the endpoint authenticates the client (RFC 6749 §2.3)."""

    async def authenticate(self, ctx: TokenRequestContext, client_id: str | None, *, required: bool
                           ) -> ClientAuth: ...


class ClientAttestationAuth:
    """Attestation-based client authentication (OpenID4VCI 1.0 Appendix E), or a public client without one."""

    async def authenticate(self, ctx: TokenRequestContext, client_id: str | None, *, required: bool) -> ClientAuth:
        return await authenticate_client(ctx.issuer, ctx.request, client_id, required=required)


class GrantType:
    """One grant type of the token endpoint: checks the request and answers what the access token allows."""

    grant_type: ClassVar[str]

    async def validate(self, ctx: TokenRequestContext) -> Grant:
        raise NotImplementedError


class AuthorizationCodeGrant(GrantType):
    """RFC 6749 §4.1.3 with PKCE (RFC 7636) and the pushed request's bindings."""

    grant_type = "authorization_code"

    async def validate(self, ctx: TokenRequestContext) -> Grant:
        issuer, params = ctx.issuer, ctx.params
        code = _param(params.code, "code", max_len=200)
        data = await issuer.get("code", code)
        if data is None:
            raise InvalidGrant("the authorization code is unknown, expired or already used")
        if params.client_id not in (None, data["client_id"]):
            raise InvalidGrant("the code was issued to another client")
        # authenticate before taking the code, so a client told to fetch a challenge can retry
        required = bool(data.get("instance_jkt")) or issuer.rt.settings.issuer.require_wallet_attestation
        auth = await ctx.authenticate_client(data["client_id"], required=required)
        if await issuer.consume("code", code) is None:
            raise InvalidGrant("the authorization code is unknown, expired or already used")
        if data.get("instance_jkt") and auth.instance_jkt != data["instance_jkt"]:
            raise InvalidGrant("the code was issued to another wallet instance")
        if params.redirect_uri != data["redirect_uri"]:
            raise InvalidGrant("redirect_uri differs from the authorization request")
        await ctx.validated(data)
        offer = data.get("offer") or {}
        return Grant(person_id=data["person_id"], loa=data["loa"], configs=data["configs"], details=data["details"],
                     client_id=data["client_id"], instance_jkt=auth.instance_jkt, orgnr=offer.get("orgnr"),
                     mandate_id=offer.get("mandate_id"), require_approval=bool(offer.get("require_approval")),
                     refresh=True)


class PreAuthorizedCodeGrant(GrantType):
    """OpenID4VCI 1.0 §6.1: the pre-authorized code of an offer, with its ``tx_code`` (attempt-limited)."""

    grant_type = PRE_AUTHORIZED_CODE_GRANT

    async def validate(self, ctx: TokenRequestContext) -> Grant:
        issuer, params = ctx.issuer, ctx.params
        settings = issuer.rt.settings.issuer
        code = _param(params.pre_authorized_code, "pre-authorized_code", max_len=200)
        data = await issuer.get("preauth", code)
        if data is None:
            raise InvalidGrant("the pre-authorized code is unknown, expired or already used")
        auth = await ctx.authenticate_client(params.client_id, required=settings.require_wallet_attestation)
        if data.get("tx_code_hash"):
            tx = params.tx_code
            if not tx:
                raise InvalidRequest("tx_code is required for this pre-authorized code")
            n = await issuer.incr("preauth-attempts", code, settings.pre_authorized_code_ttl)
            if n > settings.tx_code_max_attempts:
                await issuer.delete("preauth", code)
                raise InvalidGrant("too many wrong tx_code attempts: the pre-authorized code is no longer valid")
            if len(tx) > 64 or not hmac.compare_digest(await tx_code_hash(issuer, code, tx), data["tx_code_hash"]):
                if n >= settings.tx_code_max_attempts:
                    await issuer.delete("preauth", code)
                raise InvalidGrant("the tx_code is wrong")
        elif params.tx_code is not None:
            raise InvalidRequest("this pre-authorized code takes no tx_code")
        if await issuer.consume("preauth", code) is None:
            raise InvalidGrant("the pre-authorized code is unknown, expired or already used")
        await ctx.validated(data)
        configs = list(data["configs"])
        used_details = False
        if params.authorization_details:
            asked, used_details = requested_configurations(issuer, None, params.authorization_details)
            if not set(asked) <= set(configs):
                raise InvalidRequest("authorization_details asks for credentials the offer did not name")
            configs = asked
        return Grant(person_id=data["person_id"], loa=data["loa"], configs=configs, details=used_details,
                     client_id=auth.client_id, instance_jkt=auth.instance_jkt, orgnr=data.get("orgnr"),
                     mandate_id=data.get("mandate_id"), require_approval=bool(data.get("require_approval")))


class RefreshTokenGrant(GrantType):
    """RFC 6749 §6, rotated on every use; reuse of a rotated token revokes its family (RFC 9700 §4.14.2)."""

    grant_type = "refresh_token"

    async def validate(self, ctx: TokenRequestContext) -> Grant:
        issuer, params = ctx.issuer, ctx.params
        presented = _param(params.refresh_token, "refresh_token", max_len=200)
        data = await issuer.get("refresh", presented)
        if data is None:
            used = await issuer.get("refresh-used", presented)
            if used is not None and used.get("family"):
                await revoke_family(issuer, used["family"])
                raise InvalidGrant("the refresh token was already used: every token of this grant is revoked")
            raise InvalidGrant("the refresh token is unknown, expired or already used")
        auth = await ctx.authenticate_client(data.get("client_id"), required=bool(data.get("instance_jkt")))
        family = data.get("family")
        if family:
            # remember the token as used before taking it, so a replay that loses the race is still seen
            await issuer.put("refresh-used", presented, {"family": family}, issuer.options.refresh_token_ttl)
        if await issuer.consume("refresh", presented) is None:
            if family:
                await revoke_family(issuer, family)
            raise InvalidGrant("the refresh token is unknown, expired or already used")
        if family and await family_revoked(issuer, family):
            raise InvalidGrant("this grant was revoked after a refresh token was reused")
        if data.get("instance_jkt") and auth.instance_jkt != data["instance_jkt"]:
            raise InvalidGrant("the refresh token was issued to another wallet instance")
        await ctx.validated(data)
        return Grant(**{k: v for k, v in data.items() if k in Grant.__dataclass_fields__})


class TokenEndpoint:
    """The token endpoint: the grant types it takes and the extensions it applies to each (in order)."""

    def __init__(self, issuer: IssuerDep, grants: Sequence[GrantType] | None = None,
                 extensions: Sequence[TokenExtension] | None = None,
                 client_auth: ClientAuthMethod | None = None) -> None:
        self.issuer = issuer
        chosen = grants if grants is not None else (AuthorizationCodeGrant(), PreAuthorizedCodeGrant(),
                                                     RefreshTokenGrant())
        self.grants: dict[str, GrantType] = {g.grant_type: g for g in chosen}
        #: PKCE before the DPoP key binding (the order the checks always had)
        self.extensions: tuple[TokenExtension, ...] = tuple(
            extensions if extensions is not None else (PkceExtension(), DPoPExtension()))
        self.client_auth: ClientAuthMethod = client_auth or ClientAttestationAuth()

    async def __call__(self, request: Request[Any, Any, Any], params: TokenRequest) -> TokenResponse:
        """The token response body (RFC 6749 §5.1) for a token request."""
        grant_type = params.grant_type
        if not grant_type:
            raise InvalidRequest("grant_type is required")
        ctx = TokenRequestContext(self.issuer, request, params, self, grant_type)
        for ext in self.extensions:
            await ext.before(ctx)
        handler = self.grants.get(grant_type)
        if handler is None:
            raise UnsupportedGrantType("grant_type must be authorization_code, pre-authorized_code or refresh_token")
        grant = await handler.validate(ctx)
        return await issue_tokens(self.issuer, grant, ctx.proof)


async def issue_tokens(issuer: Issuer, grant: Grant, proof: dpop.DPoPProof | None) -> TokenResponse:
    """Make the access token (and, for the code flow, a refresh token) and the token response (RFC 6749 §5.1,
    OpenID4VCI 1.0 §6.2: ``authorization_details`` with the ``credential_identifiers`` when details were used)."""
    if grant.refresh and grant.family is None:
        grant.family = secrets.token_urlsafe(16)
    if grant.grant_id is None:
        grant.grant_id = secrets.token_urlsafe(16)
    identifiers: dict[str, str] | None = None
    if grant.details:
        identifiers = {f"{cid}.{secrets.token_hex(4)}": cid for cid in grant.configs}
    state = {**grant.to_json(), "jkt": proof.jkt if proof else None, "identifiers": identifiers,
             "jti": secrets.token_urlsafe(16)}
    # self-contained and opaque (AES-GCM with a deployment key): checking it costs no store round trip
    access = await issuer.encrypt("access_token", state, issuer.options.access_token_ttl)
    details = None
    if identifiers is not None:
        details = [AuthorizationDetail(credential_configuration_id=cid,
                                       credential_identifiers=[i for i, c in identifiers.items() if c == cid])
                   for cid in grant.configs]
    refresh: str | None = None
    if grant.refresh:
        refresh = secrets.token_urlsafe(32)
        await issuer.put("refresh", refresh, {**grant.to_json(), "jkt": proof.jkt if proof else None},
                         issuer.options.refresh_token_ttl)
    return TokenResponse(access_token=access, token_type="DPoP" if proof else "Bearer",
                         expires_in=issuer.options.access_token_ttl, refresh_token=refresh,
                         authorization_details=details)


class TokenController(Controller):
    """``POST /token`` and ``POST /challenge``."""

    tags = ("authorization server",)

    @post("/token", operation_id="token", status_code=200, dto=body_dto(TokenRequest, "form"), return_dto=None,
          responses={200: spec(TokenResponse, "Access token (DPoP or Bearer)"),
                     400: spec(OAuthError, "invalid_request, invalid_grant, "
                                                               "unsupported_grant_type, invalid_dpop_proof, "
                                                               "use_dpop_nonce"),
                     401: spec(OAuthError, "invalid_client, invalid_client_attestation, "
                                                               "use_attestation_challenge")})
    async def token(self, endpoint: NamedDependency[TokenEndpoint], request: Request[Any, Any, Any],
                    data: Annotated[TokenRequest, Body(media_type=RequestEncodingType.URL_ENCODED)]
                    ) -> Response[dict[str, Any]]:
        """Token endpoint: authorization_code (+PKCE), pre-authorized_code (+tx_code), refresh_token (rotated)."""
        out = await endpoint(request, data)
        return Response(out.model_dump(mode="json", exclude_none=True), headers=NO_STORE)

    @post("/challenge", operation_id="attestationChallenge", status_code=200)
    async def challenge(self, issuer: IssuerDep) -> Response[AttestationChallengeResponse]:
        """Attestation challenge endpoint (attestation-based client auth §8)."""
        value = await new_attestation_challenge(issuer)
        return Response(AttestationChallengeResponse(attestation_challenge=value), headers=NO_STORE)
