"""Token Status List bit arrays (draft-ietf-oauth-status-list-18, "Status List").

A Status List is a byte array in which index ``i`` takes ``bits`` bits (1, 2, 4 or 8), packed from the least
significant bit of each byte ("Compressed Byte Array"):
``value = (lst[i * bits // 8] >> ((i * bits) % 8)) & ((1 << bits) - 1)``. The array is compressed with DEFLATE
in the ZLIB format (RFC 1950 / RFC 1951), and carried as ``{"bits", "lst"}`` with ``lst`` base64url in JSON
("Status List in JSON Format") or a byte string in CBOR ("Status List in CBOR Format"), with an optional
``aggregation_uri``. Status values are the "Status Types" registry's (:class:`StatusValue`).

Speed: a list keeps its compressed form as independent DEFLATE segments of ``chunk_size`` raw bytes, each
ended by a full flush (an empty stored block, RFC 1951 §3.2.4, with the dictionary reset). Changing one entry
only recompresses the segment that holds it; the zlib stream is the RFC 1950 header, the segments (the last
one final) and the Adler-32 of the whole array, so any inflater reads it as one ordinary zlib stream. A list
that fits in one segment compresses exactly as ``zlib.compress(data, level)``. The default is level 9 (the
spec recommends the highest) with the default strategy in 16 KiB segments: at 2^20 one-bit entries with 1 %
set, an update recompresses in about 8 ms instead of about 75 ms for the whole array, for a stream about 3 %
longer. ``strategy=zlib.Z_RLE`` is much faster still (well under 1 ms for the whole array) at a few percent
larger output for sparse lists.

Decompression is capped (``max_bytes``): a "zip bomb" is a :class:`~eidcore.errors.StatusListError`
before the memory is spent.

Error rules: bytes that cannot be decoded (bad base64url, corrupt, truncated or trailing-garbage zlib) raise
:class:`~eidcore.errors.ParsingError`; a well-formed but unacceptable list (``bits`` not in {1, 2, 4, 8},
too large, an index or value out of range) raises :class:`~eidcore.errors.StatusListError` with a
``reason`` in ``details``.

A :class:`StatusList` is not thread-safe: the issuer serialises updates to one list.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from enum import IntEnum
from typing import Any, Final

from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import ParsingError, StatusListError

#: The ``bits`` values the spec allows ("Status List").
ALLOWED_BITS: Final = frozenset({1, 2, 4, 8})
#: Default cap on the decompressed size of a list: 2^24 entries of 8 bits (16 MiB).
DEFAULT_MAX_BYTES: Final = 16 * 1024 * 1024
#: Default segment size (raw bytes) of the incremental compressor.
DEFAULT_CHUNK_SIZE: Final = 16 * 1024
#: Default zlib level: the highest, as the spec recommends ("Compressed Byte Array").
DEFAULT_LEVEL: Final = 9


class StatusValue(IntEnum):
    """Status Types ("Status Types" section and the IANA "OAuth Status Types" registry).

    ``0x03`` and ``0x0C``–``0x0F`` are application specific; every other value is reserved.
    """

    VALID = 0x00
    INVALID = 0x01
    SUSPENDED = 0x02
    APPLICATION_SPECIFIC_3 = 0x03
    APPLICATION_SPECIFIC_C = 0x0C
    APPLICATION_SPECIFIC_D = 0x0D
    APPLICATION_SPECIFIC_E = 0x0E
    APPLICATION_SPECIFIC_F = 0x0F


def _fail(reason: str, description: str) -> StatusListError:
    return StatusListError(description, reason=reason)


def check_bits(bits: object) -> int:
    """Validate a ``bits`` value ("Status List": 1, 2, 4 or 8; a JSON/CBOR integer, not a boolean)."""
    if isinstance(bits, bool) or not isinstance(bits, int) or bits not in ALLOWED_BITS:
        raise _fail("bits", "status list bits must be 1, 2, 4 or 8")
    return bits


def inflate(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Decompress a ZLIB (RFC 1950) Status List ("Compressed Byte Array"), refusing more than ``max_bytes``.

    Raises :class:`ParsingError` for a corrupt, truncated or trailing-garbage stream and
    :class:`StatusListError` (reason ``too_large``) when the output would exceed ``max_bytes``.
    """
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, max_bytes + 1)
    except zlib.error as exc:
        raise ParsingError("status list lst is not a valid zlib stream") from exc
    if len(out) > max_bytes or d.unconsumed_tail:
        raise _fail("too_large", f"status list decompresses to more than {max_bytes} bytes")
    if not d.eof:
        raise ParsingError("status list lst is a truncated zlib stream")
    if d.unused_data:
        raise ParsingError("status list lst has data after the end of the zlib stream")
    return out


