"""The issuer's admin API (bearer ``LOMMEBOK_ISSUER_ADMIN_TOKEN``): credential offers (OpenID4VCI 1.0 §4.1) for a
person of the population register with a QR code, credential status changes (draft-ietf-oauth-status-list,
contracts.md), granted mandates, and approval of deferred issuance.
"""

from __future__ import annotations

import io
import json
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import quote

import segno
from litestar import Request

from eidcore import jose
from eidcore.errors import FormatError, InvalidClaim, InvalidRequest, InvalidToken, UnknownPerson
from eidcore.identity import LevelOfAssurance
from eidcore.registers import Person
from issuer.core import PRE_AUTH_GRANT, Issuer
from issuer.models import IssMandate
from issuer.oauth import tx_code_hash
from issuer.status import change_status, subject_id

__all__ = ["check_admin", "create_mandate", "create_offer", "resolve_person", "status_change"]


def check_admin(issuer: Issuer, request: Request[Any, Any, Any]) -> None:
    """RFC 6750 bearer check against the issuer's own admin token (constant time); 401 otherwise."""
    if not issuer.rt.admin_authorized("issuer", request.headers.get("authorization")):
        raise InvalidToken("a valid admin bearer token is required", headers={"WWW-Authenticate": "Bearer"})


async def json_body(request: Request[Any, Any, Any]) -> dict[str, Any]:
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype != "application/json":
        raise InvalidRequest("the body must be application/json")
    try:
        return jose.parse_json_object(await request.body(), what="request")
    except FormatError as exc:
        raise InvalidRequest("the body is not a JSON object") from exc


async def resolve_person(issuer: Issuer, value: Any) -> Person:
    """A person by F/D-number, story alias or person id."""
    if not isinstance(value, str) or not value or len(value) > 64:
        raise InvalidRequest("person must be an identity number, alias or person id")
    pop = issuer.population()
    if value.isdigit():
        return await pop.find_by_identifier(value)
    try:
        return await pop.get_by_alias(value)
    except UnknownPerson:
        return await pop.get_person(value)


def qr_svg(data: str) -> str:
    """The offer URI as a QR code (SVG, ISO/IEC 18004 via segno)."""
    buf = io.BytesIO()
    segno.make(data, error="m").save(buf, kind="svg", scale=4, xmldecl=False)
    return buf.getvalue().decode("utf-8")


def _opt_str(body: dict[str, Any], name: str) -> str | None:
    v = body.get(name)
    if v is None:
        return None
    if not isinstance(v, str) or not v or len(v) > 100:
        raise InvalidRequest(f"{name} must be a non-empty string")
    return v


async def create_offer(issuer: Issuer, body: dict[str, Any]) -> dict[str, Any]:
    """Create a credential offer for a person (pre-authorized code with tx_code by default)."""
    person = await resolve_person(issuer, body.get("person"))
    ids = body.get("credential_configuration_ids")
    if ids is None and isinstance(body.get("credential"), str):
        ids = [body["credential"]]
    if not isinstance(ids, list) or not ids or len(ids) > 10 or len(set(map(str, ids))) != len(ids):
        raise InvalidRequest("credential_configuration_ids must be a non-empty list of distinct ids")
    for cid in ids:
        if not isinstance(cid, str) or issuer.configuration(cid) is None:
            raise InvalidRequest(f"unknown credential configuration {str(cid)[:60]!r}")
    grant = body.get("grant", "pre-authorized_code")
    if grant not in ("pre-authorized_code", "authorization_code"):
        raise InvalidRequest("grant must be pre-authorized_code or authorization_code")
    with_tx = body.get("tx_code", True)
    if not isinstance(with_tx, bool):
        raise InvalidRequest("tx_code must be a boolean")
    try:
        loa = LevelOfAssurance(body.get("loa", "high"))
    except ValueError:
        raise InvalidRequest("loa must be low, substantial or high") from None
    require_approval = body.get("require_approval", False)
    if not isinstance(require_approval, bool):
        raise InvalidRequest("require_approval must be a boolean")
    context = {"person_id": person.person_id, "configs": ids, "loa": loa.value, "orgnr": _opt_str(body, "orgnr"),
               "mandate_id": _opt_str(body, "mandate_id"), "require_approval": require_approval}
    settings = issuer.rt.settings.issuer
    ttl = settings.pre_authorized_code_ttl
    tx_code: str | None = None
    grants: dict[str, Any]
    if grant == "pre-authorized_code":
        code = secrets.token_urlsafe(32)
        entry: dict[str, Any] = {"pre-authorized_code": code}
        if with_tx:
            tx_code = "".join(secrets.choice("0123456789") for _ in range(settings.tx_code_length))
            context["tx_code_hash"] = await tx_code_hash(issuer, code, tx_code)
            entry["tx_code"] = {"input_mode": "numeric", "length": settings.tx_code_length,
                                "description": "Skriv inn koden du fikk / Enter the code you were given"}
        await issuer.put("preauth", code, context, ttl)
        grants = {PRE_AUTH_GRANT: entry}
    else:
        state = secrets.token_urlsafe(32)
        await issuer.put("offer-state", state, context, ttl)
        grants = {"authorization_code": {"issuer_state": state}}
    offer = {"credential_issuer": issuer.issuer_id, "credential_configuration_ids": ids, "grants": grants}
    out: dict[str, Any] = {"credential_offer": offer, "tx_code": tx_code, "expires_in": ttl}
    if body.get("by_reference", False) is True:
        ref = secrets.token_urlsafe(24)
        await issuer.put("offer-uri", ref, offer, min(ttl, issuer.options.offer_uri_ttl))
        uri = issuer.url(f"/offers/{ref}")
        out["credential_offer_uri"] = uri
        out["offer_uri"] = "openid-credential-offer://?credential_offer_uri=" + quote(uri, safe="")
    else:
        out["offer_uri"] = "openid-credential-offer://?credential_offer=" + quote(
            json.dumps(offer, separators=(",", ":")), safe="")
    out["qr_svg"] = qr_svg(out["offer_uri"])
    return out


