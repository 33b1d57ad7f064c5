"""Claims from the authentic sources and the credential formats (OpenID4VCI 1.0 Appendix A).

- PID (EUDI PID Rulebook; :func:`eidcore.credential_types.pid_claims`) from the population register;
- employee role from the organisation register (Enhetsregisteret / Altinn roles and access packages);
- youth / age attestation (``age_equal_or_over`` 13, 15, 16, 18) from the population register;
- mandate from a granted mandate (the issuer's ``iss_mandate`` table, fed by the admin API) or, by law, from a
  guardianship (``legal_basis`` ``guardianship``) or the parental responsibility for a child under 18
  (``legal_basis`` ``parental_responsibility``, Children Act §30, ``foreldreansvar``) in the population register.

Formats: ``dc+sd-jwt`` (SD-JWT VC with ``cnf.jwk``, ``status``, ``vct#integrity``, every claim the type
metadata allows made selectively disclosable) and ``mso_mdoc`` (b64u CBOR IssuerSigned, Appendix A.2.4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import col, select

from eidcore.credential_types import ClaimPath, CredentialType, pid_claims
from eidcore.errors import CredentialRequestDenied, InvalidClaim
from eidcore.formats.mdoc import issue_mdoc
from eidcore.formats.sd_jwt_vc import SdJwtVcIssuer, StatusReference
from eidcore.registers import Person
from eidcore.registers.records import age_on
from issuer.allocation import Allocation
from issuer.core import Configuration, Issuer
from issuer.models import IssMandate

__all__ = [
    "MAJORITY_AGE", "PARENTAL_SERVICE_AREAS", "Subject", "build_claims", "majority_date", "mandate_ref",
    "sign_credential", "subject_ref",
]

YOUTH_THRESHOLDS = (13, 15, 16, 18)

MAJORITY_AGE = 18
"""Parental responsibility, and the mandate by law it gives, ends when the child turns 18."""

PARENTAL_SERVICE_AREAS = ("helse:fastlege", "helse:helsenorge", "nav:familie", "utdanning:skole")
"""The service areas of a mandate by law from parental responsibility (what a parent does for a minor child)."""


@dataclass(frozen=True)
class Subject:
    """Who the credential is about and what the offer or authorization pinned (employer, mandate)."""

    person_id: str
    orgnr: str | None = None
    mandate_id: str | None = None


def _iso_z(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _party(p: Person) -> dict[str, Any]:
    out: dict[str, Any] = {"given_name": p.given_name[:150], "family_name": p.family_name[:150],
                           "birthdate": p.birth_date.isoformat()}
    if p.national_id is not None:
        out["personal_administrative_number"] = p.national_id
    else:
        out["unique_identity"] = p.person_id
    return out


async def build_claims(issuer: Issuer, ct: CredentialType, subject: Subject) -> dict[str, Any]:
    """The claim set (SD-JWT VC shape) of type ``ct`` for ``subject``, validated against the type's schema."""
    pop = issuer.population()
    person = await pop.get_person(subject.person_id)
    clock = issuer.rt.clock
    claims: dict[str, Any]
    if ct.id == "pid":
        claims = pid_claims(person, clock=clock, issuing_authority=issuer.options.issuing_authority,
                            types=issuer.types)
    elif ct.id == "youth":
        age = age_on(person.birth_date, clock.now().astimezone(UTC).date())
        claims = {"age_equal_or_over": {str(n): age >= n for n in YOUTH_THRESHOLDS}}
    elif ct.id == "employee_role":
        orgs = issuer.organisations()
        employments = await orgs.employments_of(person.person_id)
        if subject.orgnr is not None:
            employments = [e for e in employments if e.orgnr == subject.orgnr]
        if not employments:
            raise CredentialRequestDenied("the organisation register has no active employment for this person")
        emp = employments[0]
        org = await orgs.get_organisation(emp.orgnr)
        claims = {"given_name": person.given_name[:150], "family_name": person.family_name[:150]}
        if person.national_id is not None:
            claims["personal_administrative_number"] = person.national_id
        claims["organisation"] = {"orgnr": org.orgnr, "name": org.name, "iso6523": org.iso6523}
        claims["title"] = emp.title
        claims["roles"] = list(emp.roles)
        claims["access_packages"] = list(emp.access_packages)
    elif ct.id == "mandate":
        claims = await _mandate_claims(issuer, person, subject.mandate_id)
    else:
        raise CredentialRequestDenied(f"this issuer does not issue {ct.id}")
    if ct.id != "pid":  # pid_claims has validated against the schema already
        ct.validate_claims(claims)
    return claims


