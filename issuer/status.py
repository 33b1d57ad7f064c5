"""Status lists of issued credentials (draft-ietf-oauth-status-list-18) and the issuance records.

- Each credential gets a **random unused** index in a list of its type (never sequential: indices must not
  leak issuance order, HAIP 1.0). ``UNIQUE(list_id, idx)`` makes the allocation atomic across workers: a
  collision rolls back and draws again. A list is closed at ``status_list_max_fill`` and a new one started.
- The list is derived from the issuance records (the durable truth); ``version`` changes with every status
  change, and signed JWT / CWT tokens are cached per (list, version, form) for up to half their ``ttl``.
- A status change commits before the admin API answers (durable revocation).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from eidcore.errors import InvalidRequest, NotFound, StorageUnavailable
from eidcore.runtime import pseudonym
from eidcore.status_list import StatusList, StatusValue, issue_cwt, issue_jwt
from issuer.core import Configuration, Issuer
from issuer.models import IssCredential, IssStatusList

__all__ = ["Allocation", "IssuedRecord", "allocate", "change_status", "list_token", "subject_id"]

BITS = 2
ACTIONS: dict[str, int] = {"revoke": StatusValue.INVALID, "suspend": StatusValue.SUSPENDED,
                           "reinstate": StatusValue.VALID}


def subject_id(person_id: str) -> str:
    """The pseudonymous subject id an issuance record keeps instead of the person's identity."""
    return pseudonym(person_id, salt="lommebok-issuer-subject")


@dataclass(frozen=True)
class IssuedRecord:
    """What one credential of a batch needs recorded."""

    holder_jkt: str


@dataclass(frozen=True)
class Allocation:
    credential_id: str
    list_id: str
    idx: int
    uri: str
    valid_from: datetime
    valid_until: datetime


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
    """Record one issuance per holder key, each with a random unused index (committed before return)."""
    opts = issuer.options
    n = len(holder_jkts)
    now = issuer.now().replace(microsecond=0)
    valid_until = now + timedelta(seconds=conf.type.validity.default_seconds)
    limit = max(1, int(opts.status_list_size * opts.status_list_max_fill))
    for _attempt in range(8):
        try:
            async with issuer.rt.db.session() as s:
                row = (await s.exec(
                    select(IssStatusList).where(IssStatusList.type_id == conf.type.id, col(IssStatusList.active))
                    .where(IssStatusList.allocated + n <= limit).order_by(col(IssStatusList.created_at)).limit(1)
                )).first()
                if row is None:
                    row = IssStatusList(id=secrets.token_urlsafe(12), type_id=conf.type.id, bits=BITS,
                                        size=opts.status_list_size, created_at=now)
                    s.add(row)
                    await s.flush()
                list_id, size = row.id, row.size
                wanted: set[int] = set()
                while len(wanted) < n:
                    wanted.add(secrets.randbelow(size))
                taken = set((await s.exec(
                    select(IssCredential.idx).where(IssCredential.list_id == list_id,
                                                    col(IssCredential.idx).in_(wanted))
                )).all())
                while taken & wanted:
                    wanted -= taken
                    while len(wanted) < n:
                        candidate = secrets.randbelow(size)
                        if candidate not in taken:
                            wanted.add(candidate)
                out = []
                subject = subject_id(person_id)
                for jkt, idx in zip(holder_jkts, sorted(wanted, key=lambda _: secrets.randbits(32)), strict=True):
                    cid = str(uuid.uuid4())
                    s.add(IssCredential(
                        id=cid, type_id=conf.type.id, configuration_id=conf.id, format=conf.format,
                        subject=subject, holder_jkt=jkt, instance_jkt=instance_jkt, client_id=client_id,
                        list_id=list_id, idx=idx, status=0, batch_id=batch_id, loa=loa, issued_at=now,
                        valid_from=now, valid_until=valid_until, updated_at=now,
                    ))
                    out.append(Allocation(cid, list_id, idx, status_uri(issuer, list_id), now, valid_until))
                await s.exec(update(IssStatusList).where(col(IssStatusList.id) == list_id)
                                .values(allocated=IssStatusList.allocated + n))
                await s.commit()
                return out
        except IntegrityError:
            continue
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


@dataclass(frozen=True)
class ListToken:
    body: bytes
    media_type: str
    etag: str
    max_age: int


_TOKENS: dict[tuple[int, str, int, str], tuple[int, ListToken]] = {}

Form = Literal["jwt", "cwt"]


async def list_token(issuer: Issuer, list_id: str, form: Form) -> ListToken:
    """The signed Status List Token (JWT or CWT) for a list, cached per version for half its ``ttl``."""
    if len(list_id) > 64:
        raise NotFound("no such status list")
    opts = issuer.options
    async with issuer.rt.db.session() as s:
        row = await s.get(IssStatusList, list_id)
        if row is None:
            raise NotFound("no such status list")
        key = (id(issuer), list_id, row.version, form)
        cached = _TOKENS.get(key)
        now = issuer.timestamp()
        if cached is not None and now - cached[0] < opts.status_list_ttl // 2:
            return cached[1]
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
    token = ListToken(body, media, '"' + hashlib.sha256(body).hexdigest()[:32] + '"',
                      max(1, opts.status_list_ttl // 2))
    stale = [k for k in _TOKENS if k[0] == id(issuer) and k[1] == list_id]
    for k in stale:
        del _TOKENS[k]
    _TOKENS[key] = (now, token)
    return token
