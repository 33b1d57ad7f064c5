"""eidcore is the library under the services: it imports none of them nor the server (``lint-imports``
checks the imports, configured in pyproject.toml) and names none of the services' modules in a string either,
where no import checker looks: ``importlib.import_module("issuer.models")``, a list of table modules to
migrate, a mock target. A service hands eidcore what it needs (its schema, its handlers) instead.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import eidcore

EIDCORE = Path(eidcore.__file__).parent
#: a dotted path starting at a service package (a URL's host such as ``//verifier.example`` is not; the logger
#: names ``lommebok.*`` are not modules)
MODULE_PATH = re.compile(r"(?<![\w./@-])(issuer|verifier|wallet_api)\.[A-Za-z_]\w*")


def service_module_names(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal in ``source`` that names a service's or the server's module."""
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.STRING:
            found.extend((tok.start[0] + tok.string[:m.start()].count("\n"), m.group(0))
                         for m in MODULE_PATH.finditer(tok.string))
    return found


def test_the_check_finds_a_module_path_in_a_string() -> None:
    src = 'import importlib\nMODULES = (\n    "eidcore.registers.models",\n    "issuer.models",\n)\n' \
          'x = f"{y}"\nurl = "https://verifier.example/x"\n"""Docs: see wallet_api.guardian."""\n'
    assert service_module_names(src) == [(4, "issuer.models"), (8, "wallet_api.guardian")]


def test_eidcore_names_no_service_module_in_a_string() -> None:
    offending = [f"{path.relative_to(EIDCORE.parent)}:{line}: {name}"
                 for path in sorted(EIDCORE.rglob("*.py"))
                 for line, name in service_module_names(path.read_text(encoding="utf-8"))]
    assert offending == [], "eidcore names service modules (let the service hand them over):\n" + "\n".join(offending)
