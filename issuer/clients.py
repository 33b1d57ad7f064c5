"""The authorization server's client registry: which OAuth clients and wallet providers exist, and where each may
have the authorization response sent (RFC 6749 §2, §3.1.2; RFC 9700 §2.1, §4.1; OAuth 2.1 §2.3, §8.4.2;
RFC 8252 §7.3; RFC 9126 §2.3).

- Deny by default: a ``client_id`` that is not registered is ``invalid_client``; a wallet attestation signed by a
  certificate that is no registered wallet provider's is ``invalid_client``, even when it chains to a trust anchor.
- A redirect URI is accepted only when it equals a registered one, compared as strings; the one exception is a
  registered loopback URI (``http://127.0.0.1/...`` or ``http://[::1]/...``), which matches the same URI with any
  port (a native app's listener gets its port from the OS at run time).
- A request authenticated with a wallet attestation gets the redirect URIs of the wallet provider whose
  certificate signed it (:class:`eidcore.settings.WalletProviderRegistration`), never those of the request or of
  the client registration: an attacker who attests their own instance still cannot name their own redirect URI.

Registrations come from :class:`eidcore.settings.IssuerSettings` (``clients``, ``wallet_providers``). With neither
set, dev registers the reference wallet (client ``lommebok-wallet``, loopback redirect URIs, this runtime's own
wallet provider certificate); production refuses to start.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from eidcore.errors import ConfigurationError, InvalidClient, InvalidRequest
from eidcore.keys import KeySet
from eidcore.settings import OAuthClientRegistration, Settings, WalletProviderRegistration

__all__ = ["DEV_CLIENT_ID", "DEV_REDIRECT_URIS", "ClientRegistry", "check_registration", "redirect_uri_matches"]

DEV_CLIENT_ID = "lommebok-wallet"
#: what the reference holder sends (``wallet_api.holder.login``): its loopback listener, any port
DEV_REDIRECT_URIS = ("http://127.0.0.1/callback", "http://[::1]/callback")
_LOOPBACK = re.compile(r"http://(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?([/?].*)?", re.DOTALL)


def _loopback_parts(uri: str) -> tuple[str, str] | None:
    """(host, rest) of an ``http`` loopback URI with its port (if any) taken out; None when it is not one."""
    m = _LOOPBACK.fullmatch(uri)
    if m is None:
        return None
    port = m.group(2)
    if port is not None and not 1 <= int(port) <= 65535:
        return None
    return m.group(1), m.group(3) or ""


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """RFC 9700 §2.1 exact string comparison; a registered loopback URI matches any port (RFC 8252 §7.3)."""
    if requested == registered:
        return True
    if "#" in requested:
        return False
    reg = _loopback_parts(registered)
    return reg is not None and _loopback_parts(requested) == reg


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _san_uris(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return set(san.get_values_for_type(x509.UniformResourceIdentifier))


def check_registration(settings: Settings) -> None:
    """Production needs an explicit registration (``LOMMEBOK_ISSUER__CLIENTS`` / ``__WALLET_PROVIDERS``)."""
    iss = settings.issuer
    if settings.environment == "production" and iss.clients is None and iss.wallet_providers is None:
        raise ConfigurationError(
            "production needs a client registration: set LOMMEBOK_ISSUER__CLIENTS and/or "
            "LOMMEBOK_ISSUER__WALLET_PROVIDERS (JSON lists; see eidcore.settings.IssuerSettings)")


@dataclass(frozen=True)
class ClientRegistry:
    """The registered OAuth clients and wallet providers (immutable; one per runtime and key set)."""

    clients: tuple[OAuthClientRegistration, ...]
    wallet_providers: tuple[WalletProviderRegistration, ...]

    @classmethod
    def from_settings(cls, settings: Settings, keys: KeySet | None) -> ClientRegistry:
        """The configured registrations, or in dev (neither set) the reference wallet with ``keys``' provider."""
        check_registration(settings)
        iss = settings.issuer
        if iss.clients is not None or iss.wallet_providers is not None:
            return cls(tuple(iss.clients or ()), tuple(iss.wallet_providers or ()))
        providers: tuple[WalletProviderRegistration, ...] = ()
        if keys is not None:
            providers = (WalletProviderRegistration(
                name="reference wallet provider (dev)",
                certificate_sha256=(_fingerprint(keys.wallet_provider.certificate),),
                client_ids=(DEV_CLIENT_ID,), redirect_uris=DEV_REDIRECT_URIS),)
        return cls((OAuthClientRegistration(client_id=DEV_CLIENT_ID, redirect_uris=DEV_REDIRECT_URIS),), providers)

    def client(self, client_id: str | None) -> OAuthClientRegistration | None:
        return next((c for c in self.clients if c.client_id == client_id), None) if client_id else None

    def wallet_provider(self, certificate: x509.Certificate) -> WalletProviderRegistration | None:
        """The registered wallet provider whose (already validated) signing certificate this is."""
        fp = _fingerprint(certificate)
        uris: set[str] | None = None
        for p in self.wallet_providers:
            if fp in p.certificate_sha256:
                return p
            if p.certificate_uris:
                uris = _san_uris(certificate) if uris is None else uris
                if uris & set(p.certificate_uris):
                    return p
        return None

    def attested_provider(self, certificate: x509.Certificate, client_id: str) -> WalletProviderRegistration:
        """The wallet provider that signed a wallet attestation for ``client_id`` (its ``sub``), or
        ``invalid_client`` (deny by default: chaining to a trust anchor is not enough)."""
        provider = self.wallet_provider(certificate)
        if provider is None:
            raise InvalidClient("the wallet attestation is not signed by a registered wallet provider")
        if client_id not in provider.client_ids:
            raise InvalidClient("the wallet provider is not registered for this client_id")
        return provider

    def redirect_uri(self, client_id: str, requested: str, provider: WalletProviderRegistration | None) -> str:
        """Check a requested redirect URI (RFC 9126 §2.1 + RFC 6749 §3.1.2.2): against the attesting wallet
        provider's registration, or, without an attestation, the client's. Unknown client: ``invalid_client``
        (401); unregistered URI: ``invalid_request`` (400), and the caller never redirects to it."""
        registered: Iterable[str]
        if provider is not None:
            registered = provider.redirect_uris
        else:
            client = self.client(client_id)
            if client is None:
                raise InvalidClient("client_id is not registered")
            if client.require_wallet_attestation:
                raise InvalidClient("this client must authenticate with a wallet attestation")
            registered = client.redirect_uris
        if not any(redirect_uri_matches(r, requested) for r in registered):
            raise InvalidRequest("redirect_uri is not registered for this client")
        return requested
