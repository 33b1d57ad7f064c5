"""Metadata documents: Credential Issuer Metadata (OpenID4VCI 1.0 §12.2), Authorization Server Metadata
(RFC 8414 §2 with the OpenID4VCI, RFC 9126, RFC 9207, RFC 9449 and attestation-based client auth members),
JWKS (RFC 7517 §5), JWT VC Issuer Metadata (SD-JWT VC §5) and SD-JWT VC Type Metadata (§6).

``display`` is localized in nb, nn and en; an ``Accept-Language`` header selects one locale (the answer then
carries ``Content-Language``), without it every locale is listed.

The documents live at the host root with the issuer's path appended (OpenID4VCI 1.0 §12.2.2, RFC 8414 §3.1;
:func:`well_known_handlers`, served by the root app) and inside the service under ``/.well-known/...`` for clients
that look there (:class:`MetadataController`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from litestar import Controller, MediaType, Request, get
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, HeaderParameter
from litestar.response import Response

from eidcore import jose
from eidcore.credential_types import REQUIRED_LOCALES, CredentialType
from eidcore.errors import NotFound, UnknownCredentialType
from eidcore.oauth import client_attestation, dpop
from issuer.core import PRE_AUTH_GRANT, Configuration, Issuer, IssuerDep
from issuer.http import PUBLIC_CACHE, spec, wants_jwt
from issuer.schemas import (
    AuthorizationServerMetadata,
    CredentialIssuerMetadata,
    Jwks,
    JwtVcIssuerMetadata,
    OAuthError,
    TypeMetadata,
)

__all__ = [
    "MetadataController",
    "as_metadata",
    "credential_issuer_metadata",
    "jwks",
    "jwt_vc_issuer_metadata",
    "pick_locale",
    "well_known_handlers",
]

TAGS_VCI = ["openid4vci"]
TAGS_AS = ["authorization server"]

ISSUER_DISPLAY = {"nb": "Digitaliseringsdirektoratet (Lommebok)", "nn": "Digitaliseringsdirektoratet (Lommebok)",
                  "en": "Norwegian Digitalisation Agency (Lommebok)"}


def pick_locale(accept_language: str | None) -> str | None:
    """The best of nb/nn/en for an ``Accept-Language`` header (RFC 9110 §12.5.4), or None for no preference."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for pos, part in enumerate(accept_language.split(",")[:20]):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower()
        q = 1.0
        for b in bits[1:]:
            b = b.strip()
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        if tag and q > 0:
            ranked.append((-q, pos, tag))
    for _, _, tag in sorted(ranked):
        lang = tag.split("-", 1)[0]
        if lang in ("nb", "no"):
            return "nb"
        if lang in REQUIRED_LOCALES:
            return lang
    return None


def _type_display(ct: CredentialType, locale: str | None) -> list[dict[str, Any]]:
    out = []
    for d in ct.type_metadata.display:
        if locale is not None and d.locale != locale:
            continue
        entry: dict[str, Any] = {"name": d.name, "locale": d.locale}
        if d.description:
            entry["description"] = d.description
        rendering = d.rendering or {}
        simple = rendering.get("simple") if isinstance(rendering, dict) else None
        if isinstance(simple, dict):
            for k in ("background_color", "text_color"):
                if isinstance(simple.get(k), str):
                    entry[k] = simple[k]
        out.append(entry)
    return out


def _claims(conf: Configuration, locale: str | None) -> list[dict[str, Any]]:
    ct = conf.type
    out: list[dict[str, Any]] = []

    def labels(path: tuple[Any, ...]) -> list[dict[str, str]]:
        cm = ct.claim(path)
        return [{"name": d.label, "locale": d.locale} for d in cm.display if locale is None or d.locale == locale]

    if conf.format == "dc+sd-jwt":
        for cm in ct.type_metadata.claims:
            out.append({"path": list(cm.path), "mandatory": cm.mandatory, "display": labels(cm.path)})
    else:
        for ns, elements in ct.mdoc.namespaces.items():
            for e in elements:
                cm = ct.claim(e.path)
                out.append({"path": [ns, e.element], "mandatory": cm.mandatory, "display": labels(e.path)})
    return out


