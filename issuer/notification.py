"""Notification endpoint (OpenID4VCI 1.0 §11): the wallet tells the issuer what became of a batch (accepted,
failed, deleted); idempotent, 204.

A notification id (:func:`issuer.credential.issue`) is a sealed value naming the batch and a digest of the grant it
was issued under; it is accepted only with an access token of that grant: another grant's token gets
``invalid_notification_id`` (§11.3), as does an id this issuer did not make or has forgotten.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated, Any

from litestar import Controller, Request, post
from litestar.params import Body

from eidcore.errors import InvalidNotificationId, InvalidNotificationRequest, ProtocolError
from issuer.core import Issuer, IssuerDep
from issuer.credential import grant_tag
from issuer.http import EncodedBody, body_dto, encoded_body, json_object, spec, validate
from issuer.oauth import authorize_resource
from issuer.schemas import NotificationRequest, OAuthError

__all__ = ["NotificationController", "notification"]

log = logging.getLogger("lommebok.issuer")

FIELD_ERRORS: dict[str, type[ProtocolError]] = {"notification_id": InvalidNotificationId}


async def notification(issuer: Issuer, request: Request[Any, Any, Any], data: EncodedBody) -> None:
    """§11.1: record the event for the batch (logged without personal data)."""
    _, state = await authorize_resource(issuer, request, "/notification")
    body = json_object(data.raw, data.content_type, error=InvalidNotificationRequest, what="notification")
    note = validate(NotificationRequest, body, error=InvalidNotificationRequest, field_errors=FIELD_ERRORS)
    if not note.notification_id:
        raise InvalidNotificationId("notification_id is required")
    sealed = await issuer.unseal("notification", note.notification_id, issuer.options.notification_ttl)
    tag = grant_tag(state)
    if sealed is None or not tag or len(sealed) <= len(tag) or not hmac.compare_digest(sealed[-len(tag):], tag):
        raise InvalidNotificationId("unknown notification_id")
    batch = sealed[:-len(tag)]
    log.info("notification %s for batch %s", note.event, batch[:8].decode("ascii", "replace"))


class NotificationController(Controller):
    """``POST /notification``."""

    path = "/notification"
    tags = ("openid4vci",)

    @post(operation_id="notification", status_code=204,
          dto=body_dto(NotificationRequest, "encoded", InvalidNotificationRequest), return_dto=None,
          responses={400: spec(OAuthError, "OpenID4VCI 1.0 §11.3: invalid_notification_id, "
                                                               "invalid_notification_request"),
                     401: spec(OAuthError, "invalid_token (WWW-Authenticate)")})
    async def notification(self, issuer: IssuerDep, request: Request[Any, Any, Any],
                           data: Annotated[EncodedBody | None, Body(media_type="application/json")] = None) -> None:
        """Notification endpoint (OpenID4VCI 1.0 §11)."""
        await notification(issuer, request, encoded_body(request, data))
