"""The issuer's authorization server (OpenID4VCI 1.0 §5, §6 on OAuth 2.0, RFC 6749).

- PAR (RFC 9126) is required: the authorization endpoint only takes a ``request_uri`` (single use);
- clients are registered, deny by default (:mod:`issuer.clients`): a PAR's ``redirect_uri`` must equal one
  registered for the client (RFC 9700 §2.1; a loopback URI with any port, RFC 8252 §7.3), or, with a wallet
  attestation, one registered for the wallet provider that signed it;
- PKCE ``S256`` (RFC 7636) is required; the authorization response carries ``iss`` (RFC 9207);
- ``scope`` and ``authorization_details`` of type ``openid_credential`` (RFC 9396, OpenID4VCI 1.0 §5.1.1);
- the token endpoint takes ``authorization_code``, the pre-authorized code (+ ``tx_code`` with an attempt limit
  after which the code is dead, OpenID4VCI 1.0 §6.1) and ``refresh_token`` (rotated on every use; a rotated token
  that comes back revokes its whole family and the family's access tokens, RFC 9700 §4.14.2);
- access tokens are self-contained and opaque (AES-256-GCM under a deployment key, with their expiry), so the
  credential endpoint checks one without a store round trip;
- a wallet attestation's ``status`` is checked against the wallet provider's status list (revoked or suspended
  instances are refused);
- DPoP (RFC 9449) with server nonces and ``jti`` replay protection;
- attestation-based client authentication (draft-ietf-oauth-attestation-based-client-auth, OpenID4VCI 1.0
  Appendix E) with a challenge endpoint, PoP ``jti`` replay protection, and a setting that makes it required.

Every single-use value is taken with the store's atomic consume (see :mod:`issuer.core`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from litestar import Request
from litestar.response import Redirect, Response

from eidcore.errors import (
    InvalidClient,
    InvalidDPoPProof,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    InvalidToken,
    UnsupportedGrantType,
    UseDPoPNonce,
    UseDPoPNonceAtResource,
)
from eidcore.identity import LevelOfAssurance
from eidcore.oauth import client_attestation, dpop, pkce
from eidcore.settings import WalletProviderRegistration
from issuer.core import PRE_AUTH_GRANT, Issuer
from issuer.login import Authenticated
from issuer.wallet_status import check_wallet_status

__all__ = [
    "ClientAuth",
    "Grant",
    "authenticate_client",
    "authorize_resource",
    "check_dpop",
    "finish_login",
    "form_params",
]

NO_STORE = {"Cache-Control": "no-store"}
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


async def form_params(request: Request[Any, Any, Any], *, max_fields: int = 40) -> dict[str, str]:
    """Parse an ``application/x-www-form-urlencoded`` body (RFC 6749 §3.2: no parameter twice)."""
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise InvalidRequest("the body must be application/x-www-form-urlencoded")
    body = await request.body()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=max_fields)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidRequest("the form body is malformed") from exc
    out: dict[str, str] = {}
    for k, v in pairs:
        if k in out:
            raise InvalidRequest(f"parameter {k} is given more than once")
        out[k] = v
    return out


def _param(params: dict[str, str], name: str, *, max_len: int = 2048) -> str:
    value = params.get(name)
    if not value:
        raise InvalidRequest(f"{name} is required")
    if len(value) > max_len:
        raise InvalidRequest(f"{name} is too long")
    return value


# --------------------------------------------------------------------------------------------------
# client authentication and DPoP
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientAuth:
    """Who the client is: its client_id and, when it authenticated with a wallet attestation, the instance key and
    the registered wallet provider that signed the attestation."""

    client_id: str | None
    instance_jkt: str | None = None
    wallet_provider: WalletProviderRegistration | None = None


async def new_attestation_challenge(issuer: Issuer) -> str:
    challenge = secrets.token_urlsafe(24)
    await issuer.put("att-challenge", challenge, {}, issuer.options.attestation_challenge_ttl)
    return challenge


async def authenticate_client(issuer: Issuer, request: Request[Any, Any, Any], client_id: str | None, *,
                              required: bool) -> ClientAuth:
    """Attestation-based client authentication (draft §5.2 checks, PoP ``jti`` single use, challenge).

    The attestation's signer must be a registered wallet provider for the attested ``client_id``
    (:meth:`issuer.clients.ClientRegistry.attested_provider`), checked before any single-use value is spent.
    """
    att_values = request.headers.getall(client_attestation.ATTESTATION_HEADER, [])
    pop_values = request.headers.getall(client_attestation.POP_HEADER, [])
    if not att_values and not pop_values:
        if required:
            raise InvalidClient("client authentication with a wallet attestation is required")
        return ClientAuth(client_id)
    if len(att_values) > 1 or len(pop_values) > 1:
        raise client_attestation.InvalidClientAttestation("exactly one attestation and one PoP header are allowed")
    if issuer.rt.keys is None:  # pragma: no cover - keys load at start
        raise InvalidClient("no trust anchors are loaded")
    opts = issuer.options
    v = client_attestation.verify(
        att_values[0] if att_values else None, pop_values[0] if pop_values else None,
        audience=issuer.issuer_id, trust_anchors=issuer.rt.keys.trust_anchors, clock=issuer.rt.clock,
        client_id=client_id, max_pop_age=opts.proof_max_age, max_skew=opts.clock_skew,
    )
    provider = issuer.clients.attested_provider(v.provider, v.client_id)
    if not await issuer.first_use("att-jti", f"{v.instance_jkt}:{v.pop_jti}", opts.proof_max_age + 2 * opts.clock_skew):
        raise client_attestation.InvalidClientAttestation("the attestation PoP was used before (jti replay)")
    if v.status is not None:
        await check_wallet_status(issuer, v.status)
    if v.challenge is not None:
        if await issuer.consume("att-challenge", v.challenge) is None:
            raise client_attestation.InvalidClientAttestation("the attestation challenge is unknown or used")
    elif opts.attestation_challenge_required:
        fresh = await new_attestation_challenge(issuer)
        raise client_attestation.UseAttestationChallenge(
            "a fresh attestation challenge is required", headers={"OAuth-Client-Attestation-Challenge": fresh})
    return ClientAuth(v.client_id, v.instance_jkt, provider)


async def check_dpop(issuer: Issuer, request: Request[Any, Any, Any], *, htu: str,
                     access_token: str | None = None, resource: bool = False) -> dpop.DPoPProof | None:
    """Verify the request's DPoP proof (RFC 9449 §4.3), its server nonce (§8, §9) and ``jti`` single use."""
    values = request.headers.getall("dpop", [])
    if not values:
        return None
    if len(values) > 1:
        raise InvalidDPoPProof("exactly one DPoP header is allowed")
    opts = issuer.options
    proof = dpop.verify_proof(values[0], htm=request.method, htu=htu, clock=issuer.rt.clock,
                              access_token=access_token, max_age=opts.proof_max_age, max_skew=opts.clock_skew)
    if opts.dpop_nonce_required and not await issuer.dpop_nonce_valid(proof.nonce):
        nonce = await issuer.dpop_nonce()
        if resource:
            raise UseDPoPNonceAtResource("a fresh DPoP nonce is required", headers={
                "DPoP-Nonce": nonce, "WWW-Authenticate": 'DPoP error="use_dpop_nonce", algs="ES256"'})
        raise UseDPoPNonce("a fresh DPoP nonce is required", headers={"DPoP-Nonce": nonce})
    if not await issuer.first_use("dpop-jti", f"{proof.jkt}:{proof.jti}", opts.proof_max_age + 2 * opts.clock_skew):
        raise InvalidDPoPProof("the DPoP proof was used before (jti replay)")
    return proof


