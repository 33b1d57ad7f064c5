"""OpenID Connect Core 1.0 §3.1 (authorization code flow) and Discovery 1.0: the bridge's controllers.

The verifier as an OpenID Provider whose users log in with wallet credentials (the logic is
:mod:`verifier.oidc_bridge`):

- ``GET /oidc/.well-known/openid-configuration`` (Discovery 1.0 §4) and ``GET /oidc/jwks`` (RFC 7517 §5);
- ``GET /oidc/authorize`` (OIDC Core §3.1.2; PKCE S256, RFC 7636) and ``GET /oidc/continue`` (the way back from the
  wallet, bound to the browser that started the login; OpenID4VP 1.0 §14.2);
- ``POST /oidc/token`` (OIDC Core §3.1.3; OAuth errors, RFC 6749 §5.2) and ``GET /oidc/userinfo`` (§5.3);
- ``POST /admin/oidc-clients`` (admin scope ``oidc-clients``);
- the discovery document at the host root too (:func:`oidc_well_known_handlers`; RFC 8414 §3.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery, JSONBody, QueryParameter, URLEncodedBody
from litestar.types import ControllerRouterHandler
from pydantic import BaseModel, ConfigDict

from eidcore.admin_auth import admin_security
from eidcore.runtime import Runtime
from verifier.guards import form_body, verifier_admin
from verifier.models import OidcClient
from verifier.oidc_bridge import (
    AuthorizeParams,
    Bridge,
    _claims,
    _cookie_name,
    _query,
    authorize,
    continue_login,
    id_token_key,
    op_issuer,
    provider_metadata,
    register,
    token,
    userinfo,
)
from verifier.schemas import (
    CreateOidcClient,
    LoginPage,
    LoginWaiting,
    OidcClientCreated,
    OidcTokenForm,
    OidcTokenResponse,
    UserInfo,
    errors,
)

__all__ = [
    "Bridge",
    "OidcAdminController",
    "OidcClient",
    "OidcController",
    "ProviderMetadata",
    "_claims",
    "_query",
    "oidc_well_known_handlers",
    "op_issuer",
    "provider_metadata",
]

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
PUBLIC = {"Cache-Control": "public, max-age=300"}
OptionalQuery = FromQuery[str | None]


class ProviderMetadata(BaseModel):
    """OpenID Provider Metadata (Discovery 1.0 §3; RFC 9207 ``authorization_response_iss_parameter_supported``)."""

    model_config = ConfigDict(extra="allow")

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    jwks_uri: str
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    subject_types_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    scopes_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    code_challenge_methods_supported: list[str]
    acr_values_supported: list[str]
    claims_supported: list[str]
    authorization_response_iss_parameter_supported: bool


class JwkSet(BaseModel):
    """RFC 7517 §5: the ID token signing key."""

    keys: list[dict[str, Any]]


def _metadata(rt: Runtime) -> ProviderMetadata:
    return ProviderMetadata.model_validate(provider_metadata(rt))


class OidcController(Controller):
    """The OpenID Provider's endpoints (mount-relative ``/oidc``)."""

    path = "/oidc"
    tags = ["openid connect"]  # noqa: RUF012

    @get("/.well-known/openid-configuration", operation_id="oidcDiscovery", sync_to_thread=False)
    def discovery(self, bridge: NamedDependency[Bridge]) -> Response[ProviderMetadata]:
        """OpenID Provider Metadata at ``<issuer>/.well-known/openid-configuration`` (Discovery 1.0 §4)."""
        return Response(_metadata(bridge.rt), headers=PUBLIC)

    @get("/jwks", operation_id="oidcJwks", sync_to_thread=False)
    def jwks(self, bridge: NamedDependency[Bridge]) -> Response[JwkSet]:
        """The ID token signing key (RFC 7517 §5)."""
        jwk = id_token_key(bridge.rt).public_jwk
        jwk.update(use="sig")
        return Response(JwkSet(keys=[jwk]), headers=PUBLIC)

    @get("/authorize", operation_id="oidcAuthorize", responses=errors(400, 401))
    async def authorize(self, request: Request[Any, Any, Any], bridge: NamedDependency[Bridge],
                        client_id: OptionalQuery = None,
                        redirect_uri: OptionalQuery = None, response_type: OptionalQuery = None,
                        scope_: Annotated[str | None, QueryParameter(name="scope")] = None,
                        state_: Annotated[str | None, QueryParameter(name="state")] = None,
                        nonce: OptionalQuery = None,
                        code_challenge: OptionalQuery = None,
                        code_challenge_method: OptionalQuery = None) -> Response[LoginPage | str]:
        """Authorization endpoint (OIDC Core §3.1.2): ``response_type=code``, ``scope`` with ``openid``, PKCE S256.

        Answers a page with the wallet request as a QR code and a same-device link (JSON on
        ``Accept: application/json``) and the ``continue`` URL that finishes the login."""
        params = AuthorizeParams(client_id, redirect_uri, response_type, scope_, state_, nonce, code_challenge,
                                 code_challenge_method)
        return await authorize(bridge, params, want_json="application/json" in request.headers.get("accept", ""))

    @get("/continue", operation_id="oidcContinue", responses=errors(400, 403, 404))
    async def cont(self, session: FromQuery[str], request: Request[Any, Any, Any],
                   bridge: NamedDependency[Bridge]) -> Response[LoginWaiting]:
        """After the presentation: redirect to the client with ``code``, ``state``, ``iss`` (RFC 9207), or an
        ``access_denied`` error; while the wallet has not answered, 202 and a page that says so.

        Only the browser that started the login gets here (OpenID4VP 1.0 §14.2, cross-device session binding):
        ``/oidc/authorize`` set an HttpOnly, SameSite cookie holding a secret whose SHA-256 the login session keeps;
        another browser that got hold of this URL is refused (403 ``access_denied``) and the session stays."""
        return await continue_login(bridge, session, request.cookies.get(_cookie_name(session[:64])))

    @post("/token", operation_id="oidcToken", status_code=200, guards=[form_body], responses=errors(400, 401))
    async def token(self, request: Request[Any, Any, Any], bridge: NamedDependency[Bridge],
                    data: URLEncodedBody[OidcTokenForm],
                    ) -> Response[OidcTokenResponse]:
        """Token endpoint (OIDC Core §3.1.3): the code (single use), ``redirect_uri``, PKCE ``code_verifier``."""
        out = await token(bridge, data, request.headers.get("authorization", ""))
        return Response(out, headers=NO_STORE)

    @get("/userinfo", operation_id="oidcUserinfo", responses=errors(401))
    async def userinfo(self, request: Request[Any, Any, Any], bridge: NamedDependency[Bridge]) -> Response[UserInfo]:
        """UserInfo endpoint (OIDC Core §5.3): the login's claims for a bearer access token."""
        return Response(await userinfo(bridge, request.headers.get("authorization", "")), headers=NO_STORE)


