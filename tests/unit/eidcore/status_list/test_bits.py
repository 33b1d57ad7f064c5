"""Status List bit arrays: packing, bounds, compression (incremental and capped), JSON/CBOR forms."""

from __future__ import annotations

import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eidcore import cbor
from eidcore.errors import ParsingError, StatusListError
from eidcore.status_list import StatusList, StatusValue, check_bits, inflate


def _reason(exc: pytest.ExceptionInfo[StatusListError]) -> str:
    return str(exc.value.details["reason"])


# -- packing (least significant bit first) ---------------------------------------------------------------


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_packing_follows_the_spec_formula(bits: int) -> None:
    lst = StatusList(64, bits)
    mask = (1 << bits) - 1
    for i in range(len(lst)):
        lst.set(i, (i * 7 + 3) & mask)
    raw = lst.to_bytes()
    for i in range(len(lst)):
        assert (raw[i * bits // 8] >> ((i * bits) % 8)) & mask == lst.get(i) == (i * 7 + 3) & mask


def test_first_entry_is_the_least_significant_bit() -> None:
    lst = StatusList(8, 1)
    lst.set(0, 1)
    assert lst.to_bytes() == b"\x01"
    lst.set(7, 1)
    assert lst.to_bytes() == b"\x81"
    two = StatusList(4, 2)
    two.set(1, StatusValue.SUSPENDED)
    assert two.to_bytes() == bytes([0b0000_1000])


def test_setting_one_entry_leaves_its_neighbours() -> None:
    lst = StatusList(16, 2)
    for i in range(16):
        lst.set(i, 3)
    lst.set(5, 0)
    assert [lst.get(i) for i in range(16)] == [3] * 5 + [0] + [3] * 10


def test_size_rounds_up_to_whole_bytes() -> None:
    assert len(StatusList(10, 1)) == 16
    assert len(StatusList(3, 2)) == 4
    assert len(StatusList(1, 8)) == 1
    assert len(StatusList(2**20, 1).to_bytes()) == 131072


def test_item_syntax_and_equality() -> None:
    a, b = StatusList(8, 4), StatusList(8, 4)
    a[3] = 9
    assert a[3] == 9 and a != b
    b.set(3, 9)
    assert a == b
    assert StatusList(8, 4, aggregation_uri="https://x") != b


def test_view_is_read_only() -> None:
    view = StatusList(8, 1).view()
    with pytest.raises(TypeError):
        view[0] = 1


def test_check_bits_accepts_the_four_sizes() -> None:
    assert [check_bits(b) for b in (1, 2, 4, 8)] == [1, 2, 4, 8]


# -- bounds --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bits", [0, 3, 5, 16, -1, True, 1.0, "1", None])
def test_bad_bits_value(bits: object) -> None:
    with pytest.raises(StatusListError) as exc:
        StatusList(8, bits)  # type: ignore[arg-type]
    assert _reason(exc) == "bits"


@pytest.mark.parametrize("size", [0, -5, True])
def test_bad_size(size: int) -> None:
    with pytest.raises(StatusListError) as exc:
        StatusList(size, 1)
    assert _reason(exc) == "size"


@pytest.mark.parametrize("idx", [16, 10**9, -1])
def test_index_out_of_range(idx: int) -> None:
    lst = StatusList(16, 1)
    with pytest.raises(StatusListError) as exc:
        lst.get(idx)
    assert _reason(exc) == "index_out_of_range"
    with pytest.raises(StatusListError) as exc:
        lst.set(idx, 1)
    assert _reason(exc) == "index_out_of_range"


@pytest.mark.parametrize("idx", [True, 1.0, "3"])
def test_index_must_be_an_integer(idx: object) -> None:
    with pytest.raises(StatusListError) as exc:
        StatusList(16, 1).get(idx)  # type: ignore[arg-type]
    assert _reason(exc) == "index"


def test_suspended_needs_two_bits() -> None:
    with pytest.raises(StatusListError) as exc:
        StatusList(8, 1).set(0, StatusValue.SUSPENDED)
    assert _reason(exc) == "value_out_of_range"
    two = StatusList(8, 2)
    two.set(0, StatusValue.SUSPENDED)
    assert two.get(0) == StatusValue.SUSPENDED


@pytest.mark.parametrize(("bits", "value"), [(2, 4), (4, 16), (8, 256), (8, -1), (1, True)])
def test_value_out_of_range(bits: int, value: int) -> None:
    with pytest.raises(StatusListError) as exc:
        StatusList(8, bits).set(0, value)
    assert _reason(exc) == "value_out_of_range"


def test_application_specific_values_fit_in_four_bits() -> None:
    lst = StatusList(8, 4)
    for i, v in enumerate((0x03, 0x0C, 0x0D, 0x0E, 0x0F)):
        lst.set(i, v)
    assert [lst.get(i) for i in range(5)] == [3, 12, 13, 14, 15]


# -- compression ---------------------------------------------------------------------------------------------


def test_single_segment_output_is_a_plain_level_9_zlib_stream() -> None:
    lst = StatusList(16, 1)
    for i, v in enumerate([1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]):
        lst.set(i, v)
    out = lst.compress()
    assert out[:2] == b"\x78\xda"  # zlib header, FLEVEL 3 (level 9)
    assert zlib.decompress(out) == bytes([0xB9, 0xA3])


def test_multi_segment_stream_is_one_valid_zlib_stream() -> None:
    lst = StatusList(2**20, 2, chunk_size=4096)
    for i in range(0, 2**20, 9973):
        lst.set(i, 1 + i % 3)
    out = lst.compress()
    assert out[:2] == b"\x78\xda"
    assert zlib.decompress(out) == lst.to_bytes()
    d = zlib.decompressobj()
    assert d.decompress(out) == lst.to_bytes() and d.eof and not d.unused_data


def test_incremental_compression_after_updates_matches_the_array() -> None:
    lst = StatusList(200_000, 1, chunk_size=1000)
    first = lst.compress()
    assert zlib.decompress(first) == bytes(25_000)
    assert lst.compress() == first  # nothing changed: the cached segments give the same stream
    for idx in (0, 7999, 8000, 123_456, 199_999):
        lst.set(idx, 1)
        assert zlib.decompress(lst.compress()) == lst.to_bytes()
    lst.set(0, 0)
    assert zlib.decompress(lst.compress()) == lst.to_bytes()


@pytest.mark.parametrize("strategy", [zlib.Z_DEFAULT_STRATEGY, zlib.Z_RLE, zlib.Z_FILTERED])
@pytest.mark.parametrize("level", [1, 6, 9])
def test_levels_and_strategies_give_valid_streams(level: int, strategy: int) -> None:
    lst = StatusList(50_000, 4, level=level, strategy=strategy, chunk_size=5000)
    for i in range(0, 50_000, 37):
        lst.set(i, i % 16)
    assert zlib.decompress(lst.compress()) == lst.to_bytes()


def test_bad_level_and_chunk_size() -> None:
    with pytest.raises(StatusListError) as exc:
        StatusList(8, 1, level=10)
    assert _reason(exc) == "level"
    with pytest.raises(StatusListError) as exc:
        StatusList(8, 1, chunk_size=0)
    assert _reason(exc) == "chunk_size"


def test_inflate_refuses_a_zip_bomb() -> None:
    bomb = zlib.compress(bytes(32 * 1024 * 1024), 9)
    assert len(bomb) < 100_000
    with pytest.raises(StatusListError) as exc:
        inflate(bomb)
    assert _reason(exc) == "too_large"


def test_inflate_cap_is_exact() -> None:
    data = zlib.compress(bytes(1000))
    assert inflate(data, max_bytes=1000) == bytes(1000)
    with pytest.raises(StatusListError):
        inflate(data, max_bytes=999)


def test_inflate_truncated_stream() -> None:
    data = zlib.compress(bytes(range(256)) * 10)
    with pytest.raises(ParsingError, match="truncated"):
        inflate(data[:-6])


def test_inflate_corrupt_stream() -> None:
    with pytest.raises(ParsingError, match="not a valid zlib"):
        inflate(b"\x78\xda\xff\xff\xff\xff")


def test_inflate_raw_deflate_without_zlib_header() -> None:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    with pytest.raises(ParsingError):
        inflate(c.compress(b"\x01\x02") + c.flush())


def test_inflate_bad_checksum() -> None:
    data = bytearray(zlib.compress(b"\x01\x02\x03"))
    data[-1] ^= 0xFF
    with pytest.raises(ParsingError):
        inflate(bytes(data))


def test_inflate_trailing_garbage() -> None:
    with pytest.raises(ParsingError, match="after the end"):
        inflate(zlib.compress(b"\x01") + b"\x00")


# -- JSON / CBOR forms ---------------------------------------------------------------------------------------


def test_json_form_with_aggregation_uri() -> None:
    lst = StatusList(16, 2, aggregation_uri="https://example.com/statuslists")
    lst.set(3, 2)
    js = lst.to_json()
    assert js["bits"] == 2 and js["aggregation_uri"] == "https://example.com/statuslists"
    assert "=" not in js["lst"] and "+" not in js["lst"] and "/" not in js["lst"]
    back = StatusList.from_json(js)
    assert back == lst and back.aggregation_uri == "https://example.com/statuslists"


def test_cbor_form_with_aggregation_uri() -> None:
    lst = StatusList(16, 8, aggregation_uri="https://example.com/agg")
    lst.set(15, 200)
    m = cbor.loads(cbor.dumps(lst.to_cbor_map()))
    assert isinstance(m["lst"], bytes) and m["aggregation_uri"] == "https://example.com/agg"
    assert StatusList.from_cbor_map(m) == lst


def test_unknown_members_are_ignored() -> None:
    js = StatusList(8, 1).to_json() | {"future_member": 1}
    assert StatusList.from_json(js).bits == 1


@pytest.mark.parametrize(("obj", "reason"), [
    ([1, "x"], "status_list"),
    ({"lst": "eNrbuRgAAhcBXQ"}, "missing_bits"),
    ({"bits": 1}, "missing_lst"),
    ({"bits": 3, "lst": "eNrbuRgAAhcBXQ"}, "bits"),
    ({"bits": "1", "lst": "eNrbuRgAAhcBXQ"}, "bits"),
    ({"bits": 1, "lst": 5}, "lst"),
    ({"bits": 1, "lst": "eNrbuRgAAhcBXQ", "aggregation_uri": 7}, "aggregation_uri"),
])
def test_bad_json_status_list(obj: object, reason: str) -> None:
    with pytest.raises(StatusListError) as exc:
        StatusList.from_json(obj)
    assert _reason(exc) == reason


def test_json_lst_must_be_unpadded_base64url() -> None:
    with pytest.raises(ParsingError):
        StatusList.from_json({"bits": 1, "lst": "eNrbuRgAAhcBXQ=="})
    with pytest.raises(ParsingError):
        StatusList.from_json({"bits": 1, "lst": "eNrbuRgAAhcB+Q"})


def test_cbor_lst_must_be_a_byte_string() -> None:
    with pytest.raises(StatusListError) as exc:
        StatusList.from_cbor_map({"bits": 1, "lst": "eNrbuRgAAhcBXQ"})
    assert _reason(exc) == "lst"


def test_decompress_cap_applies_to_json() -> None:
    js = StatusList(80_000, 8).to_json()
    with pytest.raises(StatusListError) as exc:
        StatusList.from_json(js, max_bytes=10_000)
    assert _reason(exc) == "too_large"


# -- properties ----------------------------------------------------------------------------------------------

BITS = st.sampled_from([1, 2, 4, 8])


@settings(max_examples=60, deadline=None)
@given(bits=BITS, size=st.integers(1, 5000), data=st.data())
def test_set_get_round_trip(bits: int, size: int, data: st.DataObject) -> None:
    lst = StatusList(size, bits, chunk_size=64)
    model = [0] * len(lst)
    writes = data.draw(st.lists(st.tuples(st.integers(0, len(lst) - 1), st.integers(0, (1 << bits) - 1)),
                                max_size=40))
    for idx, value in writes:
        lst.set(idx, value)
        model[idx] = value
    assert [lst.get(i) for i in range(len(lst))] == model
    assert zlib.decompress(lst.compress()) == lst.to_bytes()


@settings(max_examples=40, deadline=None)
@given(bits=BITS, raw=st.binary(min_size=1, max_size=3000), chunk=st.integers(1, 4096))
def test_encode_decode_identity(bits: int, raw: bytes, chunk: int) -> None:
    lst = StatusList.from_bytes(raw, bits, chunk_size=chunk)
    assert StatusList.from_json(lst.to_json()).to_bytes() == raw
    assert StatusList.from_cbor_map(cbor.loads(cbor.dumps(lst.to_cbor_map()))).to_bytes() == raw


@settings(max_examples=30, deadline=None)
@given(bits=BITS, raw=st.binary(min_size=1, max_size=2000), updates=st.lists(st.integers(0, 10**6), max_size=20))
def test_incremental_equals_one_shot(bits: int, raw: bytes, updates: list[int]) -> None:
    lst = StatusList.from_bytes(raw, bits, chunk_size=97)
    lst.compress()
    for u in updates:
        lst.set(u % len(lst), u % (1 << bits))
        assert zlib.decompress(lst.compress()) == lst.to_bytes()
