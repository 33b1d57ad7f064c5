"""OpenID4VP 1.0 §5 (Authorization Request): creating transactions and serving their request objects.

- ``POST /rp/transactions`` (:class:`TransactionsController`): a relying party creates a transaction from a
  profile or its own DCQL query (§5.1, §6); the answer holds the Authorization Request by reference
  (``openid4vp://?client_id=...&request_uri=...``, §5.10; RFC 9101 §5.2) and a QR code;
- ``GET|POST /request/{id}`` (:class:`RequestObjectController`): the request object, a JAR (RFC 9101) with ``typ``
  ``oauth-authz-req+jwt`` signed with the access certificate in ``x5c`` for the ``x509_san_dns`` and ``x509_hash``
  client id prefixes (§5.9.3), unsigned (``alg`` ``none``) for the ``redirect_uri`` prefix;
  ``request_uri_method=post`` takes the wallet's metadata and returns its ``wallet_nonce`` (§5.10.1).

The response encryption key of ``direct_post.jwt`` (§8.3) is an ephemeral P-256 key per transaction (HAIP 1.0):
its public half goes in the request object's ``client_metadata``, its private half only in the transaction's
single-use response slot (:class:`~verifier.transactions.Slot`).
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import replace
from typing import Any
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives.asymmetric import ec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, URLEncodedBody

from eidcore import jose
from eidcore.dcql import DcqlQuery
from eidcore.encoding import b64u_encode
from eidcore.errors import InvalidRequest, InvalidRequestUriMethod, NotFound
from eidcore.openid4vp import SELF_ISSUED_AUD, ClientMetadata, RequestObjectClaims, WalletMetadataForm
from eidcore.qr import qr_svg
from eidcore.runtime import pseudonym
from verifier.guards import form_body
from verifier.models import VerRelyingParty, VerTransaction
from verifier.profiles import Contains, build_profile, mark_wallet_profiles, wallet_profile_marks
from verifier.relying_parties import CUSTOM_QUERY, current_relying_party, relying_party_guard
from verifier.schemas import CreateTransaction, TransactionCreated, errors
from verifier.transactions import PUBLIC_JWK_MEMBERS, Slot, Verifier, slot_key
from verifier.youth import with_age_claims, with_consent_query

__all__ = ["JAR_MEDIA_TYPE", "JAR_TYP", "RequestObjectController", "TransactionsController",
           "authorization_request_uri", "create_transaction", "request_object", "youth_query"]

log = logging.getLogger("lommebok.verifier")

JAR_TYP = "oauth-authz-req+jwt"
JAR_MEDIA_TYPE = f"application/{JAR_TYP}"
ENC_VALUES = ["A128GCM", "A256GCM"]
VP_FORMATS_SUPPORTED: dict[str, dict[str, Any]] = {
    "dc+sd-jwt": {"sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256"]},
    "mso_mdoc": {"issuerauth_alg_values": [-7], "deviceauth_alg_values": [-7]},
}
NO_STORE = {"Cache-Control": "no-store"}


def youth_query(query: dict[str, Any], consent_age: int) -> tuple[dict[str, Any], list[list[Any]]]:
    """The transaction's DCQL query with what the youth policy (:mod:`verifier.youth`) needs: the claim that decides
    the consent age in every Credential Query for a type that carries an age, and the optional guardian consent
    query. Returns it and the ``[query id, path]`` pairs added."""
    with_age, added = with_age_claims(query, consent_age)
    out = with_consent_query(with_age)
    DcqlQuery.parse(out)  # still a valid query (OpenID4VP 1.0 §6)
    return out, added


def authorization_request_uri(verifier: Verifier, tx: VerTransaction) -> str:
    """``openid4vp://`` with ``client_id`` and ``request_uri`` (RFC 9101 §5.2; OpenID4VP 1.0 §5.10)."""
    params = {"client_id": tx.client_id, "request_uri": verifier.request_uri(tx.id)}
    if tx.request_uri_method == "post":
        params["request_uri_method"] = "post"
    return "openid4vp://?" + urlencode(params, quote_via=quote)


