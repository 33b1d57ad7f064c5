"""The OpenID Connect bridge's logic: the verifier as an OpenID Provider whose users log in with wallet credentials.

OpenID Connect Core 1.0 (authorization code flow, §3.1), OpenID Connect Discovery 1.0 (§3, §4), RFC 7636 (PKCE,
S256 only), RFC 9207 (``iss`` in the authorization response), RFC 7517 (JWKS). ID-porten- and Ansattporten-style
logins run on an OpenID4VP 1.0 presentation instead of a password:

1. a registered client (:class:`OidcClient`, ``ver_oidc_client``) sends the user to ``/oidc/authorize``;
2. the bridge opens a verifier transaction with the client's login (``pid``: the PID; ``employee``: the employee
   role credential, optionally pinned to an organisation number and required access packages / role codes) and
   shows the ``openid4vp://`` request as a QR code and a same-device link; ``/oidc/continue`` waits for the result.
   Cross-device protections (OpenID4VP 1.0 §14.2): the login is bound to the browser that started it (an HttpOnly,
   SameSite cookie whose secret's hash the login session keeps, checked before a code is issued), and the page
   and the signed request object both carry the client's name (``client_metadata.client_name``) and a short
   ``match_code``, which the wallet shows for the user to compare before sharing;
3. once the presentation is validated (signature, holder binding, status) the user goes back to the client with a
   single-use code; ``/oidc/token`` (PKCE) answers an ID token (ES256, the verifier's key) and an access token for
   ``/oidc/userinfo``.

This module holds the protocol logic (:class:`Bridge`); :mod:`verifier.oidc` its controllers.

Claims: ``sub`` is pairwise (§8.1: SHA-256 of client id and identity number), ``pid``, ``given_name``,
``family_name``, ``birthdate``, ``age``; an employee login adds ``orgnr``, ``org_name``, ``roles`` and
``access_packages``. ``acr`` is the level of assurance the credential type is issued at (ID-porten
``idporten-loa-*`` for the PID, Ansattporten's ``substantial``/``high`` for the employee credential).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from litestar import Response
from litestar.datastructures import Cookie
from litestar.response import Redirect

from eidcore import jose
from eidcore.credential_types import load_credential_types
from eidcore.encoding import b64u_encode
from eidcore.errors import (
    AccessDenied,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidToken,
    NotFound,
    UnsupportedGrantType,
)
from eidcore.identity import LevelOfAssurance, parse_orgnr, to_idporten_acr
from eidcore.oauth import pkce
from eidcore.pages import page_environment, render_page
from eidcore.registers.records import age_on
from eidcore.runtime import Runtime, secret_matches
from verifier.models import OidcClient, VerRelyingParty
from verifier.relying_parties import CUSTOM_QUERY
from verifier.request import create_transaction
from verifier.schemas import (
    CreateOidcClient,
    CreateTransaction,
    LoginPage,
    LoginWaiting,
    OidcClientCreated,
    OidcTokenForm,
    OidcTokenResponse,
    UserInfo,
)
from verifier.transactions import Verifier

__all__ = ["Bridge", "OidcClient", "id_token_key", "op_issuer", "provider_metadata"]

BRIDGE_RP = "oidc-bridge"
LOGINS = ("pid", "employee")
PID_VCT = "urn:eudi:pid:1"
EMPLOYEE_VCT = "urn:no:digdir:eudi:employee:1"
CODE_TTL = 60
TOKEN_TTL = 300
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def id_token_key(rt: Runtime) -> jose.SigningKey:
    """The verifier's signing key with a ``kid`` (its RFC 7638 thumbprint when the key has none)."""
    assert rt.keys is not None
    key = rt.keys.verifier.signing_key()
    if key.kid:
        return key
    return jose.SigningKey(key.private_key, key.alg, kid=jose.jwk_thumbprint_b64u(key.public_jwk))


def op_issuer(rt: Runtime) -> str:
    """The OpenID Provider identifier (``iss``)."""
    return rt.settings.service_url("verifier") + "/oidc"


