"""Employee roles administered by an organisation's own administrator (Altinn 3 style delegation).

The administrator authenticates with an ID token (OpenID Connect Core 1.0 §2, §3.1.3.7) from the verifier's
OpenID Connect bridge (an Ansattporten-style employee login on a wallet credential): signed by the bridge's key
(its JWKS fetched over HTTP), ``iss`` the bridge, ``aud`` :data:`ORG_ADMIN_CLIENT`, not expired, and naming the
organisation (``orgnr``) the request is about. The organisation register must then show an active employment of
that person in that organisation holding an administrator access package (``hovedadministrator`` or
``tilgangsstyrer``, :data:`eidcore.registers.records.ADMIN_ACCESS_PACKAGES`). An administrator of one
organisation therefore cannot touch another's roles.

Assigning or removing a role code / access package changes the register (Enhetsregisteret / Altinn Authorization's
role); removing one, or ending the employment, revokes the person's employee role credentials of this organisation
(``subject_ref`` ``employment:<orgnr>``; roles in other organisations stay valid) in the status list
(draft-ietf-oauth-status-list §7) before the answer.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, post
from litestar.params import Body, FromPath

from eidcore import jose
from eidcore.claims import validate_times
from eidcore.errors import (
    AccessDenied,
    FormatError,
    IdentityNumberError,
    InvalidRequest,
    InvalidToken,
    UnknownPerson,
    UnknownRegisterRecord,
    UpstreamUnavailable,
)
from eidcore.identity import parse_orgnr
from eidcore.registers import Person
from eidcore.registers.records import ADMIN_ACCESS_PACKAGES
from issuer.core import Issuer, IssuerDep
from issuer.http import NO_STORE, EncodedBody, body_dto, encoded_body, json_object, spec, validate
from issuer.schemas import EmploymentEnd, EmploymentEnded, OAuthError, RoleChange, RoleChanged
from issuer.status import change_status_by_ref

__all__ = ["ORG_ADMIN_CLIENT", "OrgAdminController", "authenticate_admin", "change_role", "end_employment"]

ORG_ADMIN_CLIENT = "lommebok-org-admin"
"""The client id (ID token ``aud``) of the organisation administration at the bridge."""

_WWW = {"WWW-Authenticate": 'Bearer realm="lommebok-org-admin"'}


def bridge_issuer(issuer: Issuer) -> str:
    """The OpenID Provider identifier of the verifier's bridge."""
    return issuer.rt.settings.service_url("verifier") + "/oidc"


async def _bridge_keys(issuer: Issuer, kid: str | None) -> dict[str, Any]:
    cache = issuer.bridge_keys
    if kid is None or cache.get(kid) is None:
        try:
            r = await issuer.rt.http.get(bridge_issuer(issuer) + "/jwks", timeout=10)
            keys = r.json().get("keys", []) if r.status_code == 200 else []
        except Exception as exc:  # network or JSON failure of the bridge
            raise UpstreamUnavailable("the OpenID Connect bridge's keys cannot be fetched") from exc
        for k in keys:
            if isinstance(k, dict) and isinstance(k.get("kid"), str):
                cache.set(k["kid"], k)
    jwk = cache.get(kid) if kid is not None else None
    if jwk is None:
        raise InvalidToken("the ID token is not signed by a key of the bridge", headers=_WWW)
    return jwk


