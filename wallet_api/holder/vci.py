"""The wallet side of OpenID for Verifiable Credential Issuance 1.0 (final).

1. :func:`resolve_offer`: an ``openid-credential-offer://`` (or ``haip-vci://``) URI with ``credential_offer`` by
   value or ``credential_offer_uri`` by reference (§4.1), or the offer JSON itself;
2. :func:`fetch_metadata`: Credential Issuer Metadata (§12.2.2: the well-known segment goes between host and
   path; ``credential_issuer`` must equal the identifier) and the authorization server's RFC 8414 metadata;
3. :class:`VciClient`: the pre-authorized code flow with ``tx_code`` (§6.1), the authorization code flow with PAR
   (RFC 9126), PKCE S256 (RFC 7636), DPoP (RFC 9449, with server nonce retries) and a wallet attestation
   (attestation-based client auth, OpenID4VCI Appendix E), the nonce endpoint (§7), credential requests with one
   or more ``jwt`` proofs (Appendix F.1, optionally carrying a key attestation, Appendix D) or one ``attestation``
   proof (Appendix F.3: the key attestation itself, its ``nonce`` the c_nonce), request and response
   encryption (§10), deferred polling (§9), refresh (RFC 6749 §6) and notification (§11).

Errors from the issuer raise the matching :mod:`eidcore.errors` class (``InvalidGrant``, ``InvalidProof``,
``InvalidNonce``, ...), with the server's description.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from pydantic import ValidationError

from eidcore import errors, jose, openid4vci
from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.oauth import client_attestation, dpop, pkce

__all__ = [
    "PRE_AUTH_GRANT",
    "AuthorizationRequest",
    "CredentialOffer",
    "CredentialResponse",
    "IssuerMetadata",
    "TokenResponse",
    "VciClient",
    "WalletAttestation",
    "fetch_metadata",
    "make_proof",
    "resolve_offer",
]

PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
_OFFER_SCHEMES = ("openid-credential-offer", "haip-vci")

_ERRORS: dict[str, type[errors.LommebokError]] = {
    cls.code: cls
    for cls in (
        errors.InvalidRequest, errors.InvalidClient, errors.InvalidGrant, errors.UnauthorizedClient,
        errors.UnsupportedGrantType, errors.InvalidScope, errors.InvalidToken, errors.InsufficientScope,
        errors.AccessDenied, errors.InvalidDPoPProof, errors.UseDPoPNonce, errors.InvalidCredentialRequest,
        errors.UnknownCredentialConfiguration, errors.UnknownCredentialIdentifier, errors.InvalidProof,
        errors.InvalidNonce, errors.InvalidEncryptionParameters, errors.CredentialRequestDenied,
        errors.InvalidTransactionId, errors.InvalidNotificationId, errors.InvalidNotificationRequest,
        errors.NotFound, errors.RateLimited,
        client_attestation.InvalidClientAttestation, client_attestation.UseAttestationChallenge,
    )
}


def _first_error(exc: ValidationError) -> str:
    """Where a message failed its model (the path, never the value)."""
    errors_ = exc.errors()
    return ".".join(str(p) for p in errors_[0]["loc"]) if errors_ and errors_[0]["loc"] else "the message"


def raise_for_error(r: httpx.Response) -> None:
    """Raise the :mod:`eidcore.errors` class named by an OAuth-style error response."""
    if r.status_code < 400:
        return
    try:
        body = r.json()
    except ValueError:
        body = {}
    code = body.get("error") if isinstance(body, dict) else None
    desc = body.get("error_description") if isinstance(body, dict) else None
    cls = _ERRORS.get(str(code), errors.ProtocolError)
    raise cls(str(desc or code or f"HTTP {r.status_code}"), status=r.status_code, headers=dict(r.headers))


# --------------------------------------------------------------------------------------------------
# offer and metadata
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialOffer:
    """A Credential Offer (§4.1.1)."""

    credential_issuer: str
    credential_configuration_ids: tuple[str, ...]
    grants: dict[str, Any] = field(default_factory=dict)

    @property
    def pre_authorized_code(self) -> str | None:
        g = self.grants.get(PRE_AUTH_GRANT)
        code = g.get("pre-authorized_code") if isinstance(g, dict) else None
        return code if isinstance(code, str) else None

    @property
    def tx_code(self) -> dict[str, Any] | None:
        """The ``tx_code`` object when a transaction code is required (present, even as ``{}``)."""
        g = self.grants.get(PRE_AUTH_GRANT)
        tx = g.get("tx_code") if isinstance(g, dict) else None
        return dict(tx) if isinstance(tx, dict) else None

    @property
    def issuer_state(self) -> str | None:
        g = self.grants.get("authorization_code")
        st = g.get("issuer_state") if isinstance(g, dict) else None
        return st if isinstance(st, str) else None

    @classmethod
    def parse(cls, obj: Any) -> CredentialOffer:
        """Read an offer through the shared message model (:class:`eidcore.openid4vci.CredentialOffer`), then the
        rules the model cannot say (an http(s) issuer, unique configuration ids)."""
        if not isinstance(obj, dict):
            raise errors.InvalidRequest("a credential offer is a JSON object")
        try:
            openid4vci.CredentialOffer.model_validate(obj)
        except ValidationError as exc:
            raise errors.InvalidRequest(f"the credential offer is malformed ({_first_error(exc)})") from None
        iss, ids, grants = obj.get("credential_issuer"), obj.get("credential_configuration_ids"), obj.get("grants")
        if not isinstance(iss, str) or not iss.startswith(("https://", "http://")):
            raise errors.InvalidRequest("credential_issuer must be an https URL")
        if (not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids)
                or len(set(ids)) != len(ids)):
            raise errors.InvalidRequest("credential_configuration_ids must be a non-empty list of unique strings")
        if grants is not None and not isinstance(grants, dict):
            raise errors.InvalidRequest("grants must be an object")
        return cls(iss, tuple(ids), dict(grants or {}))


async def resolve_offer(http: httpx.AsyncClient, offer: str) -> CredentialOffer:
    """§4.1: the offer from a URI (``credential_offer`` by value or ``credential_offer_uri``) or from JSON text."""
    text = offer.strip()
    if text.startswith("{"):
        return CredentialOffer.parse(json.loads(text))
    parts = urlsplit(text)
    if parts.scheme not in (*_OFFER_SCHEMES, "https", "http"):
        raise errors.InvalidRequest("not a credential offer URI")
    q = parse_qs(parts.query)
    by_value, by_ref = q.get("credential_offer"), q.get("credential_offer_uri")
    if bool(by_value) == bool(by_ref):
        raise errors.InvalidRequest("an offer URI needs exactly one of credential_offer, credential_offer_uri")
    if by_value:
        try:
            return CredentialOffer.parse(json.loads(by_value[0]))
        except ValueError as exc:
            raise errors.InvalidRequest("credential_offer is not JSON") from exc
    r = await http.get(by_ref[0] if by_ref else "", headers={"Accept": "application/json"})
    raise_for_error(r)
    return CredentialOffer.parse(r.json())


def _well_known(identifier: str, segment: str) -> str:
    parts = urlsplit(identifier)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/{segment}{path}"


@dataclass(frozen=True)
class IssuerMetadata:
    """The Credential Issuer Metadata and the authorization server's metadata."""

    credential_issuer: dict[str, Any]
    authorization_server: dict[str, Any]

    @property
    def issuer_id(self) -> str:
        return str(self.credential_issuer["credential_issuer"])

    @property
    def as_issuer(self) -> str:
        return str(self.authorization_server["issuer"])

    def endpoint(self, name: str) -> str:
        value = self.credential_issuer.get(name) or self.authorization_server.get(name)
        if not isinstance(value, str):
            raise errors.InvalidRequest(f"the issuer has no {name}")
        return value


