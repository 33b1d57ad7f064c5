"""Property tests (hypothesis): issue -> present -> verify round-trips random claim trees and random disclosure
choices; any single-byte change to a signed part (issuer JWT header/payload, a disclosure, the KB-JWT
header/payload, or an issuer signature covered by ``sd_hash``) is caught."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eidcore import jose
from eidcore.clock import FixedClock
from eidcore.errors import FormatError
from eidcore.formats.sd_jwt import (
    MUST_NOT_BE_PRESENT,
    Disclosure,
    KeyBinding,
    KeyBindingRequired,
    SdJwtHolder,
    SdJwtIssuer,
    SdJwtVerifier,
    split,
)

IK = jose.generate_signing_key()
HK = jose.generate_signing_key()
NOW = 1_800_000_000
CLOCK = FixedClock.at_timestamp(NOW)
KB = KeyBindingRequired(audience="https://verifier.example", nonce="nonce")
RESERVED = {"_sd", "...", "_sd_alg", "cnf", "iat", "exp", "nbf"}

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøå_-", min_size=1, max_size=6).filter(
    lambda s: s not in RESERVED)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**53), 2**53),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(names, inner, max_size=4)), max_leaves=12)
claim_trees = st.dictionaries(names, values, min_size=1, max_size=6)


def all_paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((*prefix, k))
            out.extend(all_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.append((*prefix, i))
            out.extend(all_paths(v, (*prefix, i)))
    return out


def expected_view(value: Any, hidden: set[tuple[Any, ...]], prefix: tuple[Any, ...] = ()) -> Any:
    """``value`` with the claims at ``hidden`` paths (paths in the full claims) left out."""
    if isinstance(value, dict):
        return {k: expected_view(v, hidden, (*prefix, k)) for k, v in value.items() if (*prefix, k) not in hidden}
    if isinstance(value, list):
        return [expected_view(v, hidden, (*prefix, i)) for i, v in enumerate(value) if (*prefix, i) not in hidden]
    return value


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[Any, ...]], list[tuple[Any, ...]], int]:
    claims = draw(claim_trees)
    paths = all_paths(claims)
    disclosable = draw(st.lists(st.sampled_from(paths), unique=True, max_size=8)) if paths else []
    chosen = draw(st.lists(st.sampled_from(paths), unique=True, max_size=5)) if paths else []
    decoys = draw(st.integers(0, 2))
    return claims, disclosable, chosen, decoys


def _issue(claims: dict[str, Any], disclosable: list[tuple[Any, ...]], decoys: int) -> Any:
    return SdJwtIssuer(IK, typ="example+sd-jwt", decoys=decoys, array_decoys=decoys).issue(
        claims, disclosable=[list(p) for p in disclosable], holder_jwk=HK.public_jwk)


def _verifier() -> SdJwtVerifier:
    return SdJwtVerifier(IK.public_key, clock=CLOCK, typ="example+sd-jwt")


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_issue_present_verify_roundtrip(scenario: Any) -> None:
    claims, disclosable, chosen, decoys = scenario
    issued = _issue(claims, disclosable, decoys)
    holder = SdJwtHolder(clock=CLOCK)
    held = holder.load(issued.compact)
    assert {k: v for k, v in held.claims.items() if k != "cnf"} == json.loads(json.dumps(claims))

    # everything disclosed, no key binding
    full = _verifier().verify(holder.present(held, disclose=None), MUST_NOT_BE_PRESENT)
    assert {k: v for k, v in full.claims.items() if k != "cnf"} == json.loads(json.dumps(claims))

    # a random choice, key-bound: exactly the chosen claims, their parents and their contents are revealed
    pres = holder.present(held, disclose=[list(p) for p in chosen],
                          key_binding=KeyBinding(HK, KB.audience, KB.nonce))
    assert isinstance(pres, str)
    result = _verifier().verify(pres, KB)
    sent = {d.encoded for d in holder.select(held, [list(p) for p in chosen])}
    hidden = {p for d, p in zip(held.disclosures, held.paths, strict=True) if d.encoded not in sent}
    assert result.claims == expected_view(held.claims, hidden)
    # and every disclosure sent has all its parents sent too
    sent_paths = {p for d, p in zip(held.disclosures, held.paths, strict=True) if d.encoded in sent}
    disclosure_paths = set(held.paths)
    for p in sent_paths:
        for i in range(1, len(p)):
            if p[:i] in disclosure_paths:
                assert p[:i] in sent_paths


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=30), st.one_of(st.none(), st.text(min_size=1, max_size=10)), scalars)
def test_disclosure_encoding_is_json_dumps_and_parses_back(salt: str, name: str | None, value: Any) -> None:
    if name in ("_sd", "..."):
        return
    d = Disclosure.create(salt, name, value)
    array = [salt, value] if name is None else [salt, name, value]
    assert jose.b64url_decode(d.encoded) == json.dumps(array, ensure_ascii=False).encode()
    back = Disclosure.parse(d.encoded)
    assert back.salt == salt and back.name == name
    assert json.dumps(back.value) == json.dumps(value)


_PRESENTATION: dict[str, str] = {}


def _fixed_presentation() -> str:
    if not _PRESENTATION:
        claims = {"given_name": "Kari", "address": {"street": "Storgata 1", "city": "Oslo"}, "list": [1, 2, 3]}
        issued = _issue(claims, [("given_name",), ("address",), ("address", "city"), ("list", 1)], 1)
        holder = SdJwtHolder(clock=CLOCK)
        _PRESENTATION["p"] = str(holder.present(holder.load(issued.compact),
                                                disclose=[["address", "city"], ["list", 1], ["given_name"]],
                                                key_binding=KeyBinding(HK, KB.audience, KB.nonce)))
    return _PRESENTATION["p"]


def _signed_positions(pres: str) -> list[int]:
    """Indexes of characters covered by a signature or a digest: every character except the KB-JWT signature
    (the last segment, not covered by anything but itself, whose final character has unused bits)."""
    return list(range(len(pres) - 1))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_single_byte_change_to_a_signed_part_is_caught(data: st.DataObject) -> None:
    pres = _fixed_presentation()
    _verifier().verify(pres, KB)  # the untouched presentation verifies
    i = data.draw(st.sampled_from(_signed_positions(pres)))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~.=+/ "
    repl = data.draw(st.sampled_from([c for c in alphabet if c != pres[i]]))
    tampered = pres[:i] + repl + pres[i + 1:]
    try:
        _verifier().verify(tampered, KB)
    except FormatError:
        return
    raise AssertionError(f"a change at {i} ({pres[i]!r} -> {repl!r}) was not caught")


def test_kb_signature_last_char_note() -> None:
    """The only uncovered character is the KB signature's last one, and only its unused low bits; a change
    that alters the signature bytes is still caught."""
    pres = _fixed_presentation()
    prefix, sig = pres.rsplit(".", 1)
    raw = bytearray(jose.b64url_decode(sig))
    raw[-1] ^= 0x01
    from eidcore.errors import KeyBindingFailed

    try:
        _verifier().verify(prefix + "." + jose.b64url_encode(bytes(raw)), KB)
    except KeyBindingFailed as exc:
        assert exc.reason == "signature"
    else:
        raise AssertionError("a changed KB signature byte was not caught")
    assert split(pres, max_bytes=10**6).kb_jwt is not None