async def status_change(issuer: Issuer, body: dict[str, Any]) -> dict[str, Any]:
    """``POST /issuer/admin/credentials/status`` (contracts.md): revoke, suspend or reinstate; committed first."""
    action = body.get("action")
    if action not in ("revoke", "suspend", "reinstate"):
        raise InvalidRequest("action must be revoke, suspend or reinstate")
    selectors = [k for k in ("credential_id", "instance_jkt", "person", "subject_ref") if body.get(k) is not None]
    if len(selectors) != 1:
        raise InvalidRequest("give exactly one of credential_id, instance_jkt, person, subject_ref")
    ctype = body.get("credential_type")
    if ctype is not None and (not isinstance(ctype, str) or ctype not in issuer.types):
        raise InvalidRequest("unknown credential_type")
    kwargs: dict[str, str | None] = {"credential_type": ctype}
    sel = selectors[0]
    value = body[sel]
    if not isinstance(value, str) or not value or len(value) > 100:
        raise InvalidRequest(f"{sel} must be a non-empty string")
    if sel == "subject_ref":  # what the credentials were issued for: mandate:<id>, employment:<orgnr>, ...
        from issuer.mandates import change_status_by_ref  # (issuer.mandates imports this module)

        changed = await change_status_by_ref(issuer, str(action), value, credential_type=ctype)
        return {"updated": len(changed), "credentials": changed}
    if sel == "person":
        person = await resolve_person(issuer, value)
        kwargs["subject"] = subject_id(person.person_id)
    else:
        kwargs[sel] = value
    changed = await change_status(issuer, str(action), **kwargs)
    return {"updated": len(changed), "credentials": changed}


def _when(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(f"{name} must be an RFC 3339 date-time")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(f"{name} must be an RFC 3339 date-time") from None
    if dt.tzinfo is None:
        raise InvalidRequest(f"{name} needs a time zone")
    return dt


async def create_mandate(issuer: Issuer, body: dict[str, Any]) -> dict[str, Any]:
    """Record a granted mandate (principal grants agent a scope) for later issuance to the agent."""
    principal = await resolve_person(issuer, body.get("principal"))
    agent = await resolve_person(issuer, body.get("agent"))
    if principal.person_id == agent.person_id:
        raise InvalidRequest("principal and agent must differ")
    scope = body.get("scope")
    if not isinstance(scope, dict) or not scope or set(scope) - {"service_areas", "access_packages"}:
        raise InvalidRequest("scope must hold service_areas and/or access_packages")
    for k, v in scope.items():
        if not isinstance(v, list) or not v or not all(isinstance(x, str) and 0 < len(x) <= 200 for x in v):
            raise InvalidRequest(f"scope.{k} must be a non-empty list of strings")
    now = issuer.now().replace(microsecond=0)
    valid_from = _when(body.get("valid_from"), "valid_from") or now
    valid_until = _when(body.get("valid_until"), "valid_until")
    if valid_until is not None and valid_until <= valid_from:
        raise InvalidRequest("valid_until must be after valid_from")
    mandate_id = secrets.token_hex(16)
    mandate_type = issuer.types.get("mandate")
    sample = {"principal": {"unique_identity": "x"}, "agent": {"unique_identity": "x"}, "scope": scope,
              "legal_basis": "granted", "valid_from": "2000-01-01T00:00:00Z", "mandate_id": mandate_id}
    try:
        mandate_type.validate_claims(sample)
    except InvalidClaim as exc:
        raise InvalidRequest(f"the mandate scope is not valid: {exc.description}") from exc
    async with issuer.rt.db.session() as s:
        s.add(IssMandate(id=mandate_id, principal_id=principal.person_id, agent_id=agent.person_id, scope=scope,
                         legal_basis="granted", valid_from=valid_from, valid_until=valid_until, created_at=now))
        await s.commit()
    return {"mandate_id": mandate_id}