async def fetch_metadata(http: httpx.AsyncClient, credential_issuer: str, *, locale: str | None = None
                         ) -> IssuerMetadata:
    """§12.2.2 and RFC 8414 §3: fetch and check both metadata documents."""
    headers = {"Accept": "application/json", **({"Accept-Language": locale} if locale else {})}
    r = await http.get(_well_known(credential_issuer, "openid-credential-issuer"), headers=headers)
    raise_for_error(r)
    ci = r.json()
    if not isinstance(ci, dict) or ci.get("credential_issuer") != credential_issuer:
        raise errors.InvalidRequest("the metadata's credential_issuer differs from the issuer identifier")
    servers = ci.get("authorization_servers")
    as_id = servers[0] if isinstance(servers, list) and servers else credential_issuer
    r = await http.get(_well_known(as_id, "oauth-authorization-server"), headers={"Accept": "application/json"})
    raise_for_error(r)
    asm = r.json()
    if not isinstance(asm, dict) or asm.get("issuer") != as_id:
        raise errors.InvalidRequest("the authorization server metadata names another issuer")
    return IssuerMetadata(ci, asm)


# --------------------------------------------------------------------------------------------------
# the client
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WalletAttestation:
    """A wallet attestation from the wallet provider and the instance key it names in ``cnf``."""

    attestation: str
    instance_key: jose.SigningKey
    client_id: str = "lommebok-wallet"