async def create_transaction(verifier: Verifier, rp: VerRelyingParty, body: CreateTransaction, *,
                             client_name: str | None = None, match_code: str | None = None) -> TransactionCreated:
    """Create a transaction from a profile or a DCQL query (OpenID4VP 1.0 §5.1, §6).

    The request object names the service the wallet answers (``client_metadata.client_name``, RFC 7591 §2):
    ``client_name``, by default the relying party's name. ``match_code`` (the OIDC bridge's cross-device logins;
    not a relying-party API parameter) is a short code the login page shows and the request object carries as
    ``match_code``, for the user to compare (OpenID4VP 1.0 §14.2, cross-device flows).
    """
    await verifier.purge()
    profile_name = body.profile
    params = body.params or {}
    same_holder = None
    contains: tuple[Contains, ...] = ()
    default_prefix = "x509_hash"
    if profile_name is not None and body.dcql_query is not None:
        raise InvalidRequest("give either profile or dcql_query, not both")
    if profile_name is not None:
        if profile_name not in rp.allowed_profiles:
            raise InvalidRequest("this relying party may not use that profile")
        profile = build_profile(profile_name, params)
        query = DcqlQuery.parse(profile.dcql_query)
        marks = wallet_profile_marks(profile.dcql_query)
        same_holder = profile.same_holder
        contains = profile.contains
        default_prefix = profile.default_client_id_prefix
    elif body.dcql_query is not None:
        if CUSTOM_QUERY not in rp.allowed_profiles:
            raise InvalidRequest("this relying party may not send its own DCQL queries")
        query = DcqlQuery.parse(body.dcql_query)
        marks = wallet_profile_marks(body.dcql_query)
    else:
        raise InvalidRequest("profile or dcql_query is required")
    if "youth_policy" in body.model_fields_set:
        raise InvalidRequest("youth_policy is not a relying-party parameter: the youth policy protects the "
                             "holder (guardian consent below the consent age) and applies to every transaction")
    mode = body.response_mode
    prefix = body.client_id_prefix or default_prefix
    method = body.request_uri_method
    template = body.redirect_uri
    if template is not None and not any(template.startswith(u) for u in rp.redirect_uris):
        raise InvalidRequest("redirect_uri is not registered for this relying party")
    tx_id = secrets.token_urlsafe(16)
    enc_jwk = None
    if mode == "direct_post.jwt":
        key = jose.SigningKey(ec.generate_private_key(ec.SECP256R1()), "ES256", kid=secrets.token_urlsafe(8))
        enc_jwk = key.private_jwk()
        enc_jwk.pop("alg", None)
    # the database keeps the public half only; the private key lives in the single-use response slot
    # (store, TTL of the transaction), which the response consumes
    public_enc_jwk = {k: v for k, v in enc_jwk.items() if k in PUBLIC_JWK_MEMBERS} if enc_jwk else None
    now = verifier.now()
    rt = verifier.rt
    ttl = rt.settings.verifier.transaction_ttl
    dcql_query, youth_added = youth_query(mark_wallet_profiles(query.to_json(), marks), rt.settings.consent_age)
    tx = VerTransaction(
        id=tx_id, rp_id=rp.id, status="pending", profile=profile_name, profile_params=dict(params),
        dcql_query=dcql_query,
        client_id=verifier.client_id(prefix, verifier.response_uri(tx_id)),
        response_mode=mode, request_uri_method=method, nonce=secrets.token_urlsafe(32),
        state=secrets.token_urlsafe(32), enc_jwk=public_enc_jwk, redirect_uri_template=template,
        checks=[], created_at=now, expires_at=now + ttl,
    )
    if same_holder is not None:
        tx.profile_params = {**tx.profile_params, "_same_holder": list(same_holder)}
    if contains:
        tx.profile_params = {**tx.profile_params, "_contains": [c.to_json() for c in contains]}
    if youth_added:
        tx.profile_params = {**tx.profile_params, "_youth_added": youth_added}
    tx.profile_params = {**tx.profile_params, "_client_name": (client_name or rp.name)[:200]}
    if match_code is not None:
        tx.profile_params = {**tx.profile_params, "_match_code": match_code}
    async with rt.db.session() as s:
        s.add(tx)
        await s.commit()
    await rt.store.put(slot_key(tx_id), replace(Slot.of(tx), enc_jwk=enc_jwk).encode(), ttl)
    log.info("transaction %s created for %s (%s)", pseudonym(tx_id), rp.id, profile_name or "dcql")
    uri = authorization_request_uri(verifier, tx)
    return TransactionCreated(
        transaction_id=tx_id, status="pending", authorization_request=uri, request_uri=verifier.request_uri(tx_id),
        client_id=tx.client_id, response_mode=mode, flow="same_device" if template else "cross_device",
        expires_at=tx.expires_at, dcql_query=tx.dcql_query, qr_svg=qr_svg(uri),
    )


def client_metadata(tx: VerTransaction) -> ClientMetadata:
    """OpenID4VP 1.0 §5.1 ``client_metadata``: formats, the response encryption key, and ``client_name``
    (RFC 7591 §2: the service the wallet shows the user; a signed request object vouches for it)."""
    meta = ClientMetadata(vp_formats_supported=VP_FORMATS_SUPPORTED)
    name = tx.profile_params.get("_client_name")
    if isinstance(name, str) and name:
        meta.client_name = name
    if tx.enc_jwk is not None:
        pub = {k: v for k, v in tx.enc_jwk.items() if k in PUBLIC_JWK_MEMBERS}
        meta.jwks = {"keys": [{**pub, "use": "enc", "alg": "ECDH-ES"}]}
        meta.encrypted_response_enc_values_supported = list(ENC_VALUES)
    return meta


