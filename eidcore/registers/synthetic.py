"""The synthetic population: a deterministic generator and an idempotent seeder for the embedded registers.

Every Norwegian identity number is a Skatteetaten Tenor synthetic number (month +80, made by
:func:`eidcore.identity.generate_synthetic`) and every organisation number comes from
:func:`eidcore.identity.generate_orgnr` (first digit 2 or 3), so no real person or organisation is ever
represented. Foreign identifiers carry a ``TEST-`` prefix for the same reason. Names are Norwegian-looking,
combined at random from common first names and surnames.

The population is a function of the seed and the seeding day (ages are exact on that day): families with
children of all ages (under 13 and 13-17 included) and the kind of parental responsibility (joint, mother,
father, other), people with D-numbers (some later given an F-number, the D-number kept as ceased), people
without any Norwegian number (the person id is their unique identity), people with foreign identifiers, a
person under guardianship with a service-area scope, and organisations (a municipality, a hospital trust, a
sports club, a company) whose employees hold Altinn role codes and access packages, including an administrator
(``urn:altinn:accesspackage:hovedadministrator``) who may administer roles.

A fixed cast of *story persons* (:data:`STORY_PERSONS`) can be looked up by alias
(:meth:`~eidcore.registers.sql.SqlPopulationRegister.get_by_alias`) by tests and the demo.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final, Literal

from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.identity import generate_orgnr, generate_synthetic
from eidcore.registers.models import (
    RegEmployment,
    RegForeignIdentifier,
    RegGuardianship,
    RegIdentifier,
    RegMeta,
    RegOrganisation,
    RegParentalResponsibility,
    RegPerson,
)
from eidcore.registers.records import ACCESS_PACKAGE_PREFIX
from eidcore.storage import Database

__all__ = [
    "DEFAULT_SEED",
    "STORY_ORGANISATIONS",
    "STORY_PERSONS",
    "SeedResult",
    "SyntheticPopulation",
    "generate_population",
    "seed_register",
]

DEFAULT_SEED: Final = 20261128
"""The seed ``lommebok register seed`` and the embedded default use."""

STORY_PERSONS: Final[dict[str, str]] = {
    "kari": "adult (42) with an F-number; joint parental responsibility with ola for emma (10) and jonas (15)",
    "ola": "adult (44) with an F-number; kari's partner, joint parental responsibility for emma and jonas",
    "emma": "child (10), F-number; below the consent age of 13, parents kari and ola",
    "jonas": "youth (15), F-number; between 13 and 18, parents kari and ola",
    "maja": "child (6), F-number; only her father (erik) has parental responsibility (kind father)",
    "erik": "adult (38), F-number; sole parental responsibility (father) for maja",
    "piotr": "adult (35) with a D-number in use, Polish national, foreign identifier (PL national id)",
    "anna": "adult (29); had a D-number (now ceased) and was later given an F-number; Swedish national",
    "amir": "adult (31) without any Norwegian number: the person id is his unique identity; foreign passport",
    "ingrid": "adult (51), F-number; employee (case officer) of the municipality with roles and access packages",
    "per": "adult (57), F-number; the municipality's administrator (hovedadministrator), may administer roles",
    "sigrid": "adult (68), F-number; under guardianship (adult), scope: NAV work, Skatteetaten, Kartverket",
    "terje": "adult (46), F-number; sigrid's guardian",
    "henrik": "adult (40), F-number issued under the 2032 check-digit rule; doctor at the hospital trust",
}
"""Alias -> what the story person is for. Ages hold on the seeding day."""

STORY_ORGANISATIONS: Final[dict[str, tuple[str, str]]] = {
    "municipality": ("Fjordvik kommune", "KOMM"),
    "hospital": ("Helse Nordvest HF", "HF"),
    "sports_club": ("Fjordvik Idrettslag", "FLI"),
    "company": ("Nordlys Konsulent AS", "AS"),
}
"""Key -> (name, organisasjonsform) of the synthetic organisations, in creation order."""

_FEMALE: Final = (
    "Anne",
    "Inger",
    "Kari",
    "Marit",
    "Ingrid",
    "Liv",
    "Eva",
    "Berit",
    "Astrid",
    "Bjørg",
    "Hilde",
    "Anna",
    "Solveig",
    "Marianne",
    "Randi",
    "Ida",
    "Nina",
    "Maria",
    "Elisabeth",
    "Kristin",
    "Silje",
    "Tone",
    "Nora",
    "Emma",
    "Ella",
    "Sofie",
    "Olivia",
    "Maja",
    "Ingeborg",
    "Frida",
    "Sara",
    "Thea",
    "Hedda",
    "Sigrid",
    "Tuva",
)
_MALE: Final = (
    "Jan",
    "Per",
    "Bjørn",
    "Ole",
    "Lars",
    "Kjell",
    "Knut",
    "Arne",
    "Svein",
    "Thomas",
    "Hans",
    "Geir",
    "Tor",
    "Morten",
    "Terje",
    "Odd",
    "Erik",
    "Martin",
    "Andreas",
    "Jon",
    "Anders",
    "Rune",
    "Trond",
    "Magnus",
    "Jakob",
    "Emil",
    "Noah",
    "Oskar",
    "Lucas",
    "Filip",
    "Aksel",
    "Henrik",
    "Olav",
    "Sander",
    "Jonas",
    "Isak",
    "Tobias",
)
_SURNAME_STEMS: Final = (
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
    "Jørgensen",
    "Halvorsen",
    "Henriksen",
    "Lund",
    "Sørensen",
    "Jakobsen",
    "Moen",
    "Gundersen",
    "Iversen",
    "Strand",
    "Solberg",
    "Svendsen",
    "Eide",
    "Knutsen",
    "Martinsen",
    "Paulsen",
    "Bakken",
    "Kristoffersen",
    "Mathisen",
    "Lie",
    "Amundsen",
    "Nguyen",
    "Rasmussen",
    "Ali",
    "Lunde",
)
_FARM_PARTS: Final = (
    ("Fjell", "Bakke", "Li", "Haug", "Vik", "Nes", "Dal", "Strand", "Ås", "Myr"),
    ("heim", "set", "land", "rud", "stad", "berg", "by", "vold", "eng", "torp"),
)
_STREET_PARTS: Final = (
    ("Fjord", "Skole", "Kirke", "Stor", "Bjørke", "Furu", "Sjø", "Elve", "Løkke", "Møller"),
    ("veien", "gata", "bakken", "stien", "lia", "vegen"),
)
_CITIES: Final = (
    ("0150", "Oslo", "Oslo"),
    ("5003", "Bergen", "Vestland"),
    ("7010", "Trondheim", "Trøndelag"),
    ("4006", "Stavanger", "Rogaland"),
    ("9008", "Tromsø", "Troms"),
    ("6002", "Ålesund", "Møre og Romsdal"),
    ("2317", "Hamar", "Innlandet"),
    ("8006", "Bodø", "Nordland"),
)
_FOREIGN: Final = (
    ("PL", "national_id"),
    ("SE", "national_id"),
    ("LT", "national_id"),
    ("DE", "national_id"),
    ("UA", "passport"),
)

_PKG: Final = ACCESS_PACKAGE_PREFIX
_CCR: Final = "urn:altinn:external-role:ccr:"

Kind = Literal["F", "D"]


@dataclass
class _Person:
    row: RegPerson
    idents: list[RegIdentifier] = field(default_factory=list)
    foreign: list[RegForeignIdentifier] = field(default_factory=list)


@dataclass
class SyntheticPopulation:
    """The generated rows, ready to insert."""

    persons: list[_Person]
    organisations: list[RegOrganisation]
    responsibilities: list[RegParentalResponsibility]
    guardianships: list[RegGuardianship]
    employments: list[RegEmployment]


@dataclass(frozen=True)
class SeedResult:
    """What :func:`seed_register` did."""

    created: bool
    seed: int
    persons: int
    organisations: int
    message: str


class _Generator:
    def __init__(self, seed: int, today: date, families: int) -> None:
        self.rng = random.Random(seed)
        self.today = today
        self.families = families
        self.used_numbers: set[str] = set()
        self.pop = SyntheticPopulation([], [], [], [], [])
        self.by_alias: dict[str, _Person] = {}
        self.orgs: dict[str, RegOrganisation] = {}

    # --- building blocks ------------------------------------------------------------------------

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def birth_date(self, age: int) -> date:
        """A birth date giving exactly ``age`` today (birthday 1-330 days ago, never 29 February)."""
        anchor = self.today - timedelta(days=self.rng.randint(1, 330))
        year = anchor.year - age
        day = min(anchor.day, 28) if anchor.month == 2 else anchor.day
        return date(year, anchor.month, day)

    def number(self, born: date, kind: Kind, *, rule: Literal["classic", "2032"] = "classic") -> str:
        while True:
            n = generate_synthetic(born, kind=kind, rng=self.rng, rule=rule)
            if n not in self.used_numbers:
                self.used_numbers.add(n)
                return n

    def surname(self) -> str:
        if self.rng.random() < 0.25:
            return self.rng.choice(_FARM_PARTS[0]) + self.rng.choice(_FARM_PARTS[1])
        return self.rng.choice(_SURNAME_STEMS)

    def given(self, sex: Literal["f", "m"]) -> str:
        names = _FEMALE if sex == "f" else _MALE
        first = self.rng.choice(names)
        if self.rng.random() < 0.15:
            second = self.rng.choice(names)
            if second != first:
                return f"{first} {second}"
        return first

    def address(self) -> dict[str, str]:
        postal, city, region = self.rng.choice(_CITIES)
        street = self.rng.choice(_STREET_PARTS[0]) + self.rng.choice(_STREET_PARTS[1])
        return {
            "street": street,
            "house_number": str(self.rng.randint(1, 120)),
            "postal_code": postal,
            "city": city,
            "region": region,
            "country": "NO",
        }

    def person(
        self,
        given: str,
        family: str,
        age: int,
        *,
        kind: Kind | None = "F",
        alias: str | None = None,
        address: dict[str, str] | None = None,
        nationalities: tuple[str, ...] = ("NO",),
        birth_country: str = "NO",
        status: str = "resident",
        verification: str = "verified",
        rule: Literal["classic", "2032"] = "classic",
    ) -> _Person:
        born = self.birth_date(age)
        city = (address or {}).get("city") if birth_country == "NO" else None
        p = _Person(
            RegPerson(
                id=self.uid(),
                alias=alias,
                given_name=given,
                family_name=family,
                birth_date=born,
                birth_country=birth_country,
                birth_locality=city,
                nationalities=list(nationalities),
                address=address,
                status=status,
                identity_verification=verification,
            )
        )
        if kind is not None:
            p.idents.append(
                RegIdentifier(person_id=p.row.id, type=kind, value=self.number(born, kind, rule=rule), status="in_use")
            )
        self.pop.persons.append(p)
        if alias:
            self.by_alias[alias] = p
        return p

    def foreign_id(self, p: _Person, country: str, type_: str) -> None:
        number = f"TEST-{country}-{self.rng.randint(10**7, 10**8 - 1)}"
        p.foreign.append(RegForeignIdentifier(person_id=p.row.id, number=number, type=type_, issuing_country=country))

    def replace_d_with_f(self, p: _Person) -> None:
        """The D-number ceases and an F-number is issued (Folkeregisteret keeps both)."""
        for ident in p.idents:
            ident.status = "ceased"
        p.idents.append(
            RegIdentifier(person_id=p.row.id, type="F", value=self.number(p.row.birth_date, "F"), status="in_use")
        )

    def responsibility(self, parent: _Person, child: _Person, kind: str) -> None:
        self.pop.responsibilities.append(
            RegParentalResponsibility(
                parent_id=parent.row.id, child_id=child.row.id, kind=kind, valid_from=child.row.birth_date
            )
        )

    def employ(self, p: _Person, org: str, title: str, roles: list[str], packages: list[str], years: int = 3) -> None:
        self.pop.employments.append(
            RegEmployment(
                person_id=p.row.id,
                orgnr=self.orgs[org].orgnr,
                title=title,
                roles=roles,
                access_packages=[_PKG + s for s in packages],
                active=True,
                start_date=self.today - timedelta(days=365 * years + self.rng.randint(0, 300)),
            )
        )

    # --- the population ---------------------------------------------------------------------------

    def organisations(self) -> None:
        used: set[str] = set()
        for key, (name, form) in STORY_ORGANISATIONS.items():
            orgnr = generate_orgnr(self.rng)
            while orgnr in used:
                orgnr = generate_orgnr(self.rng)
            used.add(orgnr)
            self.orgs[key] = RegOrganisation(orgnr=orgnr, name=name, form=form)
            self.pop.organisations.append(self.orgs[key])

    def story(self) -> None:
        home = self.address()
        kari = self.person("Kari", "Fjellheim", 42, alias="kari", address=home)
        ola = self.person("Ola", "Fjellheim", 44, alias="ola", address=home)
        emma = self.person("Emma", "Fjellheim", 10, alias="emma", address=home)
        jonas = self.person("Jonas", "Fjellheim", 15, alias="jonas", address=home)
        for child in (emma, jonas):
            self.responsibility(kari, child, "joint")
            self.responsibility(ola, child, "joint")
        home2 = self.address()
        erik = self.person("Erik", "Bakkeland", 38, alias="erik", address=home2)
        maja = self.person("Maja", "Bakkeland", 6, alias="maja", address=home2)
        self.responsibility(erik, maja, "father")

        piotr = self.person(
            "Piotr",
            "Kowalczyk",
            35,
            kind="D",
            alias="piotr",
            address=self.address(),
            nationalities=("PL",),
            birth_country="PL",
            verification="verified",
        )
        self.foreign_id(piotr, "PL", "national_id")
        anna = self.person(
            "Anna",
            "Lindqvist",
            29,
            kind="D",
            alias="anna",
            address=self.address(),
            nationalities=("SE",),
            birth_country="SE",
        )
        self.foreign_id(anna, "SE", "national_id")
        self.replace_d_with_f(anna)
        amir = self.person(
            "Amir",
            "Haddad",
            31,
            kind=None,
            alias="amir",
            address=self.address(),
            nationalities=("SY",),
            birth_country="SY",
            status="temporary",
            verification="verified",
        )
        self.foreign_id(amir, "SY", "passport")

        ingrid = self.person("Ingrid", "Solberg", 51, alias="ingrid", address=self.address())
        per = self.person("Per", "Vikstad", 57, alias="per", address=self.address())
        self.employ(ingrid, "municipality", "Saksbehandler", [], ["ansettelsesforhold", "a-ordning", "permisjon"])
        self.employ(
            per,
            "municipality",
            "Kommunedirektør",
            [_CCR + "daglig-leder"],
            ["hovedadministrator", "tilgangsstyrer", "ansettelsesforhold"],
            years=8,
        )
        henrik = self.person("Henrik", "Strandli", 40, alias="henrik", address=self.address(), rule="2032")
        self.employ(henrik, "hospital", "Overlege", [], ["ansettelsesforhold"])

        sigrid = self.person("Sigrid", "Haugen", 68, alias="sigrid", address=self.address(), verification="verified")
        terje = self.person("Terje", "Myrvold", 46, alias="terje", address=self.address())
        self.pop.guardianships.append(
            RegGuardianship(
                guardian_id=terje.row.id,
                ward_id=sigrid.row.id,
                kind="adult",
                office="statsforvaltarenIMoereOgRomsdal",
                scope=[
                    {"agency": "nav", "task": "arbeid"},
                    {"agency": "skatteetaten", "task": "skatt"},
                    {"agency": "kartverket", "task": "arvPrivatSkifteOgUskifte"},
                ],
                valid_from=self.today - timedelta(days=900),
            )
        )

    def families_and_others(self) -> None:
        # Ages cycle through 0..17 so every age below 18 is present, both sides of 13 included.
        child_age = 0
        kinds = ("joint", "joint", "joint", "mother", "father", "joint", "other")
        for i in range(self.families):
            family = self.surname()
            home = self.address()
            ages = [(child_age + k) % 18 for k in range(1 + i % 3)]
            child_age += len(ages)
            mother = self.person(self.given("f"), family, max(ages) + self.rng.randint(24, 38), address=home)
            father = self.person(self.given("m"), family, max(ages) + self.rng.randint(24, 40), address=home)
            kind = kinds[i % len(kinds)]
            guardian = None
            if kind == "other":
                # responsibility given to someone else than the parents (e.g. a grandparent)
                guardian = self.person(
                    self.given("f"), self.surname(), max(ages) + self.rng.randint(50, 60), address=self.address()
                )
            for age in ages:
                sex: Literal["f", "m"] = "f" if self.rng.random() < 0.5 else "m"
                child = self.person(self.given(sex), family, age, address=home)
                if kind == "joint":
                    self.responsibility(mother, child, "joint")
                    self.responsibility(father, child, "joint")
                elif kind == "mother":
                    self.responsibility(mother, child, "mother")
                elif kind == "father":
                    self.responsibility(father, child, "father")
                elif guardian is not None:
                    self.responsibility(guardian, child, "other")
        # D-number holders (foreign workers, students), some later given an F-number
        for i in range(8):
            country, type_ = _FOREIGN[i % len(_FOREIGN)]
            p = self.person(
                self.given("f" if i % 2 else "m"),
                self.surname(),
                self.rng.randint(20, 60),
                kind="D",
                address=self.address(),
                nationalities=(country,),
                birth_country=country,
                verification="not_verified" if i % 3 == 0 else "verified",
            )
            self.foreign_id(p, country, type_)
            if i % 4 == 1:
                self.replace_d_with_f(p)
        # people without any Norwegian number (unique identity only)
        for i in range(3):
            country, _ = _FOREIGN[(i + 2) % len(_FOREIGN)]
            p = self.person(
                self.given("m" if i % 2 else "f"),
                self.surname(),
                self.rng.randint(19, 70),
                kind=None,
                address=self.address(),
                nationalities=(country,),
                birth_country=country,
                status="temporary",
                verification="not_verified" if i == 0 else "verified",
            )
            self.foreign_id(p, country, "passport")
        # a few emigrated / dead, and numbers under the 2032 rule
        self.person(self.given("m"), self.surname(), 61, status="emigrated", address=None)
        self.person(self.given("f"), self.surname(), 88, status="dead", address=None)
        for _ in range(3):
            self.person(self.given("f"), self.surname(), self.rng.randint(20, 60), address=self.address(), rule="2032")
        # employees
        adults = [
            p
            for p in self.pop.persons
            if p.row.alias is None
            and p.idents
            and (self.today.year - p.row.birth_date.year) >= 20
            and p.row.status == "resident"
        ]
        self.rng.shuffle(adults)
        plan: tuple[tuple[str, str, list[str], list[str]], ...] = (
            ("municipality", "Lærer", [], ["ansettelsesforhold"]),
            ("municipality", "Helsesykepleier", [], []),
            ("municipality", "Rådgiver", [], ["a-ordning"]),
            ("hospital", "Sykepleier", [], []),
            ("hospital", "Administrerende direktør", [_CCR + "daglig-leder"], ["hovedadministrator"]),
            ("hospital", "Lege", [], []),
            ("sports_club", "Styreleder", [_CCR + "styreleder"], ["hovedadministrator"]),
            ("sports_club", "Trener", [], []),
            (
                "company",
                "Daglig leder",
                [_CCR + "daglig-leder"],
                ["hovedadministrator", "regnskapsforer-med-signeringsrettighet"],
            ),
            ("company", "Konsulent", [], []),
        )
        for p, (org, title, roles, packages) in zip(adults, plan, strict=False):
            self.employ(p, org, title, list(roles), list(packages))

    def build(self) -> SyntheticPopulation:
        self.organisations()
        self.story()
        self.families_and_others()
        return self.pop


def generate_population(seed: int = DEFAULT_SEED, *, today: date, families: int = 24) -> SyntheticPopulation:
    """The synthetic population for ``seed`` as of ``today`` (same inputs, same rows)."""
    return _Generator(seed, today, families).build()


async def seed_register(
    db: Database, *, seed: int = DEFAULT_SEED, clock: Clock = SYSTEM_CLOCK, families: int = 24
) -> SeedResult:
    """Fill an empty register with the synthetic population; does nothing if it is already seeded.

    Idempotent and safe against a concurrent seeder: the ``reg_meta`` marker row and the population are written
    in one transaction, so a second seeder fails on the marker's primary key and reports "already seeded".
    """
    async with db.session() as s:
        marker = await s.get(RegMeta, "seed")
        if marker is not None:
            n = (await s.exec(select(func.count()).select_from(RegPerson))).one()
            return SeedResult(
                False,
                int(marker.value),
                int(n),
                0,
                f"register already seeded (seed {marker.value}, {n} persons): nothing to do",
            )
        existing = (await s.exec(select(func.count()).select_from(RegPerson))).one()
        if existing:
            return SeedResult(False, seed, int(existing), 0, f"register already holds {existing} persons: not seeding")
    pop = generate_population(seed, today=clock.now().date(), families=families)
    try:
        async with db.session() as s:
            s.add(RegMeta(key="seed", value=str(seed)))
            s.add_all(pop.organisations)
            s.add_all([p.row for p in pop.persons])
            await s.flush()
            s.add_all([i for p in pop.persons for i in p.idents])
            s.add_all([f for p in pop.persons for f in p.foreign])
            s.add_all(pop.responsibilities)
            s.add_all(pop.guardianships)
            s.add_all(pop.employments)
            await s.commit()
    except IntegrityError:
        return SeedResult(False, seed, 0, 0, "register was seeded concurrently: nothing to do")
    return SeedResult(
        True,
        seed,
        len(pop.persons),
        len(pop.organisations),
        f"seeded {len(pop.persons)} synthetic persons and {len(pop.organisations)} organisations (seed {seed})",
    )
