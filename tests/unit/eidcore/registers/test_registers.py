"""Population and organisation registers on SQLite and PostgreSQL: seeding, lookups, relations, writes."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from eidcore.clock import FixedClock
from eidcore.credential_types import load_credential_types, pid_claims
from eidcore.errors import (
    Conflict,
    IdentityNumberError,
    UnknownOrganisation,
    UnknownPerson,
    UnknownRegisterRecord,
)
from eidcore.identity import check_digits, generate_orgnr, generate_synthetic, parse_national_id, parse_orgnr
from eidcore.registers import (
    STORY_PERSONS,
    NewPerson,
    SqlOrganisationRegister,
    SqlPopulationRegister,
    seed_register,
    summarise,
)
from eidcore.registers.records import ForeignIdentifier
from eidcore.registers.synthetic import generate_population
from eidcore.storage import Database

TODAY = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TODAY)


@pytest.fixture
async def seeded(db: Database, clock: FixedClock) -> tuple[SqlPopulationRegister, SqlOrganisationRegister]:
    result = await seed_register(db, seed=7, clock=clock)
    assert result.created
    return SqlPopulationRegister(db, clock=clock), SqlOrganisationRegister(db, clock=clock)


async def test_seeding_twice_is_idempotent(db: Database, clock: FixedClock) -> None:
    first = await seed_register(db, seed=7, clock=clock)
    pop = SqlPopulationRegister(db, clock=clock)
    before = [p.model_dump() for p in await pop.list_persons()]
    second = await seed_register(db, seed=7, clock=clock)
    third = await seed_register(db, seed=99, clock=clock)
    assert first.created and first.persons == len(before)
    assert not second.created and "already seeded" in second.message
    assert not third.created and second.persons == len(before)
    assert [p.model_dump() for p in await pop.list_persons()] == before


async def test_seeded_population_has_every_promised_category(seeded, clock: FixedClock) -> None:
    pop, org = seeded
    persons = await pop.list_persons()
    ages = [p.age(clock) for p in persons]
    assert any(a < 13 for a in ages)
    assert any(13 <= a < 18 for a in ages)
    assert set(range(18)) <= set(ages), "families have children of all ages"
    assert any(p.national_id_type == "D" for p in persons)
    assert any(
        any(i.type == "D" and i.status == "ceased" for i in p.identifiers) and p.national_id_type == "F"
        for p in persons
    )
    no_number = [p for p in persons if p.national_id is None]
    assert no_number and all(p.identifiers == () for p in no_number)
    assert any(p.foreign_identifiers for p in persons)
    # every Norwegian number is a Tenor synthetic number: no real person is represented
    for p in persons:
        for ident in p.identifiers:
            assert parse_national_id(ident.value).synthetic is not None
    kinds = set()
    for p in persons:
        if p.age(clock) < 18:
            kinds |= {
                r.parental_responsibility.kind
                for r in await pop.responsible_for(p.person_id)
                if r.parental_responsibility is not None
            }
    assert {"joint", "mother", "father", "other"} <= kinds
    wards = [p for p in persons if p.age(clock) >= 18 and (await pop.guardianships_of(p.person_id)).as_ward]
    assert wards
    orgs = await org.list_organisations()
    assert {o.form for o in orgs} >= {"KOMM", "HF", "FLI"}
    for o in orgs:
        parse_orgnr(o.orgnr)
        assert await org.employees_of(o.orgnr), f"{o.name} has employees"
    employments = [e.employment for o in orgs for e in await org.employees_of(o.orgnr)]
    assert any(e.can_administer_roles for e in employments)
    assert any(pkg.startswith("urn:altinn:accesspackage:") for e in employments for pkg in e.access_packages)


async def test_story_persons_exist_with_their_stories(seeded, clock: FixedClock) -> None:
    pop, org = seeded
    for alias in STORY_PERSONS:
        assert (await pop.get_by_alias(alias)).alias == alias
    kari = await pop.get_by_alias("kari")
    children = await pop.children_of(kari.person_id)
    assert sorted(c.person.age(clock) for c in children) == [10, 15]
    assert {c.responsibility.kind for c in children} == {"joint"}
    assert (await pop.get_by_alias("piotr")).national_id_type == "D"
    amir = await pop.get_by_alias("amir")
    assert amir.national_id is None and amir.foreign_identifiers
    per = await pop.get_by_alias("per")
    (employment,) = await org.employments_of(per.person_id)
    assert employment.can_administer_roles
    henrik = await pop.get_by_alias("henrik")
    assert henrik.national_id is not None
    assert parse_national_id(henrik.national_id).check_rule.value == "2032"


async def test_lookup_by_ceased_identifier_returns_current_identifiers(seeded) -> None:
    pop, _ = seeded
    anna = await pop.get_by_alias("anna")
    (ceased,) = anna.ceased_identifiers
    found = await pop.find_by_identifier(ceased.value)
    assert found.person_id == anna.person_id
    assert found.national_id_type == "F" and found.national_id != ceased.value
    assert found.identifiers[0].status == "in_use"
    assert (await pop.find_by_identifier(found.national_id or "")).person_id == anna.person_id


async def test_lookup_by_foreign_identifier_and_search(seeded) -> None:
    pop, _ = seeded
    piotr = await pop.get_by_alias("piotr")
    fi = piotr.foreign_identifiers[0]
    assert (await pop.find_by_foreign_identifier(fi.issuing_country, fi.number)).person_id == piotr.person_id
    with pytest.raises(UnknownPerson):
        await pop.find_by_foreign_identifier("PL", "TEST-PL-0")
    assert piotr.person_id in {p.person_id for p in await pop.search("kowalcz")}
    assert piotr.person_id in {p.person_id for p in await pop.search((piotr.national_id or "")[:6])}
    assert await pop.search("   ") == []
    assert await pop.search("%") == [], "LIKE wildcards are matched literally"


async def test_bad_identifier_raises_typed_error(seeded) -> None:
    pop, org = seeded
    with pytest.raises(IdentityNumberError) as e:
        await pop.find_by_identifier("1234")
    assert e.value.rule == "length"
    kari = await pop.get_by_alias("kari")
    digits = kari.national_id or ""
    broken = digits[:10] + str((int(digits[10]) + 1) % 10)
    with pytest.raises(IdentityNumberError) as e:
        await pop.find_by_identifier(broken)
    assert e.value.rule == "check_digit_2"
    fh_number = "8" + "12345678" + (check_digits("812345678") or "")
    assert parse_national_id(fh_number).kind.value == "fhn"
    with pytest.raises(IdentityNumberError) as e:
        await pop.find_by_identifier(fh_number)  # a valid FH-number is not a person identifier in FREG
    assert e.value.rule == "kind"
    with pytest.raises(IdentityNumberError) as e:
        await org.get_organisation("12345678")
    assert e.value.rule == "length"


async def test_unknown_person_and_organisation(seeded) -> None:
    pop, org = seeded
    with pytest.raises(UnknownPerson):
        await pop.get_person("00000000-0000-4000-8000-000000000000")
    with pytest.raises(UnknownPerson):
        await pop.get_by_alias("nobody")
    with pytest.raises(UnknownPerson):
        await pop.find_by_identifier(generate_synthetic(date(1950, 3, 3), rng=random.Random(2)))
    with pytest.raises(UnknownOrganisation):
        await org.get_organisation(generate_orgnr(random.Random(1), first_digits="4"))


async def test_parental_responsibility_queries_and_ending(seeded, clock: FixedClock) -> None:
    pop, _ = seeded
    kari, ola, emma = [await pop.get_by_alias(a) for a in ("kari", "ola", "emma")]
    responsible = await pop.responsible_for(emma.person_id)
    assert {r.person.person_id for r in responsible} == {kari.person_id, ola.person_id}
    assert all(r.basis == "parental_responsibility" for r in responsible)
    maja = await pop.get_by_alias("maja")
    (only,) = await pop.responsible_for(maja.person_id)
    assert only.person.alias == "erik" and only.parental_responsibility is not None
    assert only.parental_responsibility.kind == "father"

    ended = await pop.end_parental_responsibility(ola.person_id, emma.person_id, on=clock.now().date())
    assert ended.valid_to == clock.now().date()
    assert {r.person.alias for r in await pop.responsible_for(emma.person_id)} == {"kari"}
    assert [c.person.alias for c in await pop.children_of(ola.person_id)] == ["jonas"]
    assert len(await pop.children_of(ola.person_id, include_ended=True)) == 2
    with pytest.raises(UnknownRegisterRecord):
        await pop.end_parental_responsibility(ola.person_id, emma.person_id, on=clock.now().date())


async def test_guardianship_queries_and_ending(seeded, clock: FixedClock) -> None:
    pop, _ = seeded
    sigrid, terje = await pop.get_by_alias("sigrid"), await pop.get_by_alias("terje")
    as_ward = (await pop.guardianships_of(sigrid.person_id)).as_ward
    (g,) = as_ward
    assert g.guardian_id == terje.person_id and g.is_active(clock.now().date())
    assert {a.code for a in g.scope} >= {"nav:arbeid"}
    assert (await pop.guardianships_of(terje.person_id)).as_guardian == as_ward
    (resp,) = await pop.responsible_for(sigrid.person_id)
    assert resp.basis == "guardianship" and resp.person.alias == "terje"

    await pop.end_guardianship(g.id, on=clock.now().date())
    assert await pop.responsible_for(sigrid.person_id) == []
    (after,) = (await pop.guardianships_of(sigrid.person_id)).as_ward
    assert not after.is_active(clock.now().date())
    assert after.is_active(clock.now().date() - timedelta(days=1))
    with pytest.raises(UnknownRegisterRecord):
        await pop.end_guardianship(g.id, on=clock.now().date())


async def test_roles_assign_remove_and_end_employment(seeded, clock: FixedClock) -> None:
    pop, org = seeded
    ingrid = await pop.get_by_alias("ingrid")
    (employment,) = await org.employments_of(ingrid.person_id)
    orgnr = employment.orgnr
    pkg = "urn:altinn:accesspackage:tilgangsstyrer"
    assert not employment.can_administer_roles
    updated = await org.assign_role(orgnr, ingrid.person_id, pkg)
    assert pkg in updated.access_packages and updated.can_administer_roles
    again = await org.assign_role(orgnr, ingrid.person_id, pkg)
    assert again.access_packages.count(pkg) == 1
    with_code = await org.assign_role(orgnr, ingrid.person_id, "urn:altinn:external-role:ccr:kontaktperson")
    assert "urn:altinn:external-role:ccr:kontaktperson" in with_code.roles
    removed = await org.remove_role(orgnr, ingrid.person_id, pkg)
    assert pkg not in removed.access_packages
    assert pkg not in (await org.employment(orgnr, ingrid.person_id)).access_packages

    ended = await org.end_employment(orgnr, ingrid.person_id, on=clock.now().date())
    assert not ended.active and ended.end_date == clock.now().date()
    assert ingrid.person_id not in {e.person.person_id for e in await org.employees_of(orgnr)}
    assert await org.employments_of(ingrid.person_id) == []
    with pytest.raises(UnknownRegisterRecord):
        await org.assign_role(orgnr, ingrid.person_id, pkg)


async def test_create_person_without_and_with_number(db: Database, clock: FixedClock) -> None:
    pop = SqlPopulationRegister(db, clock=clock)
    nobody = await pop.create_person(
        NewPerson(
            given_name="Lina",
            family_name="Test",
            birth_date=date(1990, 5, 17),
            foreign_identifiers=(ForeignIdentifier(number="TEST-FI-1", type="passport", issuing_country="FI"),),
        )
    )
    assert nobody.national_id is None and nobody.identifiers == ()
    assert (await pop.get_person(nobody.person_id)) == nobody
    number = "17859091539"  # Tenor synthetic F-number for 1990-05-17
    parse_national_id(number)
    with_number = await pop.create_person(
        NewPerson(given_name="Lina", family_name="Test", birth_date=date(1990, 5, 17), national_id=number)
    )
    assert with_number.national_id == number and with_number.national_id_type == "F"
    with pytest.raises(Conflict):
        await pop.create_person(
            NewPerson(given_name="X", family_name="Y", birth_date=date(1990, 5, 17), national_id=number)
        )
    with pytest.raises(IdentityNumberError):
        await pop.create_person(
            NewPerson(given_name="X", family_name="Y", birth_date=date(1990, 5, 17), national_id="17859091538")
        )


async def test_summaries_name_what_is_interesting(seeded, clock: FixedClock) -> None:
    pop, org = seeded
    rows = {r.alias: r for r in await summarise(pop, org, clock=clock, limit=len(STORY_PERSONS))}
    assert set(rows) == set(STORY_PERSONS)
    assert "child under 13" in rows["emma"].tags
    assert "youth 13-17" in rows["jonas"].tags
    assert "D-number" in rows["piotr"].tags
    assert "no Norwegian number (unique identity only)" in rows["amir"].tags
    assert "under guardianship" in rows["sigrid"].tags and "guardian" in rows["terje"].tags
    assert any(t.startswith("employee of Fjordvik kommune") and "administrator" in t for t in rows["per"].tags)


def test_population_is_deterministic_for_seed_and_day() -> None:
    day = date(2026, 11, 28)
    a, b = generate_population(5, today=day), generate_population(5, today=day)
    other = generate_population(6, today=day)
    numbers = [i.value for p in a.persons for i in p.idents]
    assert numbers == [i.value for p in b.persons for i in p.idents]
    assert [p.row.id for p in a.persons] == [p.row.id for p in b.persons]
    assert numbers != [i.value for p in other.persons for i in p.idents]
    assert len(set(numbers)) == len(numbers), "no number is given to two persons"
    assert len({o.orgnr for o in a.organisations}) == len(a.organisations)


async def test_every_seeded_person_maps_to_valid_pid_claims(seeded, clock: FixedClock) -> None:
    pop, _ = seeded
    types = load_credential_types()
    for person in await pop.list_persons():
        claims = pid_claims(person, clock=clock, issuing_authority="DIGITALISERINGSDIREKTORATET", types=types)
        assert claims.get("personal_administrative_number") == person.national_id
        types.get("pid").mdoc_namespaces(claims)
