"""Credential types: loads and validates ``specs/credentials/<type>/`` into typed models.

Each folder is data, not code:

- ``credential.json``: id, vct, formats, scope, required level of assurance, which registers fill it, default
  and maximum technical validity, batch policy, and the ISO/IEC 18013-5 mdoc docType with its namespace
  elements (each element names the SD-JWT VC claim path it carries and its CBOR type);
- ``type-metadata.json``: SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc §6: ``vct``, ``display``
  with ``locale``/``name``/``rendering``, ``claims[{path, display[{locale, label}], sd, mandatory}]``), with
  display texts in nb, nn and en for the type and every claim;
- ``schema.json``: a JSON Schema (2020-12) of the claims;
- ``example.json``: an example claim set that must validate against the schema.

Also the PID claim mapping (:func:`pid_claims`), from a population-register person to the EUDI PID Rulebook
claims (ARF Annex 3.01, SD-JWT VC encoding §4; the mdoc elements follow from the folder's mapping, §3).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal, TypeVar

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from eidcore.clock import Clock
from eidcore.errors import CredentialTypeSpecError, InvalidClaim, UnknownCredentialType
from eidcore.registers.records import Person, age_on

__all__ = [
    "PID_AGE_THRESHOLDS",
    "REQUIRED_LOCALES",
    "Batch",
    "ClaimDisplay",
    "ClaimMetadata",
    "ClaimPath",
    "CredentialType",
    "CredentialTypes",
    "MdocElement",
    "MdocSpec",
    "TypeDisplay",
    "TypeMetadata",
    "Validity",
    "default_specs_dir",
    "load_credential_types",
    "pid_claims",
]

REQUIRED_LOCALES: Final = ("nb", "nn", "en")
"""Every type and every claim has display texts in these locales."""

PID_AGE_THRESHOLDS: Final = (13, 15, 18)
"""The ``age_over_NN`` thresholds the Norwegian PID carries."""

ClaimPath = tuple[str | int | None, ...]
"""An SD-JWT VC claim path (draft-ietf-oauth-sd-jwt-vc, claim path pointer): names, array indexes, null = all."""

MdocType = Literal["tstr", "bool", "uint", "full-date", "tdate", "map", "array", "bstr"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


# ------------------------------------------------------------------------------------------------
# SD-JWT VC Type Metadata (draft-ietf-oauth-sd-jwt-vc §6)
# ------------------------------------------------------------------------------------------------


class ClaimDisplay(BaseModel):
    """``claims[].display[]``: a label (and description) in one locale."""

    model_config = _FROZEN

    locale: str
    label: str
    description: str | None = None


class ClaimMetadata(BaseModel):
    """``claims[]``: path, display, ``sd`` (always / allowed / never, default allowed), ``mandatory``."""

    model_config = _FROZEN

    path: ClaimPath = Field(min_length=1)
    display: tuple[ClaimDisplay, ...] = ()
    sd: Literal["always", "allowed", "never"] = "allowed"
    mandatory: bool = False
    svg_id: str | None = None


class TypeDisplay(BaseModel):
    """``display[]``: the type's name, description and rendering in one locale."""

    model_config = ConfigDict(frozen=True, extra="allow")

    locale: str
    name: str
    description: str | None = None
    rendering: dict[str, Any] | None = None


class TypeMetadata(BaseModel):
    """SD-JWT VC Type Metadata document."""

    model_config = ConfigDict(frozen=True, extra="allow")

    vct: str
    name: str | None = None
    description: str | None = None
    extends: str | None = None
    display: tuple[TypeDisplay, ...] = ()
    claims: tuple[ClaimMetadata, ...] = ()


# ------------------------------------------------------------------------------------------------
# credential.json
# ------------------------------------------------------------------------------------------------


class MdocElement(BaseModel):
    """One mdoc data element: its identifier, the SD-JWT VC claim path it carries, its CBOR type."""

    model_config = _FROZEN

    element: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    path: ClaimPath = Field(min_length=1)
    type: MdocType


class MdocSpec(BaseModel):
    """The mdoc docType and its namespaces (ISO/IEC 18013-5 §7.1, §8.3.2.1.2.2)."""

    model_config = _FROZEN

    doctype: str
    namespaces: dict[str, tuple[MdocElement, ...]]


