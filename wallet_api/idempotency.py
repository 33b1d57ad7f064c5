"""Idempotency keys (draft-ietf-httpapi-idempotency-key-header): a state-changing call of the wallet API carries an
``Idempotency-Key``; its first answer is kept (24 h, in the runtime's key-value store, atomic across workers) and a
retry with the same key and body gets it again (``Idempotent-Replayed: true``), another body with the key a 409.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from eidcore.errors import Conflict, InvalidRequest
from eidcore.runtime import Runtime

__all__ = ["IDEMPOTENCY_TTL", "StoredResponse", "idempotency_abort", "idempotency_begin", "idempotency_finish"]

IDEMPOTENCY_TTL = 24 * 3600


@dataclass(frozen=True)
class StoredResponse:
    """The first answer to a request with this key."""

    status: int
    body: Any


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _key(scope: str, key: str) -> str:
    return f"wal:idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"


async def idempotency_begin(rt: Runtime, scope: str, key: str | None, body: Any) -> StoredResponse | None:
    """Reserve ``key`` for this request, or return the stored response of its first use."""
    if key is None:
        raise InvalidRequest("state-changing calls need an Idempotency-Key header")
    if not 8 <= len(key) <= 128 or not key.isascii() or not key.isprintable():
        raise InvalidRequest("the Idempotency-Key must be 8 to 128 printable ASCII characters")
    k = _key(scope, key)
    fp = fingerprint(body)
    pending = json.dumps({"fp": fp, "state": "pending"}).encode()
    if await rt.store.put(k, pending, IDEMPOTENCY_TTL, only_if_absent=True):
        return None
    raw = await rt.store.get(k)
    stored = json.loads(raw) if raw else {}
    if stored.get("fp") != fp:
        raise Conflict("this Idempotency-Key was used with a different request")
    if stored.get("state") != "done":
        raise Conflict("a request with this Idempotency-Key is still being processed")
    return StoredResponse(int(stored["status"]), stored["body"])


async def idempotency_finish(rt: Runtime, scope: str, key: str, body: Any, status: int, response: Any) -> None:
    """Keep the answer of the request that reserved ``key``."""
    value = json.dumps({"fp": fingerprint(body), "state": "done", "status": status, "body": response},
                       default=str).encode()
    await rt.store.put(_key(scope, key), value, IDEMPOTENCY_TTL)


async def idempotency_abort(rt: Runtime, scope: str, key: str) -> None:
    """Free ``key`` after a failed request (a retry runs again)."""
    await rt.store.delete(_key(scope, key))