def configuration_object(issuer: Issuer, conf: Configuration, locale: str | None) -> dict[str, Any]:
    """One ``credential_configurations_supported`` entry (OpenID4VCI 1.0 §12.2.4, Appendix A.2/A.3)."""
    proof: dict[str, Any] = {"proof_signing_alg_values_supported": ["ES256"]}
    if conf.id in issuer.options.key_attestation_required:
        proof["key_attestations_required"] = {}
    obj: dict[str, Any] = {"format": conf.format, "scope": conf.scope}
    if conf.format == "dc+sd-jwt":
        obj["vct"] = conf.type.vct
        obj["cryptographic_binding_methods_supported"] = ["jwk"]
        obj["credential_signing_alg_values_supported"] = ["ES256"]
    else:
        obj["doctype"] = conf.type.doctype
        obj["cryptographic_binding_methods_supported"] = ["cose_key"]
        obj["credential_signing_alg_values_supported"] = [-7]
    obj["proof_types_supported"] = {"jwt": proof, "attestation": {"proof_signing_alg_values_supported": ["ES256"]}}
    obj["credential_metadata"] = {"display": _type_display(conf.type, locale), "claims": _claims(conf, locale)}
    return obj


async def credential_issuer_metadata(issuer: Issuer, locale: str | None) -> dict[str, Any]:
    """The Credential Issuer Metadata document (OpenID4VCI 1.0 §12.2.4)."""
    enc_jwk = await issuer.encryption_jwk()
    display = [{"name": n, "locale": loc} for loc, n in ISSUER_DISPLAY.items() if locale is None or loc == locale]
    return {
        "credential_issuer": issuer.issuer_id,
        "credential_endpoint": issuer.url("/credential"),
        "nonce_endpoint": issuer.url("/nonce"),
        "deferred_credential_endpoint": issuer.url("/deferred"),
        "notification_endpoint": issuer.url("/notification"),
        "credential_request_encryption": {
            "jwks": {"keys": [enc_jwk]}, "enc_values_supported": ["A128GCM", "A256GCM"],
            "encryption_required": False,
        },
        "credential_response_encryption": {
            "alg_values_supported": ["ECDH-ES"], "enc_values_supported": ["A128GCM", "A256GCM"],
            "encryption_required": False,
        },
        "batch_credential_issuance": {"batch_size": issuer.rt.settings.issuer.batch_size},
        "display": display,
        "credential_configurations_supported": {
            cid: configuration_object(issuer, conf, locale) for cid, conf in issuer.configurations.items()
        },
    }


METADATA_JWT_TYP = "openidvci-issuer-metadata+jwt"
SIGNED_METADATA_LIFETIME = 24 * 3600


def signed_metadata(issuer: Issuer, document: dict[str, Any]) -> str:
    """Signed Credential Issuer Metadata (OpenID4VCI 1.0 §12.2.3): every parameter as a top-level claim, with
    ``sub`` (= the Credential Issuer Identifier), ``iat``, ``iss`` and ``exp``; ``typ``
    ``openidvci-issuer-metadata+jwt``; the key delivered in ``x5c``."""
    now = issuer.timestamp()
    claims = {**document, "sub": issuer.issuer_id, "iss": issuer.issuer_id, "iat": now,
              "exp": now + SIGNED_METADATA_LIFETIME}
    return jose.sign_jwt(claims, issuer.signing_key, typ=METADATA_JWT_TYP, include_x5c=True)