async def request_object(verifier: Verifier, tx_id: str, *, method: str,
                         form: WalletMetadataForm | None = None) -> str:
    """The request object (RFC 9101 JAR; OpenID4VP 1.0 §5, §5.10)."""
    tx = await verifier.load(tx_id)
    if tx is None:
        raise NotFound("no such request")
    tx = await verifier.expire_if_due(tx)
    if tx.status != "pending":
        raise InvalidRequest("the request is no longer valid")
    if method == "post" and tx.request_uri_method != "post":
        raise InvalidRequestUriMethod("this request_uri is fetched with GET")
    wallet_nonce = form.wallet_nonce if form is not None else None
    if form is not None and form.wallet_metadata is not None:
        try:
            meta = json.loads(form.wallet_metadata)
        except ValueError:
            raise InvalidRequest("wallet_metadata is not JSON") from None
        if not isinstance(meta, dict):
            raise InvalidRequest("wallet_metadata must be a JSON object")
    match_code = tx.profile_params.get("_match_code")
    claims = RequestObjectClaims(
        aud=SELF_ISSUED_AUD, client_id=tx.client_id, response_type="vp_token",
        response_mode="direct_post" if tx.response_mode == "direct_post" else "direct_post.jwt",
        response_uri=verifier.response_uri(tx.id), nonce=tx.nonce, state=tx.state, dcql_query=tx.dcql_query,
        client_metadata=client_metadata(tx), iat=verifier.now(), exp=tx.expires_at, wallet_nonce=wallet_nonce,
        # an extension parameter (§5: a wallet ignores what it does not know)
        match_code=match_code if isinstance(match_code, str) else None,
    ).model_dump(exclude_none=True)
    if tx.client_id.startswith("redirect_uri:"):
        header = b64u_encode(jose.json_dumps({"alg": "none", "typ": JAR_TYP}))
        return f"{header}.{b64u_encode(jose.json_dumps(claims))}."
    assert verifier.rt.keys is not None
    return jose.sign_jwt(claims, verifier.rt.keys.verifier.signing_key(), typ=JAR_TYP, include_x5c=True,
                         include_kid=False)


class TransactionsController(Controller):
    """Relying-party API: create a presentation transaction (bearer API key)."""

    path = "/rp/transactions"
    tags = ["relying party"]  # noqa: RUF012
    guards = [relying_party_guard]  # noqa: RUF012
    dependencies = {"rp": Provide(current_relying_party, sync_to_thread=False)}  # noqa: RUF012

    @post("/", operation_id="createTransaction", status_code=201, responses=errors(400, 401))
    async def create(self, data: JSONBody[CreateTransaction], rp: NamedDependency[VerRelyingParty],
                     verifier: NamedDependency[Verifier]) -> Response[TransactionCreated]:
        """Create a presentation transaction from a profile (``profile`` + ``params``) or a ``dcql_query``.

        Optional: ``response_mode`` (``direct_post.jwt`` default, ``direct_post``), ``redirect_uri`` (same-device:
        a registered URI, ``{response_code}`` marks where the code goes), ``client_id_prefix`` (``x509_hash``,
        ``x509_san_dns``, ``redirect_uri``), ``request_uri_method`` (``get``, ``post``). Answers the transaction
        id, the ``openid4vp://`` authorization request (by reference) and a QR code (SVG).
        """
        return Response(await create_transaction(verifier, rp, data), status_code=201, headers=NO_STORE)


class RequestObjectController(Controller):
    """Wallet-facing: the request object by reference (RFC 9101 §5.2; OpenID4VP 1.0 §5.10)."""

    path = "/request/{tx_id:str}"
    tags = ["wallet"]  # noqa: RUF012

    @get("/", operation_id="getRequestObject", media_type=JAR_MEDIA_TYPE, responses=errors(400, 404))
    async def get_request_object(self, tx_id: FromPath[str], verifier: NamedDependency[Verifier]) -> Response[str]:
        """The request object by reference (RFC 9101 §5.2; OpenID4VP 1.0 §5.10 ``request_uri_method=get``)."""
        jwt = await request_object(verifier, tx_id, method="get")
        return Response(jwt, media_type=JAR_MEDIA_TYPE, headers=NO_STORE)

    @post("/", operation_id="postRequestObject", media_type=JAR_MEDIA_TYPE, status_code=200, guards=[form_body],
          responses=errors(400, 404))
    async def post_request_object(self, tx_id: FromPath[str], verifier: NamedDependency[Verifier],
                                  data: URLEncodedBody[WalletMetadataForm]) -> Response[str]:
        """``request_uri_method=post`` (OpenID4VP 1.0 §5.10.1): form ``wallet_nonce`` and ``wallet_metadata``."""
        jwt = await request_object(verifier, tx_id, method="post", form=data)
        return Response(jwt, media_type=JAR_MEDIA_TYPE, headers=NO_STORE)
