"""Encrypted backups (EUDI ARF backup and restore): the latest backup of a person per wallet profile, an opaque blob
the server never holds the key of; ETags (RFC 9110 §8.8.3) with ``If-Match`` / ``If-None-Match`` keep one device
from overwriting another's newer backup.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, put
from litestar.params import JSONBody

from eidcore.encoding import b64u_decode
from eidcore.errors import InvalidRequest, NotFound, ParsingError, PreconditionFailed
from wallet_api.conventions import (
    BackupProfile,
    DPoPHeader,
    IfMatch,
    IfNoneMatch,
    etag,
    matches_etag,
    parse_if_match,
    problems,
)
from wallet_api.models import WalBackup, WalInstance
from wallet_api.provider import Wallet
from wallet_api.schemas import MAX_BACKUP, BackupIn, BackupView

__all__ = ["BackupController"]


def backup_view(row: WalBackup) -> BackupView:
    return BackupView(ciphertext=row.ciphertext, media_type=row.media_type, profile=row.profile, size=row.size,
                      version=row.version, updated_at=row.updated_at)


def backup_owner(inst: WalInstance) -> str:
    return f"person:{inst.person_id}" if inst.person_id else f"instance:{inst.id}"


class BackupController(Controller):
    """``/backup``: store and fetch the encrypted backup of one wallet profile."""

    path = "/backup"
    tags = ("backup",)

    @put("/", operation_id="putBackup", responses=problems(400, 403, 412), status_code=200)
    async def put_backup(self, wallet: Wallet, request: Request[Any, Any, Any], data: JSONBody[BackupIn],
                         dpop: DPoPHeader = None, if_match: IfMatch = None, if_none_match: IfNoneMatch = None,
                         profile: BackupProfile = "private") -> Response[BackupView]:
        """Store the encrypted backup of one wallet profile (opaque to the server; ``private`` and ``work`` are kept
        apart). ``If-Match`` guards against overwriting a newer backup from another device; ``If-None-Match: *``
        creates only. The PUT itself is idempotent."""
        rt = wallet.rt
        me = await wallet.authenticate(request, dpop)
        try:
            raw = b64u_decode(data.ciphertext, what="ciphertext")
        except ParsingError:
            raise InvalidRequest("ciphertext must be unpadded base64url") from None
        if len(raw) > MAX_BACKUP:
            raise InvalidRequest(f"the backup is larger than {MAX_BACKUP} bytes")
        owner = backup_owner(me)
        want = parse_if_match(if_match)
        async with rt.db.session() as s:
            row = await s.get(WalBackup, (owner, profile), with_for_update=not rt.db.is_sqlite)
            if if_none_match is not None and if_none_match.strip() == "*" and row is not None:
                raise PreconditionFailed("a backup exists already")
            if want is not None and (row is None or row.version != want):
                raise PreconditionFailed("the backup changed since it was read; fetch it again")
            now = wallet.now()
            if row is None:
                row = WalBackup(owner=owner, profile=profile, ciphertext=data.ciphertext, media_type=data.media_type,
                                version=1, size=len(raw), updated_at=now, updated_by=me.id)
            else:
                row.ciphertext, row.media_type, row.size = data.ciphertext, data.media_type, len(raw)
                row.version += 1
                row.updated_at, row.updated_by = now, me.id
            s.add(row)
            await s.commit()
        return Response(backup_view(row), headers={"ETag": etag(row.version)})

    @get("/", operation_id="getBackup", responses=problems(400, 403, 404))
    async def get_backup(self, wallet: Wallet, request: Request[Any, Any, Any], dpop: DPoPHeader = None,
                         if_none_match: IfNoneMatch = None,
                         profile: BackupProfile = "private") -> Response[BackupView | None]:
        """The latest encrypted backup of the caller's person in one wallet profile (restore on a new device once it
        is bound)."""
        me = await wallet.authenticate(request, dpop)
        async with wallet.rt.db.session() as s:
            row = await s.get(WalBackup, (backup_owner(me), profile))
        if row is None:
            raise NotFound("no backup")
        tag = etag(row.version)
        if matches_etag(tag, if_none_match):
            return Response(None, status_code=304, headers={"ETag": tag})
        return Response(backup_view(row), headers={"ETag": tag})