def _www_authenticate(error: str) -> dict[str, str]:
    return {"WWW-Authenticate": f'DPoP error="{error}", algs="ES256", Bearer error="{error}"'}


async def authorize_resource(issuer: Issuer, request: Request[Any, Any, Any], path: str) -> tuple[str, dict[str, Any]]:
    """Check the access token (RFC 6750 §2.1 Bearer or RFC 9449 §7 DPoP) for a resource request."""
    header = request.headers.get("authorization")
    if not header:
        raise InvalidToken("an access token is required", headers=_www_authenticate("invalid_token"))
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if not token or len(token) > 4096:
        raise InvalidToken("the access token is malformed", headers=_www_authenticate("invalid_token"))
    state = await issuer.decrypt("access_token", token)
    if state is None:
        raise InvalidToken("the access token is unknown or expired", headers=_www_authenticate("invalid_token"))
    if state.get("family") and await family_revoked(issuer, state["family"]):
        raise InvalidToken("the grant of this access token was revoked", headers=_www_authenticate("invalid_token"))
    jkt = state.get("jkt")
    if jkt:
        if scheme.lower() != "dpop":
            raise InvalidToken("this access token is DPoP-bound: use the DPoP scheme",
                               headers=_www_authenticate("invalid_token"))
        proof = await check_dpop(issuer, request, htu=issuer.url(path), access_token=token, resource=True)
        if proof is None:
            raise InvalidDPoPProof("a DPoP proof is required with a DPoP-bound access token")
        if proof.jkt != jkt:
            raise InvalidDPoPProof("the DPoP proof is signed by another key than the token is bound to")
    elif scheme.lower() != "bearer":
        raise InvalidToken("use the Bearer scheme", headers=_www_authenticate("invalid_token"))
    return token, state


