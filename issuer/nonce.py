"""Nonce endpoint (OpenID4VCI 1.0 §7): a fresh c_nonce for the key proofs of the next credential request.

The c_nonce is 128 random bits sealed with the time (HMAC, :meth:`issuer.core.Issuer.seal`), so issuing one costs
no store write; :func:`issuer.proofs.take_c_nonce` checks the seal and age and records its use atomically. The
answer carries ``Cache-Control: no-store`` and a DPoP nonce (RFC 9449 §8).
"""

from __future__ import annotations

import secrets

from litestar import Controller, post
from litestar.response import Response

from issuer.core import Issuer, IssuerDep
from issuer.http import NO_STORE, spec
from issuer.schemas import NonceResponse

__all__ = ["NonceController", "nonce"]


async def nonce(issuer: Issuer) -> Response[dict[str, str]]:
    """§7.2: a fresh, unpredictable c_nonce (single use), ``Cache-Control: no-store``, and a DPoP nonce."""
    value = await issuer.seal("c_nonce", secrets.token_bytes(16))
    headers = {**NO_STORE, "DPoP-Nonce": await issuer.dpop_nonce()}
    return Response({"c_nonce": value}, headers=headers)


class NonceController(Controller):
    """``POST /nonce``."""

    path = "/nonce"
    tags = ("openid4vci",)

    @post(operation_id="nonce", status_code=200,
          responses={200: spec(NonceResponse, "A fresh c_nonce (and a DPoP-Nonce header)")})
    async def nonce(self, issuer: IssuerDep) -> Response[dict[str, str]]:
        """Nonce endpoint (OpenID4VCI 1.0 §7)."""
        return await nonce(issuer)