async def authenticate_admin(issuer: Issuer, authorization: str | None, orgnr: str) -> Person:
    """The person an ID token names, if it is the bridge's, for :data:`ORG_ADMIN_CLIENT`, about ``orgnr``."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("an ID token from the OpenID Connect bridge is required", headers=_WWW)
    try:
        unverified = jose.parse_jws(token.strip())
        kid = unverified.header.get("kid")
        jwk = await _bridge_keys(issuer, kid if isinstance(kid, str) else None)
        claims = jose.verify_jwt(unverified, jose.public_key_from_jwk(jwk)).claims
    except FormatError as exc:
        raise InvalidToken("the ID token is not valid", headers=_WWW) from exc
    aud = claims.get("aud")
    auds = aud if isinstance(aud, list) else [aud]
    if claims.get("iss") != bridge_issuer(issuer) or ORG_ADMIN_CLIENT not in auds:
        raise InvalidToken("the ID token is not for the organisation administration", headers=_WWW)
    try:  # RFC 7519 §4.1.4; no leeway: the bridge that minted it reads the same clock as this process
        validate_times(claims, now=issuer.rt.clock.timestamp(), leeway=0, require=("exp",), integers=True,
                       what="the ID token")
    except FormatError as exc:
        raise InvalidToken(exc.description, headers=_WWW) from exc
    if claims.get("orgnr") != orgnr:
        raise AccessDenied("the login was not made for this organisation")
    pid = claims.get("pid")
    if not isinstance(pid, str):
        raise AccessDenied("the login does not name a person with an identity number")
    try:
        person = await issuer.population().find_by_identifier(pid)
    except (UnknownPerson, IdentityNumberError):
        raise AccessDenied("the person is not in the population register") from None
    try:
        emp = await issuer.organisations().employment(orgnr, person.person_id)
    except UnknownRegisterRecord:
        raise AccessDenied("not employed in this organisation") from None
    if not ADMIN_ACCESS_PACKAGES & set(emp.access_packages):
        raise AccessDenied("this employee may not administer roles in the organisation")
    return person


def check_orgnr(value: str) -> str:
    """A valid organisation number (its digits) or :class:`InvalidRequest`."""
    try:
        return parse_orgnr(value).digits
    except IdentityNumberError as exc:
        raise InvalidRequest(f"not a valid organisation number ({exc.rule})") from None


async def _employee(issuer: Issuer, orgnr: str, person_ref: str) -> Person:
    person = await issuer.resolve_person(person_ref)
    try:
        await issuer.organisations().employment(orgnr, person.person_id)
    except UnknownRegisterRecord:
        raise InvalidRequest("the person has no active employment in this organisation") from None
    return person


async def change_role(issuer: Issuer, orgnr: str, body: RoleChange) -> RoleChanged:
    """``assign`` or ``remove`` a role code / access package; a removal revokes employee role credentials."""
    role = body.role
    if not role.strip():
        raise InvalidRequest("role must be a role code or an access package URN")
    person = await _employee(issuer, orgnr, body.person)
    orgs = issuer.organisations()
    before = await orgs.employment(orgnr, person.person_id)
    if body.action == "assign":
        emp = await orgs.assign_role(orgnr, person.person_id, role)
    else:
        emp = await orgs.remove_role(orgnr, person.person_id, role)
    revoked: list[str] = []
    if body.action == "remove" and (set(before.roles) | set(before.access_packages)) != (
            set(emp.roles) | set(emp.access_packages)):
        revoked = await change_status_by_ref(issuer, "revoke", f"employment:{orgnr}", credential_type="employee_role",
                                             person_id=person.person_id)
    return RoleChanged(orgnr=orgnr, roles=list(emp.roles), access_packages=list(emp.access_packages),
                       revoked_credentials=len(revoked))


async def end_employment(issuer: Issuer, orgnr: str, body: EmploymentEnd) -> EmploymentEnded:
    """End the person's employment (from ``on``, default today) and revoke their employee role credentials."""
    person = await _employee(issuer, orgnr, body.person)
    on = body.on or issuer.now().date()
    await issuer.organisations().end_employment(orgnr, person.person_id, on=on)
    revoked = await change_status_by_ref(issuer, "revoke", f"employment:{orgnr}", credential_type="employee_role",
                                         person_id=person.person_id)
    return EmploymentEnded(orgnr=orgnr, ended=on.isoformat(), revoked_credentials=len(revoked))


ORG_ERRORS = {400: spec(OAuthError, "invalid_request"),
              401: spec(OAuthError, "invalid_token: no valid ID token of the bridge"),
              403: spec(OAuthError, "access_denied: not an administrator of this organisation"),
              404: spec(OAuthError, "No such person")}


class OrgAdminController(Controller):
    """Routes for an organisation's administrator (bearer: an ID token of the bridge for this organisation)."""

    path = "/org/{orgnr:str}"
    tags = ("organisation admin",)

    # the body is read after the administrator is authenticated (a stranger learns nothing from a 400)

    @post("/roles", operation_id="orgChangeRole", status_code=200, dto=body_dto(RoleChange, "encoded"),
          return_dto=None, responses=ORG_ERRORS)
    async def roles(self, issuer: IssuerDep, orgnr: FromPath[str], request: Request[Any, Any, Any],
                    data: Annotated[EncodedBody | None, Body()] = None) -> Response[RoleChanged]:
        """Assign or remove a role code / access package of an employee; a removal revokes the employee's role
        credentials."""
        digits = check_orgnr(orgnr)
        await authenticate_admin(issuer, request.headers.get("authorization"), digits)
        raw = encoded_body(request, data)
        body = validate(RoleChange, json_object(raw.raw, raw.content_type))
        return Response(await change_role(issuer, digits, body), headers=NO_STORE)

    @post("/employments/end", operation_id="orgEndEmployment", status_code=200,
          dto=body_dto(EmploymentEnd, "encoded"), return_dto=None, responses=ORG_ERRORS)
    async def end(self, issuer: IssuerDep, orgnr: FromPath[str], request: Request[Any, Any, Any],
                  data: Annotated[EncodedBody | None, Body()] = None) -> Response[EmploymentEnded]:
        """End an employee's employment (from ``on``, default today) and revoke their role credentials."""
        digits = check_orgnr(orgnr)
        await authenticate_admin(issuer, request.headers.get("authorization"), digits)
        raw = encoded_body(request, data)
        body = validate(EmploymentEnd, json_object(raw.raw, raw.content_type))
        return Response(await end_employment(issuer, digits, body), headers=NO_STORE)
