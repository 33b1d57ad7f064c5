"""Lommebok issuer: OpenID4VCI 1.0 credential issuer, authorization server and status lists.

A short tour (mount-relative paths; the service lives at ``<base>/issuer``):

- metadata: ``/.well-known/openid-credential-issuer/issuer`` (signed, ``application/jwt``, on
  ``Accept: application/jwt``) and ``/.well-known/oauth-authorization-server/issuer`` and
  ``/.well-known/jwt-vc-issuer/issuer`` at the host root; ``/jwks``; ``/type-metadata/{type}``;
- authorization server: ``/par`` -> ``/authorize`` -> login (``/login``, or ID-porten) -> redirect with ``code``
  and ``iss``; ``/token`` (authorization_code, pre-authorized_code, refresh_token); ``/challenge``;
- credential issuer: ``/nonce``, ``/credential`` (``jwt`` proofs with ``jwk`` keys, optionally with a key
  attestation, or one ``attestation`` proof), ``/deferred``, ``/notification``, ``/offers/{id}``;
- status lists: ``/status/{list id}`` (JWT or CWT by ``Accept``; ``ttl`` and ``max-age`` from
  ``LOMMEBOK_STATUS_LIST_TTL``, 300 s, 30 s in dev);
- admin (bearer admin token): ``/admin/offers``, ``/admin/credentials/status``, ``/admin/mandates``,
  ``/admin/deferred/{transaction_id}/approve``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from litestar import Litestar, MediaType, Request, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Response
from litestar.types import ControllerRouterHandler

from eidcore.errors import InvalidRequest, NotFound, UnknownCredentialType
from eidcore.runtime import Runtime
from eidcore.settings import Settings, load_settings
from eidcore.web import service_app
from issuer import admin, endpoint, oauth
from issuer.core import Issuer, issuer_for
from issuer.login import Authenticated as _Authenticated
from issuer.login import IdPorten, alone_level, identity_provider, login_page, parse_loa
from issuer.mandates import mandate_handlers
from issuer.metadata import (
    as_metadata,
    credential_issuer_metadata,
    jwks,
    jwt_vc_issuer_metadata,
    pick_locale,
    signed_metadata,
)
from issuer.migrations import SCHEMA
from issuer.options import IssuerOptions
from issuer.org_admin import org_admin_handlers
from issuer.status import list_token

NAME = "issuer"
DESCRIPTION = "OpenID4VCI 1.0 credential issuer, authorization server and status lists."
MOUNT = "/issuer"
TAGS_VCI = ["openid4vci"]
TAGS_AS = ["authorization server"]
TAGS_ADMIN = ["admin"]


def _wants_jwt(accept: str) -> bool:
    """True when ``Accept`` names ``application/jwt`` with a non-zero q, ahead of (or without) JSON."""
    best: dict[str, float] = {}
    for part in accept.split(",")[:20]:
        media, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        best[media.strip().lower()] = q
    jwt = best.get("application/jwt", 0.0)
    return jwt > 0 and jwt >= best.get("application/json", 0.0)


def _localized(doc: dict[str, Any], locale: str | None) -> Response[Any]:
    headers = {"Cache-Control": "public, max-age=300", "Vary": "Accept, Accept-Language"}
    if locale is not None:
        headers["Content-Language"] = locale
    return Response(doc, headers=headers)


def _metadata_handlers(issuer: Issuer, *, at_root: bool) -> list[ControllerRouterHandler]:
    """The metadata documents: at the host root with the issuer's path appended (OpenID4VCI 1.0 §12.2.2,
    RFC 8414 §3.1), and inside the service under ``/.well-known/...`` for clients that look there."""
    suffix = MOUNT if at_root else ""

    @get(f"/.well-known/openid-credential-issuer{suffix}", operation_id="credentialIssuerMetadata", tags=TAGS_VCI)
    async def credential_issuer(request: Request[Any, Any, Any]) -> Response[Any]:
        """Credential Issuer Metadata (OpenID4VCI 1.0 §12.2), localized by Accept-Language; signed
        (``application/jwt``, §12.2.3) when the client accepts ``application/jwt``."""
        locale = pick_locale(request.headers.get("accept-language"))
        doc = await credential_issuer_metadata(issuer, locale)
        if _wants_jwt(request.headers.get("accept", "")):
            headers = {"Cache-Control": "public, max-age=300", "Vary": "Accept, Accept-Language"}
            if locale is not None:
                headers["Content-Language"] = locale
            return Response(signed_metadata(issuer, doc).encode("ascii"), media_type="application/jwt",
                            headers=headers)
        return _localized(doc, locale)

    @get(f"/.well-known/oauth-authorization-server{suffix}", operation_id="authorizationServerMetadata",
         tags=TAGS_AS, sync_to_thread=False)
    def authorization_server() -> Response[Any]:
        """Authorization Server Metadata (RFC 8414 §3)."""
        return Response(as_metadata(issuer), headers={"Cache-Control": "public, max-age=300"})

    @get(f"/.well-known/jwt-vc-issuer{suffix}", operation_id="jwtVcIssuerMetadata", tags=TAGS_VCI,
         sync_to_thread=False)
    def jwt_vc_issuer() -> Response[Any]:
        """JWT VC Issuer Metadata (SD-JWT VC §5)."""
        return Response(jwt_vc_issuer_metadata(issuer), headers={"Cache-Control": "public, max-age=300"})

    return [credential_issuer, authorization_server, jwt_vc_issuer]


def handlers(rt: Runtime, options: IssuerOptions | None = None) -> Sequence[ControllerRouterHandler]:
    """The service's own route handlers (mount-relative paths)."""
    issuer = issuer_for(rt, options)

    @get("/jwks", operation_id="jwks", tags=TAGS_VCI, sync_to_thread=False)
    def get_jwks() -> Response[Any]:
        """The issuer's public signing keys (RFC 7517 §5)."""
        return Response(jwks(issuer), headers={"Cache-Control": "public, max-age=300"})

    @get("/type-metadata/{type_id:str}", operation_id="typeMetadata", tags=TAGS_VCI, sync_to_thread=False)
    def type_metadata(type_id: FromPath[str]) -> Response[bytes]:
        """SD-JWT VC Type Metadata (§6) of a credential type, byte for byte (``vct#integrity`` covers it)."""
        try:
            ct = issuer.types.get(type_id)
        except UnknownCredentialType:
            raise NotFound("no such credential type") from None
        return Response(ct.type_metadata_bytes, media_type=MediaType.JSON,
                        headers={"Cache-Control": "public, max-age=3600"})

    # -- authorization server ----------------------------------------------------------------------

    @post("/par", operation_id="pushedAuthorizationRequest", tags=TAGS_AS, status_code=201)
    async def par(request: Request[Any, Any, Any]) -> Response[Any]:
        """Pushed Authorization Request (RFC 9126 §2); PKCE S256 and a wallet attestation as configured."""
        return await oauth.par(issuer, request)

    @get("/authorize", operation_id="authorize", tags=TAGS_AS)
    async def authorize(client_id: FromQuery[str | None] = None, request_uri: FromQuery[str | None] = None) -> Redirect:
        """Authorization endpoint: takes only a pushed request (``request_uri``), then sends the user to log in."""
        return await oauth.authorize(issuer, client_id, request_uri)

    @get("/login", operation_id="testLoginPage", tags=TAGS_AS, media_type=MediaType.HTML)
    async def login(session: FromQuery[str], q: FromQuery[str] = "") -> str:
        """The built-in test login (dev): synthetic persons, searchable, with a chosen level of assurance."""
        if issuer.options.idporten is not None or rt.settings.environment == "production":
            raise NotFound("the test login is not enabled")
        data = await issuer.get("login", session)
        if data is None:
            raise InvalidRequest("the login session is unknown or expired")
        pop = issuer.population()
        q = q[:100]
        persons = await pop.search(q, limit=50) if q.strip() else await pop.list_persons(limit=50)
        return login_page(issuer, session, q, persons, list(data["par"]["configs"]))

    @post("/login", operation_id="testLoginSubmit", tags=TAGS_AS, status_code=302)
    async def login_submit(request: Request[Any, Any, Any]) -> Redirect:
        """Complete the test login: the chosen person at the chosen level of assurance."""
        if issuer.options.idporten is not None or rt.settings.environment == "production":
            raise NotFound("the test login is not enabled")
        params = await oauth.form_params(request)
        session, person_id = params.get("session"), params.get("person_id")
        if not session or not person_id:
            raise InvalidRequest("session and person_id are required")
        loa = parse_loa(params.get("loa"))
        person = await issuer.population().get_person(person_id[:64])
        loa = alone_level(person, loa, rt.clock)  # a child cannot reach level high alone (issue 7)
        return await oauth.finish_login(issuer, session, _Authenticated(person.person_id, loa, "test"))

    @get("/login/idporten/callback", operation_id="idportenCallback", tags=TAGS_AS)
    async def idporten_callback(oidc_state: Annotated[str | None, QueryParameter(name="state")] = None,
                                code: FromQuery[str | None] = None, error: FromQuery[str | None] = None) -> Redirect:
        """ID-porten's redirect back (OIDC Core §3.1.2.5): exchange the code, validate the ID token."""
        idp = identity_provider(issuer)
        if not isinstance(idp, IdPorten):
            raise NotFound("ID-porten is not configured")
        state = oidc_state
        if not state:
            raise InvalidRequest("state is required")
        data = await issuer.get("login", state)
        if data is None:
            raise InvalidRequest("the login session is unknown or expired")
        if error or not code:
            session = await issuer.consume("login", state)
            par_data = (session or data)["par"]
            out = {"iss": issuer.issuer_id, "error": "access_denied", "error_description": "login was not completed"}
            if par_data.get("state") is not None:
                out["state"] = par_data["state"]
            return oauth._redirect(par_data["redirect_uri"], out)
        who = await idp.complete(code, data)
        return await oauth.finish_login(issuer, state, who)

    @post("/token", operation_id="token", tags=TAGS_AS, status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        """Token endpoint: authorization_code (+PKCE), pre-authorized_code (+tx_code), refresh_token (rotated)."""
        return await oauth.token(issuer, request)

    @post("/challenge", operation_id="attestationChallenge", tags=TAGS_AS, status_code=200)
    async def challenge() -> Response[Any]:
        """Attestation challenge endpoint (attestation-based client auth §8)."""
        value = await oauth.new_attestation_challenge(issuer)
        return Response({"attestation_challenge": value}, headers=oauth.NO_STORE)

    # -- credential issuer -------------------------------------------------------------------------

    @post("/nonce", operation_id="nonce", tags=TAGS_VCI, status_code=200)
    async def nonce() -> Response[Any]:
        """Nonce endpoint (OpenID4VCI 1.0 §7)."""
        return await endpoint.nonce(issuer)

    @post("/credential", operation_id="credential", tags=TAGS_VCI, status_code=200)
    async def credential(request: Request[Any, Any, Any]) -> Response[Any]:
        """Credential endpoint (OpenID4VCI 1.0 §8): one credential per proof key; 202 when deferred."""
        return await endpoint.credential(issuer, request)

    @post("/deferred", operation_id="deferredCredential", tags=TAGS_VCI, status_code=200)
    async def deferred(request: Request[Any, Any, Any]) -> Response[Any]:
        """Deferred credential endpoint (OpenID4VCI 1.0 §9)."""
        return await endpoint.deferred(issuer, request)

    @post("/notification", operation_id="notification", tags=TAGS_VCI, status_code=204)
    async def notification(request: Request[Any, Any, Any]) -> None:
        """Notification endpoint (OpenID4VCI 1.0 §11)."""
        await endpoint.notification(issuer, request)

    @get("/offers/{ref:str}", operation_id="credentialOfferByReference", tags=TAGS_VCI)
    async def offer_by_reference(ref: FromPath[str]) -> Response[Any]:
        """A credential offer fetched by ``credential_offer_uri`` (OpenID4VCI 1.0 §4.1.3)."""
        offer = await issuer.get("offer-uri", ref[:100])
        if offer is None:
            raise NotFound("no such credential offer")
        return Response(offer, headers=oauth.NO_STORE)

    # -- status lists ------------------------------------------------------------------------------

    @get("/status/{list_id:str}", operation_id="statusList", tags=["status list"])
    async def status_list(list_id: FromPath[str], request: Request[Any, Any, Any]) -> Response[Any]:
        """A Status List Token (draft-ietf-oauth-status-list §8): JWT by default, CWT by ``Accept``."""
        accept = request.headers.get("accept", "")
        form: Any = "cwt" if "application/statuslist+cwt" in accept else "jwt"
        tok = await list_token(issuer, list_id, form)
        headers = {"ETag": tok.etag, "Cache-Control": f"public, max-age={tok.max_age}", "Vary": "Accept"}
        # max-age is the list's ttl: a relying party sees a revocation within ttl seconds
        if request.headers.get("if-none-match") == tok.etag:
            return Response(b"", status_code=304, headers=headers)
        return Response(tok.body, media_type=tok.media_type, headers=headers)

    # -- admin -------------------------------------------------------------------------------------

    @post("/admin/offers", operation_id="adminCreateOffer", tags=TAGS_ADMIN, status_code=201)
    async def admin_offer(request: Request[Any, Any, Any]) -> Response[Any]:
        """Create a credential offer for a person (offer URI, tx_code and QR code SVG)."""
        admin.check_admin(issuer, request)
        return Response(await admin.create_offer(issuer, await admin.json_body(request)), status_code=201,
                        headers=oauth.NO_STORE)

    @post("/admin/credentials/status", operation_id="adminCredentialStatus", tags=TAGS_ADMIN, status_code=200)
    async def admin_status(request: Request[Any, Any, Any]) -> Response[Any]:
        """Revoke, suspend or reinstate issued credentials (committed before the answer)."""
        admin.check_admin(issuer, request)
        return Response(await admin.status_change(issuer, await admin.json_body(request)), headers=oauth.NO_STORE)

    @post("/admin/mandates", operation_id="adminCreateMandate", tags=TAGS_ADMIN, status_code=201)
    async def admin_mandate(request: Request[Any, Any, Any]) -> Response[Any]:
        """Record a granted mandate (principal -> agent, scope, validity)."""
        admin.check_admin(issuer, request)
        return Response(await admin.create_mandate(issuer, await admin.json_body(request)), status_code=201,
                        headers=oauth.NO_STORE)

    @post("/admin/deferred/{transaction_id:str}/approve", operation_id="adminApproveDeferred", tags=TAGS_ADMIN,
          status_code=204)
    async def admin_approve(transaction_id: FromPath[str], request: Request[Any, Any, Any]) -> None:
        """Approve a deferred issuance; the wallet's next deferred poll gets the credential.

        An optional JSON body ``{"person": <identifier or person id>}`` makes the approval apply only if the
        transaction is that person's.
        """
        admin.check_admin(issuer, request)
        person_id = None
        if await request.body():
            body = await admin.json_body(request)
            if body.get("person") is not None:
                person_id = (await admin.resolve_person(issuer, body["person"])).person_id
        if not await endpoint.approve_deferred(issuer, transaction_id[:200], person_id=person_id):
            raise NotFound("no such deferred transaction")

    return [get_jwks, type_metadata, par, authorize, login, login_submit, idporten_callback, token, challenge,
            nonce, credential, deferred, notification, offer_by_reference, status_list, admin_offer, admin_status,
            admin_mandate, admin_approve, *_metadata_handlers(issuer, at_root=False),
            *mandate_handlers(issuer), *org_admin_handlers(issuer)]


def well_known_handlers(rt: Runtime) -> Sequence[ControllerRouterHandler]:
    """Handlers that live at the host root (``/.well-known/...``), outside the service's mount path."""
    return _metadata_handlers(issuer_for(rt), at_root=True)


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
               options: IssuerOptions | None = None) -> Litestar:
    """The issuer service alone. Pass ``runtime`` to share one runtime (the all-in-one server does)."""
    own = runtime is None
    rt = runtime or Runtime(settings or load_settings())
    return service_app(
        name=NAME,
        title="Lommebok issuer", description=DESCRIPTION, rt=rt, own_runtime=own,
        make_handlers=lambda r: handlers(r, options), error_style="oauth", mount_path=MOUNT,
        schema=SCHEMA,
    )