class StatusList:
    """A mutable Status List of ``len(self)`` entries of ``bits`` bits each ("Status List").

    ``len()`` is the capacity of the byte array (``nbytes * 8 // bits``): a decoder cannot know the issuer's
    logical size, and the unused high bits of the last byte are zero.
    """

    __slots__ = (
        "_aggregation_uri",
        "_bits",
        "_buf",
        "_chunk",
        "_dirty",
        "_header",
        "_level",
        "_mask",
        "_per_byte",
        "_segments",
        "_strategy",
    )

    def __init__(self, size: int, bits: int, *, aggregation_uri: str | None = None,
                 level: int = DEFAULT_LEVEL, strategy: int = zlib.Z_DEFAULT_STRATEGY,
                 chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        """An all-VALID list of at least ``size`` entries (rounded up to whole bytes)."""
        bits = check_bits(bits)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise _fail("size", "a status list needs at least one entry")
        self._init(bytearray((size * bits + 7) // 8), bits, aggregation_uri, level, strategy, chunk_size)

    def _init(self, buf: bytearray, bits: int, aggregation_uri: str | None, level: int, strategy: int,
              chunk_size: int) -> None:
        if aggregation_uri is not None and not isinstance(aggregation_uri, str):
            raise _fail("aggregation_uri", "aggregation_uri must be a string")
        if not 0 <= level <= 9:
            raise _fail("level", "zlib level must be 0..9")
        if chunk_size < 1:
            raise _fail("chunk_size", "chunk_size must be positive")
        self._buf = buf
        self._bits = bits
        self._mask = (1 << bits) - 1
        self._per_byte = 8 // bits
        self._aggregation_uri = aggregation_uri
        self._level = level
        self._strategy = strategy
        self._chunk = chunk_size
        nseg = max(1, -(-len(buf) // chunk_size))
        self._segments: list[bytes | None] = [None] * nseg
        self._dirty: set[int] = set(range(nseg))
        c = zlib.compressobj(level, zlib.DEFLATED, 15, 8, strategy)
        self._header = c.flush()[:2]

    @classmethod
    def from_bytes(cls, raw: bytes | bytearray | memoryview, bits: int, *,
                   aggregation_uri: str | None = None, level: int = DEFAULT_LEVEL,
                   strategy: int = zlib.Z_DEFAULT_STRATEGY,
                   chunk_size: int = DEFAULT_CHUNK_SIZE) -> StatusList:
        """A list over a copy of the uncompressed byte array ``raw`` ("Compressed Byte Array")."""
        self = cls.__new__(cls)
        self._init(bytearray(raw), check_bits(bits), aggregation_uri, level, strategy, chunk_size)
        return self

    # -- entries --------------------------------------------------------------------------------------

    @property
    def bits(self) -> int:
        """Bits per entry (1, 2, 4 or 8)."""
        return self._bits

    @property
    def aggregation_uri(self) -> str | None:
        """The optional ``aggregation_uri`` ("Status List Aggregation")."""
        return self._aggregation_uri

    def __len__(self) -> int:
        return len(self._buf) * self._per_byte

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StatusList):
            return NotImplemented
        return (self._bits == other._bits and self._buf == other._buf
                and self._aggregation_uri == other._aggregation_uri)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"StatusList(entries={len(self)}, bits={self._bits})"

    def _locate(self, idx: int) -> tuple[int, int]:
        if isinstance(idx, bool) or not isinstance(idx, int):
            raise _fail("index", "a status list index is a non-negative integer")
        if not 0 <= idx < len(self._buf) * self._per_byte:
            raise _fail("index_out_of_range", f"index {idx} is outside the status list")
        bit = idx * self._bits
        return bit >> 3, bit & 7

    def get(self, idx: int) -> int:
        """The status value at ``idx`` ("Compressed Byte Array").

        :class:`StatusListError` ``index_out_of_range`` past the end.
        """
        byte, shift = self._locate(idx)
        return (self._buf[byte] >> shift) & self._mask

    def set(self, idx: int, value: int) -> None:
        """Set entry ``idx`` to ``value`` ("Compressed Byte Array").

        ``value`` must fit in ``bits`` (SUSPENDED needs bits >= 2), else ``value_out_of_range``.
        """
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= self._mask:
            raise _fail("value_out_of_range", f"status value does not fit in {self._bits} bit(s)")
        byte, shift = self._locate(idx)
        old = self._buf[byte]
        new = (old & ~(self._mask << shift) & 0xFF) | (value << shift)
        if new != old:
            self._buf[byte] = new
            self._dirty.add(byte // self._chunk)

    __getitem__ = get
    __setitem__ = set

    def to_bytes(self) -> bytes:
        """A copy of the uncompressed byte array."""
        return bytes(self._buf)

    def view(self) -> memoryview:
        """A read-only view of the uncompressed byte array (no copy)."""
        return memoryview(self._buf).toreadonly()

    # -- compression ----------------------------------------------------------------------------------

    def compress(self) -> bytes:
        """The ZLIB (RFC 1950) stream of the array ("Compressed Byte Array"), recompressing only changed segments."""
        n = len(self._segments)
        if n == 1:
            if self._dirty:
                c = zlib.compressobj(self._level, zlib.DEFLATED, 15, 8, self._strategy)
                self._segments[0] = c.compress(self._buf) + c.flush()
                self._dirty.clear()
            seg = self._segments[0]
            assert seg is not None
            return seg
        view = memoryview(self._buf)
        for i in self._dirty:
            c = zlib.compressobj(self._level, zlib.DEFLATED, -15, 8, self._strategy)
            part = c.compress(view[i * self._chunk:(i + 1) * self._chunk])
            part += c.flush(zlib.Z_FINISH if i == n - 1 else zlib.Z_FULL_FLUSH)
            self._segments[i] = part
        self._dirty.clear()
        adler = zlib.adler32(self._buf).to_bytes(4, "big")
        return b"".join([self._header, *(s for s in self._segments if s is not None), adler])

    @classmethod
    def decompress(cls, data: bytes, bits: int, *, aggregation_uri: str | None = None,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> StatusList:
        """A list from its compressed ``lst`` bytes ("Compressed Byte Array"), capped at ``max_bytes`` uncompressed."""
        bits = check_bits(bits)
        raw = inflate(data, max_bytes=max_bytes)
        self = cls.__new__(cls)
        self._init(bytearray(raw), bits, aggregation_uri, DEFAULT_LEVEL, zlib.Z_DEFAULT_STRATEGY,
                   DEFAULT_CHUNK_SIZE)
        return self

    # -- JSON and CBOR forms --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The JSON Status List ``{"bits", "lst" (base64url), "aggregation_uri"?}`` ("Status List in JSON Format")."""
        out: dict[str, Any] = {"bits": self._bits, "lst": b64u_encode(self.compress())}
        if self._aggregation_uri is not None:
            out["aggregation_uri"] = self._aggregation_uri
        return out

    def to_cbor_map(self) -> dict[str, Any]:
        """The CBOR Status List map ``{"bits", "lst" (bstr), "aggregation_uri"?}`` ("Status List in CBOR Format")."""
        out: dict[str, Any] = {"bits": self._bits, "lst": self.compress()}
        if self._aggregation_uri is not None:
            out["aggregation_uri"] = self._aggregation_uri
        return out

    @classmethod
    def from_json(cls, obj: object, *, max_bytes: int = DEFAULT_MAX_BYTES) -> StatusList:
        """Parse a JSON Status List object ("Status List in JSON Format"); unknown members are ignored."""
        bits, lst, agg = _members(obj)
        if not isinstance(lst, str):
            raise _fail("lst", "status list lst must be a base64url string")
        return cls.decompress(b64u_decode(lst, what="status list lst"), bits, aggregation_uri=agg,
                              max_bytes=max_bytes)

    @classmethod
    def from_cbor_map(cls, obj: object, *, max_bytes: int = DEFAULT_MAX_BYTES) -> StatusList:
        """Parse a decoded CBOR Status List map ("Status List in CBOR Format"); unknown members are ignored."""
        bits, lst, agg = _members(obj)
        if not isinstance(lst, bytes):
            raise _fail("lst", "status list lst must be a byte string")
        return cls.decompress(lst, bits, aggregation_uri=agg, max_bytes=max_bytes)


def _members(obj: object) -> tuple[int, object, str | None]:
    if not isinstance(obj, Mapping):
        raise _fail("status_list", "status_list must be an object / map")
    if "bits" not in obj:
        raise _fail("missing_bits", "status_list has no bits")
    if "lst" not in obj:
        raise _fail("missing_lst", "status_list has no lst")
    bits = check_bits(obj["bits"])
    agg = obj.get("aggregation_uri")
    if agg is not None and not isinstance(agg, str):
        raise _fail("aggregation_uri", "aggregation_uri must be a string")
    return bits, obj["lst"], agg