def provider_metadata(rt: Runtime) -> dict[str, Any]:
    """OpenID Provider Metadata (OpenID Connect Discovery 1.0 §3)."""
    base = op_issuer(rt)
    return {
        "issuer": base, "authorization_endpoint": f"{base}/authorize", "token_endpoint": f"{base}/token",
        "userinfo_endpoint": f"{base}/userinfo", "jwks_uri": f"{base}/jwks",
        "response_types_supported": ["code"], "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"], "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"], "scopes_supported": ["openid", "profile"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": ["idporten-loa-substantial", "idporten-loa-high", "substantial", "high"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "pid", "given_name",
                             "family_name", "birthdate", "age", "orgnr", "org_name", "roles", "access_packages"],
        "authorization_response_iss_parameter_supported": True,
    }


def _query(login: str, params: dict[str, Any]) -> dict[str, Any]:
    """The DCQL query (OpenID4VP 1.0 §6) of a login."""
    if login == "pid":
        return {"credentials": [{"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [PID_VCT]}, "claims": [
            {"path": ["given_name"]}, {"path": ["family_name"]}, {"path": ["birthdate"]},
            {"path": ["personal_administrative_number"]}]}]}
    org: dict[str, Any] = {"path": ["organisation", "orgnr"]}
    if params.get("orgnr"):
        org["values"] = [params["orgnr"]]
    return {"credentials": [{"id": "employee", "format": "dc+sd-jwt", "meta": {"vct_values": [EMPLOYEE_VCT]},
                             "claims": [{"path": ["given_name"]}, {"path": ["family_name"]},
                                        {"path": ["personal_administrative_number"]}, org,
                                        {"path": ["organisation", "name"]}, {"path": ["roles"]},
                                        {"path": ["access_packages"]}]}]}


def _acr(login: str) -> str:
    types = load_credential_types()
    if login == "pid":
        return to_idporten_acr(LevelOfAssurance(types.get("pid").required_loa))
    return LevelOfAssurance(types.get("employee_role").required_loa).value


def _claims(rt: Runtime, client: OidcClient, result: dict[str, Any]) -> dict[str, Any]:
    """The ID token / userinfo claims a login maps from the validated presentation."""
    qid = "pid" if client.login == "pid" else "employee"
    c = result[qid][0]["claims"]
    pid = c.get("personal_administrative_number")
    if not isinstance(pid, str):
        raise AccessDenied("the credential has no identity number")
    out: dict[str, Any] = {
        "sub": b64u_encode(hashlib.sha256(f"{client.id}|{pid}".encode()).digest()),
        "pid": pid, "given_name": c.get("given_name"), "family_name": c.get("family_name"), "acr": _acr(client.login),
    }
    if client.login == "pid":
        out["birthdate"] = c.get("birthdate")
        today = datetime.fromtimestamp(rt.clock.timestamp(), UTC).date()
        out["age"] = age_on(date.fromisoformat(str(c["birthdate"])), today)
        return out
    org = c.get("organisation") or {}
    roles, packages = list(c.get("roles") or []), list(c.get("access_packages") or [])
    required = client.params.get("require_any") or []
    if required and not set(required) & (set(roles) | set(packages)):
        raise AccessDenied("the employee holds none of the roles this service requires")
    out.update(orgnr=org.get("orgnr"), org_name=org.get("name"), roles=roles, access_packages=packages)
    return out


