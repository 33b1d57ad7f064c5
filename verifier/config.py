"""Verifier configuration beyond :class:`eidcore.settings.VerifierSettings`: trust per credential type, the
status-list allow-list and the relying parties, read from ``<data_dir>/verifier/config.json`` when it exists.

::

    {
      "trust": {"pid": ["/etc/lommebok/pid-iaca.pem"], "employee_role": ["/etc/lommebok/digdir-root.pem"]},
      "status_list_prefixes": ["https://issuer.example.no/status/"],
      "relying_parties": [{"id": "rp-nav", "name": "NAV", "api_key_sha256": "<hex>",
                           "allowed_profiles": ["pid-basic"], "redirect_uris": ["https://nav.example/"]}]
    }

Trust is deny by default: a credential type not named under ``trust`` has no trust anchor, so its presentations
fail ``sd_jwt.issuer_trust`` / ``mdoc.issuer_trust`` (OpenID4VP 1.0 §8.6: the verifier decides which issuers it
trusts). Without the file (the embedded default) every defined type trusts the runtime's trust anchors (the dev
root) and status lists are fetched only from the local issuer's ``/status/``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509

from eidcore.errors import ConfigurationError
from eidcore.keys import load_certificates

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class RelyingPartyConfig:
    """A relying party from the configuration file (its API key only as a SHA-256 hex digest)."""

    id: str
    name: str
    api_key_sha256: str
    allowed_profiles: tuple[str, ...]
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class VerifierConfig:
    """``trust`` maps credential type ids to anchors (``None``: the embedded default)."""

    trust: dict[str, tuple[x509.Certificate, ...]] | None = None
    status_list_prefixes: tuple[str, ...] | None = None
    relying_parties: tuple[RelyingPartyConfig, ...] = ()
    path: Path | None = None


def _prefix_url(url: str) -> bool:
    """An https URL (plain http for localhost only) usable as a prefix: it ends with ``/``."""
    parts = urlsplit(url)
    local = parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1")
    return (parts.scheme == "https" or local) and bool(parts.hostname) and url.endswith("/") and not parts.fragment


def config_path(data_dir: Path) -> Path:
    return data_dir / "verifier" / "config.json"


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigurationError(f"{what} must be an array of non-empty strings")
    return tuple(value)


def load_verifier_config(data_dir: Path) -> VerifierConfig:
    """Read ``<data_dir>/verifier/config.json`` (the embedded default when absent); :class:`ConfigurationError`
    names what is wrong."""
    path = config_path(data_dir)
    if not path.exists():
        return VerifierConfig()
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise ConfigurationError(f"{path}: must be a JSON object")
    unknown = set(doc) - {"trust", "status_list_prefixes", "relying_parties"}
    if unknown:
        raise ConfigurationError(f"{path}: unknown members {sorted(unknown)}")
    trust = None
    if "trust" in doc:
        if not isinstance(doc["trust"], dict):
            raise ConfigurationError(f"{path}: trust must map credential type ids to PEM files")
        trust = {}
        for type_id, files in doc["trust"].items():
            certs: list[x509.Certificate] = []
            for f in _strings(files, f"trust.{type_id}"):
                file = Path(f) if Path(f).is_absolute() else path.parent / f
                certs.extend(load_certificates(file))
            trust[str(type_id)] = tuple(certs)
    prefixes = None
    if "status_list_prefixes" in doc:
        prefixes = _strings(doc["status_list_prefixes"], "status_list_prefixes")
        for p in prefixes:
            if not _prefix_url(p):
                raise ConfigurationError(f"{path}: status list prefix {p!r} must be https and end with /")
    rps = []
    for i, rp in enumerate(doc.get("relying_parties", [])):
        if not isinstance(rp, dict):
            raise ConfigurationError(f"{path}: relying_parties[{i}] must be an object")
        digest = rp.get("api_key_sha256")
        if not isinstance(digest, str) or not _HEX64.match(digest):
            raise ConfigurationError(f"{path}: relying_parties[{i}].api_key_sha256 must be 64 lowercase hex digits")
        rp_id, name = rp.get("id"), rp.get("name")
        if not isinstance(rp_id, str) or not rp_id or not isinstance(name, str) or not name:
            raise ConfigurationError(f"{path}: relying_parties[{i}] needs id and name")
        uris = _strings(rp.get("redirect_uris", []), "redirect_uris")
        if not all(_prefix_url(u) for u in uris):
            raise ConfigurationError(f"{path}: relying_parties[{i}].redirect_uris must be https URLs ending with /")
        rps.append(RelyingPartyConfig(rp_id, name, digest,
                                      _strings(rp.get("allowed_profiles", []), "allowed_profiles"),
                                      uris))
    return VerifierConfig(trust, prefixes, tuple(rps), path)
