"""The wallet app's client of the wallet provider API (what the mobile app does), on httpx.

Every call is signed with the instance key: a DPoP-style proof (RFC 9449 §4.2 format) per request, made with
:func:`eidcore.oauth.dpop.make_proof`; state-changing calls carry an ``Idempotency-Key``. Errors come back as
:class:`eidcore.errors.RemoteProblem` (RFC 9457 problem details: ``error`` = the problem type's code).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from eidcore import jose
from eidcore.clock import SYSTEM_CLOCK, Clock
from eidcore.errors import RemoteProblem
from eidcore.oauth import dpop


class Device(Protocol):
    """The phone's platform: attests a Keystore key with a challenge (Android Key Attestation x5c)."""

    def attest(self, instance_key: ec.EllipticCurvePublicKey, challenge: bytes, *, clock: Clock) -> list[str]: ...


def raise_for_problem(resp: httpx.Response) -> None:
    """Raise :class:`RemoteProblem` for an error answer (problem details or an OAuth error body)."""
    if resp.status_code < 400:
        return
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = body.get("error")
    if not isinstance(code, str):
        t = body.get("type")
        code = t.rsplit(":", 1)[-1] if isinstance(t, str) else f"http_{resp.status_code}"
    detail = body.get("detail") or body.get("error_description") or resp.reason_phrase
    raise RemoteProblem(str(detail), error=code, http_status=resp.status_code)


@dataclass
class ProviderClient:
    """Signed calls of one wallet instance to the wallet provider at ``base_url`` (e.g. http://host/wallet)."""

    http: httpx.AsyncClient
    base_url: str
    key: jose.SigningKey
    clock: Clock = SYSTEM_CLOCK

    def _url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    async def call(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None,
                   params: dict[str, Any] | None = None, idempotent: bool = False,
                   nonce: str | None = None, expect: tuple[int, ...] = ()) -> httpx.Response:
        url = self._url(path)
        h = {"DPoP": dpop.make_proof(self.key, htm=method, htu=url, clock=self.clock, nonce=nonce), **(headers or {})}
        if idempotent and "Idempotency-Key" not in h:
            h["Idempotency-Key"] = secrets.token_urlsafe(16)
        resp = await self.http.request(method, url, json=json, headers=h, params=params)
        if resp.status_code not in expect:
            raise_for_problem(resp)
        return resp

    @property
    def instance_jkt(self) -> str:
        return jose.jwk_thumbprint_b64u(self.key.public_jwk)

    async def register(self, device: Device, *, wallet_version: str = "0.1.0") -> dict[str, Any]:
        """Register this instance: fetch a challenge, attest the key with it, sign the request with it."""
        r = await self.http.post(self._url("/instances/challenge"))
        raise_for_problem(r)
        challenge = r.json()["challenge"]
        key = self.key.public_key
        assert isinstance(key, ec.EllipticCurvePublicKey)
        x5c = device.attest(key, challenge.encode("ascii"), clock=self.clock)
        body = {"platform": "android", "attestation": {"format": "android-key", "x5c": x5c},
                "wallet_version": wallet_version}
        resp = await self.call("POST", "/instances", json=body, nonce=challenge)
        out: dict[str, Any] = resp.json()
        return out

    async def wallet_attestation(self) -> str:
        resp = await self.call("POST", "/attestations/wallet")
        value: str = resp.json()["wallet_attestation"]
        return value

    async def key_attestation(self, keys: list[dict[str, Any]], nonce: str | None = None) -> str:
        body: dict[str, Any] = {"attested_keys": keys}
        if nonce is not None:
            body["nonce"] = nonce
        resp = await self.call("POST", "/attestations/key", json=body)
        value: str = resp.json()["key_attestation"]
        return value

    async def instance(self, instance_id: str) -> dict[str, Any]:
        out: dict[str, Any] = (await self.call("GET", f"/instances/{instance_id}")).json()
        return out

    async def instances(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
            page = (await self.call("GET", "/instances", params=params)).json()
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    async def change_status(self, instance_id: str, action: str) -> dict[str, Any]:
        out: dict[str, Any] = (await self.call("POST", f"/instances/{instance_id}/status",
                                               json={"action": action}, idempotent=True)).json()
        return out

    async def binding_nonce(self) -> str:
        value: str = (await self.call("POST", "/binding/nonce")).json()["nonce"]
        return value

    async def bind_by_pid(self, presentation: str, nonce: str) -> dict[str, Any]:
        out: dict[str, Any] = (await self.call("POST", "/binding", json={"presentation": presentation,
                                                                         "nonce": nonce})).json()
        return out

    async def record_transaction(self, entry: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = (await self.call("POST", "/transactions", json=entry, idempotent=True)).json()
        return out

    async def transactions(self, *, limit: int = 50, profile: str | None = None) -> list[dict[str, Any]]:
        """The transaction log, newest first: all entries, or only those of ``profile`` (``private`` / ``work``)."""
        params: dict[str, Any] = {"limit": limit, **({"profile": profile} if profile else {})}
        items: list[dict[str, Any]] = (await self.call("GET", "/transactions", params=params)).json()["items"]
        return items

    async def put_backup(self, ciphertext: str, *, media_type: str = "application/octet-stream",
                         if_match: str | None = None, profile: str = "private") -> dict[str, Any]:
        """Upload the encrypted backup of one wallet profile (``private`` / ``work``)."""
        headers = {"If-Match": if_match} if if_match else None
        out: dict[str, Any] = (await self.call("PUT", "/backup", json={"ciphertext": ciphertext,
                                                                       "media_type": media_type},
                                               params={"profile": profile}, headers=headers)).json()
        return out

    async def get_backup(self, *, profile: str = "private") -> dict[str, Any] | None:
        """The encrypted backup of one wallet profile, ``None`` when there is none."""
        resp = await self.call("GET", "/backup", params={"profile": profile}, expect=(404,))
        if resp.status_code == 404:
            return None
        out: dict[str, Any] = resp.json()
        return out