def as_metadata(issuer: Issuer) -> dict[str, Any]:
    """Authorization Server Metadata (RFC 8414 §2) of the issuer's own authorization server."""
    s = issuer.rt.settings.issuer
    auth_methods = ["attest_jwt_client_auth"] if s.require_wallet_attestation else ["attest_jwt_client_auth", "none"]
    return {
        "issuer": issuer.issuer_id,
        "authorization_endpoint": issuer.url("/authorize"),
        "token_endpoint": issuer.url("/token"),
        "pushed_authorization_request_endpoint": issuer.url("/par"),
        "require_pushed_authorization_requests": True,
        "challenge_endpoint": issuer.url("/challenge"),
        "jwks_uri": issuer.url("/jwks"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", PRE_AUTH_GRANT, "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "client_attestation_signing_alg_values_supported": sorted(client_attestation.ALGORITHMS),
        "client_attestation_pop_signing_alg_values_supported": sorted(client_attestation.ALGORITHMS),
        "dpop_signing_alg_values_supported": sorted(dpop.ALGORITHMS),
        "authorization_response_iss_parameter_supported": True,
        "authorization_details_types_supported": ["openid_credential"],
        "scopes_supported": sorted(issuer.configurations),
        "pre-authorized_grant_anonymous_access_supported": not s.require_wallet_attestation,
    }


def jwks(issuer: Issuer) -> dict[str, Any]:
    """The issuer's public signing keys (RFC 7517 §5) with ``kid``, ``use`` and ``x5c``."""
    key = issuer.signing_key
    jwk = jose.public_jwk(key.public_key, kid=key.kid, alg="ES256")
    jwk["use"] = "sig"
    jwk["x5c"] = key.x5c_header()
    return {"keys": [jwk]}


def jwt_vc_issuer_metadata(issuer: Issuer) -> dict[str, Any]:
    """JWT VC Issuer Metadata (SD-JWT VC §5): ``issuer`` and its ``jwks``."""
    return {"issuer": issuer.issuer_id, "jwks": jwks(issuer)}


def _localized_headers(locale: str | None) -> dict[str, str]:
    headers = {**PUBLIC_CACHE, "Vary": "Accept, Accept-Language"}
    if locale is not None:
        headers["Content-Language"] = locale
    return headers


def well_known_handlers(suffix: str = "", dependencies: Mapping[str, Provide] | None = None
                        ) -> list[HTTPRouteHandler]:
    """The metadata documents at ``/.well-known/<name><suffix>`` (the suffix is the issuer's path at the host
    root, RFC 8414 §3.1); each handler gets the :class:`Issuer` by injection (from ``dependencies`` when given,
    else from the app)."""
    deps = dict(dependencies) if dependencies is not None else None

    @get(f"/.well-known/openid-credential-issuer{suffix}", operation_id="credentialIssuerMetadata", tags=TAGS_VCI,
         dependencies=deps,
         responses={200: spec(CredentialIssuerMetadata, "JSON, or a signed JWT "
                                                                            "(application/jwt, §12.2.3)")})
    async def credential_issuer(issuer: IssuerDep, request: Request[Any, Any, Any],
                                accept_language: Annotated[str | None, HeaderParameter(name="accept-language")] = None
                                ) -> Response[Any]:
        """Credential Issuer Metadata (OpenID4VCI 1.0 §12.2), localized by Accept-Language; signed
        (``application/jwt``, §12.2.3) when the client accepts ``application/jwt``."""
        locale = pick_locale(accept_language)
        doc = await credential_issuer_metadata(issuer, locale)
        if wants_jwt(request.accept):
            return Response(signed_metadata(issuer, doc).encode("ascii"), media_type="application/jwt",
                            headers=_localized_headers(locale))
        return Response(doc, headers=_localized_headers(locale))

    @get(f"/.well-known/oauth-authorization-server{suffix}", operation_id="authorizationServerMetadata",
         tags=TAGS_AS, sync_to_thread=False, dependencies=deps,
         responses={200: spec(AuthorizationServerMetadata, "RFC 8414 §3.2")})
    def authorization_server(issuer: IssuerDep) -> Response[dict[str, Any]]:
        """Authorization Server Metadata (RFC 8414 §3)."""
        return Response(as_metadata(issuer), headers=PUBLIC_CACHE)

    @get(f"/.well-known/jwt-vc-issuer{suffix}", operation_id="jwtVcIssuerMetadata", tags=TAGS_VCI,
         sync_to_thread=False, dependencies=deps,
         responses={200: spec(JwtVcIssuerMetadata, "SD-JWT VC §5")})
    def jwt_vc_issuer(issuer: IssuerDep) -> Response[dict[str, Any]]:
        """JWT VC Issuer Metadata (SD-JWT VC §5)."""
        return Response(jwt_vc_issuer_metadata(issuer), headers=PUBLIC_CACHE)

    return [credential_issuer, authorization_server, jwt_vc_issuer]


class MetadataController(Controller):
    """The issuer's keys and type metadata (and, from :func:`well_known_handlers`, its metadata documents)."""

    tags = TAGS_VCI

    @get("/jwks", operation_id="jwks", sync_to_thread=False,
         responses={200: spec(Jwks, "RFC 7517 §5")})
    def get_jwks(self, issuer: IssuerDep) -> Response[dict[str, Any]]:
        """The issuer's public signing keys (RFC 7517 §5)."""
        return Response(jwks(issuer), headers=PUBLIC_CACHE)

    @get("/type-metadata/{type_id:str}", operation_id="typeMetadata", sync_to_thread=False,
         responses={200: spec(TypeMetadata, "SD-JWT VC Type Metadata (§6), byte for byte"),
                    404: spec(OAuthError, "No such credential type")})
    def type_metadata(self, issuer: IssuerDep, type_id: FromPath[str]) -> Response[bytes]:
        """SD-JWT VC Type Metadata (§6) of a credential type, byte for byte (``vct#integrity`` covers it)."""
        try:
            ct = issuer.types.get(type_id)
        except UnknownCredentialType:
            raise NotFound("no such credential type") from None
        return Response(ct.type_metadata_bytes, media_type=MediaType.JSON,
                        headers={"Cache-Control": "public, max-age=3600"})
