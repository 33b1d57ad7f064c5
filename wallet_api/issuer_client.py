"""The wallet provider's client of the issuer's admin API (contracts.md; services talk over HTTP only).

Every call carries the wallet provider's own credential for the issuer (``rt.peer_token("wallet", "issuer")``,
scoped by the issuer: follow the state of its wallet instances, guardian-approved issuance, the mandates its users
grant), never the issuer operator's token. The functions are small and typed: one per admin operation the wallet
provider uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

from eidcore.errors import UpstreamUnavailable
from eidcore.runtime import Runtime

__all__ = ["IssuerAnswer", "approve_deferred", "change_credential_status", "create_mandate", "create_offer",
           "revoke_mandate"]

StatusAction = Literal["suspend", "revoke", "reinstate"]


@dataclass(frozen=True)
class IssuerAnswer:
    """The issuer's HTTP status and its JSON object body (empty when it sent none)."""

    status: int
    body: dict[str, Any]


def _authorization(rt: Runtime) -> dict[str, str]:
    return {"Authorization": f"Bearer {rt.peer_token('wallet', 'issuer')}"}


async def _post(rt: Runtime, path: str, body: dict[str, Any], *, timeout: float | None = None) -> IssuerAnswer:
    """POST ``body`` to the issuer's admin ``path``; :class:`UpstreamUnavailable` when the issuer cannot be reached
    or answers with something other than JSON (an error status is the caller's to judge)."""
    url = rt.settings.service_url("issuer") + path
    try:
        if timeout is None:
            resp = await rt.http.post(url, json=body, headers=_authorization(rt))
        else:
            resp = await rt.http.post(url, json=body, headers=_authorization(rt), timeout=timeout)
    except Exception as exc:  # network failure: say which kind, never the request
        raise UpstreamUnavailable(f"the issuer could not be reached ({type(exc).__name__})") from exc
    out: Any = {}
    if resp.headers.get("content-type", "").startswith("application/json"):
        try:
            out = resp.json()
        except ValueError:
            out = {}
    return IssuerAnswer(resp.status_code, out if isinstance(out, dict) else {})


async def change_credential_status(rt: Runtime, action: StatusAction, *, instance_jkt: str) -> IssuerAnswer:
    """``POST /admin/credentials/status``: revoke / suspend / reinstate every credential issued to an instance key
    (200 ``{"updated": n, "credentials": [...]}``)."""
    return await _post(rt, "/admin/credentials/status", {"action": action, "instance_jkt": instance_jkt})


async def create_offer(rt: Runtime, person: str, configuration_id: str, *, require_approval: bool = False,
                       mandate_id: str | None = None) -> IssuerAnswer:
    """``POST /admin/offers``: a pre-authorized credential offer for ``person`` (201 ``offer_uri``, ``tx_code``);
    with ``require_approval`` the issuance is deferred until :func:`approve_deferred` (OpenID4VCI 1.0 §9)."""
    body: dict[str, Any] = {"person": person, "credential_configuration_ids": [configuration_id]}
    if require_approval:
        body["require_approval"] = True
    if mandate_id is not None:
        body["mandate_id"] = mandate_id
    return await _post(rt, "/admin/offers", body, timeout=15)


async def approve_deferred(rt: Runtime, transaction_id: str, *, person: str) -> int:
    """``POST /admin/deferred/{transaction_id}/approve``: the HTTP status (204 approved, 404 no such transaction of
    ``person``: the issuer approves only that person's own issuance)."""
    answer = await _post(rt, f"/admin/deferred/{quote(transaction_id, safe='')}/approve", {"person": person})
    return answer.status


def _accepted(answer: IssuerAnswer) -> dict[str, Any]:
    if answer.status >= 400:
        raise UpstreamUnavailable(f"the issuer refused ({answer.status})")
    return answer.body


async def create_mandate(rt: Runtime, *, principal: str, agent: str, scope: dict[str, list[str]],
                         valid_until: datetime | None) -> str:
    """``POST /admin/mandates``: record a granted mandate at the issuer; its ``mandate_id``."""
    body: dict[str, Any] = {"principal": principal, "agent": agent, "scope": scope}
    if valid_until is not None:
        body["valid_until"] = valid_until.isoformat()
    out = _accepted(await _post(rt, "/admin/mandates", body, timeout=15))
    if "mandate_id" not in out:
        raise UpstreamUnavailable("the issuer did not answer with a mandate id")
    return str(out["mandate_id"])


async def revoke_mandate(rt: Runtime, mandate_id: str, *, principal: str) -> int:
    """``POST /admin/mandates/{id}/revoke``: revoke it and its credentials in the status list; how many."""
    out = _accepted(await _post(rt, f"/admin/mandates/{quote(mandate_id, safe='')}/revoke", {"principal": principal},
                                timeout=15))
    updated = out.get("updated", 0)
    return updated if isinstance(updated, int) and not isinstance(updated, bool) else 0
