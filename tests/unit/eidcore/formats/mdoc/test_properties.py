"""Property tests (hypothesis): issue -> DeviceResponse -> verify round-trips random element sets and random
disclosure choices; any single-byte change to a signed part is caught; arbitrary byte damage only ever raises
the typed errors of eidcore.errors."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eidcore import cbor
from eidcore.errors import FormatError
from eidcore.formats.mdoc import build_device_response, build_document

NS = "org.example.test.1"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64 - 1),
    st.text(max_size=20),
    st.binary(max_size=24),
    st.booleans(),
    st.none(),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=8,
)
names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=16)
element_sets = st.dictionaries(names, values, min_size=1, max_size=10)


@pytest.mark.slow
@SETTINGS
@given(elements=element_sets, data=st.data())
def test_issue_present_verify_round_trips(factory: Any, elements: dict[str, Any], data: st.DataObject) -> None:
    credential = factory.issue(elements, doc_type="org.example.test", name_spaces={NS: elements})
    chosen = data.draw(st.lists(st.sampled_from(sorted(elements)), unique=True, min_size=1), label="disclose")
    doc = build_document(credential, factory.device_key, factory.transcript, disclose={NS: chosen})
    [verified] = factory.verifier().verify_device_response(build_device_response([doc]), factory.transcript)
    assert verified.claims == {NS: {name: elements[name] for name in chosen}}


def _signed_parts(obj: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, setter-path) for every byte string that a signature or a digest covers."""
    doc = obj["documents"][0]
    parts: list[tuple[str, Any]] = [
        ("issuer_protected", (doc["issuerSigned"]["issuerAuth"], 0)),
        ("mso", (doc["issuerSigned"]["issuerAuth"], 2)),
        ("issuer_signature", (doc["issuerSigned"]["issuerAuth"], 3)),
        ("device_protected", (doc["deviceSigned"]["deviceAuth"]["deviceSignature"], 0)),
        ("device_signature", (doc["deviceSigned"]["deviceAuth"]["deviceSignature"], 3)),
    ]
    for i in range(len(doc["issuerSigned"]["nameSpaces"][NS])):
        parts.append((f"item{i}", ("item", i)))
    return parts


@SETTINGS
@given(data=st.data())
def test_any_single_byte_change_to_a_signed_part_is_caught(factory: Any, data: st.DataObject) -> None:
    elements = {"a": "alpha", "b": 2, "c": dt.date(2000, 1, 2), "d": [1, {"x": b"\x00"}]}
    credential = factory.issue(elements, doc_type="org.example.test", name_spaces={NS: elements})
    obj = cbor.loads(build_device_response([build_document(credential, factory.device_key, factory.transcript)]))
    label, where = data.draw(st.sampled_from(_signed_parts(obj)), label="part")
    doc = obj["documents"][0]
    if where[0] == "item":
        holder, key = doc["issuerSigned"]["nameSpaces"][NS], where[1]
        original = holder[key].raw
    else:
        holder, key = where
        original = holder[key]
    # (item lengths differ between runs because items are ordered by random digestIDs: draw a position)
    index = data.draw(st.integers(0, 2**20), label="position") % len(original)
    delta = data.draw(st.integers(1, 255), label="xor")
    changed = original[:index] + bytes((original[index] ^ delta,)) + original[index + 1 :]
    holder[key] = cbor.EmbeddedCBOR(changed) if where[0] == "item" else changed
    try:
        factory.verifier().verify_device_response(cbor.dumps(obj), factory.transcript)
    except FormatError:
        return
    raise AssertionError(f"a change to {label} at byte {index} was accepted")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_damaged_bytes_raise_only_typed_errors(factory: Any, data: st.DataObject) -> None:
    response = factory.response(factory.issue({"a": 1, "b": "two"}, name_spaces={NS: {"a": 1, "b": "two"}},
                                              doc_type="org.example.test"))
    index = data.draw(st.integers(0, 2**20), label="position") % len(response)
    delta = data.draw(st.integers(1, 255), label="xor")
    damaged = response[:index] + bytes((response[index] ^ delta,)) + response[index + 1 :]
    try:
        factory.verifier().verify_device_response(damaged, factory.transcript)
    except FormatError:
        return
    # The only bytes outside every signature and digest are map keys and framing, whose change is a
    # structure error too; an accepted response must therefore be the original one.
    raise AssertionError(f"damaged byte {index} was accepted")