async def _mandate_claims(issuer: Issuer, agent: Person, mandate_id: str | None) -> dict[str, Any]:
    pop = issuer.population()
    now = issuer.now()
    async with issuer.rt.db.session() as s:
        q = select(IssMandate).where(IssMandate.agent_id == agent.person_id, col(IssMandate.revoked).is_(False))
        if mandate_id is not None:
            q = q.where(IssMandate.id == mandate_id)
        rows = [m for m in (await s.exec(q.order_by(col(IssMandate.created_at)))).all()
                if m.valid_from <= now and (m.valid_until is None or now < m.valid_until)]
    if rows:
        m = rows[0]
        principal = await pop.get_person(m.principal_id)
        claims: dict[str, Any] = {"principal": _party(principal), "agent": _party(agent), "scope": dict(m.scope),
                                  "legal_basis": m.legal_basis, "valid_from": _iso_z(m.valid_from),
                                  "mandate_id": m.id}
        if m.valid_until is not None:
            claims["valid_until"] = _iso_z(m.valid_until)
        return claims
    if mandate_id is None or mandate_id.startswith("guardianship-"):
        today = now.date()
        for g in (await pop.guardianships_of(agent.person_id)).as_guardian:
            gid = f"guardianship-{g.id}"
            if not g.is_active(today) or not g.scope or (mandate_id is not None and mandate_id != gid):
                continue
            ward = await pop.get_person(g.ward_id)
            claims = {"principal": _party(ward), "agent": _party(agent),
                      "scope": {"service_areas": sorted({a.code for a in g.scope})}, "legal_basis": "guardianship",
                      "valid_from": _iso_z(datetime(g.valid_from.year, g.valid_from.month, g.valid_from.day,
                                                    tzinfo=UTC)),
                      "mandate_id": gid}
            if g.valid_to is not None:
                claims["valid_until"] = _iso_z(datetime(g.valid_to.year, g.valid_to.month, g.valid_to.day,
                                                        tzinfo=UTC))
            return claims
    if mandate_id is None or mandate_id.startswith("parental-"):
        parental = await _parental_claims(issuer, agent, mandate_id)
        if parental is not None:
            return parental
    raise CredentialRequestDenied("no active mandate names this person as agent")


def majority_date(birth_date: date) -> date:
    """The day a person born on ``birth_date`` turns 18 (29 February: 1 March), the end of parental
    responsibility."""
    try:
        return birth_date.replace(year=birth_date.year + MAJORITY_AGE)
    except ValueError:  # 29 February in a year without one
        return date(birth_date.year + MAJORITY_AGE, 3, 1)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def _parental_claims(issuer: Issuer, agent: Person, mandate_id: str | None) -> dict[str, Any] | None:
    """A mandate by law from parental responsibility in force today for a child under 18 (mandate id
    ``parental-<child person id>``), or ``None``."""
    today = issuer.now().date()
    for child in await issuer.population().children_of(agent.person_id):
        mid = f"parental-{child.person.person_id}"
        if mandate_id is not None and mandate_id != mid:
            continue
        r, born = child.responsibility, child.person.birth_date
        eighteen = majority_date(born)
        if not r.is_active(today) or today >= eighteen:
            continue
        until = eighteen if r.valid_to is None else min(r.valid_to, eighteen)
        start = born if r.valid_from is None else max(r.valid_from, born)
        return {"principal": _party(child.person), "agent": _party(agent),
                "scope": {"service_areas": list(PARENTAL_SERVICE_AREAS)}, "legal_basis": "parental_responsibility",
                "valid_from": _iso_z(_midnight(start)), "valid_until": _iso_z(_midnight(until)), "mandate_id": mid}
    return None


