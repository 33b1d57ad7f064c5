"""Key-encryption key (KEK): secrets stored in the database are wrapped under a key that is not in the database.

Envelope encryption in the shape of NIST SP 800-38F / a cloud KMS ``Encrypt``/``Decrypt``: every generated secret
or private key a service keeps in SQL (the issuer's token-encryption, seal, DPoP-nonce and tx_code keys, its
request-encryption private key, ...) is stored as ``wrap(value, aad=<what the value is>)``. Reading the table
gives nothing usable, and because the associated data names the row (``iss_secret:<name>``), a wrapped value
moved to another row does not unwrap.

- :class:`KeyEncryptionKey`: the interface (a KMS client can implement it later: ``key_id``, ``wrap``,
  ``unwrap``, async so a network call fits);
- :class:`LocalKek`: AES-256-GCM (NIST SP 800-38D) with ``cryptography``'s AESGCM, a random 96-bit nonce per
  value, and a keyring (the current key plus previous ones) so the KEK can rotate: values wrapped under an
  older key still unwrap, and :func:`needs_rewrap` tells the caller to store them again under the current one;
- :func:`load_kek`: production reads ``LOMMEBOK_KEK`` (base64url of 32 bytes) or ``LOMMEBOK_KEK_FILE`` (a file
  holding the same, readable by its owner only), previous keys from ``LOMMEBOK_KEK_PREVIOUS``; development
  creates one once under ``<keys_dir>/kek`` (0600, in a 0700 directory).

Wrapped format (bytes): ``b"LKEK" | version 0x01 | key id (8 bytes) | nonce (12) | ciphertext || tag (16)``; the
header is authenticated with the associated data. :func:`is_wrapped` tells a wrapped value from a legacy
plaintext one (written before values were wrapped), which callers wrap on first read.
Text columns use :func:`wrap_text` / :func:`unwrap_text`: ``"lkek1." + base64url(wrapped)``.
"""

from __future__ import annotations

import hashlib
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from eidcore.encoding import b64u_decode, b64u_encode
from eidcore.errors import ConfigurationError, ParsingError

if TYPE_CHECKING:
    from eidcore.settings import Settings

__all__ = [
    "KeyEncryptionKey",
    "LocalKek",
    "UnwrapError",
    "decode_kek",
    "encode_kek",
    "is_wrapped",
    "is_wrapped_text",
    "kek_id",
    "load_kek",
    "needs_rewrap",
    "read_kek_file",
    "unwrap_text",
    "wrap_text",
    "wrapped_key_id",
]

MAGIC = b"LKEK"
VERSION = 1
KEY_ID_LEN = 8
NONCE_LEN = 12
HEADER_LEN = len(MAGIC) + 1 + KEY_ID_LEN
TEXT_PREFIX = "lkek1."
KEK_LEN = 32


class UnwrapError(ConfigurationError):
    """A stored secret does not unwrap: another key-encryption key, or a tampered or moved row."""


@runtime_checkable
class KeyEncryptionKey(Protocol):
    """Wraps and unwraps secrets stored outside the process (a local AES key today, a KMS tomorrow).

    ``aad`` (associated data) names what the value is (e.g. ``b"iss_secret:seal-key"``): ``unwrap`` with another
    ``aad`` fails, so a wrapped value cannot be moved to another row.
    """

    @property
    def key_id(self) -> str:
        """Hex id of the key new values are wrapped under (safe to log: derived one-way from the key)."""
        ...

    async def wrap(self, plaintext: bytes, *, aad: bytes) -> bytes:
        """``plaintext`` encrypted and authenticated together with ``aad``, in the wrapped format."""
        ...

    async def unwrap(self, wrapped: bytes, *, aad: bytes) -> bytes:
        """The plaintext of ``wrapped``; :class:`UnwrapError` when the key, the ``aad`` or the value is wrong."""
        ...


def kek_id(key: bytes) -> bytes:
    """The 8-byte id of a KEK (a one-way hash: it names the key without revealing it)."""
    return hashlib.sha256(b"lommebok-kek-id\x00" + key).digest()[:KEY_ID_LEN]


def is_wrapped(value: bytes) -> bool:
    """True when ``value`` is in the wrapped format (else it is a legacy plaintext value)."""
    return len(value) > HEADER_LEN + NONCE_LEN and value[: len(MAGIC)] == MAGIC and value[len(MAGIC)] == VERSION


def wrapped_key_id(value: bytes) -> str | None:
    """Hex id of the KEK a wrapped value was made with, or None for a value that is not wrapped."""
    if not is_wrapped(value):
        return None
    return value[len(MAGIC) + 1 : HEADER_LEN].hex()


def needs_rewrap(kek: KeyEncryptionKey, value: bytes) -> bool:
    """True when ``value`` should be stored again: legacy plaintext, or wrapped under a previous KEK."""
    return wrapped_key_id(value) != kek.key_id