class Bridge:
    """The bridge's state: the verifier service, the key-value store and the internal relying party."""

    def __init__(self, verifier: Verifier) -> None:
        self.rt = verifier.rt
        self.svc = verifier
        self._rp: VerRelyingParty | None = None

    async def rp(self) -> VerRelyingParty:
        if self._rp is None:
            async with self.rt.db.session() as s:
                rp = await s.get(VerRelyingParty, BRIDGE_RP)
                if rp is None:
                    rp = VerRelyingParty(id=BRIDGE_RP, name="OpenID Connect bridge",
                                         api_key_sha256=_sha(secrets.token_urlsafe(32)),
                                         allowed_profiles=[CUSTOM_QUERY], redirect_uris=[],
                                         created_at=self.svc.now())
                    s.add(rp)
                    await s.commit()
                    await s.refresh(rp)
            self._rp = rp
        return self._rp

    async def client(self, client_id: str | None) -> OidcClient:
        if not client_id or len(client_id) > 100:
            raise InvalidClient("client_id is required")
        async with self.rt.db.session() as s:
            c = await s.get(OidcClient, client_id)
        if c is None:
            raise InvalidClient("unknown client")
        return c

    async def put(self, kind: str, key: str, data: dict[str, Any], ttl: int) -> None:
        await self.rt.store.put(f"oidc:{kind}:{_sha(key)}", jose.json_dumps(data), ttl)

    async def get(self, kind: str, key: str) -> dict[str, Any] | None:
        raw = await self.rt.store.get(f"oidc:{kind}:{_sha(key)}")
        return None if raw is None else jose.parse_json_object(raw, what="state")

    async def consume(self, kind: str, key: str) -> dict[str, Any] | None:
        raw = await self.rt.store.consume(f"oidc:{kind}:{_sha(key)}")
        return None if raw is None else jose.parse_json_object(raw, what="state")


def _cookie_name(session: str) -> str:
    """The cookie that binds one login session to its browser (one per session: parallel logins keep theirs)."""
    return f"lommebok_login_{_sha(session)[:16]}"


def _browser_cookie(rt: Runtime, session: str, secret: str, max_age: int) -> Cookie:
    """HttpOnly, SameSite=Lax (the way back from the wallet is a top-level navigation), path the bridge's, Secure
    whenever the bridge is served over https (plain http only on localhost, see the settings)."""
    base = urlsplit(op_issuer(rt))
    return Cookie(key=_cookie_name(session), value=secret, path=base.path or "/", max_age=max_age, httponly=True,
                  secure=base.scheme == "https", samesite="lax")


def _redirect(uri: str, params: dict[str, str], cookies: Sequence[Cookie] = ()) -> Redirect:
    sep = "&" if urlsplit(uri).query else "?"
    return Redirect(uri + sep + urlencode(params), status_code=302, headers=NO_STORE, cookies=list(cookies))


#: the bridge's pages (eidcore.pages: autoescaping Jinja2, the shared layout)
PAGES = page_environment(Path(__file__).parent / "templates")


def _client_auth(client: OidcClient, authorization: str, form: OidcTokenForm) -> None:
    """``none`` (public client, PKCE), ``client_secret_basic`` or ``client_secret_post`` (OIDC Core §9)."""
    secret = form.client_secret
    if authorization.lower().startswith("basic "):
        try:
            cid, _, secret = base64.b64decode(authorization[6:].strip()).decode().partition(":")
        except ValueError:
            raise InvalidClient("malformed Basic credentials") from None
        if cid != client.id:
            raise InvalidClient("client_id does not match the credentials")
    if client.secret_sha256 is None:
        if secret:
            raise InvalidClient("this client is public (no secret)")
        return
    if not secret or not secret_matches(_sha(secret), client.secret_sha256):
        raise InvalidClient("client authentication failed")


@dataclass(frozen=True)
class AuthorizeParams:
    """The authorization request's query parameters (OIDC Core §3.1.2.1; RFC 7636 §4.3)."""

    client_id: str | None = None
    redirect_uri: str | None = None
    response_type: str | None = None
    scope: str | None = None
    state: str | None = None
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None


