"""The wallet provider service object, and how it authenticates an app's request (RFC 9449 §4.2 proof format).

Every call of a wallet app is signed by its instance key with a DPoP-style proof (``htm``/``htu``/``iat``/``jti``,
no access token): the proof's key thumbprint (RFC 7638) names the instance, the ``jti`` is single-use (the runtime's
key-value store, atomic across workers). :class:`WalletProvider` is built once by :func:`wallet_api.app.create_app`
and injected into every controller (litestar dependency ``wallet``); it holds the runtime, whose event bus
(:mod:`eidcore.events`) wakes the guardians' event streams on every worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeAlias

from litestar import Request
from litestar.di import NamedDependency
from sqlmodel import select

from eidcore.errors import AccessDenied, InstanceNotActive, InvalidDPoPProof
from eidcore.events import EventBus
from eidcore.oauth import dpop
from eidcore.runtime import Runtime
from eidcore.settings import Settings
from wallet_api.device_attestation import AttestationPolicy, load_or_create_device_maker
from wallet_api.models import WalInstance

__all__ = ["PROOF_MAX_AGE", "PROOF_SKEW", "Wallet", "WalletProvider"]

PROOF_MAX_AGE = 300
PROOF_SKEW = 60


class WalletProvider:
    """The wallet provider: the runtime it runs on, and the request authentication every controller uses."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    @property
    def events(self) -> EventBus:
        """The runtime's event bus (Redis pub/sub across workers, in memory without Redis; eidcore.events)."""
        return self.rt.events

    @property
    def settings(self) -> Settings:
        return self.rt.settings

    def now(self) -> datetime:
        return self.rt.clock.now()

    def public_url(self, scope: Mapping[str, Any]) -> str:
        """The public URL the app signed (``htu``): the service URL plus the mount-relative path."""
        path: str = scope.get("path", "/")
        root: str = scope.get("root_path", "") or ""
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        return self.settings.service_url("wallet") + path

    async def verify_request_proof(self, proof: str | None, *, method: str, url: str) -> dpop.DPoPProof:
        """Verify the per-request proof and make its ``jti`` single-use (RFC 9449 §4.3, §11.1)."""
        p = dpop.verify_proof(proof, htm=method, htu=url, clock=self.rt.clock, max_age=PROOF_MAX_AGE,
                              max_skew=PROOF_SKEW)
        if p.jwk.get("kty") != "EC" or p.jwk.get("crv") != "P-256":
            raise InvalidDPoPProof("instance keys are P-256 keys (ES256)")
        fresh = await self.rt.store.put(f"wal:jti:{p.jkt}:{p.jti}", b"1", PROOF_MAX_AGE + 2 * PROOF_SKEW,
                                        only_if_absent=True)
        if not fresh:
            raise InvalidDPoPProof("the request proof was already used (replay)")
        return p

    async def authenticate(self, request: Request[Any, Any, Any], proof: str | None, *,
                           require_active: bool = True) -> WalInstance:
        """The instance that signed this request (and, by default, it must be active)."""
        p = await self.verify_request_proof(proof, method=request.method, url=self.public_url(request.scope))
        async with self.rt.db.session() as s:
            inst = (await s.exec(select(WalInstance).where(WalInstance.jkt == p.jkt))).first()
        if inst is None:
            raise AccessDenied("no wallet instance is registered for this key")
        if require_active and inst.state != "active":
            raise InstanceNotActive(f"the wallet instance is {inst.state}", state=inst.state)
        return inst

    async def person(self, request: Request[Any, Any, Any], proof: str | None) -> tuple[WalInstance, str]:
        """The signing instance and the person it is bound to (403 when it is bound to nobody)."""
        inst = await self.authenticate(request, proof)
        if inst.person_id is None:
            raise AccessDenied("this wallet instance is not bound to a person")
        return inst, inst.person_id

    def attestation_policies(self) -> list[AttestationPolicy]:
        """The trusted platform attestation roots: the configured Android roots, and in dev the device maker."""
        from cryptography import x509

        s = self.settings
        out: list[AttestationPolicy] = []
        roots_file = s.effective_keys_dir / "device-attestation-roots.pem"
        if roots_file.exists():
            roots = tuple(x509.load_pem_x509_certificates(roots_file.read_bytes()))
            out.append(AttestationPolicy("android", roots, min_security_level=1, require_verified_boot=True))
        if s.environment != "production":
            maker = load_or_create_device_maker(s.effective_keys_dir, clock=self.rt.clock)
            out.append(AttestationPolicy("dev", (maker.certificate,), min_security_level=0,
                                         require_verified_boot=False))
        return out


Wallet: TypeAlias = NamedDependency[WalletProvider]
"""How a handler asks for the wallet provider: ``wallet: Wallet`` (the litestar dependency ``wallet``)."""