@dataclass(frozen=True)
class AuthorizationRequest:
    """What the wallet keeps between PAR and the token request."""

    authorize_url: str
    request_uri: str
    code_verifier: str
    state: str
    redirect_uri: str
    client_id: str


@dataclass
class TokenResponse:
    access_token: str
    token_type: str
    expires_in: int | None = None
    refresh_token: str | None = None
    authorization_details: list[dict[str, Any]] = field(default_factory=list)

    def identifiers(self, configuration_id: str) -> list[str]:
        """The ``credential_identifiers`` the token response named for a configuration."""
        out: list[str] = []
        for d in self.authorization_details:
            if d.get("credential_configuration_id") == configuration_id:
                out.extend(d.get("credential_identifiers") or [])
        return out


@dataclass
class CredentialResponse:
    credentials: list[str] = field(default_factory=list)
    notification_id: str | None = None
    transaction_id: str | None = None
    interval: int | None = None


def make_proof(key: jose.SigningKey, *, audience: str, nonce: str | None, clock: Clock = SYSTEM_CLOCK,
               client_id: str | None = None, key_attestation: str | None = None) -> str:
    """A ``jwt`` key proof (Appendix F.1): ``typ`` openid4vci-proof+jwt, ``jwk`` header, ``aud``, ``iat``, ``nonce``."""
    claims: dict[str, Any] = {"aud": audience, "iat": int(clock.timestamp())}
    if nonce is not None:
        claims["nonce"] = nonce
    if client_id is not None:
        claims["iss"] = client_id
    header = {"key_attestation": key_attestation} if key_attestation else None
    return jose.sign_jwt(claims, key, typ=PROOF_TYP, include_kid=False, include_jwk=True, header=header)


def _same_redirect_target(location: str, redirect_uri: str) -> bool:
    """True when ``location`` (the authorization response) is ``redirect_uri`` with response parameters added."""
    got, want = urlsplit(location), urlsplit(redirect_uri)
    try:
        return (got.scheme, got.netloc, got.path) == (want.scheme, want.netloc, want.path) and not got.fragment
    except ValueError:
        return False