async def authorize(bridge: Bridge, q: AuthorizeParams, *, want_json: bool) -> Response[Any]:
    """Authorization endpoint (OIDC Core §3.1.2): opens a verifier transaction for the client's login and answers
    the login page (JSON :class:`LoginPage` on ``want_json``) with the browser-binding cookie."""
    rt = bridge.rt
    client = await bridge.client(q.client_id)
    redirect_uri = q.redirect_uri
    if redirect_uri is None or redirect_uri not in client.redirect_uris:
        raise InvalidRequest("redirect_uri is not registered for this client")
    state = q.state
    error: dict[str, str] = {"iss": op_issuer(rt)}
    if state:
        error["state"] = state
    if q.response_type != "code":
        return _redirect(redirect_uri, {**error, "error": "unsupported_response_type"})
    if "openid" not in (q.scope or "").split():
        return _redirect(redirect_uri, {**error, "error": "invalid_scope",
                                        "error_description": "scope must include openid"})
    try:
        challenge = pkce.check_challenge_request(q.code_challenge, q.code_challenge_method)
    except InvalidRequest as exc:
        return _redirect(redirect_uri, {**error, "error": "invalid_request", "error_description": exc.description})
    match_code = f"{secrets.randbelow(10_000):04d}"
    created = await create_transaction(
        bridge.svc, await bridge.rp(),
        CreateTransaction(dcql_query=_query(client.login, client.params), response_mode="direct_post.jwt"),
        client_name=client.name, match_code=match_code)
    session = secrets.token_urlsafe(24)
    browser = secrets.token_urlsafe(32)
    ttl = rt.settings.verifier.transaction_ttl
    await bridge.put("session", session, {
        "client_id": client.id, "redirect_uri": redirect_uri, "state": state, "nonce": q.nonce,
        "code_challenge": challenge, "tx_id": created.transaction_id, "browser_sha256": _sha(browser)}, ttl)
    cont = f"{op_issuer(rt)}/continue?session={session}"
    cookies = [_browser_cookie(rt, session, browser, ttl)]
    if want_json:
        out = LoginPage(authorization_request=created.authorization_request, qr_svg=created.qr_svg,
                        continue_uri=cont, expires_at=created.expires_at, client_name=client.name,
                        match_code=match_code)
        return Response(out, headers=NO_STORE, cookies=cookies)
    # the QR code is our own SVG (eidcore.qr), the only value marked safe; the client's name is escaped
    doc = render_page(PAGES, "bridge_login.html", lang="nb", title=f"Logg inn hos {client.name}",
                      qr_svg=created.qr_svg, client_name=client.name, match_code=match_code,
                      authorization_request=created.authorization_request, continue_uri=cont)
    return Response(doc, media_type="text/html", headers=NO_STORE, cookies=cookies)


async def continue_login(bridge: Bridge, session: str, browser_secret: str | None) -> Response[Any]:
    """After the presentation: the redirect to the client (``code``, ``state``, ``iss``; RFC 9207) or an
    ``access_denied`` error; 202 :class:`LoginWaiting` while the wallet has not answered. Only the browser that
    started the login (its cookie's secret) gets here (OpenID4VP 1.0 §14.2)."""
    rt = bridge.rt
    session = session[:64]
    data = await bridge.get("session", session)
    if data is None:
        raise NotFound("the login session is unknown or expired")
    expected = data.get("browser_sha256")
    if not browser_secret or not isinstance(expected, str) or not secret_matches(_sha(browser_secret), expected):
        raise AccessDenied("this login was started in another browser: continue it there")
    tx = await bridge.svc.get_for_rp(await bridge.rp(), data["tx_id"])
    if tx.status in ("pending", "responded"):
        # a refused response leaves the login open (the real wallet may still answer); say what was refused
        waiting = LoginWaiting(status=tx.status)  # type: ignore[arg-type]  # a TransactionStatus in the table
        if tx.refused_count:
            waiting.refused_attempts = [a.get("check") for a in tx.refused or []]
        return Response(waiting, status_code=202, headers={**NO_STORE, "Retry-After": "1"})
    if await bridge.consume("session", session) is None:
        raise NotFound("the login session is unknown or expired")
    base: dict[str, str] = {"iss": op_issuer(rt)}
    if data.get("state"):
        base["state"] = data["state"]
    if tx.status != "validated" or tx.result is None:
        reason = tx.failed_check or tx.status
        return _redirect(data["redirect_uri"], {**base, "error": "access_denied",
                                                "error_description": f"the presentation failed ({reason})"})
    client = await bridge.client(data["client_id"])
    try:
        claims = _claims(rt, client, tx.result)
    except AccessDenied as exc:
        return _redirect(data["redirect_uri"], {**base, "error": "access_denied",
                                                "error_description": exc.description})
    code = secrets.token_urlsafe(32)
    await bridge.put("code", code, {**data, "claims": claims, "auth_time": tx.finished_at or bridge.svc.now()},
                     CODE_TTL)
    # the session is spent: the browser forgets its cookie
    return _redirect(data["redirect_uri"], {**base, "code": code}, [_browser_cookie(rt, session, "", 0)])


