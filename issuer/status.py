"""Token Status Lists of issued credentials (draft-ietf-oauth-status-list-18): the status list endpoint (§8), the
issuance records' indices, and every status change (§7: revoke, suspend, reinstate).

- Each credential gets an **unused, pseudorandom** index in a list of its type (:mod:`issuer.allocation`).
- The list is derived from the issuance records (the durable truth); ``version`` changes with every status
  change, and signed JWT / CWT tokens are cached per (list, version, form) for up to half their ``ttl``
  (:class:`issuer.caches.StatusListTokens`).
- A status change commits before the caller answers (durable revocation): by selector (:func:`change_status`),
  by what the credentials were issued for (:func:`change_status_by_ref`, ``subject_ref``) and for one mandate
  (:func:`revoke_mandate_ref`).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.params import FromPath, HeaderParameter
from litestar.response import Response
from sqlalchemy import update
from sqlmodel import col, or_, select

from eidcore.errors import InvalidRequest, NotFound, StorageUnavailable
from eidcore.runtime import pseudonym
from eidcore.status_list import StatusList, StatusValue, issue_cwt, issue_jwt
from eidcore.web import negotiate
from issuer.allocation import BITS, Allocation, IndexAllocator, IndexPermutation
from issuer.caches import Form, ListToken
from issuer.core import Configuration, Issuer, IssuerDep
from issuer.credentials import mandate_ref
from issuer.http import spec
from issuer.models import IssCredential, IssStatusList
from issuer.records import DuplicateRecord
from issuer.schemas import OAuthError

__all__ = [
    "ACTIONS", "BITS", "Allocation", "IndexAllocator", "IndexPermutation", "StatusListController", "allocate",
    "change_status", "change_status_by_ref", "list_token", "revoke_mandate_ref", "status_uri", "subject_id",
]

ACTIONS: dict[str, int] = {"revoke": StatusValue.INVALID, "suspend": StatusValue.SUSPENDED,
                           "reinstate": StatusValue.VALID}


def subject_id(person_id: str) -> str:
    """The pseudonymous subject id an issuance record keeps instead of the person's identity."""
    return pseudonym(person_id, salt="lommebok-issuer-subject")


def status_uri(issuer: Issuer, list_id: str) -> str:
    return issuer.url(f"/status/{list_id}")


async def allocate(
    issuer: Issuer,
    conf: Configuration,
    *,
    person_id: str,
    holder_jkts: Sequence[str],
    instance_jkt: str | None,
    client_id: str | None,
    loa: str,
    batch_id: str,
) -> list[Allocation]:
    """Record one issuance per holder key, each with a fresh pseudorandom index (one commit before return)."""
    n = len(holder_jkts)
    now = issuer.now().replace(microsecond=0)
    valid_until = now + timedelta(seconds=conf.type.validity.default_seconds)
    subject = subject_id(person_id)
    for _attempt in range(16):
        list_id, indices = await issuer.allocator.take(conf.type.id, n)
        ids = [str(uuid.uuid4()) for _ in holder_jkts]
        rows = [dict(id=cid, type_id=conf.type.id, configuration_id=conf.id, format=conf.format,
                     subject=subject, holder_jkt=jkt, instance_jkt=instance_jkt, client_id=client_id,
                     list_id=list_id, idx=idx, status=0, batch_id=batch_id, loa=loa, issued_at=now,
                     valid_from=now, valid_until=valid_until, updated_at=now)
                for cid, jkt, idx in zip(ids, holder_jkts, indices, strict=True)]
        try:
            await issuer.records.insert(rows)
        except DuplicateRecord:
            # an index held by a record from before block reservation (random draws): take the next counters
            continue
        uri = status_uri(issuer, list_id)
        return [Allocation(cid, list_id, idx, uri, now, valid_until) for cid, idx in zip(ids, indices, strict=True)]
    raise StorageUnavailable("could not allocate a status list index; try again")


async def change_status(
    issuer: Issuer,
    action: str,
    *,
    credential_id: str | None = None,
    instance_jkt: str | None = None,
    subject: str | None = None,
    credential_type: str | None = None,
) -> list[str]:
    """Set the status of the selected credentials and commit (durable before the caller answers)."""
    if action not in ACTIONS:
        raise InvalidRequest("action must be revoke, suspend or reinstate")
    value = int(ACTIONS[action])
    async with issuer.rt.db.session() as s:
        q = select(IssCredential)
        if credential_id is not None:
            q = q.where(IssCredential.id == credential_id)
        if instance_jkt is not None:
            q = q.where(IssCredential.instance_jkt == instance_jkt)
        if subject is not None:
            q = q.where(IssCredential.subject == subject)
        if credential_type is not None:
            q = q.where(IssCredential.type_id == credential_type)
        rows = list((await s.exec(q)).all())
        changed: list[str] = []
        lists: set[str] = set()
        now = issuer.now()
        for r in rows:
            if r.status == StatusValue.INVALID and value != StatusValue.INVALID:
                continue  # a revocation is final
            if r.status != value:
                r.status = value
                r.updated_at = now
                s.add(r)
                lists.add(r.list_id)
            changed.append(r.id)
        for list_id in lists:
            await s.exec(update(IssStatusList).where(col(IssStatusList.id) == list_id)
                            .values(version=IssStatusList.version + 1))
        await s.commit()
    return changed


