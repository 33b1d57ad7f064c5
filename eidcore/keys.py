"""Keys, certificates and the development PKI.

P-256 / ES256 throughout (OpenID4VC HAIP 1.0 §7). In development, :func:`load_or_create_dev_pki` creates on
first start, under ``<data_dir>/keys/`` (directory 0700, private keys 0600, written atomically):

- ``root``: the dev root CA (the trust anchor relying parties configure; ``lommebok keys export-trust``);
- ``issuer``: the PID issuer's document signer, usable as SD-JWT VC ``x5c`` and as mdoc ``x5chain``
  (keyUsage digitalSignature, EKU ``1.0.18013.5.1.2`` per ISO/IEC 18013-5 Annex B, SAN with the issuer URL);
- ``verifier``: the verifier's access certificate (SAN dNSName = the public host, for ``x509_san_dns`` and
  ``x509_hash`` client identifiers, OpenID4VP 1.0 §5.9);
- ``wallet_provider``: the wallet provider's signing certificate (wallet and key attestations);
- ``kek``: the dev key-encryption key that wraps the secrets kept in the database (:mod:`eidcore.kek`).

The leaf certificates name the configured service URLs; when those change (``LOMMEBOK_PUBLIC_BASE_URL``, the
port), the leaves are re-made for the new URLs under the same root with the same keys.

In production nothing is generated: :func:`load_keyset` reads ``LOMMEBOK_KEYS_DIR`` laid out the same way
(``<role>.key.pem``, ``<role>.chain.pem`` leaf first, ``trust-anchors.pem``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.errors import ConfigurationError
from eidcore.jose import SigningKey

Role = Literal["issuer", "verifier", "wallet_provider"]
ROLES: tuple[Role, ...] = ("issuer", "verifier", "wallet_provider")
MDOC_DS_EKU = ObjectIdentifier("1.0.18013.5.1.2")

log = logging.getLogger("lommebok.keys")


@dataclass(frozen=True)
class SigningIdentity:
    """A private key with its certificate chain (leaf first, the trust anchor excluded)."""

    role: str
    key: ec.EllipticCurvePrivateKey
    chain: tuple[x509.Certificate, ...]

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def chain_der(self) -> list[bytes]:
        """The chain as DER (for ``x5c`` after base64, and for COSE ``x5chain``)."""
        return [c.public_bytes(serialization.Encoding.DER) for c in self.chain]

    def signing_key(self, *, kid: str | None = None) -> SigningKey:
        """The key as a JOSE signing key carrying this chain as ``x5c`` (ES256)."""
        return SigningKey(self.key, "ES256", kid, tuple(self.chain_der))

    @property
    def cert_sha256(self) -> bytes:
        """SHA-256 of the DER leaf certificate (the ``x509_hash`` client identifier, OpenID4VP 1.0 §5.9.3)."""
        return hashlib.sha256(self.chain_der[0]).digest()


@dataclass(frozen=True)
class KeySet:
    """Every signing identity of a deployment and the trust anchors it was issued under."""

    issuer: SigningIdentity
    verifier: SigningIdentity
    wallet_provider: SigningIdentity
    trust_anchors: tuple[x509.Certificate, ...]
    directory: Path | None = None

    def identity(self, role: Role) -> SigningIdentity:
        identity: SigningIdentity = getattr(self, role)
        return identity


# --------------------------------------------------------------------------------------------------
# File handling
# --------------------------------------------------------------------------------------------------


def _write_temp(path: Path, data: bytes, mode: int) -> str:
    """Write ``data`` to a new temporary file beside ``path`` with ``mode`` (whatever the umask), synced; its name."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return tmp


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data`` at once: a reader sees the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temp(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_private_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Read a PEM P-256 private key; a :class:`ConfigurationError` names the file and the fix."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise ConfigurationError(f"key file not found: {path}") from None
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"key file {path} is corrupt or not an unencrypted PEM private key ({exc}); "
            "in development delete the keys directory to generate new dev keys"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ConfigurationError(f"key file {path} must hold a P-256 (ES256) private key")
    return key


def load_certificates(path: Path) -> tuple[x509.Certificate, ...]:
    """Read one or more PEM certificates from a file."""
    try:
        certs = tuple(x509.load_pem_x509_certificates(path.read_bytes()))
    except FileNotFoundError:
        raise ConfigurationError(f"certificate file not found: {path}") from None
    except ValueError as exc:
        raise ConfigurationError(f"certificate file {path} is corrupt ({exc})") from None
    if not certs:
        raise ConfigurationError(f"certificate file {path} holds no certificate")
    return certs


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


# --------------------------------------------------------------------------------------------------
# Dev PKI
# --------------------------------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lommebok development"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _ku(*, sign: bool = False, cert_sign: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign, content_commitment=False, key_encipherment=False, data_encipherment=False,
        key_agreement=False, key_cert_sign=cert_sign, crl_sign=cert_sign, encipher_only=False, decipher_only=False,
    )