class LocalKek:
    """A local AES-256-GCM key-encryption key with a keyring for rotation (``current`` first)."""

    def __init__(self, current: bytes, previous: Sequence[bytes] = (), *, source: str = "the key-encryption key"):
        for k in (current, *previous):
            if len(k) != KEK_LEN:
                raise ConfigurationError(f"{source} must be {KEK_LEN} bytes (AES-256), got {len(k)}")
        self._current = kek_id(current)
        self._keys: dict[bytes, AESGCM] = {kek_id(k): AESGCM(k) for k in (*previous, current)}
        self.source = source

    @classmethod
    def generate(cls) -> LocalKek:
        """A random KEK (tests)."""
        return cls(secrets.token_bytes(KEK_LEN))

    @property
    def key_id(self) -> str:
        return self._current.hex()

    def __repr__(self) -> str:
        return f"LocalKek(key_id={self.key_id!r}, keys={len(self._keys)})"

    async def wrap(self, plaintext: bytes, *, aad: bytes) -> bytes:
        header = MAGIC + bytes([VERSION]) + self._current
        nonce = secrets.token_bytes(NONCE_LEN)
        return header + nonce + self._keys[self._current].encrypt(nonce, plaintext, header + b"\x00" + aad)

    async def unwrap(self, wrapped: bytes, *, aad: bytes) -> bytes:
        if not is_wrapped(wrapped):
            raise UnwrapError("the stored value is not in the wrapped format")
        header, kid = wrapped[:HEADER_LEN], wrapped[len(MAGIC) + 1 : HEADER_LEN]
        aead = self._keys.get(kid)
        if aead is None:
            raise UnwrapError(
                f"the stored value was wrapped under key-encryption key {kid.hex()}, which {self.source} "
                f"(key {self.key_id}) does not hold: set the KEK this deployment was started with "
                "(LOMMEBOK_KEK or LOMMEBOK_KEK_FILE; an older one in LOMMEBOK_KEK_PREVIOUS while rotating)"
            )
        nonce = wrapped[HEADER_LEN : HEADER_LEN + NONCE_LEN]
        try:
            return aead.decrypt(nonce, wrapped[HEADER_LEN + NONCE_LEN :], header + b"\x00" + aad)
        except InvalidTag:
            raise UnwrapError(
                "a stored value does not authenticate under its key-encryption key: it was modified or moved "
                "from another row"
            ) from None


async def wrap_text(kek: KeyEncryptionKey, value: str, *, aad: bytes) -> str:
    """``value`` wrapped for a text column: ``"lkek1." + base64url(wrapped)``."""
    blob = await kek.wrap(value.encode(), aad=aad)
    return TEXT_PREFIX + b64u_encode(blob)


def is_wrapped_text(value: str) -> bool:
    """True when a text column's value was made by :func:`wrap_text`."""
    return value.startswith(TEXT_PREFIX)


async def unwrap_text(kek: KeyEncryptionKey, value: str, *, aad: bytes) -> str:
    """The plaintext of a :func:`wrap_text` value; :class:`UnwrapError` when it does not unwrap."""
    if not is_wrapped_text(value):
        raise UnwrapError("the stored value is not in the wrapped format")
    body = value[len(TEXT_PREFIX) :]
    try:
        blob = b64u_decode(body, what="the stored value")
    except ParsingError:
        raise UnwrapError("the stored value is not in the wrapped format") from None
    return (await kek.unwrap(blob, aad=aad)).decode()


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


def decode_kek(text: str, *, source: str) -> bytes:
    """A KEK from its text form (base64url, with or without padding, of 32 random bytes)."""
    text = text.strip().rstrip("=")  # an operator may paste it padded
    try:
        key = b64u_decode(text, what=source)
    except ParsingError:
        raise ConfigurationError(f"{source} is not base64url") from None
    if len(key) != KEK_LEN:
        raise ConfigurationError(
            f"{source} must be {KEK_LEN} random bytes in base64url (e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))'), "
            f"got {len(key)} bytes"
        )
    return key


def encode_kek(key: bytes) -> str:
    """The text form of a KEK (base64url without padding)."""
    return b64u_encode(key)


def read_kek_file(path: Path, *, source: str) -> bytes:
    """Read a KEK file, refusing one that its group or others may read or write."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise ConfigurationError(f"{source}: {path} does not exist") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigurationError(f"{source}: {path} is not a regular file")
    if st.st_mode & 0o077:
        raise ConfigurationError(
            f"{source}: {path} is readable or writable by group or others "
            f"(mode {stat.S_IMODE(st.st_mode):04o}); chmod 600 it"
        )
    return decode_kek(path.read_text(), source=f"{source} ({path})")


def load_kek(settings: Settings) -> LocalKek:
    """The deployment's KEK: ``LOMMEBOK_KEK`` or ``LOMMEBOK_KEK_FILE``; in development created once.

    Production without either is a :class:`ConfigurationError` naming both variables.
    """
    from eidcore.keys import load_or_create_dev_kek

    if settings.kek is not None and settings.kek_file is not None:
        raise ConfigurationError("set LOMMEBOK_KEK or LOMMEBOK_KEK_FILE, not both")
    previous: list[bytes] = []
    if settings.kek_previous is not None:
        previous = [decode_kek(p, source="LOMMEBOK_KEK_PREVIOUS")
                    for p in settings.kek_previous.get_secret_value().split(",") if p.strip()]
    if settings.kek is not None:
        key = decode_kek(settings.kek.get_secret_value(), source="LOMMEBOK_KEK")
        return LocalKek(key, previous, source="LOMMEBOK_KEK")
    if settings.kek_file is not None:
        return LocalKek(read_kek_file(settings.kek_file, source="LOMMEBOK_KEK_FILE"), previous,
                        source="LOMMEBOK_KEK_FILE")
    if settings.environment == "production":
        raise ConfigurationError(
            "production needs a key-encryption key for the secrets stored in the database: set LOMMEBOK_KEK "
            "(base64url of 32 random bytes) or LOMMEBOK_KEK_FILE (a file holding it, mode 0600)"
        )
    path = settings.effective_keys_dir / "kek"
    return LocalKek(load_or_create_dev_kek(path), previous, source=f"the dev key-encryption key {path}")

