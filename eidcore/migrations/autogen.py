"""Write a new Alembic revision by comparing the models with a scratch database migrated to every head.

Each service keeps its tables on its own branch (label = the service name), so services can add migrations
independently: ``upgrade heads`` applies them all.

Usage::

    python -m eidcore.migrations.autogen "message"                         # registers (the root branch)
    python -m eidcore.migrations.autogen --branch issuer --prefix iss_ "message"

``--prefix`` limits the comparison to tables whose names start with it (the service's own tables).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from eidcore.storage import MIGRATIONS_DIR, import_models


def main(message: str, *, branch: str | None, prefix: str | None) -> None:
    import_models()
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(cfg)

    def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        if prefix is None or type_ != "table":
            table = getattr(obj, "table", None)
            if prefix is not None and table is not None:
                return str(table.name).startswith(prefix)
            return True
        return bool(name and name.startswith(prefix))

    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            cfg.attributes["include_object"] = include_object
            command.upgrade(cfg, "heads")
            kwargs: dict[str, Any] = {}
            if branch:
                labelled = [r for r in script.walk_revisions() if branch in (r.branch_labels or ())]
                if labelled:
                    kwargs["head"] = f"{branch}@head"
                else:
                    bases = [r.revision for r in script.walk_revisions() if r.down_revision is None]
                    kwargs.update(head=bases[0], splice=True, branch_label=branch)
            command.revision(cfg, message=message, autogenerate=True, **kwargs)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("message")
    parser.add_argument("--branch", help="the service's branch label (issuer, verifier, wallet)")
    parser.add_argument("--prefix", help="only tables whose names start with this")
    args = parser.parse_args()
    main(args.message, branch=args.branch, prefix=args.prefix)
