"""One settings object: no module outside ``eidcore/settings.py`` reads (or writes) the process environment.

Every ``LOMMEBOK_*`` value reaches the code through :class:`eidcore.settings.Settings`; a command-line value
through click (``envvar=`` on an option, which click reads). The test suite itself may use the environment.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("eidcore", "issuer", "verifier", "wallet_api", "lommebok")
ALLOWED = {"eidcore/settings.py"}
#: modules whose owners are moving their reads into Settings on their own branches (issue 12); once a module
#: no longer reads the environment the test fails until it is removed from here
ENV_NAMES = frozenset({"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"})


def environment_reads(source: str) -> list[tuple[int, str]]:
    """(line, what) for every use of the process environment through ``os`` in ``source``."""
    tree = ast.parse(source)
    os_names = {"os"}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_names.update(a.asname or a.name for a in node.names if a.name == "os")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            found.extend((node.lineno, f"from os import {a.name}") for a in node.names if a.name in ENV_NAMES)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and node.attr in ENV_NAMES and isinstance(node.value, ast.Name)
                and node.value.id in os_names):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return sorted(found)


def _modules() -> list[str]:
    return sorted(str(p.relative_to(ROOT)) for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))


def test_no_module_outside_the_settings_reads_the_environment() -> None:
    offenders = []
    for rel in _modules():
        if rel in ALLOWED:
            continue
        for line, what in environment_reads((ROOT / rel).read_text()):
            offenders.append(f"{rel}:{line}: {what}")
    assert not offenders, ("read these through eidcore.settings.Settings (or a click option's envvar=) instead:\n"
                           + "\n".join(offenders))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os\nos.environ.get('X')\n", [(2, "os.environ")]),
        ("import os as o\no.getenv('X')\n", [(2, "o.getenv")]),
        ("from os import environ\n", [(1, "from os import environ")]),
        ("import os\nos.environ['X'] = '1'\n", [(2, "os.environ")]),
        ("import os\nos.path.join('a')\n", []),
        ("import click\nclick.option('--url', envvar='LOMMEBOK_URL')\n", []),
    ],
)
def test_the_check_sees_each_way_in(source: str, expected: list[tuple[int, str]]) -> None:
    assert environment_reads(source) == expected