# --------------------------------------------------------------------------------------------------
# requested credentials
# --------------------------------------------------------------------------------------------------


def requested_configurations(issuer: Issuer, scope: str | None, details: str | None) -> tuple[list[str], bool]:
    """The configuration ids asked for by ``scope`` and/or ``authorization_details`` (and whether details were used)."""
    wanted: list[str] = []
    if scope:
        for s in scope.split():
            if issuer.configuration(s) is None:
                raise InvalidScope(f"unknown scope {s[:60]!r}")
            if s not in wanted:
                wanted.append(s)
    used_details = False
    if details:
        try:
            items = json.loads(details)
        except ValueError as exc:
            raise InvalidRequest("authorization_details is not JSON") from exc
        if not isinstance(items, list) or not items or len(items) > 20:
            raise InvalidRequest("authorization_details must be a non-empty JSON array")
        for item in items:
            if not isinstance(item, dict) or item.get("type") != "openid_credential":
                raise InvalidRequest("authorization_details entries must have type openid_credential")
            cid = item.get("credential_configuration_id")
            if not isinstance(cid, str) or issuer.configuration(cid) is None:
                raise InvalidRequest("authorization_details names an unknown credential_configuration_id")
            locations = item.get("locations")
            if locations is not None and (not isinstance(locations, list) or issuer.issuer_id not in locations):
                raise InvalidRequest("authorization_details locations must name this credential issuer")
            if cid not in wanted:
                wanted.append(cid)
        used_details = True
    if not wanted:
        raise InvalidRequest("scope or authorization_details is required")
    return wanted, used_details


def minimum_loa(issuer: Issuer, configs: list[str]) -> LevelOfAssurance:
    levels = [c.required_loa for cid in configs if (c := issuer.configuration(cid)) is not None]
    return max(levels) if levels else LevelOfAssurance.LOW


# --------------------------------------------------------------------------------------------------
# endpoints
# --------------------------------------------------------------------------------------------------


