"""Named presentation profiles: each builds an OpenID4VP 1.0 §6 DCQL query from a few parameters.

- ``pid-basic``: name and birth date from the PID (SD-JWT VC ``urn:eudi:pid:1`` and/or mdoc
  ``eu.europa.ec.eudi.pid.1``);
- ``age-over-18`` / ``age-over-13``: one age attribute with a ``values: [true]`` filter, from the PID or the
  age-verification credential (``urn:no:digdir:eudi:age:1`` / ``eu.europa.ec.av.1``); unsigned ``redirect_uri``
  client id by default (OpenID4VP 1.0 §5.9.3), as an age check needs no verifier identity;
- ``employee-role``: the employee role credential whose ``organisation.orgnr`` equals ``orgnr`` (validated with
  :func:`eidcore.identity.parse_orgnr`) and, when ``roles`` are given, whose ``roles`` contain one of them; its
  Credential Query carries the extension member ``"wallet_profile": "work"`` (:data:`WORK_PROFILE`: answer from the
  wallet's work profile only; OpenID4VP 1.0 §6: a wallet ignores members it does not know). A relying party may
  set the same member in a DCQL query it submits; the parsed query drops it, so the verifier validates it and puts
  it back into the request object (:func:`wallet_profile_marks`, :func:`mark_wallet_profiles`);
- ``mandate``: the agent's PID and a mandate whose ``scope.service_areas`` contains ``scope``; the two must belong
  to the same holder (same key or the agent's identity number equals the PID's). The mandate's ``legal_basis``
  (``granted``, ``guardianship``, ``parental_responsibility``) is asked for, so the result names it.

``employee-role`` and ``mandate`` take ``format`` ``dc+sd-jwt`` (default) or ``mso_mdoc`` (doctypes
``no.digdir.eudi.employee.1`` / ``no.digdir.eudi.mandate.1`` with the PID ``eu.europa.ec.eudi.pid.1``). An mdoc
element is matched as a whole (OpenID4VP 1.0 §6.3), so "the roles / service areas contain X" is checked by the
verifier after validation (:class:`Contains`: ``employee.roles``, ``mandate.scope``).

Per profile :class:`Profile` also says which cross-credential checks apply (``same_holder``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eidcore.dcql import MSO_MDOC, SD_JWT_VC
from eidcore.errors import IdentityNumberError, InvalidRequest
from eidcore.identity import parse_orgnr

PID_VCT = "urn:eudi:pid:1"
PID_DOCTYPE = "eu.europa.ec.eudi.pid.1"
AGE_VCT = "urn:no:digdir:eudi:age:1"
AGE_DOCTYPE = "eu.europa.ec.av.1"
EMPLOYEE_VCT = "urn:no:digdir:eudi:employee:1"
MANDATE_VCT = "urn:no:digdir:eudi:mandate:1"
EMPLOYEE_DOCTYPE = "no.digdir.eudi.employee.1"
MANDATE_DOCTYPE = "no.digdir.eudi.mandate.1"


@dataclass(frozen=True)
class Contains:
    """A profile check DCQL cannot express for an mdoc: the array claim at ``path`` of the presentation for
    ``query_id`` must contain one of ``values`` (reported as ``check``)."""

    query_id: str
    path: tuple[str, ...]
    values: tuple[str, ...]
    check: str

    def to_json(self) -> list[Any]:
        return [self.query_id, list(self.path), list(self.values), self.check]

    @classmethod
    def from_json(cls, value: Any) -> Contains:
        qid, path, values, check = value
        return cls(str(qid), tuple(map(str, path)), tuple(map(str, values)), str(check))


@dataclass(frozen=True)
class Profile:
    """A named profile: its DCQL query and the checks that span credentials."""

    name: str
    dcql_query: dict[str, Any]
    same_holder: tuple[str, str] | None = None
    """(PID query id, mandate query id): the mandate's agent must be the PID's holder."""
    default_client_id_prefix: str = "x509_hash"
    contains: tuple[Contains, ...] = ()
    """Array claims that must contain one of the profile's values (mdoc: ``employee.roles``, ``mandate.scope``)."""


WALLET_PROFILE = "wallet_profile"
"""Name of the Lommebok extension member of a Credential Query (OpenID4VP 1.0 §6.1): the wallet profile to answer
from. Its only value is ``work``."""
WORK_PROFILE = {WALLET_PROFILE: "work"}
"""The Credential Query extension member asking the wallet to answer from its work profile only."""