class Validity(BaseModel):
    """Technical validity (``nbf``..``exp`` / ``validFrom``..``validUntil``) and optional administrative validity."""

    model_config = _FROZEN

    default_seconds: int = Field(gt=0)
    max_seconds: int = Field(gt=0)
    administrative_days: int | None = Field(default=None, gt=0)

    @property
    def default(self) -> timedelta:
        return timedelta(seconds=self.default_seconds)


class Batch(BaseModel):
    """Batch issuance policy (OpenID4VCI ``batch_credential_issuance``)."""

    model_config = _FROZEN

    recommended_size: int = Field(ge=1)
    single_use: bool


class _Descriptor(BaseModel):
    model_config = _FROZEN

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    vct: str
    formats: tuple[Literal["dc+sd-jwt", "mso_mdoc"], ...] = Field(min_length=1)
    scope: str
    required_loa: Literal["low", "substantial", "high"]
    sources: tuple[str, ...]
    validity: Validity
    batch: Batch
    carries_status: bool = False
    """Every credential of this type has a Token Status List entry (``status`` claim / MSO ``status``,
    draft-ietf-oauth-status-list §6): a verifier refuses one without it (it could not be checked for revocation)."""
    notes: tuple[str, ...] = ()
    mdoc: MdocSpec


class CredentialType(_Descriptor):
    """One credential type, loaded from its folder and cross-checked."""

    type_metadata: TypeMetadata
    claims_schema: dict[str, Any]
    example: dict[str, Any]
    _type_metadata_bytes: bytes = PrivateAttr(default=b"")

    # -- lookups -----------------------------------------------------------------------------------

    @property
    def doctype(self) -> str:
        return self.mdoc.doctype

    @property
    def type_metadata_bytes(self) -> bytes:
        """The exact bytes of ``type-metadata.json`` (what ``vct#integrity`` covers)."""
        return self._type_metadata_bytes

    def type_metadata_integrity(self) -> str:
        """W3C SRI string ``sha256-<base64>`` over the type metadata bytes (SD-JWT VC ``vct#integrity``)."""
        digest = hashlib.sha256(self._type_metadata_bytes).digest()
        return "sha256-" + base64.b64encode(digest).decode("ascii")

    def claim(self, path: ClaimPath | list[str | int | None]) -> ClaimMetadata:
        """The claim metadata for ``path`` (InvalidClaim if the type does not define it)."""
        wanted = tuple(path)
        for c in self.type_metadata.claims:
            if c.path == wanted:
                return c
        raise InvalidClaim(f"{self.id} has no claim {list(wanted)!r}")

    @property
    def claim_paths(self) -> tuple[ClaimPath, ...]:
        return tuple(c.path for c in self.type_metadata.claims)

    def selectively_disclosable(self, path: ClaimPath | list[str | int | None]) -> bool:
        """True unless the claim's ``sd`` is ``never`` (``always`` and ``allowed`` are disclosed selectively)."""
        return self.claim(path).sd != "never"

    @property
    def sd_paths(self) -> tuple[ClaimPath, ...]:
        """Paths the issuer makes selectively disclosable (``sd`` always or allowed)."""
        return tuple(c.path for c in self.type_metadata.claims if c.sd != "never")

    @property
    def mandatory_paths(self) -> tuple[ClaimPath, ...]:
        return tuple(c.path for c in self.type_metadata.claims if c.mandatory)

    def display(self, locale: str | None = None) -> TypeDisplay:
        """The type's display in ``locale`` (e.g. ``nb``, ``nn-NO``, ``en-GB``) with fallback, see :func:`_pick`."""
        return _pick(self.type_metadata.display, locale)

    def claim_display(self, path: ClaimPath | list[str | int | None], locale: str | None = None) -> ClaimDisplay:
        """A claim's label and description in ``locale`` with fallback."""
        return _pick(self.claim(path).display, locale)

    def mdoc_element(self, namespace: str, element: str) -> MdocElement:
        for e in self.mdoc.namespaces.get(namespace, ()):
            if e.element == element:
                return e
        raise InvalidClaim(f"{self.id} has no mdoc element {namespace}/{element}")

    # -- claim values ------------------------------------------------------------------------------

    def validate_claims(self, claims: Mapping[str, Any]) -> None:
        """Check a claim set against ``schema.json``; InvalidClaim names the first failing location."""
        validator = jsonschema.Draft202012Validator(self.claims_schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(dict(claims)))
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise InvalidClaim(f"{self.id} claim {where}: {error.message}", path=list(error.absolute_path))

    def mdoc_namespaces(self, claims: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """The mdoc elements for an SD-JWT-shaped claim set (ISO/IEC 18013-5 IssuerNameSpaces values).

        Elements whose claim is absent are left out. ``full-date`` values become :class:`datetime.date` and
        ``tdate`` values timezone-aware :class:`datetime.datetime` (eidcore.cbor tags them 1004 and 0).
        """
        out: dict[str, dict[str, Any]] = {}
        for ns, elements in self.mdoc.namespaces.items():
            values: dict[str, Any] = {}
            for e in elements:
                found, value = _lookup(claims, e.path)
                if found:
                    values[e.element] = _to_mdoc(value, e)
            if values:
                out[ns] = values
        return out


_D = TypeVar("_D", TypeDisplay, ClaimDisplay)
_NORWEGIAN: Final[dict[str, tuple[str, ...]]] = {"no": ("nb", "nn"), "nb": ("nb", "nn"), "nn": ("nn", "nb")}


def _lookup(claims: Mapping[str, Any], path: ClaimPath) -> tuple[bool, Any]:
    node: Any = claims
    for part in path:
        if isinstance(part, str) and isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            node = node[part]
        else:
            return False, None
    return True, node


def _to_mdoc(value: Any, e: MdocElement) -> Any:
    try:
        if e.type == "full-date":
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if e.type == "tdate":
            if isinstance(value, datetime):
                return value.astimezone(UTC)
            return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError as exc:
        raise InvalidClaim(f"mdoc element {e.element}: not a {e.type}") from exc
    checks: dict[str, type | tuple[type, ...]] = {
        "tstr": str,
        "bool": bool,
        "map": dict,
        "array": list,
        "bstr": bytes,
    }
    if e.type == "uint":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise InvalidClaim(f"mdoc element {e.element}: not a uint")
        return value
    if not isinstance(value, checks[e.type]):
        raise InvalidClaim(f"mdoc element {e.element}: not a {e.type}")
    return value


def _pick(entries: tuple[_D, ...], locale: str | None) -> _D:
    """Locale fallback: exact, then language (``nb-NO`` -> ``nb``), then Norwegian sibling (``no``/``nb``/``nn``),
    then ``en``, then the first entry."""
    if not entries:
        raise InvalidClaim("no display entries")
    by_locale: dict[str, _D] = {e.locale.lower(): e for e in entries}
    wanted: str = (locale or "en").lower().replace("_", "-")
    lang: str = wanted.split("-", 1)[0]
    candidates: list[str] = [wanted, lang, *_NORWEGIAN.get(lang, ()), "en"]
    for candidate in candidates:
        if candidate in by_locale:
            return by_locale[candidate]
    return entries[0]


class CredentialTypes:
    """All credential types, with lookups by id, vct and docType."""

    def __init__(self, types: Mapping[str, CredentialType], directory: Path) -> None:
        self._by_id = dict(types)
        self.directory = directory
        self._by_vct = {t.vct: t for t in self._by_id.values()}
        self._by_doctype = {t.doctype: t for t in self._by_id.values()}

    def __iter__(self) -> Iterator[CredentialType]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, type_id: object) -> bool:
        return type_id in self._by_id

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self._by_id)

    def get(self, type_id: str) -> CredentialType:
        """The type with this id (``pid``, ``employee_role``, ``youth``, ``mandate``, ``guardian_consent``)."""
        try:
            return self._by_id[type_id]
        except KeyError:
            raise UnknownCredentialType(f"no credential type {type_id!r}") from None

    @property
    def status_required(self) -> frozenset[str]:
        """The ``vct`` and docType values of the types that carry status (:attr:`CredentialType.carries_status`)."""
        return frozenset(v for t in self._by_id.values() if t.carries_status for v in (t.vct, t.doctype))

    def by_vct(self, vct: str) -> CredentialType:
        """The type whose SD-JWT VC ``vct`` this is."""
        try:
            return self._by_vct[vct]
        except KeyError:
            raise UnknownCredentialType("no credential type with this vct") from None

    def by_doctype(self, doctype: str) -> CredentialType:
        """The type whose mdoc ``docType`` this is."""
        try:
            return self._by_doctype[doctype]
        except KeyError:
            raise UnknownCredentialType("no credential type with this docType") from None


