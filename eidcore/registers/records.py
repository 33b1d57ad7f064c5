"""Register records: the immutable values the population and organisation registers hand out.

Modelled on Folkeregisteret (Skatteetaten, ``PersondokumentMedHistorikk_v1BETA2``): identifiers are a list
with status (``folkeregisteridentifikator{identifikatortype, status ∈ iBruk/opphoert}``), a person may have
none (then the stable ``person_id`` is their unique identity), foreign identifiers carry their issuing country
(``utenlandskPersonidentifikasjon``), parental responsibility is its own relation (``foreldreansvar``, never
inferred from parenthood) and guardianship carries its scope as service areas
(``vergemaalEllerFremtidsfullmakt.verge.tjenesteomraade[]{vergeTjenestevirksomhet, vergeTjenesteoppgave}``).
Organisations and employee roles follow Enhetsregisteret and Altinn 3 (role codes, access packages
``urn:altinn:accesspackage:<slug>``).

These are frozen pydantic models, never ORM rows: callers cannot write through them.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from eidcore.clock import Clock

__all__ = [
    "ACCESS_PACKAGE_PREFIX",
    "ADMIN_ACCESS_PACKAGES",
    "Address",
    "BirthPlace",
    "Child",
    "Employee",
    "Employment",
    "ForeignIdentifier",
    "Guardianship",
    "GuardianshipKind",
    "Guardianships",
    "Identifier",
    "IdentifierStatus",
    "IdentifierType",
    "IdentityVerification",
    "NewPerson",
    "Organisation",
    "ParentalResponsibility",
    "Person",
    "PersonStatus",
    "ResponsibilityKind",
    "Responsible",
    "ServiceArea",
    "age_on",
]

IdentifierType = Literal["F", "D", "other"]
"""F-number (fødselsnummer), D-number, or another Norwegian identifier kept for history."""

IdentifierStatus = Literal["in_use", "ceased"]
"""Folkeregisteret ``iBruk`` / ``opphoert``: a D-number replaced by an F-number is ``ceased``."""

PersonStatus = Literal[
    "resident", "emigrated", "missing", "dead", "ceased", "birth_registered", "temporary", "inactive"
]
"""Folkeregisteret ``folkeregisterpersonstatus``: bosatt, utflyttet, forsvunnet, doed, opphoert,
foedselsregistrert, midlertidig, inaktiv."""

IdentityVerification = Literal["no_status", "not_verified", "verified"]
"""Folkeregisteret ``identitetsgrunnlagstatus``: ingenStatus, ikkeKontrollert, kontrollert."""

ResponsibilityKind = Literal["joint", "mother", "father", "co_mother", "other", "unknown"]
"""Folkeregisteret ``foreldreansvar.ansvar``: felles, mor, far, medmor, andre, ukjent."""

GuardianshipKind = Literal[
    "unaccompanied_minor_asylum_seeker",
    "unaccompanied_minor_refugee",
    "adult",
    "temporary_adult",
    "minor",
    "temporary_minor",
    "management_outside_guardianship",
    "confirmed_lasting_power_of_attorney",
]
"""Folkeregisteret ``vergemaaltype``: ensligMindreaarigAsylsoeker, ensligMindreaarigFlyktning, voksen,
midlertidigForVoksen, mindreaarig, midlertidigForMindreaarig, forvaltningUtenforVergemaal,
stadfestetFremtidsfullmakt."""

ACCESS_PACKAGE_PREFIX = "urn:altinn:accesspackage:"
"""Altinn 3 access packages (tilgangspakker)."""

ADMIN_ACCESS_PACKAGES: frozenset[str] = frozenset(
    {ACCESS_PACKAGE_PREFIX + "hovedadministrator", ACCESS_PACKAGE_PREFIX + "tilgangsstyrer"}
)
"""Access packages that let an employee administer other employees' roles (Altinn: admin rights only)."""

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day`` (a person born 29 February turns a year older on 1 March)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


class Identifier(BaseModel):
    """One Norwegian identifier of a person, with its status."""

    model_config = _FROZEN

    type: IdentifierType
    value: str
    status: IdentifierStatus


class ForeignIdentifier(BaseModel):
    """A foreign person identification (``utenlandskPersonidentifikasjon``)."""

    model_config = _FROZEN

    number: str
    type: str = Field(description="passport, national_id, tax_id, social_security, eu_pid, ...")
    issuing_country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")


class BirthPlace(BaseModel):
    """Place of birth (PID ``place_of_birth``: country alpha-2, region, locality)."""

    model_config = _FROZEN

    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    region: str | None = None
    locality: str | None = None


class Address(BaseModel):
    """Residential address (PID ``address`` / ``resident_*``)."""

    model_config = _FROZEN

    street: str | None = None
    house_number: str | None = None
    postal_code: str | None = None
    city: str | None = None
    region: str | None = None
    country: str = Field(default="NO", pattern=r"^[A-Z]{2}$")

    @property
    def formatted(self) -> str:
        """One line, e.g. ``Storgata 12, 0155 Oslo, NO``."""
        line1 = " ".join(p for p in (self.street, self.house_number) if p)
        line2 = " ".join(p for p in (self.postal_code, self.city) if p)
        return ", ".join(p for p in (line1, line2, self.country) if p)