class VciClient:
    """One wallet's conversation with one issuer."""

    def __init__(self, http: httpx.AsyncClient, metadata: IssuerMetadata, *, clock: Clock = SYSTEM_CLOCK,
                 dpop_key: jose.SigningKey | None = None, attestation: WalletAttestation | None = None) -> None:
        self.http = http
        self.metadata = metadata
        self.clock = clock
        self.dpop_key = dpop_key
        self.attestation = attestation
        self._dpop_nonce: str | None = None
        self._challenge: str | None = None

    # -- transport ----------------------------------------------------------------------------------

    def _client_auth_headers(self) -> dict[str, str]:
        if self.attestation is None:
            return {}
        pop = client_attestation.make_pop(self.attestation.instance_key, audience=self.metadata.as_issuer,
                                          clock=self.clock, challenge=self._challenge)
        self._challenge = None
        return {client_attestation.ATTESTATION_HEADER: self.attestation.attestation,
                client_attestation.POP_HEADER: pop}

    async def _send(self, method: str, url: str, *, access_token: str | None = None, token_type: str = "Bearer",  # noqa: S107
                    client_auth: bool = False, **kwargs: Any) -> httpx.Response:
        for _ in range(4):
            headers: dict[str, str] = dict(kwargs.pop("headers", {}) or {})
            base_headers = dict(headers)
            if client_auth:
                headers.update(self._client_auth_headers())
            if self.dpop_key is not None and (access_token is None or token_type.lower() == "dpop"):
                headers["DPoP"] = dpop.make_proof(self.dpop_key, htm=method, htu=url, clock=self.clock,
                                                  access_token=access_token, nonce=self._dpop_nonce)
            if access_token is not None:
                headers["Authorization"] = f"{token_type} {access_token}"
            r = await self.http.request(method, url, headers=headers, **kwargs)
            if r.headers.get("dpop-nonce"):
                self._dpop_nonce = r.headers["dpop-nonce"]
            retry = False
            if r.status_code in (400, 401):
                try:
                    err = r.json().get("error")
                except (ValueError, AttributeError):
                    err = None
                if err == "use_dpop_nonce" and r.headers.get("dpop-nonce"):
                    retry = True
                elif err == "use_attestation_challenge":
                    fresh = r.headers.get("oauth-client-attestation-challenge")
                    self._challenge = fresh or await self._fetch_challenge()
                    retry = True
            if not retry:
                return r
            kwargs["headers"] = base_headers
        return r

    async def _fetch_challenge(self) -> str:
        r = await self.http.post(self.metadata.endpoint("challenge_endpoint"))
        raise_for_error(r)
        return str(r.json()["attestation_challenge"])

    def _token(self, r: httpx.Response) -> TokenResponse:
        raise_for_error(r)
        b = r.json()
        return TokenResponse(b["access_token"], b.get("token_type", "Bearer"), b.get("expires_in"),
                             b.get("refresh_token"), list(b.get("authorization_details") or []))

    # -- token --------------------------------------------------------------------------------------

    async def token_pre_authorized(self, code: str, tx_code: str | None = None, *,
                                   authorization_details: Sequence[Mapping[str, Any]] | None = None
                                   ) -> TokenResponse:
        """§6.1: the pre-authorized code grant (with ``tx_code`` when the offer asked for one)."""
        data = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": code}
        if tx_code is not None:
            data["tx_code"] = tx_code
        if authorization_details:
            data["authorization_details"] = json.dumps(list(authorization_details))
        if self.attestation is not None:
            data["client_id"] = self.attestation.client_id
        r = await self._send("POST", self.metadata.endpoint("token_endpoint"), data=data,
                             client_auth=self.attestation is not None)
        return self._token(r)

    async def push_authorization(self, *, redirect_uri: str, scope: str | None = None,
                                 authorization_details: Sequence[Mapping[str, Any]] | None = None,
                                 issuer_state: str | None = None, client_id: str | None = None
                                 ) -> AuthorizationRequest:
        """RFC 9126 §2 with PKCE S256; returns the authorization URL to open in the browser."""
        cid = client_id or (self.attestation.client_id if self.attestation else None)
        if not cid:
            raise errors.InvalidRequest("a client_id is required")
        verifier = pkce.make_verifier()
        state = secrets.token_urlsafe(16)
        data = {"response_type": "code", "client_id": cid, "redirect_uri": redirect_uri,
                "code_challenge": pkce.s256_challenge(verifier), "code_challenge_method": "S256", "state": state}
        if scope:
            data["scope"] = scope
        if authorization_details:
            data["authorization_details"] = json.dumps(list(authorization_details))
        if issuer_state:
            data["issuer_state"] = issuer_state
        r = await self._send("POST", self.metadata.endpoint("pushed_authorization_request_endpoint"), data=data,
                             client_auth=True)
        raise_for_error(r)
        request_uri = r.json()["request_uri"]
        url = self.metadata.endpoint("authorization_endpoint") + "?" + urlencode(
            {"client_id": cid, "request_uri": request_uri})
        return AuthorizationRequest(url, request_uri, verifier, state, redirect_uri, cid)

    def authorization_code(self, redirect_location: str, auth: AuthorizationRequest) -> str:
        """Check the authorization response (RFC 6749 §4.1.2, RFC 9207 ``iss``) and return the code.

        The response must arrive at the redirect URI this flow sent in its PAR (scheme, host, port and path): a
        response sent anywhere else is refused.
        """
        if not _same_redirect_target(redirect_location, auth.redirect_uri):
            raise errors.InvalidRequest("the authorization response did not come to this flow's redirect_uri")
        q = {k: v[0] for k, v in parse_qs(urlsplit(redirect_location).query).items()}
        if q.get("iss") != self.metadata.as_issuer:
            raise errors.InvalidRequest("the authorization response's iss is not the authorization server")
        if q.get("state") != auth.state:
            raise errors.InvalidRequest("the authorization response's state does not match")
        if "error" in q:
            cls = _ERRORS.get(q["error"], errors.ProtocolError)
            raise cls(q.get("error_description", q["error"]))
        code = q.get("code")
        if not code:
            raise errors.InvalidRequest("the authorization response has no code")
        return code

    async def token_authorization_code(self, code: str, auth: AuthorizationRequest) -> TokenResponse:
        """RFC 6749 §4.1.3 with the PKCE verifier, DPoP and client authentication."""
        data = {"grant_type": "authorization_code", "code": code, "redirect_uri": auth.redirect_uri,
                "code_verifier": auth.code_verifier, "client_id": auth.client_id}
        r = await self._send("POST", self.metadata.endpoint("token_endpoint"), data=data, client_auth=True)
        return self._token(r)

    async def refresh(self, token: TokenResponse) -> TokenResponse:
        """RFC 6749 §6 (the server rotates the refresh token)."""
        if not token.refresh_token:
            raise errors.InvalidRequest("no refresh token")
        data = {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
        if self.attestation is not None:
            data["client_id"] = self.attestation.client_id
        r = await self._send("POST", self.metadata.endpoint("token_endpoint"), data=data,
                             client_auth=self.attestation is not None)
        return self._token(r)

    # -- credential ---------------------------------------------------------------------------------

    async def nonce(self) -> str:
        """§7: a fresh c_nonce."""
        r = await self.http.post(self.metadata.endpoint("nonce_endpoint"))
        raise_for_error(r)
        if r.headers.get("dpop-nonce"):
            self._dpop_nonce = r.headers["dpop-nonce"]
        try:
            return openid4vci.NonceResponse.model_validate(r.json()).c_nonce
        except (ValidationError, ValueError) as exc:
            raise errors.ParsingError("the nonce response is malformed") from exc

    def proof(self, key: jose.SigningKey, nonce: str, *, key_attestation: str | None = None) -> str:
        client_id = self.attestation.client_id if self.attestation else None
        return make_proof(key, audience=self.metadata.issuer_id, nonce=nonce, clock=self.clock,
                          client_id=client_id, key_attestation=key_attestation)

    async def _resource(self, url: str, token: TokenResponse, body: dict[str, Any], encrypt: bool
                        ) -> tuple[httpx.Response, dict[str, Any] | None]:
        response_key: jose.SigningKey | None = None
        if encrypt:
            req_enc = self.metadata.credential_issuer.get("credential_request_encryption") or {}
            keys = (req_enc.get("jwks") or {}).get("keys") or []
            encs = req_enc.get("enc_values_supported") or ["A128GCM"]
            if not keys:
                raise errors.InvalidEncryptionParameters("the issuer publishes no request encryption key")
            response_key = jose.generate_signing_key()
            jwk = {**jose.public_jwk(response_key.public_key), "alg": "ECDH-ES", "use": "enc"}
            body = {**body, "credential_response_encryption": {"jwk": jwk, "enc": encs[0]}}
            content = jose.encrypt_jwe(jose.json_dumps(body), keys[0], alg="ECDH-ES", enc=encs[0])
            r = await self._send("POST", url, access_token=token.access_token, token_type=token.token_type,
                                 content=content.encode("ascii"), headers={"Content-Type": "application/jwt"})
        else:
            r = await self._send("POST", url, access_token=token.access_token, token_type=token.token_type,
                                 json=body)
        raise_for_error(r)
        if response_key is not None and r.status_code != 204:
            if r.headers.get("content-type", "").split(";")[0] != "application/jwt":
                raise errors.InvalidEncryptionParameters("the issuer answered unencrypted")
            plain = jose.decrypt_jwe(r.text, response_key).plaintext
            return r, jose.parse_json_object(plain, what="credential response")
        return r, (r.json() if r.status_code != 204 else None)

    @staticmethod
    def _credential_response(b: dict[str, Any] | None) -> CredentialResponse:
        """§8.3 through the shared message model (:class:`eidcore.openid4vci.CredentialResponse`)."""
        try:
            m = openid4vci.CredentialResponse.model_validate(b or {})
        except ValidationError as exc:
            raise errors.ParsingError(f"the credential response is malformed ({_first_error(exc)})") from None
        return CredentialResponse([c.credential for c in m.credentials or []], m.notification_id, m.transaction_id,
                                  m.interval)

    async def request_credential(self, token: TokenResponse, *, proofs: Sequence[str] = (),
                                 credential_configuration_id: str | None = None,
                                 credential_identifier: str | None = None, encrypt: bool = False,
                                 key_attestation: str | None = None) -> CredentialResponse:
        """§8: one credential per proof (batch); deferred answers carry ``transaction_id`` and ``interval``.

        With ``key_attestation`` (and no ``proofs``) the request uses the ``attestation`` proof type (Appendix
        F.3): the key attestation, whose ``nonce`` is the c_nonce, is the one proof, and the issuer binds one
        credential to each attested key.
        """
        if key_attestation is not None:
            if proofs:
                raise ValueError("send jwt proofs or a key attestation proof, not both")
            body: dict[str, Any] = {"proofs": {"attestation": [key_attestation]}}
        elif proofs:
            body = {"proofs": {"jwt": list(proofs)}}
        else:
            raise ValueError("a credential request needs jwt proofs or a key attestation")
        if credential_identifier is not None:
            body["credential_identifier"] = credential_identifier
        elif credential_configuration_id is not None:
            ids = token.identifiers(credential_configuration_id)
            if ids:
                body["credential_identifier"] = ids[0]
            else:
                body["credential_configuration_id"] = credential_configuration_id
        _, b = await self._resource(self.metadata.endpoint("credential_endpoint"), token, body, encrypt)
        return self._credential_response(b)

    async def deferred(self, token: TokenResponse, transaction_id: str, *, encrypt: bool = False
                       ) -> CredentialResponse:
        """§9: poll the deferred credential endpoint."""
        _, b = await self._resource(self.metadata.endpoint("deferred_credential_endpoint"), token,
                                    {"transaction_id": transaction_id}, encrypt)
        return self._credential_response(b)

    async def wait_for_deferred(self, token: TokenResponse, pending: CredentialResponse, *, max_polls: int = 60,
                                sleep: Callable[[float], Awaitable[object]] = asyncio.sleep, encrypt: bool = False
                                ) -> CredentialResponse:
        """§9: poll until the credentials arrive, waiting ``interval`` seconds between polls."""
        current = pending
        for _ in range(max_polls):
            if current.transaction_id is None:
                return current
            await sleep(float(current.interval or 5))
            current = await self.deferred(token, current.transaction_id, encrypt=encrypt)
        raise errors.RateLimited("the deferred credential did not arrive in time")

    async def notify(self, token: TokenResponse, notification_id: str, event: str,
                     description: str | None = None) -> None:
        """§11: tell the issuer the credential was accepted, failed or deleted."""
        body: dict[str, Any] = {"notification_id": notification_id, "event": event}
        if description:
            body["event_description"] = description
        r = await self._send("POST", self.metadata.endpoint("notification_endpoint"),
                             access_token=token.access_token, token_type=token.token_type, json=body)
        raise_for_error(r)
