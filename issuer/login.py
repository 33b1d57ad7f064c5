"""User login at the issuer's authorization server (RFC 6749 §4.1.1-§4.1.2, OpenID4VCI 1.0 §5): a pluggable
identity provider authenticates the user between the authorization endpoint and the redirect with the code.

- :class:`TestLogin` (embedded default): a server-rendered page listing the synthetic persons of the population
  register (search by name or number), where the tester also picks the level of assurance.
- :class:`IdPorten`: OpenID Connect 1.0 authorization code flow with PKCE (RFC 7636) against ID-porten:
  discovery (OpenID Connect Discovery 1.0 §4), token exchange (OIDC Core §3.1.3), ID token validation
  (§3.1.3.7: ``iss``, ``aud``, ``exp``, ``iat``, ``nonce``, signature by a key from ``jwks_uri``), ``acr``
  ``idporten-loa-high`` / ``-substantial`` mapped to a level of assurance, ``pid`` claim = the national
  identity number looked up in the population register.

The level reached is recorded with the authorization and limits what can be issued: :func:`finish_login` ends
the authorization (RFC 6749 §4.1.2) with a redirect carrying ``code`` and ``iss`` (RFC 9207), or ``error``
``access_denied`` when the level is too low or the offer was made for another person.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol
from urllib.parse import urlencode

import httpx
from litestar import Controller, MediaType, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect

from eidcore import jose
from eidcore.claims import validate_times
from eidcore.clock import Clock
from eidcore.errors import AccessDenied, FormatError, InvalidRequest, LommebokError, NotFound
from eidcore.identity import LevelOfAssurance, acr_values_at_least, loa_from_acr
from eidcore.oauth import pkce
from eidcore.pages import page_environment, render_page
from eidcore.registers import Person
from issuer.core import Issuer, IssuerDep
from issuer.http import body_dto, redirect_with, spec
from issuer.oauth import minimum_loa
from issuer.options import IdPortenOptions
from issuer.schemas import LoginForm, OAuthError

__all__ = ["ADULT_AGE", "CHILD_NOTE", "Authenticated", "IdPorten", "IdentityProvider", "LoginController",
           "TestLogin", "alone_level", "finish_login", "identity_provider", "login_page"]

ADULT_AGE = 18
"""Below this age (from the register's birth date, on the injected clock's date) a person cannot reach level of
assurance high by themselves (issue 7): a child's PID is issued only as a guardian authorises it."""
CHILD_NOTE = "under 18: cannot reach level high alone (a guardian authorises a child's PID)"

#: ID-porten signs ID tokens with RS256 (its discovery document lists the algorithms)
ID_TOKEN_POLICY = jose.JwsPolicy(
    algorithms=frozenset({"RS256", "PS256", "ES256", "ES384", "ES512"}), max_bytes=32 * 1024
)


@dataclass(frozen=True)
class Authenticated:
    """The outcome of a login: who, at which level of assurance, by which method."""

    person_id: str
    loa: LevelOfAssurance
    method: str


class IdentityProvider(Protocol):
    """Where the authorization endpoint sends the user to log in."""

    name: str

    async def begin(self, session_id: str, session: dict[str, Any], minimum: LevelOfAssurance) -> str:
        """The URL to redirect the browser to; may add what the provider needs later to ``session``."""
        ...


class TestLogin:
    """The built-in test login page (dev only: no real authentication)."""

    name = "test"

    def __init__(self, issuer: IssuerDep) -> None:
        self.issuer = issuer

    async def begin(self, session_id: str, session: dict[str, Any], minimum: LevelOfAssurance) -> str:
        return self.issuer.url("/login?" + urlencode({"session": session_id}))