class OidcAdminController(Controller):
    """Admin API: register OIDC clients of the bridge (admin scope ``oidc-clients``)."""

    path = "/admin/oidc-clients"
    tags = ["admin"]  # noqa: RUF012
    guards = [verifier_admin("oidc-clients")]  # noqa: RUF012
    security = admin_security("oidc-clients")

    @post("/", operation_id="createOidcClient", status_code=201, responses=errors(400, 401, 403))
    async def create_client(self, data: JSONBody[CreateOidcClient],
                            bridge: NamedDependency[Bridge]) -> Response[OidcClientCreated]:
        """Register an OIDC client (admin bearer token): ``name``, ``redirect_uris``, ``login`` (``pid`` or
        ``employee``), optional ``client_id``, ``orgnr``, ``require_any`` (role codes / access packages) and
        ``confidential`` (then the answer holds the client secret, once)."""
        return Response(await register(bridge, data), status_code=201, headers=NO_STORE)


def oidc_well_known_handlers(rt: Runtime) -> Sequence[ControllerRouterHandler]:
    """Discovery at the host root: ``/.well-known/openid-configuration`` and the RFC 8414 §3.1 form."""

    @get(["/.well-known/openid-configuration", "/.well-known/openid-configuration/verifier/oidc"],
         operation_id="oidcDiscoveryRoot", tags=["openid connect"], sync_to_thread=False)
    def discovery_root() -> Response[ProviderMetadata]:
        """OpenID Provider Metadata of the bridge (issuer ``<base>/verifier/oidc``)."""
        return Response(_metadata(rt), headers=PUBLIC)

    return [discovery_root]