async def par(issuer: Issuer, request: Request[Any, Any, Any]) -> Response[Any]:
    """RFC 9126 §2: the pushed authorization request; answers 201 with a single-use ``request_uri``.

    The client must be registered and the ``redirect_uri`` one registered for it (:mod:`issuer.clients`); a
    refused request stores nothing and is never redirected (RFC 6749 §4.1.2.1).
    """
    params = await form_params(request)
    if "request_uri" in params or "request" in params:
        raise InvalidRequest("request_uri and request are not allowed in a pushed authorization request")
    client_id = _param(params, "client_id", max_len=200)
    proof = await check_dpop(issuer, request, htu=issuer.url("/par"))
    auth = await authenticate_client(issuer, request, client_id,
                                     required=issuer.rt.settings.issuer.require_wallet_attestation)
    if params.get("response_type") != "code":
        raise InvalidRequest("response_type must be code")
    # RFC 9700 §2.1: only a registered redirect URI, compared exactly; an attested instance gets its wallet
    # provider's, never one of its own choosing
    redirect_uri = issuer.clients.redirect_uri(client_id, _param(params, "redirect_uri"), auth.wallet_provider)
    challenge = pkce.check_challenge_request(params.get("code_challenge"), params.get("code_challenge_method"))
    configs, used_details = requested_configurations(issuer, params.get("scope"),
                                                     params.get("authorization_details"))
    offer: dict[str, Any] | None = None
    issuer_state = params.get("issuer_state")
    if issuer_state:
        offer = await issuer.get("offer-state", issuer_state)
        if offer is None:
            raise InvalidRequest("issuer_state is unknown or expired")
        if not set(configs) <= set(offer.get("configs", [])):
            raise InvalidRequest("the request asks for credentials the offer did not name")
    dpop_jkt = params.get("dpop_jkt")
    if proof is not None:
        if dpop_jkt and dpop_jkt != proof.jkt:
            raise InvalidDPoPProof("dpop_jkt differs from the DPoP proof's key")
        dpop_jkt = proof.jkt
    state = params.get("state")
    if state is not None and len(state) > 512:
        raise InvalidRequest("state is too long")
    request_uri = REQUEST_URI_PREFIX + secrets.token_urlsafe(32)
    await issuer.put("par", request_uri, {
        "client_id": client_id, "instance_jkt": auth.instance_jkt, "redirect_uri": redirect_uri,
        "code_challenge": challenge, "configs": configs, "details": used_details, "state": state,
        "dpop_jkt": dpop_jkt, "offer": offer,
    }, issuer.options.par_ttl)
    return Response({"request_uri": request_uri, "expires_in": issuer.options.par_ttl}, status_code=201,
                    headers=NO_STORE)


async def authorize(issuer: Issuer, client_id: str | None, request_uri: str | None) -> Redirect:
    """RFC 9126 §4: the authorization endpoint takes the pushed request by ``request_uri`` (single use)."""
    from issuer.login import identity_provider

    if not request_uri or not client_id:
        raise InvalidRequest("client_id and request_uri (from the PAR endpoint) are required")
    if not request_uri.startswith(REQUEST_URI_PREFIX) or len(request_uri) > 200:
        raise InvalidRequest("request_uri is not one this server issued")
    data = await issuer.consume("par", request_uri)
    if data is None:
        raise InvalidRequest("request_uri is unknown, expired or already used")
    if data["client_id"] != client_id:
        raise InvalidRequest("client_id differs from the pushed request")
    session_id = secrets.token_urlsafe(32)
    session: dict[str, Any] = {"par": data}
    url = await identity_provider(issuer).begin(session_id, session, minimum_loa(issuer, data["configs"]))
    await issuer.put("login", session_id, session, issuer.options.login_session_ttl)
    return Redirect(url, status_code=302, headers=NO_STORE)


def _redirect(uri: str, params: dict[str, str]) -> Redirect:
    parts = urlsplit(uri)
    query = parts.query + ("&" if parts.query else "") + urlencode(params)
    return Redirect(urlunsplit((parts.scheme, parts.netloc, parts.path, query, "")), status_code=302,
                    headers=NO_STORE)


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
        return _redirect(data["redirect_uri"], out)
    if offer.get("person_id") and offer["person_id"] != who.person_id:
        out.update(error="access_denied", error_description="the offer was made for another person")
        return _redirect(data["redirect_uri"], out)
    code = secrets.token_urlsafe(32)
    await issuer.put("code", code, {**data, "person_id": who.person_id, "loa": who.loa.value,
                                    "method": who.method}, issuer.options.authorization_code_ttl)
    out["code"] = code
    return _redirect(data["redirect_uri"], out)