class IdPorten:
    """ID-porten (or any OpenID Connect provider) as the identity provider."""

    name = "idporten"

    def __init__(self, issuer: IssuerDep, options: IdPortenOptions, http: httpx.AsyncClient | None = None) -> None:
        self.issuer = issuer
        self.options = options
        self._http = http
        self._discovery: dict[str, Any] | None = None

    @property
    def http(self) -> httpx.AsyncClient:
        return self._http or self.issuer.rt.http

    @property
    def redirect_uri(self) -> str:
        return self.issuer.url("/login/idporten/callback")

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            r = await self.http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise AccessDenied("the identity provider is unreachable") from exc
        if r.status_code != 200:
            raise AccessDenied("the identity provider answered with an error")
        return jose.parse_json_object(r.content, what="identity provider document")

    async def discovery(self) -> dict[str, Any]:
        """OpenID Connect Discovery 1.0 §4 (cached); ``issuer`` must equal the configured issuer (§4.3)."""
        if self._discovery is None:
            doc = await self._get_json(self.options.issuer.rstrip("/") + "/.well-known/openid-configuration")
            if doc.get("issuer") != self.options.issuer:
                raise AccessDenied("the identity provider's discovery document names another issuer")
            for k in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(doc.get(k), str):
                    raise AccessDenied(f"the identity provider's discovery document lacks {k}")
            self._discovery = doc
        return self._discovery

    async def begin(self, session_id: str, session: dict[str, Any], minimum: LevelOfAssurance) -> str:
        doc = await self.discovery()
        verifier = pkce.make_verifier()
        nonce = secrets.token_urlsafe(24)
        session["idp"] = {"verifier": verifier, "nonce": nonce}
        params = {
            "response_type": "code", "client_id": self.options.client_id, "redirect_uri": self.redirect_uri,
            "scope": self.options.scope, "state": session_id, "nonce": nonce,
            "code_challenge": pkce.s256_challenge(verifier), "code_challenge_method": "S256",
            "acr_values": " ".join(acr_values_at_least(max(minimum, LevelOfAssurance.SUBSTANTIAL))),
            "ui_locales": "nb",
        }
        return str(doc["authorization_endpoint"]) + "?" + urlencode(params)

    async def complete(self, code: str, session: dict[str, Any]) -> Authenticated:
        """Exchange the code and validate the ID token (OIDC Core §3.1.3.5-§3.1.3.7)."""
        doc = await self.discovery()
        idp = session.get("idp") or {}
        try:
            r = await self.http.post(str(doc["token_endpoint"]), data={
                "grant_type": "authorization_code", "code": code, "redirect_uri": self.redirect_uri,
                "code_verifier": idp.get("verifier", ""), "client_id": self.options.client_id,
                "client_secret": self.options.client_secret,
            }, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise AccessDenied("the identity provider is unreachable") from exc
        if r.status_code != 200:
            raise AccessDenied("the identity provider refused the code")
        body = jose.parse_json_object(r.content, what="token response")
        id_token = body.get("id_token")
        if not isinstance(id_token, str):
            raise AccessDenied("the identity provider returned no ID token")
        claims = await self.verify_id_token(id_token, nonce=str(idp.get("nonce", "")))
        pid = claims.get("pid")
        if not isinstance(pid, str):
            raise AccessDenied("the ID token has no pid claim")
        try:
            loa = loa_from_acr(str(claims.get("acr", "")))
            person = await self.issuer.population().find_by_identifier(pid)
        except LommebokError as exc:
            raise AccessDenied(f"login not usable: {exc.description}") from exc
        return Authenticated(person.person_id, loa, "idporten")

    async def verify_id_token(self, token: str, *, nonce: str) -> dict[str, Any]:
        doc = await self.discovery()
        try:
            unverified = jose.parse_jws(token, max_bytes=ID_TOKEN_POLICY.max_bytes)
            keys = (await self._get_json(str(doc["jwks_uri"]))).get("keys")
            if not isinstance(keys, list):
                raise AccessDenied("the identity provider's JWKS has no keys")
            kid = unverified.header.get("kid")
            candidates = [k for k in keys if isinstance(k, dict) and (kid is None or k.get("kid") == kid)]
            verified = None
            for k in candidates:
                try:
                    verified = jose.verify_jwt(unverified, k, ID_TOKEN_POLICY)
                    break
                except FormatError:
                    continue
            if verified is None:
                raise AccessDenied("the ID token signature does not verify with the provider's keys")
        except FormatError as exc:
            raise AccessDenied(f"the ID token is invalid: {exc.description}") from exc
        c = verified.claims
        now = self.issuer.timestamp()
        skew = self.issuer.options.clock_skew
        aud = c.get("aud")
        if c.get("iss") != self.options.issuer:
            raise AccessDenied("the ID token's iss is not the identity provider")
        if aud != self.options.client_id and not (isinstance(aud, list) and self.options.client_id in aud):
            raise AccessDenied("the ID token is not for this client")
        try:  # OIDC Core §3.1.3.7 items 9-10, through the one time validator
            validate_times(c, now=now, leeway=skew, require=("iat", "exp"), integers=True, what="the ID token")
        except FormatError as exc:
            raise AccessDenied(exc.description) from exc
        if not nonce or c.get("nonce") != nonce:
            raise AccessDenied("the ID token's nonce does not match")
        return c


def identity_provider(issuer: Issuer) -> TestLogin | IdPorten:
    """ID-porten when configured, else the test login."""
    if issuer.options.idporten is not None:
        return IdPorten(issuer, issuer.options.idporten)
    if issuer.rt.settings.environment == "production":
        raise InvalidRequest("no identity provider is configured")
    return TestLogin(issuer)


#: the issuer's pages (eidcore.pages: autoescaping Jinja2 on the shared layout)
PAGES = page_environment(Path(__file__).parent / "templates")


def alone_level(person: Person, loa: LevelOfAssurance, clock: Clock) -> LevelOfAssurance:
    """The level a person reaches logging in by themselves at the test login: a person under
    :data:`ADULT_AGE` (age from the register on the clock's date) reaches at most substantial."""
    if loa > LevelOfAssurance.SUBSTANTIAL and person.age(clock) < ADULT_AGE:
        return LevelOfAssurance.SUBSTANTIAL
    return loa


def login_page(issuer: Issuer, session_id: str, query: str, persons: list[Person], requested: list[str]) -> str:
    """The test login page (a template with autoescaping, no external assets); a child's row says why level high
    is out of reach."""
    rows = [{"name": p.full_name, "child": p.age(issuer.rt.clock) < ADULT_AGE, "born": p.birth_date.isoformat(),
             "number": p.national_id or "(no Norwegian number)", "alias": p.alias or "", "id": p.person_id}
            for p in persons]
    return render_page(PAGES, "test_login.html", lang="nb", title="Test login (synthetic persons)",
                       requested=requested, action=issuer.url("/login"), session=session_id, query=query,
                       persons=rows, child_note=CHILD_NOTE)


def parse_loa(value: str | None) -> LevelOfAssurance:
    try:
        return LevelOfAssurance(value or "")
    except ValueError:
        raise InvalidRequest("loa must be low, substantial or high") from None


async def finish_login(issuer: Issuer, session_id: str, who: Authenticated) -> Redirect:
    """Complete the authorization: the level reached decides (RFC 6749 §4.1.2, RFC 9207 ``iss``)."""
    session = await issuer.consume("login", session_id)
    if session is None:
        raise InvalidRequest("the login session is unknown, expired or already used")
    data = session["par"]
    out = {"iss": issuer.issuer_id}
    if data.get("state") is not None:
        out["state"] = data["state"]
    needed = minimum_loa(issuer, data["configs"])
    offer = data.get("offer") or {}
    if who.loa < needed:
        out.update(error="access_denied",
                   error_description=f"the requested credentials need level of assurance {needed.value}")
        return redirect_with(data["redirect_uri"], out)
    if offer.get("person_id") and offer["person_id"] != who.person_id:
        out.update(error="access_denied", error_description="the offer was made for another person")
        return redirect_with(data["redirect_uri"], out)
    code = secrets.token_urlsafe(32)
    await issuer.put("code", code, {**data, "person_id": who.person_id, "loa": who.loa.value,
                                    "method": who.method}, issuer.options.authorization_code_ttl)
    out["code"] = code
    return redirect_with(data["redirect_uri"], out)


def _test_login_enabled(issuer: Issuer) -> None:
    if issuer.options.idporten is not None or issuer.rt.settings.environment == "production":
        raise NotFound("the test login is not enabled")


class LoginController(Controller):
    """The login step of the authorization (the test login in dev, or ID-porten's redirect back)."""

    path = "/login"
    tags = ("authorization server",)

    @get(operation_id="testLoginPage", media_type=MediaType.HTML,
         responses={404: spec(OAuthError, "The test login is not enabled")})
    async def page(self, issuer: IssuerDep, session: Annotated[str, QueryParameter(max_length=200)],
                   q: Annotated[str, QueryParameter(max_length=1000)] = "") -> str:
        """The built-in test login (dev): synthetic persons, searchable, with a chosen level of assurance."""
        _test_login_enabled(issuer)
        data = await issuer.get("login", session)
        if data is None:
            raise InvalidRequest("the login session is unknown or expired")
        pop = issuer.population()
        q = q[:100]
        persons = await pop.search(q, limit=50) if q.strip() else await pop.list_persons(limit=50)
        return login_page(issuer, session, q, persons, list(data["par"]["configs"]))

    @post(operation_id="testLoginSubmit", status_code=302, dto=body_dto(LoginForm, "form"), return_dto=None,
          responses={302: spec(None, "Back to the client with code and iss (or error)"),
                     400: spec(OAuthError, "invalid_request"),
                     404: spec(OAuthError, "The test login is not enabled")})
    async def submit(self, issuer: IssuerDep,
                     data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Redirect:
        """Complete the test login: the chosen person at the chosen level of assurance."""
        _test_login_enabled(issuer)
        loa = parse_loa(data.loa)
        person = await issuer.population().get_person(data.person_id[:64])
        loa = alone_level(person, loa, issuer.rt.clock)  # a child cannot reach level high alone (issue 7)
        return await finish_login(issuer, data.session, Authenticated(person.person_id, loa, "test"))

    @get("/idporten/callback", operation_id="idportenCallback",
         responses={302: spec(None, "Back to the client with code and iss (or error)"),
                    400: spec(OAuthError, "invalid_request")})
    async def idporten_callback(self, issuer: IssuerDep,
                                oidc_state: Annotated[str | None, QueryParameter(name="state", max_length=200)] = None,
                                code: Annotated[str | None, QueryParameter(max_length=2048)] = None,
                                error: Annotated[str | None, QueryParameter(max_length=200)] = None) -> Redirect:
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
            return redirect_with(par_data["redirect_uri"], out)
        who = await idp.complete(code, data)
        return await finish_login(issuer, state, who)
