"""The project's docs: every setting and CLI variable is in docs/operations.md (generated, so it cannot drift),
and every relative link in the README and docs/ resolves inside a fresh clone of the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from eidcore.settings import Settings
from lommebok.docs import cli_rows, render, setting_rows

ROOT = Path(__file__).resolve().parents[3]
OPERATIONS = ROOT / "docs" / "operations.md"
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


def test_the_generated_tables_are_current() -> None:
    text = OPERATIONS.read_text()
    assert render(text) == text, "docs/operations.md is out of date with the settings: run `lommebok docs`"


def test_every_variable_is_in_the_operations_guide() -> None:
    text = OPERATIONS.read_text()
    variables = [var for var, _, _ in setting_rows()] + [var for var, _, _ in cli_rows()]
    assert "LOMMEBOK_PUBLIC_BASE_URL" in variables and "LOMMEBOK_URL" in variables
    assert [v for v in variables if f"`{v}`" not in text] == []


def test_every_variable_the_code_names_is_documented() -> None:
    """A ``LOMMEBOK_*`` name in the code or the scripts (an error message, a help text) is one the operations
    guide lists."""
    from tests.unit.lommebok.test_one_settings_object import PACKAGES

    text = OPERATIONS.read_text()
    missing = set()
    sources = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    sources += [p for p in (ROOT / "scripts").iterdir() if p.is_file()] + [ROOT / ".ci" / "run"]
    for path in sources:
        for name in re.findall(r"\bLOMMEBOK_[A-Z0-9_]*[A-Z0-9]\b", path.read_text()):
            if f"`{name}`" not in text:
                missing.add(f"{name} ({path.relative_to(ROOT)})")
    assert sorted(missing) == []


def test_every_setting_says_what_it_means() -> None:
    assert [var for var, _, meaning in setting_rows() if not meaning.strip()] == []
    assert [var for var, _, meaning in cli_rows() if not meaning.strip()] == []
    assert len(list(setting_rows())) > len(Settings.model_fields)  # the nested groups are listed field by field


def test_the_readme_leads_to_each_doc() -> None:
    readme = ROOT / "README.md"
    targets = {(readme.parent / t).resolve() for t in LINK.findall(readme.read_text())}
    for doc in ("architecture.md", "relying-party-api.md", "operations.md"):
        assert (ROOT / "docs" / doc).resolve() in targets, doc


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve_inside_the_repository(page: Path) -> None:
    text = page.read_text()
    assert "../shared" not in text, f"{page.name} points outside the repository"
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # an absolute URL (http:, mailto:) or an anchor on the same page
        path = (page.parent / target.split("#", 1)[0]).resolve()
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(target)
    assert broken == [], f"{page.relative_to(ROOT)}: links that do not resolve in a fresh clone: {broken}"


def test_the_link_check_sees_links() -> None:
    assert LINK.findall("[a](docs/x.md) ![img](<i.png>) [c](https://e.no \"t\")") == ["docs/x.md", "i.png", "https://e.no"]