def make_root_ca(cn: str, *, now: dt.datetime, days: int = 3650) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A self-signed P-256 root CA (pathLen 0 below it: it signs leaves directly)."""
    key = ec.generate_private_key(ec.SECP256R1())
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ku(cert_sign=True), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def make_leaf(
    cn: str,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    *,
    now: dt.datetime,
    days: int,
    dns: list[str] | None = None,
    uris: list[str] | None = None,
    eku: list[ObjectIdentifier] | None = None,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A P-256 end-entity certificate for signing, issued by ``ca_cert`` (for ``key``, else a new key)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_ku(sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    )
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns or []]
    names += [x509.UniformResourceIdentifier(u) for u in uris or []]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    return key, builder.sign(ca_key, hashes.SHA256())


#: each role's service (whose URL its dev certificate names), subject and extended key usage
_DEV_LEAVES: dict[Role, tuple[str, str, list[ObjectIdentifier] | None]] = {
    "issuer": ("issuer", "Lommebok Dev PID Issuer (document signer)", [MDOC_DS_EKU]),
    "verifier": ("verifier", "Lommebok Dev Verifier", [ExtendedKeyUsageOID.SERVER_AUTH]),
    "wallet_provider": ("wallet", "Lommebok Dev Wallet Provider", None),
}
DEV_LEAF_DAYS = 455


def dev_service_urls(public_base_url: str, service_urls: Mapping[str, str] | None = None) -> dict[str, str]:
    """The URL each service's dev certificate names: ``service_urls``, else ``<public_base_url>/<service>``."""
    urls = {s: f"{public_base_url}/{s}" for s in ("issuer", "verifier", "wallet")}
    urls.update(service_urls or {})
    return urls


def _dev_leaf(role: Role, url: str, root_key: ec.EllipticCurvePrivateKey, root: x509.Certificate, *,
              now: dt.datetime, key: ec.EllipticCurvePrivateKey | None = None) -> SigningIdentity:
    """``role``'s dev certificate: ``url`` as URI SAN and its host as dNSName SAN (OpenID4VP 1.0 §5.9.3)."""
    from urllib.parse import urlsplit

    _, cn, eku = _DEV_LEAVES[role]
    leaf_key, cert = make_leaf(cn, root_key, root, now=now, days=DEV_LEAF_DAYS,
                               dns=[urlsplit(url).hostname or "localhost"], uris=[url], eku=eku, key=key)
    return SigningIdentity(role, leaf_key, (cert,))


def names_url(cert: x509.Certificate, url: str) -> bool:
    """Whether a dev certificate names exactly ``url`` (URI SAN) and its host (dNSName SAN)."""
    from urllib.parse import urlsplit

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return (san.get_values_for_type(x509.UniformResourceIdentifier) == [url]
            and san.get_values_for_type(x509.DNSName) == [urlsplit(url).hostname or "localhost"])


def create_dev_pki(public_base_url: str, *, clock: Clock = SYSTEM_CLOCK,
                   service_urls: Mapping[str, str] | None = None) -> tuple[
    tuple[ec.EllipticCurvePrivateKey, x509.Certificate], dict[Role, SigningIdentity]
]:
    """Generate the dev root CA and the three signing identities (nothing written).

    Each leaf names its service's URL (``service_urls``, default ``<public_base_url>/<service>``) as a URI SAN
    and its host as a dNSName SAN.
    """
    urls = dev_service_urls(public_base_url, service_urls)
    now = clock.now()
    root_key, root = make_root_ca("Lommebok Dev Root CA", now=now)
    ids: dict[Role, SigningIdentity] = {
        role: _dev_leaf(role, urls[service], root_key, root, now=now) for role, (service, _, _) in _DEV_LEAVES.items()
    }
    return (root_key, root), ids


def _files(directory: Path, role: str) -> tuple[Path, Path]:
    return directory / f"{role}.key.pem", directory / f"{role}.chain.pem"


def load_keyset(directory: Path) -> KeySet:
    """Load a key set written by :func:`load_or_create_dev_pki` (or laid out the same way by hand)."""
    ids = {}
    for role in ROLES:
        key_file, chain_file = _files(directory, role)
        key = load_private_key(key_file)
        chain = load_certificates(chain_file)
        if chain[0].public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[union-attr]
            raise ConfigurationError(f"{chain_file}: the certificate does not belong to the key in {key_file}")
        ids[role] = SigningIdentity(role, key, chain)
    anchors = load_certificates(directory / "trust-anchors.pem")
    return KeySet(issuer=ids["issuer"], verifier=ids["verifier"], wallet_provider=ids["wallet_provider"],
                  trust_anchors=anchors, directory=directory)


