"""Alembic branch ``wallet`` of the wallet provider (instances, log, backups, youth wallets, mandate grants).

``SCHEMA`` is handed to ``eidcore.web.service_app(..., schema=SCHEMA)``, which registers it with the runtime's
database; ``Database.migrate()`` then brings it to its newest revision under the migration lock. New revisions:
``python -m eidcore.migrations.autogen --branch wallet "what changed"``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from eidcore.storage import ServiceSchema


def _models() -> tuple[ModuleType, ...]:
    """The modules defining this service's tables (imported on first use, after the service's own imports)."""
    from wallet_api import models

    return (models,)


SCHEMA = ServiceSchema("wallet", Path(__file__).parent / "versions", _models)
