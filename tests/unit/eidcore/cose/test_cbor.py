"""eidcore.cbor: strict RFC 8949 decoding, preferred encoding, tag 24 / tag 0 / tag 1004 helpers."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from eidcore import cbor
from eidcore.errors import ParsingError


def test_preferred_serialization() -> None:
    assert cbor.dumps(0) == b"\x00"
    assert cbor.dumps(23) == b"\x17"
    assert cbor.dumps(24) == b"\x18\x18"
    assert cbor.dumps(65536) == b"\x1a\x00\x01\x00\x00"
    assert cbor.dumps({"a": [1, b"\x00"]}) == bytes.fromhex("a161618201 4100".replace(" ", ""))


def test_tdate_and_full_date() -> None:
    t = cbor.tdate(dt.datetime(2020, 10, 1, 13, 30, 2, 123456, tzinfo=dt.UTC))
    assert cbor.dumps(t).hex() == "c074323032302d31302d30315431333a33303a30325a"
    assert cbor.dumps(cbor.full_date("2019-10-20")).hex() == "d903ec6a323031392d31302d3230"
    assert cbor.loads(bytes.fromhex("d903ec6a323031392d31302d3230")) == dt.date(2019, 10, 20)
    assert cbor.loads(bytes.fromhex("c074323032302d31302d30315431333a33303a30325a")) == t
    with pytest.raises(ValueError):
        cbor.tdate(dt.datetime(2020, 1, 1))  # naive
    with pytest.raises(ParsingError):
        cbor.full_date("2019-1-2")


def test_tdate_converts_to_utc() -> None:
    cet = dt.timezone(dt.timedelta(hours=1))
    assert cbor.dumps(cbor.tdate(dt.datetime(2020, 1, 1, 1, 0, tzinfo=cet))).endswith(b"2020-01-01T00:00:00Z")


def test_tag24_keeps_exact_bytes() -> None:
    inner = b"\xa1\x61\x61\x01"
    data = b"\xd8\x18\x44" + inner
    value = cbor.loads(data)
    assert isinstance(value, cbor.EmbeddedCBOR)
    assert value.raw == inner and value.encoded() == data and value.value() == {"a": 1}
    assert cbor.untag24(value) == {"a": 1}
    assert cbor.dumps(value) == data
    assert cbor.dumps(cbor.tag24({"a": 1})) == data


def test_embedded_copy_has_no_shared_cache() -> None:
    e = cbor.tag24({"a": [1]})
    c = copy.deepcopy(e)
    assert c == e and c is not e and c.value() == {"a": [1]}


@pytest.mark.parametrize("length", [0, 23, 24, 255, 256, 65535, 65536])
def test_bstr_header_matches_encoder(length: int) -> None:
    assert cbor.bstr_header(length) == cbor.dumps(b"\x00" * length)[: len(cbor.dumps(b"\x00" * length)) - length]


def test_cose_tags_keep_mutable_contents() -> None:
    value = cbor.loads(bytes.fromhex("d28443a10126a0406140"))
    assert isinstance(value, cbor.CBORTag) and value.tag == 18 and isinstance(value.value, list)


def test_loads_each_decodes_parts_strictly() -> None:
    parts = [cbor.dumps(1), cbor.dumps({"a": "b"}), cbor.dumps([1, 2])]
    assert cbor.loads_each(parts) == [1, {"a": "b"}, [1, 2]]
    with pytest.raises(ParsingError):
        cbor.loads_each([b"\x01\x00", b"\x02"])  # part 1 has a trailing byte
    with pytest.raises(ParsingError):
        cbor.loads_each([b"\x82\x01", b"\x02"])  # an item spilling over its boundary
    with pytest.raises(ParsingError):
        cbor.loads_each([b"\x01", b""])


NEGATIVE = [
    ("empty", b""),
    ("trailing_bytes", b"\xa0\x00"),
    ("truncated", b"\x82\x01"),
    ("indefinite_array", b"\x9f\x01\xff"),
    ("indefinite_map", b"\xbf\xff"),
    ("indefinite_bstr", b"\x5f\x41\x00\xff"),
    ("duplicate_key", b"\xa2\x01\x01\x01\x02"),
    ("tag24_on_text", b"\xd8\x18\x61a"),
    ("tag24_on_int", b"\xd8\x18\x01"),
    ("shared_value", bytes.fromhex("d81c81d81d00")),
    ("shareable", bytes.fromhex("d81c00")),
    ("stringref", bytes.fromhex("d9010082d81900")),
    ("regexp", bytes.fromhex("d8236161")),
    ("tdate_on_int", b"\xc0\x01"),
    ("tdate_without_offset", b"\xc0\x6a2019-10-20"),
    ("full_date_bad", bytes.fromhex("d903ec6a323031392d31332d3230")),
    ("invalid_utf8", b"\x62\xc3\x28"),
    ("reserved_additional_info", b"\x1c"),
    ("break_alone", b"\xff"),
]


@pytest.mark.parametrize(("name", "data"), NEGATIVE, ids=[n for n, _ in NEGATIVE])
def test_strict_decoding_rejects(name: str, data: bytes) -> None:
    with pytest.raises(ParsingError):
        cbor.loads(data)


def test_size_and_depth_limits() -> None:
    with pytest.raises(ParsingError, match="larger than"):
        cbor.loads(b"\x40" * 11, max_size=10)
    nested = b"\x81" * 40 + b"\x00"
    with pytest.raises(ParsingError):
        cbor.loads(nested)
    assert cbor.loads(nested, max_depth=64) is not None


def test_encode_unknown_type_is_parsing_error() -> None:
    with pytest.raises(ParsingError):
        cbor.dumps(object())
