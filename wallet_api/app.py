"""Lommebok wallet API: wallet provider, guardian control, mandates and transaction log (wiring only).

The wallet provider's HTTP API for the wallet app (mobile-first): every call an app makes is signed with its
instance key (header ``DPoP``, a DPoP-style proof per request, RFC 9449 §4.2); errors are RFC 9457 problem
details; lists are paginated (``limit``, opaque ``cursor``); state-changing calls take an ``Idempotency-Key``
(draft-ietf-httpapi-idempotency-key-header); resources carry ETags (RFC 9110 §8.8.3) with ``If-Match`` /
``If-None-Match``. Administrator calls (``/admin/...``) take the admin bearer token.

:func:`create_app` builds the :class:`~wallet_api.provider.WalletProvider` once and injects it (dependency
``wallet``) into one controller per resource; every route sits under one router whose middleware sets
``Cache-Control: no-store`` (:func:`wallet_api.conventions.no_store`).
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Litestar, Router
from litestar.di import Provide
from litestar.types import ControllerRouterHandler

from eidcore.runtime import Runtime
from eidcore.settings import Settings, load_settings
from eidcore.web import service_app
from wallet_api.admin import InstanceAdminController, RelyingPartyAdminController
from wallet_api.attestations import AttestationsController, InstanceStatusController
from wallet_api.backup import BackupController
from wallet_api.consent_requests import ConsentRequestsController, GuardianRequestsController
from wallet_api.conventions import no_store
from wallet_api.guardian import GuardianController
from wallet_api.guardian_rules import RulesController
from wallet_api.instances import BindingController, InstancesController
from wallet_api.mandates import MandatesController
from wallet_api.migrations import SCHEMA
from wallet_api.provider import WalletProvider
from wallet_api.transactions import TransactionsController
from wallet_api.youth_credentials import (
    ChildCredentialRequestsController,
    GuardianCredentialRequestsController,
    YouthCredentialRequestsController,
)
from wallet_api.youth_wallets import ChildWalletsController, PairingController

__all__ = ["CONTROLLERS", "DESCRIPTION", "MOUNT", "NAME", "create_app", "handlers", "well_known_handlers"]

NAME = "wallet"
DESCRIPTION = "Wallet provider, guardian control, mandates and transaction log."
MOUNT = "/wallet"

CONTROLLERS: tuple[type, ...] = (
    InstancesController, BindingController, AttestationsController, InstanceStatusController,
    TransactionsController, BackupController, InstanceAdminController, RelyingPartyAdminController,
    GuardianController, PairingController, ChildWalletsController, RulesController, ConsentRequestsController,
    GuardianRequestsController, YouthCredentialRequestsController, ChildCredentialRequestsController,
    GuardianCredentialRequestsController, MandatesController,
)


def handlers(provider: WalletProvider) -> Sequence[ControllerRouterHandler]:
    """The service's routes (mount-relative), with ``provider`` injected as ``wallet``: one router for every route of
    the wallet API, so that no answer with personal data can miss no-store."""
    return [Router(path="/", middleware=[no_store], route_handlers=list(CONTROLLERS),
                   dependencies={"wallet": Provide(lambda: provider, use_cache=True, sync_to_thread=False)})]


def well_known_handlers(app: Litestar) -> Sequence[ControllerRouterHandler]:
    """Handlers that live at the host root (``/.well-known/...``), outside the service ``app``'s mount path."""
    return []


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> Litestar:
    """The wallet service alone. Pass ``runtime`` to share one runtime (the all-in-one server does)."""
    own = runtime is None
    rt = runtime or Runtime(settings or load_settings())
    provider = WalletProvider(rt)
    return service_app(
        name=NAME,
        title="Lommebok wallet API", description=DESCRIPTION, rt=rt, own_runtime=own,
        make_handlers=lambda _rt: handlers(provider), error_style="problem", mount_path=MOUNT,
        schema=SCHEMA,
    )
