"""CBOR (RFC 8949) for Lommebok: the one place the project imports ``cbor2``.

Implements the subset of RFC 8949 the credential formats need, strictly:

- decoding rejects trailing bytes, indefinite lengths (ISO/IEC 18013-5 and the EUDI PID Rulebook require
  definite lengths), duplicate map keys (RFC 8949 §5.6), inputs larger than ``max_size`` and nesting deeper
  than ``max_depth``; value sharing (tags 28/29), string references (tags 25/256), regular expressions (35)
  and MIME messages (36) are refused; every failure is an :class:`eidcore.errors.ParsingError`;
- encoding uses the preferred (shortest) serialization with definite lengths (RFC 8949 §4.1);
- tag 24, "encoded CBOR data item" (RFC 8949 §3.4.5.1), is decoded to :class:`EmbeddedCBOR`, which keeps the
  exact embedded bytes (ISO/IEC 18013-5 digests and signatures are over them, never over a re-encoding);
- tag 0 (RFC 3339 date/time string, RFC 8949 §3.4.1) decodes to a timezone-aware ``datetime`` and tag 1004
  (RFC 8943 full-date) to a ``date``; :func:`tdate` and :func:`full_date` build them for encoding.

Public API: :func:`dumps`, :func:`loads`, :class:`EmbeddedCBOR` (with :func:`tag24` / :func:`untag24`),
:class:`CBORTag`, :func:`tdate`, :func:`full_date`, :data:`MAX_SIZE`, :data:`MAX_DEPTH`.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any, Final

import cbor2
from cbor2 import CBORTag

from eidcore.errors import ParsingError

__all__ = [
    "MAX_DEPTH",
    "MAX_SIZE",
    "CBORTag",
    "EmbeddedCBOR",
    "PreEncoded",
    "bstr_header",
    "dumps",
    "encode_tdate",
    "full_date",
    "loads",
    "loads_each",
    "tag24",
    "tdate",
    "untag24",
]

MAX_SIZE: Final = 4 * 1024 * 1024
"""Default largest input :func:`loads` accepts, in bytes (a PID mdoc with a portrait is well below this)."""

MAX_DEPTH: Final = 32
"""Default deepest container nesting :func:`loads` accepts."""

TAG_TDATE: Final = 0
TAG_EPOCH: Final = 1
TAG_ENCODED_CBOR: Final = 24
TAG_FULL_DATE: Final = 1004


class EmbeddedCBOR:
    """``#6.24(bstr .cbor T)``: an embedded CBOR data item (RFC 8949 §3.4.5.1), kept as its exact bytes.

    ``raw`` is the content of the byte string (the embedded item's encoding). :meth:`encoded` gives the
    full tag-24 encoding (``d8 18`` + bstr header + ``raw``), which is what ISO/IEC 18013-5 hashes for value
    digests and what goes on the wire.
    """

    __slots__ = ("_value", "raw")

    def __init__(self, raw: bytes, _immutable: bool = False) -> None:
        # (the second parameter lets the class itself serve as cbor2's semantic decoder for tag 24)
        if type(raw) is not bytes:
            raise ParsingError("tag 24 must wrap a byte string")
        self.raw = raw
        self._value: Any = _UNSET

    @classmethod
    def of(cls, value: Any) -> EmbeddedCBOR:
        """Encode ``value`` and wrap it (the decoded value is remembered, no re-decode needed)."""
        obj = cls(dumps(value))
        obj._value = value
        return obj

    def value(self, *, max_depth: int = MAX_DEPTH) -> Any:
        """The embedded item, decoded strictly (cached after the first call)."""
        if self._value is _UNSET:
            self._value = loads(self.raw, max_depth=max_depth, what="embedded CBOR (tag 24)")
        return self._value

    def encoded(self) -> bytes:
        """The full tag-24 encoding of this item: ``d8 18`` + bstr header + ``raw``."""
        return b"\xd8\x18" + bstr_header(len(self.raw)) + self.raw

    def __reduce__(self) -> tuple[type[EmbeddedCBOR], tuple[bytes]]:
        # copy, deepcopy and pickle give a fresh object without the decoded-value cache
        return (EmbeddedCBOR, (self.raw,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EmbeddedCBOR) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash((TAG_ENCODED_CBOR, self.raw))

    def __repr__(self) -> str:
        more = "…" if len(self.raw) > 16 else ""
        return f"EmbeddedCBOR({self.raw[:16].hex()}{more}, {len(self.raw)} bytes)"


_UNSET: Final = object()


class PreEncoded:
    """Bytes that are already one well-formed CBOR item; :func:`dumps` writes them verbatim (no re-encoding)."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __repr__(self) -> str:
        return f"PreEncoded({self.raw.hex()})"


def encode_tdate(value: datetime) -> PreEncoded:
    """``tdate`` (tag 0, RFC 8949 §3.4.1) in UTC whole seconds, ``YYYY-MM-DDThh:mm:ssZ``, pre-encoded."""
    v = value if value.tzinfo is UTC and not value.microsecond else tdate(value)
    text = "%04d-%02d-%02dT%02d:%02d:%02dZ" % (v.year, v.month, v.day, v.hour, v.minute, v.second)  # noqa: UP031
    return PreEncoded(b"\xc0\x74" + text.encode("ascii"))


def tag24(value: Any) -> EmbeddedCBOR:
    """Wrap ``value`` as ``#6.24(bstr .cbor value)`` (RFC 8949 §3.4.5.1)."""
    return EmbeddedCBOR.of(value)


def untag24(item: Any, *, what: str = "item") -> Any:
    """Decode an :class:`EmbeddedCBOR` (as :func:`loads` returns tag 24); anything else is a ParsingError."""
    if not isinstance(item, EmbeddedCBOR):
        raise ParsingError(f"{what} is not tag-24 embedded CBOR")
    return item.value()


def bstr_header(length: int) -> bytes:
    """The preferred-serialization header of a bstr of ``length`` bytes (RFC 8949 §3.1, major type 2)."""
    if length < 24:
        return bytes((0x40 | length,))
    if length < 0x100:
        return bytes((0x58, length))
    if length < 0x10000:
        return b"\x59" + length.to_bytes(2, "big")
    if length < 0x100000000:
        return b"\x5a" + length.to_bytes(4, "big")
    return b"\x5b" + length.to_bytes(8, "big")


def tdate(value: datetime) -> datetime:
    """A ``tdate`` (tag 0, RFC 8949 §3.4.1) value for encoding: UTC, whole seconds (ISO/IEC 18013-5 §7.1)."""
    if value.tzinfo is None:
        raise ValueError("tdate needs a timezone-aware datetime")
    return value.astimezone(UTC).replace(microsecond=0)


def full_date(value: date | str) -> date:
    """A ``full-date`` (tag 1004, RFC 8943) value for encoding, from a ``date`` or ``YYYY-MM-DD``."""
    if isinstance(value, datetime):
        raise ValueError("full_date takes a date, not a datetime")
    if isinstance(value, str):
        if len(value) != 10:
            raise ParsingError("full-date is not YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ParsingError("full-date is not YYYY-MM-DD") from exc
    return value


def _encode_default(encoder: Any, value: Any) -> None:
    if isinstance(value, EmbeddedCBOR):
        encoder.encode_semantic(TAG_ENCODED_CBOR, value.raw)
        return
    if isinstance(value, PreEncoded):
        encoder.write(value.raw)
        return
    raise TypeError(f"cannot CBOR-encode {type(value).__name__}")


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` with the preferred serialization and definite lengths (RFC 8949 §4.1).

    ``datetime`` becomes tag 0 and ``date`` tag 1004; :class:`EmbeddedCBOR` becomes tag 24. Map key order is
    kept as given (the caller decides; ISO/IEC 18013-5 does not require sorted keys).
    """
    try:
        return cbor2.dumps(obj, default=_encode_default)
    except (cbor2.CBOREncodeError, TypeError, ValueError) as exc:
        raise ParsingError(f"cannot encode CBOR: {exc}") from exc


def _refuse(value: Any, immutable: bool) -> Any:
    raise ValueError("this CBOR tag is not accepted")


def _refuse_shareable(immutable: bool) -> Any:
    raise ValueError("CBOR value sharing (tag 28) is not accepted")


def _keep(tag: int) -> Any:
    def decode(value: Any, immutable: bool) -> CBORTag:
        return CBORTag(tag, value)

    return decode


# COSE (RFC 9052 §2: 16 Encrypt0, 17 Mac0, 18 Sign1, 96 Encrypt, 97 Mac, 98 Sign) and CWT (RFC 8392, 61) tags
# come back as CBORTag with ordinary (mutable) lists and dicts inside, like untagged messages.
_SEMANTIC: Final[dict[int, Any]] = {
    **{tag: _keep(tag) for tag in (16, 17, 18, 61, 96, 97, 98)},
    TAG_ENCODED_CBOR: EmbeddedCBOR,
    25: _refuse,  # stringref
    28: _refuse_shareable,  # shareable
    29: _refuse,  # sharedref
    35: _refuse,  # regular expression
    36: _refuse,  # MIME message
    256: _refuse,  # stringref namespace
}


def loads(data: bytes, *, max_size: int = MAX_SIZE, max_depth: int = MAX_DEPTH, what: str = "CBOR") -> Any:
    """Decode exactly one CBOR data item from ``data``, strictly (RFC 8949 §5.3 "well-formed and valid").

    Raises :class:`ParsingError` (naming ``what``) for malformed input, trailing bytes, indefinite lengths,
    duplicate map keys, inputs over ``max_size`` bytes or nested deeper than ``max_depth``, and refused tags.
    Tag 24 comes back as :class:`EmbeddedCBOR`, tag 0 and tag 1 as aware ``datetime``, tag 1004 as ``date``.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ParsingError(f"{what} is not a byte string")
    if len(data) > max_size:
        raise ParsingError(f"{what} is larger than {max_size} bytes")
    if not data:
        raise ParsingError(f"{what} is empty")
    fp = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(
            fp,
            semantic_decoders=_SEMANTIC,
            max_depth=max_depth,
            allow_indefinite=False,
            allow_duplicate_keys=False,
        ).decode()
    except cbor2.CBORDecodeError as exc:
        raise ParsingError(f"{what} is not valid CBOR: {_short(exc)}") from exc
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:  # defensive: decoder internals
        raise ParsingError(f"{what} is not valid CBOR") from exc
    if fp.tell() != len(data):
        raise ParsingError(f"{what} has trailing bytes after the CBOR item")
    return value


def loads_each(parts: Sequence[bytes], *, max_depth: int = MAX_DEPTH, what: str = "CBOR") -> list[Any]:
    """Decode each of ``parts`` as exactly one CBOR item, as strictly as :func:`loads` (one decoder for all).

    Used for the many small embedded items of an mdoc: every part must end exactly at its own boundary, so a
    part with trailing bytes or a truncated one is a :class:`ParsingError`, as with :func:`loads`.
    """
    buf = b"".join(parts)
    if len(buf) > MAX_SIZE:
        raise ParsingError(f"{what} is larger than {MAX_SIZE} bytes")
    fp = io.BytesIO(buf)
    out: list[Any] = []
    end = 0
    tell = fp.tell
    try:
        decode = cbor2.CBORDecoder(
            fp, semantic_decoders=_SEMANTIC, max_depth=max_depth, allow_indefinite=False, allow_duplicate_keys=False
        ).decode
        for part in parts:
            if not part:
                raise ParsingError(f"{what} is empty")
            out.append(decode())
            end += len(part)
            if tell() != end:
                raise ParsingError(f"{what} does not hold exactly one CBOR item")
    except cbor2.CBORDecodeError as exc:
        raise ParsingError(f"{what} is not valid CBOR: {_short(exc)}") from exc
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise ParsingError(f"{what} is not valid CBOR") from exc
    return out


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."
