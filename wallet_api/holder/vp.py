"""The wallet side of OpenID for Verifiable Presentations 1.0 (final): from an ``openid4vp://`` URI to the response.

1. :func:`parse_authorization_uri`: the ``openid4vp://`` (or ``haip-vp://``) URI with ``client_id`` and
   ``request_uri`` (RFC 9101 §5.2), and ``request_uri_method`` (§5.10);
2. :func:`fetch_request`: the request object by reference, with ``GET`` or with ``POST`` and a fresh
   ``wallet_nonce`` (§5.10.1), then :func:`verify_request_object`: ``typ`` ``oauth-authz-req+jwt`` (§5), the client
   id prefix (§5.9.3): ``x509_san_dns`` (signed with the ``x5c`` leaf, chain to the wallet's trust anchors, the DNS
   name a dNSName SAN of the leaf and the host of the ``response_uri``), ``x509_hash`` (the b64u SHA-256 of the
   leaf certificate), ``redirect_uri`` (unsigned; the ``response_uri`` equals the client id's URI); the inner
   ``client_id`` equals the outer one; ``response_uri`` (no ``redirect_uri``) for ``direct_post(.jwt)``;
3. :func:`build_vp_token`: DCQL matching (:func:`eidcore.dcql.match_credentials`) over the held credentials, then
   per match an SD-JWT VC presentation with a KB-JWT (``aud`` = the full client id, ``nonce``; §B.3.6; none when the
   Credential Query sets ``require_cryptographic_holder_binding`` to false, §6.1) or an mdoc
   DeviceResponse whose deviceSignature covers the OpenID4VP SessionTranscript (§B.2.6.1);
4. :func:`send_response` / :func:`send_error`: ``direct_post`` form, or ``direct_post.jwt`` with the response
   encrypted (ECDH-ES, ``enc`` from ``encrypted_response_enc_values_supported``) to the verifier's key from
   ``client_metadata.jwks`` (§8.3); wallet error responses (§8.5) go unencrypted.

A request may name the service (``client_metadata.client_name``) and carry a ``match_code`` (the Lommebok
OpenID Connect bridge's cross-device logins, OpenID4VP 1.0 §14.2): :func:`present` answers it only after the user
confirmed (:func:`confirmed`: a callback and/or the code the user read on the login page).

:func:`present` runs the whole flow. Failures raise :mod:`eidcore.errors` classes (``InvalidRequest``,
``InvalidRequestUriMethod``, ``InvalidHeader``, ``InvalidSignature``, ``UntrustedIssuer``, ``AccessDenied``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from eidcore import jose
from eidcore.claims import validate_times
from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.dcql import HeldCredential, MatchResult, match_credentials, parse_dcql_query
from eidcore.dcql.models import DcqlQuery
from eidcore.encoding import b64u_encode
from eidcore.errors import (
    AccessDenied,
    FormatError,
    InvalidHeader,
    InvalidRequest,
    InvalidRequestUriMethod,
    LommebokError,
    ParsingError,
    UntrustedIssuer,
)
from eidcore.formats import mdoc
from eidcore.formats.sd_jwt import KeyBinding, SdJwtHolder
from eidcore.trust.x509 import validate_chain

__all__ = [
    "AuthorizationRequest",
    "Confirm",
    "HeldMdoc",
    "HeldSdJwtVc",
    "ResponseResult",
    "build_vp_token",
    "confirmed",
    "fetch_request",
    "parse_authorization_uri",
    "present",
    "send_error",
    "send_response",
    "verify_request_object",
]

JAR_TYP = "oauth-authz-req+jwt"
SCHEMES = ("openid4vp", "haip-vp", "eudi-openid4vp", "mdoc-openid4vp")
RESPONSE_MODES = ("direct_post", "direct_post.jwt")
SIGNED_PREFIXES = ("x509_san_dns", "x509_hash")


@dataclass(frozen=True)
class HeldSdJwtVc:
    """An issued SD-JWT VC (``jwt~d1~...~``) and the holder's private key its ``cnf.jwk`` names."""

    credential: str
    key: jose.SigningKey


@dataclass(frozen=True)
class HeldMdoc:
    """An issued mdoc (OpenID4VCI ``mso_mdoc``: b64u IssuerSigned) and its device private key."""

    credential: str
    device_key: ec.EllipticCurvePrivateKey


Held = HeldSdJwtVc | HeldMdoc