def wallet_profile_marks(raw: Any) -> dict[str, str]:
    """The ``wallet_profile`` marks of a raw DCQL query (a profile's or one a relying party submitted), by Credential
    Query id. Call it after :meth:`eidcore.dcql.DcqlQuery.parse` accepted ``raw`` (a JSON text or an object).

    The DCQL model drops unknown members (OpenID4VP 1.0 §6); the verifier knows this one, so it validates it
    (only ``"work"``; :class:`InvalidRequest` otherwise) and carries it into the request object
    (:func:`mark_wallet_profiles`).
    """
    if isinstance(raw, str | bytes):
        raw = json.loads(raw)
    marks: dict[str, str] = {}
    creds = raw.get("credentials") if isinstance(raw, Mapping) else None
    for i, q in enumerate(creds if isinstance(creds, list | tuple) else ()):
        if not isinstance(q, Mapping) or WALLET_PROFILE not in q:
            continue
        if q[WALLET_PROFILE] != WORK_PROFILE[WALLET_PROFILE]:
            raise InvalidRequest(f"dcql_query.credentials[{i}].{WALLET_PROFILE}: must be \"work\"")
        marks[str(q["id"])] = WORK_PROFILE[WALLET_PROFILE]
    return marks


def mark_wallet_profiles(query: dict[str, Any], marks: Mapping[str, str]) -> dict[str, Any]:
    """``query`` (the wire form of a parsed DCQL query) with each marked Credential Query's ``wallet_profile``."""
    if not marks:
        return query
    creds = [{**c, WALLET_PROFILE: marks[c["id"]]} if c.get("id") in marks else c for c in query["credentials"]]
    return {**query, "credentials": creds}


def _claims(*paths: list[Any], values: Mapping[int, list[Any]] | None = None) -> list[dict[str, Any]]:
    out = []
    for i, p in enumerate(paths):
        c: dict[str, Any] = {"path": p}
        if values and i in values:
            c["values"] = values[i]
        out.append(c)
    return out


def _formats(params: Mapping[str, Any]) -> tuple[str, ...]:
    fmt = params.get("format")
    if fmt is None:
        return (SD_JWT_VC, MSO_MDOC)
    if fmt not in (SD_JWT_VC, MSO_MDOC):
        raise InvalidRequest("format must be dc+sd-jwt or mso_mdoc")
    return (str(fmt),)


def _with_options(credentials: list[dict[str, Any]]) -> dict[str, Any]:
    query: dict[str, Any] = {"credentials": credentials}
    if len(credentials) > 1:
        query["credential_sets"] = [{"options": [[c["id"]] for c in credentials], "required": True}]
    return query


def pid_basic(params: Mapping[str, Any]) -> Profile:
    creds = []
    for fmt in _formats(params):
        if fmt == SD_JWT_VC:
            creds.append({"id": "pid", "format": SD_JWT_VC, "meta": {"vct_values": [PID_VCT]},
                          "claims": _claims(["given_name"], ["family_name"], ["birthdate"])})
        else:
            ns = PID_DOCTYPE
            creds.append({"id": "pid_mdoc", "format": MSO_MDOC, "meta": {"doctype_value": PID_DOCTYPE},
                          "claims": _claims([ns, "given_name"], [ns, "family_name"], [ns, "birth_date"])})
    return Profile("pid-basic", _with_options(creds))


def age_over(age: int) -> Any:
    def build(params: Mapping[str, Any]) -> Profile:
        creds = []
        for fmt in _formats(params):
            if fmt == SD_JWT_VC:
                for qid, vct in (("pid", PID_VCT), ("age", AGE_VCT)):
                    creds.append({"id": qid, "format": SD_JWT_VC, "meta": {"vct_values": [vct]},
                                  "claims": _claims(["age_equal_or_over", str(age)], values={0: [True]})})
            else:
                for qid, doctype in (("pid_mdoc", PID_DOCTYPE), ("age_mdoc", AGE_DOCTYPE)):
                    creds.append({"id": qid, "format": MSO_MDOC, "meta": {"doctype_value": doctype},
                                  "claims": _claims([doctype, f"age_over_{age}"], values={0: [True]})})
        return Profile(f"age-over-{age}", _with_options(creds), default_client_id_prefix="redirect_uri")

    return build


def _one_format(params: Mapping[str, Any]) -> str:
    """``format`` for the profiles that ask for one format at a time (default ``dc+sd-jwt``)."""
    fmt = params.get("format", SD_JWT_VC)
    if fmt not in (SD_JWT_VC, MSO_MDOC):
        raise InvalidRequest("format must be dc+sd-jwt or mso_mdoc")
    return str(fmt)