class Person(BaseModel):
    """A person in the population register, with every identifier (in use and ceased)."""

    model_config = _FROZEN

    person_id: str = Field(description="stable internal id; the unique identity of people without F/D-number")
    alias: str | None = Field(default=None, description="stable story alias of a fixed synthetic person")
    given_name: str
    family_name: str
    birth_date: date
    birth_place: BirthPlace
    nationalities: tuple[str, ...]
    address: Address | None
    status: PersonStatus
    identity_verification: IdentityVerification
    identifiers: tuple[Identifier, ...] = ()
    foreign_identifiers: tuple[ForeignIdentifier, ...] = ()

    @property
    def national_id(self) -> str | None:
        """The F- or D-number in use (an F-number wins), or None for a person without a Norwegian number."""
        in_use = [i for i in self.identifiers if i.status == "in_use" and i.type in ("F", "D")]
        in_use.sort(key=lambda i: i.type != "F")
        return in_use[0].value if in_use else None

    @property
    def national_id_type(self) -> IdentifierType | None:
        value = self.national_id
        return next((i.type for i in self.identifiers if i.value == value), None) if value else None

    @property
    def ceased_identifiers(self) -> tuple[Identifier, ...]:
        return tuple(i for i in self.identifiers if i.status == "ceased")

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age(self, clock: Clock) -> int:
        """Age in completed years on the clock's (UTC) date."""
        return age_on(self.birth_date, clock.now().date())


class ServiceArea(BaseModel):
    """A guardianship service area (``tjenesteomraade``): agency and task, e.g. (nav, arbeid)."""

    model_config = _FROZEN

    agency: str = Field(description="vergeTjenestevirksomhet, e.g. nav, kartverket, skatteetaten")
    task: str = Field(description="vergeTjenesteoppgave, e.g. arbeid, arvPrivatSkifteOgUskifte")

    @property
    def code(self) -> str:
        """``agency:task``, the form used in mandate scopes."""
        return f"{self.agency}:{self.task}"


def _active(valid_from: date | None, valid_to: date | None, day: date) -> bool:
    return (valid_from is None or valid_from <= day) and (valid_to is None or day < valid_to)


class ParentalResponsibility(BaseModel):
    """Who has parental responsibility for a child, and how (``foreldreansvar``)."""

    model_config = _FROZEN

    id: int
    parent_id: str
    child_id: str
    kind: ResponsibilityKind
    valid_from: date | None = None
    valid_to: date | None = Field(default=None, description="exclusive end; None while in force")

    def is_active(self, day: date) -> bool:
        return _active(self.valid_from, self.valid_to, day)


class Guardianship(BaseModel):
    """A guardianship (``vergemaal``): guardian, ward, kind, scope as service areas, validity."""

    model_config = _FROZEN

    id: int
    guardian_id: str
    ward_id: str
    kind: GuardianshipKind
    office: str = Field(description="embete, the responsible Statsforvalter office")
    scope: tuple[ServiceArea, ...]
    valid_from: date
    valid_to: date | None = Field(default=None, description="exclusive end; None while in force")

    def is_active(self, day: date) -> bool:
        return _active(self.valid_from, self.valid_to, day)


class Guardianships(BaseModel):
    """A person's guardianships in both directions."""

    model_config = _FROZEN

    as_guardian: tuple[Guardianship, ...]
    as_ward: tuple[Guardianship, ...]


class Child(BaseModel):
    """A child a parent is responsible for, with the kind of responsibility."""

    model_config = _FROZEN

    person: Person
    responsibility: ParentalResponsibility


class Responsible(BaseModel):
    """Someone who may act for a person by law: parental responsibility or guardianship."""

    model_config = _FROZEN

    person: Person
    basis: Literal["parental_responsibility", "guardianship"]
    parental_responsibility: ParentalResponsibility | None = None
    guardianship: Guardianship | None = None


class Organisation(BaseModel):
    """An organisation in Enhetsregisteret (synthetic here)."""

    model_config = _FROZEN

    orgnr: str = Field(pattern=r"^\d{9}$")
    name: str
    form: str = Field(description="organisasjonsform code, e.g. KOMM, HF, FLI, AS, ORGL")

    @property
    def iso6523(self) -> str:
        """ISO 6523 identifier ``0192:<orgnr>`` (0192 = Enhetsregisteret)."""
        return f"0192:{self.orgnr}"


class Employment(BaseModel):
    """A person's employment with roles (Altinn role codes / CCR role URNs) and access packages."""

    model_config = _FROZEN

    id: int
    person_id: str
    orgnr: str
    title: str
    roles: tuple[str, ...]
    access_packages: tuple[str, ...]
    active: bool
    start_date: date
    end_date: date | None = None

    @property
    def can_administer_roles(self) -> bool:
        """True when one of the admin access packages (Hovedadministrator, Tilgangsstyrer) is held."""
        return self.active and bool(ADMIN_ACCESS_PACKAGES & set(self.access_packages))


class Employee(BaseModel):
    """An employee of an organisation: the person with the employment."""

    model_config = _FROZEN

    person: Person
    employment: Employment


class NewPerson(BaseModel):
    """Input to :meth:`PopulationRegister.create_person` (e.g. a service desk registering someone)."""

    model_config = _FROZEN

    given_name: str = Field(min_length=1, max_length=200)
    family_name: str = Field(min_length=1, max_length=200)
    birth_date: date
    birth_place: BirthPlace = BirthPlace()
    nationalities: tuple[str, ...] = ()
    address: Address | None = None
    status: PersonStatus = "resident"
    identity_verification: IdentityVerification = "not_verified"
    national_id: str | None = Field(default=None, description="an F- or D-number, validated; None = no number")
    foreign_identifiers: tuple[ForeignIdentifier, ...] = ()
    alias: str | None = None