def mandate_ref(mandate_id: str) -> str:
    """The issuance records' ``subject_ref`` of a mandate credential: ``guardianship:<id>`` for a guardianship
    (mandate id ``guardianship-<id>``), ``parental:<child person id>`` for parental responsibility (mandate id
    ``parental-<child person id>``), else ``mandate:<id>`` for a granted mandate."""
    for basis in ("guardianship", "parental"):
        if mandate_id.startswith(basis + "-"):
            return f"{basis}:{mandate_id.removeprefix(basis + '-')}"[:100]
    return f"mandate:{mandate_id}"[:100]


def subject_ref(type_id: str, claims: Mapping[str, Any]) -> str | None:
    """What a credential of ``type_id`` with ``claims`` was issued for (the record's ``subject_ref``), so that
    revoking one mandate or one organisation's roles revokes only those credentials; ``None`` for PID and youth."""
    if type_id == "mandate" and isinstance(claims.get("mandate_id"), str):
        return mandate_ref(claims["mandate_id"])
    org = claims.get("organisation")
    if type_id == "employee_role" and isinstance(org, Mapping) and isinstance(org.get("orgnr"), str):
        return f"employment:{org['orgnr']}"
    return None


def _present(claims: Mapping[str, Any], path: ClaimPath) -> bool:
    node: Any = claims
    for step in path:
        if isinstance(step, str) and isinstance(node, Mapping) and step in node:
            node = node[step]
        else:
            return False
    return True


def _sd_jwt_vc_issuer(issuer: Issuer, ct: CredentialType) -> tuple[SdJwtVcIssuer, str]:
    """The SD-JWT VC issuer and ``vct#integrity`` of a type, built once per signing key (not per request)."""
    key = issuer.signing_key
    prepared = issuer.sd_jwt_vc_issuers
    hit = prepared.get(ct.id)
    if hit is None or hit[0] is not key:
        hit = (key, SdJwtVcIssuer(key, iss=issuer.issuer_id, clock=issuer.rt.clock), ct.type_metadata_integrity())
        prepared[ct.id] = hit
    return hit[1], hit[2]


def sign_credential(issuer: Issuer, conf: Configuration, claims: Mapping[str, Any], holder_jwk: Mapping[str, Any],
                    alloc: Allocation) -> str:
    """One credential of ``conf``'s format bound to ``holder_jwk`` with the allocation's status reference."""
    ct = conf.type
    key = issuer.signing_key
    if conf.format == "dc+sd-jwt":
        sd, integrity = _sd_jwt_vc_issuer(issuer, ct)
        paths = [p for p in ct.sd_paths if _present(claims, p)]
        issued = sd.issue(
            claims, vct=ct.vct, disclosable=paths, holder_jwk=holder_jwk,
            status=StatusReference(uri=alloc.uri, idx=alloc.idx), vct_integrity=integrity,
            not_before=int(alloc.valid_from.timestamp()),
            expires_in=int((alloc.valid_until - alloc.valid_from).total_seconds()),
            issued_at=int(alloc.valid_from.timestamp()),
        )
        return issued.compact
    if not isinstance(key.private_key, ec.EllipticCurvePrivateKey):
        raise InvalidClaim("mdoc issuance needs an EC document signer key")
    signed = issue_mdoc(
        doc_type=ct.doctype, name_spaces=ct.mdoc_namespaces(claims), device_key=holder_jwk,
        issuer_key=key.private_key, issuer_chain=list(issuer.rt.keys.issuer.chain) if issuer.rt.keys else [],
        valid_from=alloc.valid_from, valid_until=alloc.valid_until, signed=alloc.valid_from,
        status={"status_list": {"idx": alloc.idx, "uri": alloc.uri}}, clock=issuer.rt.clock,
    )
    return signed.to_b64u()
