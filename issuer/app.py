"""Lommebok issuer: OpenID4VCI 1.0 credential issuer, authorization server and status lists (wiring only).

``create_app`` builds the :class:`~issuer.core.Issuer` service object once and injects it (litestar dependency
``issuer``; the token endpoint as ``endpoint``) into the controllers, one per protocol step (mount-relative paths;
the service lives at ``<base>/issuer``):

- metadata (:mod:`issuer.metadata`): ``/.well-known/openid-credential-issuer/issuer`` (signed, ``application/jwt``,
  on ``Accept: application/jwt``), ``/.well-known/oauth-authorization-server/issuer`` and
  ``/.well-known/jwt-vc-issuer/issuer`` at the host root (:func:`well_known_handlers`); ``/jwks``;
  ``/type-metadata/{type}``;
- authorization server: ``/par`` (:mod:`issuer.par`) -> ``/authorize`` (:mod:`issuer.authorize`) -> login
  (:mod:`issuer.login`: ``/login``, or ID-porten) -> redirect with ``code`` and ``iss``; ``/token`` and
  ``/challenge`` (:mod:`issuer.token`);
- credential issuer: ``/nonce`` (:mod:`issuer.nonce`), ``/credential`` (:mod:`issuer.credential`), ``/deferred``
  (:mod:`issuer.deferred`), ``/notification`` (:mod:`issuer.notification`), ``/offers/{id}`` (:mod:`issuer.offers`);
- status lists (:mod:`issuer.status`): ``/status/{list id}`` (JWT or CWT by ``Accept``; ``ttl`` and ``max-age``
  from ``LOMMEBOK_STATUS_LIST_TTL``, 300 s, 30 s in dev);
- admin (:mod:`issuer.admin`, :mod:`issuer.mandates`; scoped bearer credentials, :mod:`eidcore.admin_auth`):
  ``/admin/offers``, ``/admin/credentials/status``, ``/admin/mandates...``, ``/admin/deferred/{id}/approve``;
- organisation administration (:mod:`issuer.org_admin`): ``/org/{orgnr}/...``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from eidcore.runtime import Runtime
from eidcore.settings import Settings, load_settings
from eidcore.web import service_app
from issuer.admin import WALLET_PROVIDER_SCOPES, AdminController
from issuer.authorize import AuthorizeController
from issuer.core import Issuer
from issuer.credential import CredentialController
from issuer.deferred import DeferredController
from issuer.login import LoginController
from issuer.mandates import MandateController
from issuer.metadata import MetadataController
from issuer.metadata import well_known_handlers as metadata_handlers
from issuer.migrations import SCHEMA
from issuer.nonce import NonceController
from issuer.notification import NotificationController
from issuer.offers import OfferController
from issuer.options import IssuerOptions
from issuer.org_admin import OrgAdminController
from issuer.par import ParController
from issuer.status import StatusListController
from issuer.token import TokenController, TokenEndpoint

__all__ = ["CONTROLLERS", "DESCRIPTION", "MOUNT", "NAME", "create_app", "issuer_of", "well_known_handlers"]

NAME = "issuer"
DESCRIPTION = "OpenID4VCI 1.0 credential issuer, authorization server and status lists."
MOUNT = "/issuer"
#: the controllers of the service, one per protocol step or resource
CONTROLLERS: tuple[type[Any], ...] = (
    MetadataController, ParController, AuthorizeController, LoginController, TokenController, NonceController,
    CredentialController, DeferredController, NotificationController, OfferController, StatusListController,
    AdminController, MandateController, OrgAdminController,
)


def _dependencies(issuer: Issuer) -> dict[str, Provide]:
    endpoint = TokenEndpoint(issuer)
    return {"issuer": Provide(lambda: issuer, use_cache=True, sync_to_thread=False),
            "endpoint": Provide(lambda: endpoint, use_cache=True, sync_to_thread=False)}


def _service_router(issuer: Issuer) -> Router:
    return Router(path="/", route_handlers=[*CONTROLLERS, *metadata_handlers()], dependencies=_dependencies(issuer))


def well_known_handlers(app: Litestar) -> Sequence[ControllerRouterHandler]:
    """The metadata documents at the host root (``/.well-known/...`` + ``/issuer``, RFC 8414 §3.1), for the root
    app, served by the same :class:`Issuer` as the service ``app`` (:func:`create_app`)."""
    return metadata_handlers(MOUNT, _dependencies(issuer_of(app)))


def issuer_of(app: Any) -> Issuer:
    """The :class:`Issuer` of an app built by :func:`create_app` (or of the composition root mounting one)."""
    for candidate in [app, *(getattr(m, "app", None) for m in getattr(app, "mounts", ()))]:
        state = getattr(candidate, "state", None)
        found = state.get("issuer") if state is not None else None
        if isinstance(found, Issuer):
            return found
    raise LookupError("no issuer app here")


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None,
               options: IssuerOptions | None = None) -> Litestar:
    """The issuer service alone. Pass ``runtime`` to share one runtime (the all-in-one server does); ``options``
    override what the settings give (tests)."""
    own = runtime is None
    rt = runtime or Runtime(settings or load_settings())
    issuer = Issuer(rt, options)
    rt.on_start(issuer.check_secrets)
    rt.allow_peer("issuer", "wallet", WALLET_PROVIDER_SCOPES)
    app = service_app(
        name=NAME, title="Lommebok issuer", description=DESCRIPTION, rt=rt, own_runtime=own,
        make_handlers=lambda _: [_service_router(issuer)], error_style="oauth", mount_path=MOUNT,
        schema=SCHEMA,
    )
    app.state["issuer"] = issuer
    return app