@dataclass(frozen=True)
class AuthorizationRequest:
    """A verified OpenID4VP Authorization Request (request object claims, OpenID4VP 1.0 §5.1)."""

    client_id: str
    client_id_prefix: str
    response_mode: str
    response_uri: str
    nonce: str
    state: str | None
    dcql_query: DcqlQuery
    client_metadata: dict[str, Any]
    claims: dict[str, Any] = field(repr=False)
    verifier_certificate: x509.Certificate | None = field(default=None, repr=False)

    def encryption_key(self) -> tuple[dict[str, Any], str]:
        """The verifier's response encryption JWK and ``enc`` (OpenID4VP 1.0 §8.3; HAIP: ECDH-ES P-256)."""
        jwks = self.client_metadata.get("jwks")
        keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(keys, list):
            raise InvalidRequest("direct_post.jwt needs client_metadata.jwks")
        usable = [k for k in keys if isinstance(k, Mapping) and k.get("use", "enc") == "enc"
                  and k.get("alg", "ECDH-ES") == "ECDH-ES" and k.get("kty") == "EC" and k.get("crv") == "P-256"]
        if not usable:
            raise InvalidRequest("client_metadata.jwks has no ECDH-ES P-256 encryption key")
        encs = self.client_metadata.get("encrypted_response_enc_values_supported", ["A128GCM"])
        if not isinstance(encs, list):
            raise InvalidRequest("encrypted_response_enc_values_supported must be an array")
        enc = next((e for e in ("A128GCM", "A256GCM") if e in encs), None)
        if enc is None:
            raise InvalidRequest("no supported content encryption in encrypted_response_enc_values_supported")
        return dict(usable[0]), enc

    @property
    def client_name(self) -> str | None:
        """The service's name (``client_metadata.client_name``, RFC 7591 §2), to show the user."""
        name = self.client_metadata.get("client_name")
        return name[:200] if isinstance(name, str) and name else None

    @property
    def match_code(self) -> str | None:
        """The short code a cross-device login page shows (request parameter ``match_code``; OpenID4VP 1.0 §14.2):
        the user compares it with the page before sharing."""
        code = self.claims.get("match_code")
        return code if isinstance(code, str) and 0 < len(code) <= 16 and code.isascii() and code.isalnum() else None

    def jwk_thumbprint(self) -> bytes | None:
        """The SHA-256 thumbprint of the key the response is encrypted to (``None`` for ``direct_post``)."""
        if self.response_mode != "direct_post.jwt":
            return None
        return mdoc.jwk_thumbprint_sha256(self.encryption_key()[0])


@dataclass(frozen=True)
class ResponseResult:
    """The verifier's answer at the ``response_uri``: status, JSON body, and ``redirect_uri`` when given."""

    status_code: int
    body: dict[str, Any]
    redirect_uri: str | None


def parse_authorization_uri(uri: str) -> dict[str, str]:
    """The query parameters of an ``openid4vp://`` URI (RFC 9101 §5.2: ``client_id``, ``request_uri``, ...)."""
    parts = urlsplit(uri)
    if parts.scheme not in SCHEMES and parts.scheme != "https":
        raise InvalidRequest("not an OpenID4VP authorization request URI")
    params: dict[str, str] = {}
    for k, v in parse_qs(parts.query, keep_blank_values=True).items():
        if len(v) != 1:
            raise InvalidRequest(f"parameter {k[:40]!r} is repeated")
        params[k] = v[0]
    if "client_id" not in params:
        raise InvalidRequest("client_id is missing")
    if "request_uri" not in params and "request" not in params:
        raise InvalidRequest("request_uri is missing (this wallet takes requests by reference)")
    method = params.get("request_uri_method", "get")
    if method not in ("get", "post"):
        raise InvalidRequestUriMethod("request_uri_method must be get or post")
    return params


async def fetch_request(http: httpx.AsyncClient, uri: str, *, trust_anchors: Sequence[x509.Certificate],
                        clock: Clock = SYSTEM_CLOCK,
                        wallet_metadata: Mapping[str, Any] | None = None) -> AuthorizationRequest:
    """Fetch the request object named by ``uri`` (§5.10) and verify it (:func:`verify_request_object`)."""
    params = parse_authorization_uri(uri)
    if "request" in params:
        return verify_request_object(params["request"], client_id=params["client_id"], trust_anchors=trust_anchors,
                                     clock=clock)
    request_uri = params["request_uri"]
    if urlsplit(request_uri).scheme not in ("https", "http"):
        raise InvalidRequest("request_uri must be an http(s) URL")
    wallet_nonce = None
    accept = {"Accept": f"application/{JAR_TYP}"}
    try:
        if params.get("request_uri_method", "get") == "post":
            wallet_nonce = secrets.token_urlsafe(24)
            form = {"wallet_nonce": wallet_nonce,
                    "wallet_metadata": json.dumps(dict(wallet_metadata or _wallet_metadata()))}
            resp = await http.post(request_uri, data=form, headers=accept)
        else:
            resp = await http.get(request_uri, headers=accept)
    except httpx.HTTPError as exc:
        raise InvalidRequest("the request object could not be fetched") from exc
    if resp.status_code != 200:
        raise InvalidRequest(f"the request_uri answered {resp.status_code}")
    return verify_request_object(resp.text.strip(), client_id=params["client_id"], trust_anchors=trust_anchors,
                                 clock=clock, wallet_nonce=wallet_nonce)