async def token(bridge: Bridge, form: OidcTokenForm, authorization: str) -> OidcTokenResponse:
    """Token endpoint (OIDC Core §3.1.3): the code (single use), ``redirect_uri``, PKCE ``code_verifier``."""
    rt = bridge.rt
    if form.grant_type != "authorization_code":
        raise UnsupportedGrantType("only authorization_code is supported")
    code = form.code or ""
    data = await bridge.consume("code", code) if code else None
    cid = form.client_id
    if not cid and authorization.lower().startswith("basic "):
        try:
            cid = base64.b64decode(authorization[6:].strip()).decode().partition(":")[0]
        except ValueError:
            raise InvalidClient("malformed Basic credentials") from None
    client = await bridge.client(cid)
    _client_auth(client, authorization, form)
    if data is None or data["client_id"] != client.id:
        raise InvalidGrant("the code is not valid (or was already used)")
    if form.redirect_uri != data["redirect_uri"]:
        raise InvalidGrant("redirect_uri does not match the authorization request")
    pkce.verify(form.code_verifier, data["code_challenge"])
    now = bridge.svc.now()
    claims = dict(data["claims"])
    id_claims: dict[str, Any] = {**claims, "iss": op_issuer(rt), "aud": client.id, "iat": now,
                                 "exp": now + TOKEN_TTL, "auth_time": data["auth_time"]}
    if data.get("nonce"):
        id_claims["nonce"] = data["nonce"]
    id_token = jose.sign_jwt(id_claims, id_token_key(rt), typ="JWT")
    access = secrets.token_urlsafe(32)
    await bridge.put("at", access, claims, TOKEN_TTL)
    return OidcTokenResponse(access_token=access, token_type="Bearer", expires_in=TOKEN_TTL, id_token=id_token,  # noqa: S106
                             scope="openid")


async def userinfo(bridge: Bridge, authorization: str) -> UserInfo:
    """UserInfo endpoint (OIDC Core §5.3): the login's claims for a bearer access token (RFC 6750 §2.1)."""
    data = await bridge.get("at", authorization[7:].strip()) if authorization.lower().startswith("bearer ") else None
    if data is None:
        raise InvalidToken("a valid access token is required",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
    return UserInfo.model_validate(data)


async def register(bridge: Bridge, body: CreateOidcClient) -> OidcClientCreated:
    """Register an OIDC client of the bridge; a confidential one gets its secret in the answer, once."""
    name, uris, login = body.name, body.redirect_uris, body.login
    if not all(urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc and not urlsplit(u).fragment
               for u in uris):
        raise InvalidRequest("redirect_uris must be absolute http(s) URLs without fragment")
    out = OidcClientCreated(client_id="", name=name, redirect_uris=list(uris), login=login)
    params: dict[str, Any] = {}
    if body.orgnr is not None:
        if login != "employee":
            raise InvalidRequest("orgnr is for employee logins")
        params["orgnr"] = out.orgnr = parse_orgnr(body.orgnr).digits
    if body.require_any is not None:
        if login != "employee" or not all(body.require_any):
            raise InvalidRequest("require_any must be a list of role codes / access packages (employee logins)")
        params["require_any"] = out.require_any = list(body.require_any)
    cid = body.client_id or f"oidc-{secrets.token_hex(6)}"
    secret = secrets.token_urlsafe(32) if body.confidential else None
    async with bridge.rt.db.session() as s:
        if await s.get(OidcClient, cid) is not None:
            raise InvalidRequest("client_id is taken")
        s.add(OidcClient(id=cid, name=name, redirect_uris=list(uris), login=login, params=params,
                         secret_sha256=_sha(secret) if secret else None, created_at=bridge.svc.now()))
        await s.commit()
    out.client_id = cid
    if secret:
        out.client_secret = secret
    return out
