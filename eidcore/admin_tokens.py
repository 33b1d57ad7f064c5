"""Admin API bearer tokens (RFC 6750 §2.1): one per service, strong enough in production.

Each service's admin API (the issuer's offers, status changes and mandates; the verifier's relying parties and
OIDC clients; the wallet provider's instances and youth registry) checks its own token, so a token that leaks
from one service opens no other. In production each is required where it is used, needs at least
:data:`MIN_BITS` bits of entropy (e.g. ``secrets.token_urlsafe(32)``: 43 base64url characters) and differs from
the others. One token for every admin API (``LOMMEBOK_ADMIN_TOKEN``) is refused everywhere. In development the
tokens are generated on first start (``<data_dir>/secrets/admin-token-<service>``, 0600).
"""

from __future__ import annotations

import hmac
import itertools
import math
import string
from collections.abc import Iterable, Mapping

from eidcore.errors import ConfigurationError
from eidcore.settings import SERVICES, ServiceName, Settings

#: entropy an admin token needs in production (the strength of the keys it guards: 256-bit ECDSA, AES-256)
MIN_BITS = 256
#: the variable of each service's token
ENV = {s: f"LOMMEBOK_{s.upper()}_ADMIN_TOKEN" for s in SERVICES}
HOW = "e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'"

_HEX = frozenset(string.hexdigits.lower()), frozenset(string.hexdigits.upper())
_BASE64 = frozenset(string.ascii_letters + string.digits + "-_+/=")
_CLASSES = ((frozenset(string.ascii_lowercase), 26), (frozenset(string.ascii_uppercase), 26),
            (frozenset(string.digits), 10), (frozenset("-_"), 2))


def token_bits(value: str) -> float:
    """An estimate of a token's entropy in bits, from its length and the alphabet it evidently comes from
    (hex: 4 bits a character; base64 or base64url, mixing cases and using 20 symbols or more: 6; otherwise the
    character classes seen)."""
    chars = set(value)
    if any(chars <= h for h in _HEX):
        alphabet = 16
    else:
        seen = [size for cls, size in _CLASSES if chars & cls]
        mixed_case = len(seen) >= 3 or (bool(chars & _CLASSES[0][0]) and bool(chars & _CLASSES[1][0]))
        if chars <= _BASE64 and mixed_case and len(chars) >= 20:
            alphabet = 64
        else:
            other = chars - set().union(*(cls for cls, _ in _CLASSES))
            alphabet = sum(seen) + (95 - 64 if other else 0)
    return len(value) * math.log2(max(alphabet, 2))


def token_weakness(value: str) -> str | None:
    """Why a token is too weak for production, or None.

    Besides the estimate of :func:`token_bits` (at least :data:`MIN_BITS`), refuses what no generator of random
    tokens produces: few distinct characters, a repeated pattern, a run along the alphabet.
    """
    if value != value.strip() or any(not c.isprintable() for c in value):
        return "it holds white space or control characters"
    if len(set(value)) < 10:
        return "it uses fewer than 10 distinct characters"
    for period in range(1, len(value) // 2 + 1):
        if len(value) % period == 0 and value == value[:period] * (len(value) // period):
            return "it repeats a shorter pattern"
    steps = sum(1 for a, b in itertools.pairwise(value) if abs(ord(a) - ord(b)) <= 1)
    if steps * 2 > len(value):
        return "it runs along the alphabet"
    bits = token_bits(value)
    if bits < MIN_BITS:
        return f"it has about {int(bits)} bits of entropy, fewer than {MIN_BITS}"
    return None


def refuse_shared_token(settings: Settings) -> None:
    """One token for every admin API is refused in every environment, naming the per-service variables."""
    if settings.admin_token:
        raise ConfigurationError(
            "LOMMEBOK_ADMIN_TOKEN (one token for every admin API) is refused: set "
            + ", ".join(ENV.values()) + f", each its own random value ({HOW}), or leave them unset in development "
            "to have them generated")


def production_admin_tokens(settings: Settings, services: Iterable[ServiceName]) -> dict[ServiceName, str]:
    """The admin tokens of a production process serving ``services``: each one's own token (a peer calling another
    service's admin API has a credential of its own: :func:`production_peer_tokens`); refuses the shared token,
    missing, weak or equal ones with a :class:`ConfigurationError` naming the variable (never the value)."""
    refuse_shared_token(settings)
    needed = set(services)
    tokens: dict[ServiceName, str] = {}
    for service in SERVICES:
        value: str | None = getattr(settings, f"{service}_admin_token")
        if not value:
            if service in needed:
                raise ConfigurationError(f"production needs {ENV[service]} for the {service}'s admin API ({HOW})")
            continue
        weakness = token_weakness(value)
        if weakness is not None:
            raise ConfigurationError(f"{ENV[service]} is too weak: {weakness}; it needs at least {MIN_BITS} bits "
                                     f"of entropy ({HOW})")
        tokens[service] = value
    _check_distinct({ENV[s]: t for s, t in tokens.items()})
    return tokens


def peer_env(caller: ServiceName, service: ServiceName) -> str:
    """The variable holding ``caller``'s credential at ``service``'s admin API."""
    return f"LOMMEBOK_{caller.upper()}_{service.upper()}_TOKEN"


def peer_setting(settings: Settings, caller: ServiceName, service: ServiceName) -> str | None:
    """``caller``'s credential at ``service``'s admin API as configured, or None."""
    value: str | None = getattr(settings, f"{caller}_{service}_token", None)
    return value or None


def production_peer_tokens(settings: Settings, services: Iterable[ServiceName],
                           admin_tokens: Mapping[ServiceName, str],
                           peers: Iterable[tuple[ServiceName, ServiceName]],
                           ) -> dict[tuple[ServiceName, ServiceName], str]:
    """The peer credentials of a production process serving ``services``: each pair in ``peers`` where this process
    is the caller or the called service needs its own strong credential, different from every admin token."""
    serving = set(services)
    out: dict[tuple[ServiceName, ServiceName], str] = {}
    for caller, service in peers:
        value = peer_setting(settings, caller, service)
        if not value:
            if caller in serving or service in serving:
                raise ConfigurationError(f"production needs {peer_env(caller, service)}: the {caller}'s own credential "
                                         f"at the {service}'s admin API ({HOW})")
            continue
        weakness = token_weakness(value)
        if weakness is not None:
            raise ConfigurationError(f"{peer_env(caller, service)} is too weak: {weakness}; it needs at least "
                                     f"{MIN_BITS} bits of entropy ({HOW})")
        out[(caller, service)] = value
    named = {ENV[s]: t for s, t in admin_tokens.items()} | {peer_env(c, s): t for (c, s), t in out.items()}
    _check_distinct(named)
    return out


def _check_distinct(tokens: Mapping[str, str]) -> None:
    """Refuse two variables holding the same token (``tokens``: variable name -> value)."""
    items = list(tokens.items())
    for i, (a, ta) in enumerate(items):
        for b, tb in items[i + 1:]:
            if hmac.compare_digest(ta.encode(), tb.encode()):
                raise ConfigurationError(f"{a} and {b} are the same: each admin API and each caller needs its own "
                                         "token")


def bearer_matches(authorization: str | None, expected: str | None) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <expected>`` (RFC 6750 §2.1; scheme case-insensitive,
    compared in constant time); never when no token is expected."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or not expected:
        return False
    return hmac.compare_digest(token.encode(), expected.encode())
