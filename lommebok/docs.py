"""``lommebok docs``: the generated tables of ``docs/operations.md``, so the list of variables cannot drift.

Two tables, each between ``<!-- BEGIN generated: NAME -->`` and ``<!-- END generated: NAME -->``:

- ``settings``: every field of :class:`eidcore.settings.Settings` (nested groups included) as its
  ``LOMMEBOK_*`` variable, with its default and its description (the field's docstring);
- ``cli``: every variable a ``lommebok`` command reads through a click option (``envvar=``).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import click
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from eidcore.settings import Settings

DOC = Path("docs/operations.md")


def _is_group(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _literal_values(annotation: Any) -> tuple[str, ...]:
    if get_origin(annotation) is Literal:
        return tuple(str(a) for a in get_args(annotation))
    if get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(v for arg in get_args(annotation) for v in _literal_values(arg))
    return ()


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "(secret)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, tuple):
        return f"`{','.join(str(v) for v in value)}`" if value else "empty"
    return f"`{value}`"


def setting_rows(model: type[BaseModel] = Settings, prefix: str = "LOMMEBOK_") -> Iterator[tuple[str, str, str]]:
    """(variable, default, meaning) for every setting, nested groups as ``LOMMEBOK_<GROUP>__<FIELD>``."""
    for name, field in model.model_fields.items():
        if _is_group(field.annotation):
            yield from setting_rows(field.annotation, f"{prefix}{name.upper()}__")  # type: ignore[arg-type]
            continue
        meaning = " ".join((field.description or "").split())
        choices = _literal_values(field.annotation)
        if choices:
            meaning += f" One of {', '.join(f'`{c}`' for c in choices)}."
        yield f"{prefix}{name.upper()}", _default(field), meaning


def _walk(command: click.Command, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _walk(sub, (*path, name))


def cli_rows(root: click.Command | None = None) -> Iterator[tuple[str, str, str]]:
    """(variable, option and commands, meaning) for every click option that reads a variable."""
    if root is None:
        from lommebok.cli import main

        root = main
    seen: dict[str, tuple[str, list[str], str]] = {}
    for path, command in _walk(root, ("lommebok",)):
        for param in command.params:
            if not isinstance(param, click.Option) or not param.envvar:
                continue
            names = [param.envvar] if isinstance(param.envvar, str) else list(param.envvar)
            for var in names:
                option, commands, meaning = seen.setdefault(var, (param.opts[0], [], param.help or ""))
                commands.append(" ".join(path))
    for var in sorted(seen):
        option, commands, meaning = seen[var]
        shown = ", ".join(f"`{c}`" for c in _collapse(commands))
        yield var, f"`{option}` of {shown}", " ".join(meaning.split())


def _collapse(commands: list[str]) -> list[str]:
    """``lommebok issuer offer``, ``lommebok issuer revoke`` ... -> ``lommebok issuer ...`` when a group is all in."""
    groups: dict[str, list[str]] = {}
    for c in commands:
        parts = c.split()
        groups.setdefault(" ".join(parts[:2]), []).append(c)
    out = []
    for group, members in groups.items():
        out.append(f"{group} …" if len(members) > 1 else members[0])
    return out


def _table(header: tuple[str, str, str], rows: Iterator[tuple[str, str, str]]) -> str:
    def cell(text: str) -> str:
        """Markdown of a cell: ``|`` escaped, RST double backquotes as code, ``<...>`` outside code escaped."""
        parts = text.replace("``", "`").replace("|", "\\|").split("`")
        return "`".join(p if i % 2 else p.replace("<", "&lt;").replace(">", "&gt;") for i, p in enumerate(parts))

    lines = [f"| {' | '.join(header)} |", "|---|---|---|"]
    lines += [f"| `{var}` | {cell(b)} | {cell(c)} |" for var, b, c in rows]
    return "\n".join(lines)


def generated() -> dict[str, str]:
    """The generated block of each name."""
    return {
        "settings": _table(("variable", "default", "meaning"), setting_rows()),
        "cli": _table(("variable", "option of", "meaning"), cli_rows()),
    }


def render(text: str) -> str:
    """``text`` with every generated block replaced by its current content; a block missing is an error."""
    for name, block in generated().items():
        pattern = re.compile(rf"(<!-- BEGIN generated: {name}\b[^>]*-->\n)(?:.*?\n)?(<!-- END generated: {name} -->)",
                             re.DOTALL)
        if not pattern.search(text):
            raise click.ClickException(f"{DOC}: no generated block named {name!r}")
        text = pattern.sub(lambda m, b=block: f"{m.group(1)}{b}\n{m.group(2)}", text)  # type: ignore[misc]
    return text