def _wallet_metadata() -> dict[str, Any]:
    """Wallet metadata (OpenID4VP 1.0 §10): what this wallet supports."""
    return {
        "vp_formats_supported": {
            "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]},
            "mso_mdoc": {"issuerauth_alg_values": [-7], "deviceauth_alg_values": [-7]},
        },
        "client_id_prefixes_supported": ["x509_san_dns", "x509_hash", "redirect_uri"],
        "request_object_signing_alg_values_supported": ["ES256"],
    }


def _dns_names(cert: x509.Certificate) -> list[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return [str(n) for n in san.get_values_for_type(x509.DNSName)]


def verify_request_object(jwt: str, *, client_id: str, trust_anchors: Sequence[x509.Certificate],
                          clock: Clock = SYSTEM_CLOCK, wallet_nonce: str | None = None) -> AuthorizationRequest:
    """Verify a request object (RFC 9101 §6; OpenID4VP 1.0 §5, §5.9.3) for the outer ``client_id``."""
    prefix, sep, rest = client_id.partition(":")
    if not sep or prefix not in (*SIGNED_PREFIXES, "redirect_uri"):
        raise InvalidRequest("the client_id prefix is not supported by this wallet")
    jws = jose.parse_jws(jwt) if jwt.count(".") == 2 and not jwt.endswith(".") else None
    cert: x509.Certificate | None = None
    if prefix == "redirect_uri":
        header_b64, payload_b64, sig = ([*jwt.split("."), "", "", ""])[:3]
        if jwt.count(".") != 2 or sig:
            raise InvalidRequest("a redirect_uri client's request object must be unsigned")
        header = jose.parse_json_object(jose.b64url_decode(header_b64, what="JAR header"), what="JAR header")
        if header.get("alg") != "none":
            raise InvalidRequest("a redirect_uri client's request object must use alg none")
        _check_typ(header)
        claims = jose.parse_json_object(jose.b64url_decode(payload_b64, what="JAR payload"), what="JAR")
    else:
        if jws is None:
            raise InvalidRequest("the request object must be a signed JWT for this client_id prefix")
        _check_typ(jws.header)
        if "x5c" not in jws.header:
            raise InvalidHeader("the request object has no x5c header")
        chain = jose.x5c_certificates(jws.header)
        anchor_ders = {a.public_bytes(Encoding.DER) for a in trust_anchors}
        if any(c.public_bytes(Encoding.DER) in anchor_ders for c in chain):
            raise InvalidHeader("the x5c chain must not include the trust anchor")
        cert = validate_chain(chain, trust_anchors, at=clock.now(), purpose="verifier_access")
        key = cert.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise UntrustedIssuer("the verifier certificate key is not an EC key")
        verified = jose.verify_jwt(jws, key, jose.JwsPolicy(typ=JAR_TYP))
        claims = verified.claims
        if prefix == "x509_san_dns":
            if rest not in _dns_names(cert):
                raise UntrustedIssuer("the client_id DNS name is not a dNSName SAN of the verifier certificate")
        else:
            if b64u_encode(hashlib.sha256(cert.public_bytes(Encoding.DER)).digest()) != rest:
                raise UntrustedIssuer("the client_id x509_hash does not match the verifier certificate")
    try:  # RFC 9101 §10.2 / RFC 7519 §4.1.4 through the one time validator (exp and nbf where present)
        validate_times(claims, now=clock.timestamp(), require=(), what="the request object")
    except FormatError as exc:
        raise InvalidRequest(exc.description) from exc
    return _request_from_claims(claims, client_id, prefix, rest, cert, wallet_nonce)


def _check_typ(header: Mapping[str, Any]) -> None:
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != JAR_TYP:
        raise InvalidHeader(f"the request object typ must be {JAR_TYP}")


def _request_from_claims(claims: dict[str, Any], client_id: str, prefix: str, rest: str,
                         cert: x509.Certificate | None, wallet_nonce: str | None) -> AuthorizationRequest:
    if claims.get("client_id") != client_id:
        raise InvalidRequest("the request object's client_id differs from the outer client_id")
    if claims.get("response_type") != "vp_token":
        raise InvalidRequest("response_type must be vp_token")
    mode = claims.get("response_mode")
    if mode not in RESPONSE_MODES:
        raise InvalidRequest("this wallet answers direct_post and direct_post.jwt only")
    response_uri = claims.get("response_uri")
    if not isinstance(response_uri, str) or urlsplit(response_uri).scheme not in ("https", "http"):
        raise InvalidRequest("response_uri is required for direct_post")
    if "redirect_uri" in claims:
        raise InvalidRequest("redirect_uri must not be present with response_uri")
    if prefix == "x509_san_dns" and urlsplit(response_uri).hostname != rest:
        raise InvalidRequest("the response_uri host differs from the client_id DNS name")
    if prefix == "redirect_uri" and response_uri != rest:
        raise InvalidRequest("the response_uri differs from the redirect_uri client_id")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise InvalidRequest("nonce is required")
    state = claims.get("state")
    if state is not None and not isinstance(state, str):
        raise InvalidRequest("state must be a string")
    if wallet_nonce is not None and claims.get("wallet_nonce") != wallet_nonce:
        raise InvalidRequest("the request object does not carry the wallet_nonce sent")
    if "dcql_query" not in claims:
        raise InvalidRequest("dcql_query is required (this wallet supports no scope aliases)")
    if "transaction_data" in claims:
        raise InvalidRequest("transaction_data is not supported by this wallet")
    query = parse_dcql_query(claims["dcql_query"])
    meta = claims.get("client_metadata", {})
    if not isinstance(meta, dict):
        raise InvalidRequest("client_metadata must be an object")
    return AuthorizationRequest(client_id, prefix, str(mode), response_uri, nonce, state, query, meta, claims, cert)


def _held_view(held: Sequence[Held]) -> list[HeldCredential]:
    views = []
    for i, h in enumerate(held):
        if isinstance(h, HeldSdJwtVc):
            loaded = SdJwtHolder().load(h.credential)
            vct = loaded.claims.get("vct")
            views.append(HeldCredential.sd_jwt_vc(str(vct), loaded.claims, ref=i))
        else:
            issued = mdoc.IssuerSigned.from_b64u(h.credential)
            namespaces = {ns: {it.element_identifier: it.element_value for it in items}
                          for ns, items in issued.items().items()}
            views.append(HeldCredential.mdoc(issued.mso.doc_type, namespaces, ref=i))
    return views


def build_vp_token(request: AuthorizationRequest, held: Sequence[Held], *,
                   clock: Clock = SYSTEM_CLOCK) -> dict[str, list[str]]:
    """Match the DCQL query (§6.4) and build one presentation per selected credential (§8.1).

    Raises :class:`AccessDenied` when the required part of the query cannot be met.
    """
    result = match_credentials(request.dcql_query, _held_view(held))
    if not isinstance(result, MatchResult):
        raise AccessDenied(result.reason)
    transcript = mdoc.openid4vp_session_transcript(request.client_id, request.nonce, request.response_uri,
                                                   request.jwk_thumbprint())
    holder = SdJwtHolder(clock=clock)
    token: dict[str, list[str]] = {}
    for qid, matches in result.selected.items():
        out = []
        bind = request.dcql_query.credential(qid).require_cryptographic_holder_binding
        for m in matches:
            h = held[m.candidate]
            if isinstance(h, HeldSdJwtVc):
                # §6.1: without require_cryptographic_holder_binding the wallet sends no KB-JWT (SD-JWT ends in ~)
                kb = KeyBinding(key=h.key, audience=request.client_id, nonce=request.nonce) if bind else None
                pres = holder.present(h.credential, disclose=list(m.disclose), key_binding=kb)
                assert isinstance(pres, str)
                out.append(pres)
            else:
                disclose: dict[str, list[str]] = {}
                for path in m.disclose:
                    disclose.setdefault(str(path[0]), []).append(str(path[1]))
                out.append(mdoc.present(h.credential, h.device_key, transcript, disclose=disclose))
        token[qid] = out
    return token


def response_parameters(request: AuthorizationRequest, vp_token: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The Authorization Response parameters (§8.1): ``vp_token`` and ``state``."""
    params: dict[str, Any] = {"vp_token": {k: list(v) for k, v in vp_token.items()}}
    if request.state is not None:
        params["state"] = request.state
    return params


def encrypt_response(request: AuthorizationRequest, params: Mapping[str, Any]) -> str:
    """The ``direct_post.jwt`` JWE (§8.3): the parameters as a JSON object, ECDH-ES to the verifier's key."""
    jwk, enc = request.encryption_key()
    kid = jwk.get("kid") if isinstance(jwk.get("kid"), str) else None
    return jose.encrypt_jwe(jose.json_dumps(dict(params)), jwk, alg="ECDH-ES", enc=enc, kid=kid)


async def post_form(http: httpx.AsyncClient, url: str, form: Mapping[str, str]) -> ResponseResult:
    """POST a form to the ``response_uri`` (redirects are not followed, §8.2) and read the JSON answer."""
    try:
        resp = await http.post(url, data=dict(form), follow_redirects=False)
    except httpx.HTTPError as exc:
        raise InvalidRequest("the response_uri could not be reached") from exc
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    redirect = body.get("redirect_uri") if isinstance(body.get("redirect_uri"), str) else None
    return ResponseResult(resp.status_code, body, redirect)


async def send_response(http: httpx.AsyncClient, request: AuthorizationRequest,
                        vp_token: Mapping[str, Sequence[str]]) -> ResponseResult:
    """Send the response with ``direct_post`` (form ``vp_token`` as JSON, ``state``) or ``direct_post.jwt``."""
    params = response_parameters(request, vp_token)
    if request.response_mode == "direct_post.jwt":
        return await post_form(http, request.response_uri, {"response": encrypt_response(request, params)})
    form = {"vp_token": json.dumps(params["vp_token"], separators=(",", ":"))}
    if "state" in params:
        form["state"] = params["state"]
    return await post_form(http, request.response_uri, form)


async def send_error(http: httpx.AsyncClient, request: AuthorizationRequest, error: str,
                     description: str | None = None) -> ResponseResult:
    """A wallet error response (§8.5, e.g. ``access_denied``), unencrypted, with ``state``."""
    form = {"error": error}
    if description:
        form["error_description"] = description
    if request.state is not None:
        form["state"] = request.state
    return await post_form(http, request.response_uri, form)


Confirm = Callable[[AuthorizationRequest], bool | Awaitable[bool]]
"""Shows the user who asks (:attr:`AuthorizationRequest.client_name`, the client id) and the
:attr:`AuthorizationRequest.match_code`, and returns whether the user confirms."""


async def confirmed(request: AuthorizationRequest, *, confirm: Confirm | None = None,
                    expected_code: str | None = None) -> bool:
    """The user's confirmation of a request that carries a ``match_code`` (OpenID4VP 1.0 §14.2, cross-device flows:
    the code on the page the user started from must be the one the wallet shows): ``expected_code`` (what the user
    typed from the page) must equal it, and ``confirm`` (when given) must say yes. Deny by default: a request with a
    code is not confirmed without either. A request without a code needs no confirmation here."""
    if request.match_code is None:
        return True
    if expected_code is None and confirm is None:
        return False
    if expected_code is not None and not secrets.compare_digest(expected_code.encode(), request.match_code.encode()):
        return False
    if confirm is not None:
        answer = confirm(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return bool(answer)
    return True


async def present(http: httpx.AsyncClient, uri: str, held: Sequence[Held], *,
                  trust_anchors: Sequence[x509.Certificate], clock: Clock = SYSTEM_CLOCK,
                  confirm: Confirm | None = None, expected_code: str | None = None) -> ResponseResult:
    """The whole flow: fetch and verify the request, match, present, respond; ``access_denied`` when nothing
    matches (the error is sent to the verifier, then raised).

    A request with a ``match_code`` (a cross-device login) is answered only when :func:`confirmed` (``confirm``
    callback and/or ``expected_code``); otherwise the wallet sends ``access_denied`` and raises
    :class:`AccessDenied`."""
    request = await fetch_request(http, uri, trust_anchors=trust_anchors, clock=clock)
    if not await confirmed(request, confirm=confirm, expected_code=expected_code):
        await send_error(http, request, "access_denied", "the user did not confirm the matching code")
        raise AccessDenied("the request's matching code was not confirmed")
    try:
        vp_token = build_vp_token(request, held, clock=clock)
    except AccessDenied as exc:
        await send_error(http, request, "access_denied", "no matching credentials")
        raise exc from None
    except (LommebokError, ParsingError):
        raise
    return await send_response(http, request, vp_token)