# ------------------------------------------------------------------------------------------------
# Loading
# ------------------------------------------------------------------------------------------------


def default_specs_dir() -> Path:
    """``specs/credentials`` of the source tree (works for an editable install and for a checkout)."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "specs" / "credentials", Path.cwd() / "specs" / "credentials"):
        if candidate.is_dir():
            return candidate
    raise CredentialTypeSpecError(
        "cannot find specs/credentials: run from the Lommebok source tree or pass the directory explicitly"
    )


def _read_json(folder: Path, name: str) -> tuple[Any, bytes]:
    path = folder / name
    try:
        raw = path.read_bytes()
    except OSError:
        raise CredentialTypeSpecError(f"{folder.name}: missing {name}") from None
    try:
        return json.loads(raw), raw
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CredentialTypeSpecError(f"{folder.name}/{name}: not valid JSON ({exc})") from None


def _load_one(folder: Path) -> CredentialType:
    descriptor, _ = _read_json(folder, "credential.json")
    metadata, metadata_raw = _read_json(folder, "type-metadata.json")
    schema, _ = _read_json(folder, "schema.json")
    example, _ = _read_json(folder, "example.json")
    try:
        ct = CredentialType.model_validate(
            {**descriptor, "type_metadata": metadata, "claims_schema": schema, "example": example}
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        raise CredentialTypeSpecError(f"{folder.name}: {loc}: {first['msg']}") from None
    ct._type_metadata_bytes = metadata_raw
    _check(folder.name, ct)
    return ct


def _check(name: str, ct: CredentialType) -> None:
    def fail(msg: str) -> None:
        raise CredentialTypeSpecError(f"{name}: {msg}")

    if ct.id != name:
        fail(f"id {ct.id!r} differs from the folder name")
    if ct.type_metadata.vct != ct.vct:
        fail("type-metadata.json vct differs from credential.json vct")
    if ct.validity.default_seconds > ct.validity.max_seconds:
        fail("default validity exceeds the maximum")
    for locale in REQUIRED_LOCALES:
        if not any(d.locale == locale for d in ct.type_metadata.display):
            fail(f"type display has no {locale!r} entry")
    paths = set()
    for c in ct.type_metadata.claims:
        if c.path in paths:
            fail(f"claim {list(c.path)} is listed twice")
        paths.add(c.path)
        if c.path[0] in ("iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status") and c.sd != "never":
            fail(f"claim {c.path[0]} must never be selectively disclosable (SD-JWT VC §3.2.2)")
        for locale in REQUIRED_LOCALES:
            if not any(d.locale == locale for d in c.display):
                fail(f"claim {list(c.path)} has no {locale!r} label")
    try:
        jsonschema.Draft202012Validator.check_schema(ct.claims_schema)
    except jsonschema.SchemaError as exc:
        fail(f"schema.json is not a valid JSON Schema: {exc.message}")
    top_level = set(ct.claims_schema.get("properties", {}))
    for c in ct.type_metadata.claims:
        if isinstance(c.path[0], str) and top_level and c.path[0] not in top_level:
            fail(f"claim {list(c.path)} is not in schema.json")
    try:
        ct.validate_claims(ct.example)
    except InvalidClaim as exc:
        fail(f"example.json does not validate: {exc.description}")
    seen: set[tuple[str, str]] = set()
    for ns, elements in ct.mdoc.namespaces.items():
        for e in elements:
            if (ns, e.element) in seen:
                fail(f"mdoc element {ns}/{e.element} is listed twice")
            seen.add((ns, e.element))
            if e.path not in paths:
                fail(f"mdoc element {e.element} maps to {list(e.path)}, which type-metadata.json does not define")
    try:
        ct.mdoc_namespaces(ct.example)
    except InvalidClaim as exc:
        fail(f"example.json does not map to mdoc: {exc.description}")


@lru_cache(maxsize=8)
def _load_cached(directory: Path) -> CredentialTypes:
    if not directory.is_dir():
        raise CredentialTypeSpecError(f"{directory} is not a directory")
    types: dict[str, CredentialType] = {}
    for folder in sorted(p for p in directory.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        types[folder.name] = _load_one(folder)
    if not types:
        raise CredentialTypeSpecError(f"{directory} holds no credential types")
    vcts = [t.vct for t in types.values()]
    doctypes = [t.doctype for t in types.values()]
    if len(set(vcts)) != len(vcts) or len(set(doctypes)) != len(doctypes):
        raise CredentialTypeSpecError("two credential types share a vct or a docType")
    return CredentialTypes(types, directory)


def load_credential_types(path: Path | str | None = None) -> CredentialTypes:
    """Load and validate every folder under ``path`` (default: the repo's ``specs/credentials``); cached.

    Raises :class:`~eidcore.errors.CredentialTypeSpecError` naming the folder and what is wrong.
    """
    directory = Path(path).resolve() if path is not None else default_specs_dir()
    return _load_cached(directory)


# ------------------------------------------------------------------------------------------------
# PID claims from the population register (EUDI PID Rulebook §2, §4)
# ------------------------------------------------------------------------------------------------

_MAX_TSTR: Final = 150


def _trunc(value: str) -> str:
    return value[:_MAX_TSTR]


def pid_claims(
    person: Person,
    *,
    clock: Clock,
    issuing_authority: str,
    issuing_country: str = "NO",
    expiry_date: date | None = None,
    types: CredentialTypes | None = None,
) -> dict[str, Any]:
    """The PID claims for ``person`` in the SD-JWT VC encoding (EUDI PID Rulebook §4; ARF Annex 3.01).

    - ``personal_administrative_number`` is the F- or D-number in use, and absent for a person without one;
    - ``age_equal_or_over`` {13, 15, 18}, ``age_in_years``, ``age_birth_year`` (Norwegian domestic attributes,
      see ``specs/credentials/pid/credential.json``), computed on the clock's UTC date;
    - names truncated to 150 characters; ``place_of_birth``, ``nationalities`` and ``address`` only when known;
    - ``date_of_issuance`` today, ``date_of_expiry`` ``expiry_date`` or today + the type's administrative validity.

    The result is checked against ``specs/credentials/pid/schema.json`` (InvalidClaim if it does not validate).
    Use :meth:`CredentialType.mdoc_namespaces` for the mdoc elements.
    """
    pid = (types or load_credential_types()).get("pid")
    today = clock.now().astimezone(UTC).date()
    age = age_on(person.birth_date, today)
    claims: dict[str, Any] = {
        "family_name": _trunc(person.family_name),
        "given_name": _trunc(person.given_name),
        "birthdate": person.birth_date.isoformat(),
    }
    birth_place = {
        k: (_trunc(v) if k != "country" else v) for k, v in person.birth_place.model_dump().items() if v is not None
    }
    if birth_place:
        claims["place_of_birth"] = birth_place
    if person.nationalities:
        claims["nationalities"] = list(dict.fromkeys(person.nationalities))
    if person.address is not None:
        a = person.address
        address = {
            "formatted": a.formatted,
            "street_address": a.street,
            "house_number": a.house_number,
            "postal_code": a.postal_code,
            "locality": a.city,
            "region": a.region,
            "country": a.country,
        }
        claims["address"] = {k: _trunc(v) for k, v in address.items() if v}
    if person.national_id is not None:
        claims["personal_administrative_number"] = person.national_id
    claims["age_equal_or_over"] = {str(n): age >= n for n in PID_AGE_THRESHOLDS}
    claims["age_in_years"] = age
    claims["age_birth_year"] = person.birth_date.year
    claims["date_of_issuance"] = today.isoformat()
    if expiry_date is None:
        days = pid.validity.administrative_days or 365
        expiry_date = today + timedelta(days=days)
    claims["date_of_expiry"] = expiry_date.isoformat()
    claims["issuing_authority"] = _trunc(issuing_authority)
    claims["issuing_country"] = issuing_country
    pid.validate_claims(claims)
    return claims