def load_or_create_dev_pki(directory: Path, public_base_url: str, *, clock: Clock = SYSTEM_CLOCK,
                           service_urls: Mapping[str, str] | None = None) -> KeySet:
    """Load the dev PKI from ``directory``, creating it on first use (all files, or none).

    The dev certificates name the service URLs (``service_urls``, default ``<public_base_url>/<service>``). When
    the configured URLs have changed since (another ``LOMMEBOK_PUBLIC_BASE_URL`` or port), the leaf certificates
    that name an old one are re-made under the same dev root with the same keys, so the certificates never name
    a host the deployment no longer answers at, while exported trust anchors and issued credentials stay valid.
    Creating and re-making hold a lock on the directory, so workers starting together do it once.
    """
    urls = dev_service_urls(public_base_url, service_urls)
    marker = directory / "trust-anchors.pem"
    if marker.exists():
        keys = load_keyset(directory)
        if not _stale_roles(keys, urls):
            return keys
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    with _locked(directory):
        if marker.exists():
            keys = load_keyset(directory)
            stale = _stale_roles(keys, urls)
            if stale:
                _reissue(directory, keys, stale, urls, clock=clock)
                keys = load_keyset(directory)
            return keys
        if any(directory.glob("*.pem")):
            raise ConfigurationError(
                f"{directory} holds some key files but no trust-anchors.pem: it is incomplete; "
                "delete the directory to generate new dev keys"
            )
        (root_key, root), ids = create_dev_pki(public_base_url, clock=clock, service_urls=service_urls)
        _atomic_write(directory / "root.key.pem", _key_pem(root_key), 0o600)
        for role, ident in ids.items():
            key_file, chain_file = _files(directory, role)
            _atomic_write(key_file, _key_pem(ident.key), 0o600)
            _atomic_write(chain_file, pem(*ident.chain), 0o644)
        _atomic_write(marker, pem(root), 0o644)  # written last: its presence means the set is complete
    return load_keyset(directory)


def _stale_roles(keys: KeySet, urls: Mapping[str, str]) -> list[Role]:
    """The roles whose certificate does not name the URL of their service now."""
    return [role for role, (service, _, _) in _DEV_LEAVES.items()
            if not names_url(keys.identity(role).certificate, urls[service])]


def _reissue(directory: Path, keys: KeySet, roles: list[Role], urls: Mapping[str, str], *, clock: Clock) -> None:
    """New certificates for ``roles`` naming ``urls``, issued by the dev root to the same keys."""
    root_key_file = directory / "root.key.pem"
    if not root_key_file.exists():
        named = ", ".join(f"{r}: {urls[_DEV_LEAVES[r][0]]}" for r in roles)
        raise ConfigurationError(
            f"the certificates in {directory} do not name the configured service URLs ({named}), and the directory "
            "has no root.key.pem (it was not made by the dev PKI), so they are not re-made: issue certificates for "
            "these URLs, or set LOMMEBOK_PUBLIC_BASE_URL to the URL they name"
        )
    root_key = load_private_key(root_key_file)
    root = keys.trust_anchors[0]
    if root.public_key().public_numbers() != root_key.public_key().public_numbers():  # type: ignore[union-attr]
        raise ConfigurationError(f"{root_key_file} does not belong to the root in {directory / 'trust-anchors.pem'}")
    now = clock.now()
    for role in roles:
        ident = _dev_leaf(role, urls[_DEV_LEAVES[role][0]], root_key, root, now=now, key=keys.identity(role).key)
        _atomic_write(_files(directory, role)[1], pem(*ident.chain), 0o644)
    log.info("dev certificates re-made for the configured URLs: %s", ", ".join(sorted(roles)))


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` (``flock`` on a lock file in it) while the block runs."""
    import fcntl

    fd = os.open(directory / ".dev-pki.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def load_or_create_dev_kek(path: Path) -> bytes:
    """The dev key-encryption key (:mod:`eidcore.kek`) at ``path``, created once (file 0600, directory 0700).

    Written atomically like the dev private keys, whatever the umask; a file that group or others can read is
    refused (as ``LOMMEBOK_KEK_FILE`` is in production).
    """
    import secrets

    from eidcore.kek import KEK_LEN, encode_kek, read_kek_file

    source = "the dev key-encryption key"
    if not path.exists():
        if not path.parent.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(path.parent, 0o700)
        atomic_create(path, (encode_kek(secrets.token_bytes(KEK_LEN)) + "\n").encode(), 0o600)
    return read_kek_file(path, source=source)


def atomic_create(path: Path, data: bytes, mode: int) -> None:
    """Write ``path`` completely (``mode`` whatever the umask) unless it exists: of two processes starting
    at once, one creates it and both then read the same content (``link`` fails when the name exists)."""
    tmp = _write_temp(path, data, mode)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        Path(tmp).unlink(missing_ok=True)


def cert_fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 fingerprint of the DER certificate, hex with colons."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()