def employee_role(params: Mapping[str, Any]) -> Profile:
    orgnr = params.get("orgnr")
    if not isinstance(orgnr, str):
        raise InvalidRequest("the employee-role profile needs the parameter orgnr")
    try:
        digits = parse_orgnr(orgnr).digits
    except IdentityNumberError as exc:
        raise InvalidRequest(f"orgnr is not a valid organisation number ({exc.rule})") from None
    roles = params.get("roles")
    if roles is not None and (not isinstance(roles, list) or not roles
                              or not all(isinstance(r, str) and r for r in roles)):
        raise InvalidRequest("roles must be a non-empty array of role URNs")
    if _one_format(params) == MSO_MDOC:
        ns = EMPLOYEE_DOCTYPE
        claims = _claims([ns, "given_name"], [ns, "family_name"], [ns, "organisation_number"], values={2: [digits]})
        contains: tuple[Contains, ...] = ()
        if roles is not None:
            # an mdoc element is matched as a whole (OpenID4VP 1.0 §6.3): the verifier checks the roles array
            claims.append({"path": [ns, "roles"]})
            contains = (Contains("employee", (ns, "roles"), tuple(roles), "employee.roles"),)
        return Profile("employee-role", {"credentials": [
            {"id": "employee", "format": MSO_MDOC, "meta": {"doctype_value": EMPLOYEE_DOCTYPE}, "claims": claims,
             **WORK_PROFILE},
        ]}, contains=contains)
    claims = _claims(["given_name"], ["family_name"], ["organisation", "orgnr"], values={2: [digits]})
    if roles is not None:
        claims.append({"path": ["roles", None], "values": list(roles)})
    return Profile("employee-role", {"credentials": [
        {"id": "employee", "format": SD_JWT_VC, "meta": {"vct_values": [EMPLOYEE_VCT]}, "claims": claims,
         **WORK_PROFILE},
    ]})


def _until_optional(claims: list[dict[str, Any]]) -> dict[str, Any]:
    """``claims`` with ids and ``claim_sets`` (OpenID4VP 1.0 §6.4.1): the last claim (``valid_until``) is asked for
    but optional, as a mandate by law (a guardianship without end date) has none."""
    for i, c in enumerate(claims):
        c["id"] = f"c{i}"
    ids = [c["id"] for c in claims]
    return {"claims": claims, "claim_sets": [ids, ids[:-1]]}


def mandate(params: Mapping[str, Any]) -> Profile:
    scope = params.get("scope")
    if not isinstance(scope, str) or not scope:
        raise InvalidRequest("the mandate profile needs the parameter scope (a service area such as nav:arbeid)")
    if _one_format(params) == MSO_MDOC:
        pid_ns, ns = PID_DOCTYPE, MANDATE_DOCTYPE
        return Profile("mandate", {"credentials": [
            {"id": "pid", "format": MSO_MDOC, "meta": {"doctype_value": PID_DOCTYPE},
             "claims": _claims([pid_ns, "given_name"], [pid_ns, "family_name"], [pid_ns, "birth_date"],
                               [pid_ns, "personal_administrative_number"])},
            {"id": "mandate", "format": MSO_MDOC, "meta": {"doctype_value": MANDATE_DOCTYPE},
             **_until_optional(_claims([ns, "principal_given_name"], [ns, "principal_family_name"],
                                       [ns, "agent_personal_administrative_number"], [ns, "scope_service_areas"],
                                       [ns, "legal_basis"], [ns, "valid_from"], [ns, "valid_until"]))},
        ]}, same_holder=("pid", "mandate"),
            contains=(Contains("mandate", (ns, "scope_service_areas"), (scope,), "mandate.scope"),))
    return Profile("mandate", {"credentials": [
        {"id": "pid", "format": SD_JWT_VC, "meta": {"vct_values": [PID_VCT]},
         "claims": _claims(["given_name"], ["family_name"], ["birthdate"], ["personal_administrative_number"])},
        {"id": "mandate", "format": SD_JWT_VC, "meta": {"vct_values": [MANDATE_VCT]},
         **_until_optional(_claims(["principal", "given_name"], ["principal", "family_name"],
                                   ["agent", "personal_administrative_number"], ["scope", "service_areas", None],
                                   ["legal_basis"], ["valid_from"], ["valid_until"], values={3: [scope]}))},
    ]}, same_holder=("pid", "mandate"))


PROFILES = {
    "pid-basic": pid_basic,
    "age-over-18": age_over(18),
    "age-over-13": age_over(13),
    "employee-role": employee_role,
    "mandate": mandate,
}


def build_profile(name: str, params: Mapping[str, Any] | None = None) -> Profile:
    """The profile ``name`` with ``params``; :class:`InvalidRequest` for an unknown name or bad parameters."""
    factory = PROFILES.get(name)
    if factory is None:
        raise InvalidRequest(f"unknown profile {name!r}; known: {', '.join(PROFILES)}")
    profile: Profile = factory(params or {})
    return profile