@dataclass
class Grant:
    """What an access token allows (sealed inside the access token; refresh tokens keep it in the store)."""

    person_id: str
    loa: str
    configs: list[str]
    details: bool
    client_id: str | None
    instance_jkt: str | None
    orgnr: str | None = None
    mandate_id: str | None = None
    require_approval: bool = False
    refresh: bool = False
    #: the refresh-token family (RFC 9700 §4.14.2): every token rotated from one authorization shares it
    family: str | None = None
    #: this grant's identifier, kept across refresh; notification ids are bound to it (OpenID4VCI 1.0 §11)
    grant_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _hash_tx_code(key: bytes, code: str, tx_code: str) -> str:
    return hmac.new(key, f"{code}\x00{tx_code}".encode(), hashlib.sha256).hexdigest()


async def tx_code_hash(issuer: Issuer, code: str, tx_code: str) -> str:
    return _hash_tx_code(await issuer.secret("tx-code-key"), code, tx_code)


def _require_dpop_if_attested(auth: ClientAuth, proof: dpop.DPoPProof | None) -> None:
    """HAIP 1.0 (OpenID4VCI 1.0 Appendix E): an attested wallet instance sender-constrains its tokens with DPoP,
    so a stolen access token cannot be redeemed for a credential on another key. Checked right after client
    authentication, before any code, tx_code attempt or refresh token is taken, so the wallet can retry."""
    if auth.instance_jkt is not None and proof is None:
        raise InvalidDPoPProof("a wallet that authenticates with a wallet attestation must send a DPoP proof")