async def change_status_by_ref(issuer: Issuer, action: str, subject_ref: str, *, credential_type: str | None = None,
                               person_id: str | None = None) -> list[str]:
    """Revoke, suspend or reinstate the credentials issued for ``subject_ref`` (committed before it returns).

    With ``person_id`` only that person's records are taken, and also that person's records of ``credential_type``
    that name no ``subject_ref`` (issued before the column existed, or caught between their insert and the
    reference's update in :func:`issuer.credential.issue`): when in doubt, revoke.
    """
    if not subject_ref or len(subject_ref) > 100:
        raise InvalidRequest("subject_ref must be a non-empty string of at most 100 characters")
    q = select(IssCredential.id)
    if person_id is not None:
        q = q.where(IssCredential.subject == subject_id(person_id))
        if credential_type is not None:
            q = q.where(or_(col(IssCredential.subject_ref) == subject_ref, col(IssCredential.subject_ref).is_(None)))
        else:
            q = q.where(IssCredential.subject_ref == subject_ref)
    else:
        q = q.where(IssCredential.subject_ref == subject_ref)
    if credential_type is not None:
        q = q.where(IssCredential.type_id == credential_type)
    async with issuer.rt.db.session() as s:
        ids = list((await s.exec(q)).all())
    changed: list[str] = []
    for cid in ids:
        changed += await change_status(issuer, action, credential_id=cid)
    return changed


async def revoke_mandate_ref(issuer: Issuer, mandate_id: str, agent_id: str) -> list[str]:
    """Revoke the mandate credentials ``agent_id`` holds for the mandate ``mandate_id`` (and no other)."""
    return await change_status_by_ref(issuer, "revoke", mandate_ref(mandate_id), credential_type="mandate",
                                      person_id=agent_id)


async def list_token(issuer: Issuer, list_id: str, form: Form) -> ListToken:
    """The signed Status List Token (JWT or CWT) for a list, cached per version for half its ``ttl``."""
    if len(list_id) > 64:
        raise NotFound("no such status list")
    opts = issuer.options
    async with issuer.rt.db.session() as s:
        row = await s.get(IssStatusList, list_id)
        if row is None:
            raise NotFound("no such status list")
        version = row.version
        cached = issuer.status_tokens.get((list_id, version, form))
        if cached is not None:
            return cached
        entries = (await s.exec(
            select(IssCredential.idx, IssCredential.status).where(IssCredential.list_id == list_id,
                                                                 IssCredential.status != 0)
        )).all()
    lst = StatusList(row.size, row.bits)
    for idx, status in entries:
        lst.set(idx, status)
    uri = status_uri(issuer, list_id)
    key_ = issuer.signing_key
    if form == "jwt":
        body = issue_jwt(lst, uri=uri, key=key_, clock=issuer.rt.clock, expires_in=opts.status_list_exp,
                         ttl=opts.status_list_ttl, iss=issuer.issuer_id, include_x5c=True).encode("ascii")
        media = "application/statuslist+jwt"
    else:
        body = issue_cwt(lst, uri=uri, key=key_, clock=issuer.rt.clock, expires_in=opts.status_list_exp,
                         ttl=opts.status_list_ttl, iss=issuer.issuer_id, include_x5chain=True)
        media = "application/statuslist+cwt"
    token = ListToken(body, media, '"' + hashlib.sha256(body).hexdigest()[:32] + '"', max(1, opts.status_list_ttl))
    issuer.status_tokens.set((list_id, version, form), token, ttl=max(1, opts.status_list_ttl // 2))
    return token


STATUS_MEDIA = {"application/statuslist+jwt": "jwt", "application/statuslist+cwt": "cwt"}


class StatusListController(Controller):
    """The status list endpoint (draft-ietf-oauth-status-list-18 §8): JWT by default, CWT by ``Accept``."""

    path = "/status"
    tags = ("status list",)

    @get("/{list_id:str}", operation_id="statusList",
         responses={200: spec(bytes, "A Status List Token (application/statuslist+jwt or "
                                                         "application/statuslist+cwt)",
                                      media_type="application/statuslist+jwt"),
                    304: spec(None, "Not modified (If-None-Match)"),
                    404: spec(OAuthError, "No such status list")})
    async def status_list(self, issuer: IssuerDep, list_id: FromPath[str], request: Request[Any, Any, Any],
                          if_none_match: Annotated[str | None, HeaderParameter(name="if-none-match")] = None
                          ) -> Response[bytes]:
        """A Status List Token; ``ttl`` and ``max-age`` are the list's ``ttl`` (a relying party sees a revocation
        within ``ttl`` seconds); ``ETag`` / ``If-None-Match`` answer 304."""
        # content negotiation (RFC 9110 §12.5.1): the CWT form when preferred, else the JWT form (Status List §8.1)
        best = negotiate(request.accept, ["application/statuslist+jwt", "application/statuslist+cwt"],
                         "application/statuslist+jwt")
        form: Form = "cwt" if best == "application/statuslist+cwt" else "jwt"
        tok = await list_token(issuer, list_id, form)
        headers = {"ETag": tok.etag, "Cache-Control": f"public, max-age={tok.max_age}", "Vary": "Accept"}
        if if_none_match == tok.etag:
            return Response(b"", status_code=304, headers=headers)
        return Response(tok.body, media_type=tok.media_type, headers=headers)