async def token(issuer: Issuer, request: Request[Any, Any, Any]) -> Response[Any]:
    """The token endpoint (RFC 6749 §3.2, OpenID4VCI 1.0 §6)."""
    params = await form_params(request)
    grant_type = params.get("grant_type")
    if not grant_type:
        raise InvalidRequest("grant_type is required")
    settings = issuer.rt.settings.issuer
    proof = await check_dpop(issuer, request, htu=issuer.url("/token"))
    if grant_type == "authorization_code":
        code = _param(params, "code", max_len=200)
        data = await issuer.get("code", code)
        if data is None:
            raise InvalidGrant("the authorization code is unknown, expired or already used")
        if params.get("client_id") not in (None, data["client_id"]):
            raise InvalidGrant("the code was issued to another client")
        # authenticate before taking the code, so a client told to fetch a challenge can retry
        auth = await authenticate_client(issuer, request, data["client_id"],
                                         required=bool(data.get("instance_jkt")) or settings.require_wallet_attestation)
        _require_dpop_if_attested(auth, proof)
        if await issuer.consume("code", code) is None:
            raise InvalidGrant("the authorization code is unknown, expired or already used")
        if data.get("instance_jkt") and auth.instance_jkt != data["instance_jkt"]:
            raise InvalidGrant("the code was issued to another wallet instance")
        if params.get("redirect_uri") != data["redirect_uri"]:
            raise InvalidGrant("redirect_uri differs from the authorization request")
        pkce.verify(params.get("code_verifier"), data["code_challenge"])
        if data.get("dpop_jkt") and (proof is None or proof.jkt != data["dpop_jkt"]):
            raise InvalidGrant("the code is bound to another DPoP key (dpop_jkt)")
        offer = data.get("offer") or {}
        grant = Grant(person_id=data["person_id"], loa=data["loa"], configs=data["configs"], details=data["details"],
                      client_id=data["client_id"], instance_jkt=auth.instance_jkt, orgnr=offer.get("orgnr"),
                      mandate_id=offer.get("mandate_id"), require_approval=bool(offer.get("require_approval")),
                      refresh=True)
    elif grant_type == PRE_AUTH_GRANT:
        code = _param(params, "pre-authorized_code", max_len=200)
        data = await issuer.get("preauth", code)
        if data is None:
            raise InvalidGrant("the pre-authorized code is unknown, expired or already used")
        auth = await authenticate_client(issuer, request, params.get("client_id"),
                                         required=settings.require_wallet_attestation)
        _require_dpop_if_attested(auth, proof)
        if data.get("tx_code_hash"):
            tx = params.get("tx_code")
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
        elif "tx_code" in params:
            raise InvalidRequest("this pre-authorized code takes no tx_code")
        if await issuer.consume("preauth", code) is None:
            raise InvalidGrant("the pre-authorized code is unknown, expired or already used")
        configs = list(data["configs"])
        used_details = False
        if params.get("authorization_details"):
            asked, used_details = requested_configurations(issuer, None, params["authorization_details"])
            if not set(asked) <= set(configs):
                raise InvalidRequest("authorization_details asks for credentials the offer did not name")
            configs = asked
        grant = Grant(person_id=data["person_id"], loa=data["loa"], configs=configs, details=used_details,
                      client_id=auth.client_id, instance_jkt=auth.instance_jkt, orgnr=data.get("orgnr"),
                      mandate_id=data.get("mandate_id"), require_approval=bool(data.get("require_approval")))
    elif grant_type == "refresh_token":
        presented = _param(params, "refresh_token", max_len=200)
        data = await issuer.get("refresh", presented)
        if data is None:
            used = await issuer.get("refresh-used", presented)
            if used is not None and used.get("family"):
                await revoke_family(issuer, used["family"])
                raise InvalidGrant("the refresh token was already used: every token of this grant is revoked")
            raise InvalidGrant("the refresh token is unknown, expired or already used")
        auth = await authenticate_client(issuer, request, data.get("client_id"),
                                         required=bool(data.get("instance_jkt")))
        _require_dpop_if_attested(auth, proof)
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
        if data.get("jkt") and (proof is None or proof.jkt != data["jkt"]):
            raise InvalidGrant("the refresh token is bound to another DPoP key")
        grant = Grant(**{k: v for k, v in data.items() if k in Grant.__dataclass_fields__})
    else:
        raise UnsupportedGrantType("grant_type must be authorization_code, pre-authorized_code or refresh_token")
    return Response(await issue_tokens(issuer, grant, proof), headers=NO_STORE)


async def revoke_family(issuer: Issuer, family: str) -> None:
    """RFC 9700 §4.14.2: a rotated refresh token came back, so revoke every token of its grant (refresh tokens
    and the access tokens issued with them)."""
    await issuer.put("refresh-family-revoked", family, {}, issuer.options.refresh_token_ttl)


async def family_revoked(issuer: Issuer, family: str) -> bool:
    return await issuer.get("refresh-family-revoked", family) is not None


async def issue_tokens(issuer: Issuer, grant: Grant, proof: dpop.DPoPProof | None) -> dict[str, Any]:
    """Make the access token (and, for the code flow, a refresh token) and the token response."""
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
    body: dict[str, Any] = {"access_token": access, "token_type": "DPoP" if proof else "Bearer",
                            "expires_in": issuer.options.access_token_ttl}
    if identifiers is not None:
        body["authorization_details"] = [
            {"type": "openid_credential", "credential_configuration_id": cid,
             "credential_identifiers": [i for i, c in identifiers.items() if c == cid]}
            for cid in grant.configs
        ]
    if grant.refresh:
        refresh = secrets.token_urlsafe(32)
        await issuer.put("refresh", refresh, {**grant.to_json(), "jkt": proof.jkt if proof else None},
                         issuer.options.refresh_token_ttl)
        body["refresh_token"] = refresh
    return body
