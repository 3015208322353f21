"""The docs cannot drift from the CLI: every command and option is documented."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from router.cli import cli

REPO = Path(__file__).resolve().parents[1]
DOCS = "\n".join(
    p.read_text(encoding="utf-8")
    for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
)
COMMANDS = sorted(cli.commands.items())


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_command_and_option_is_in_the_docs(name: str, command: click.Command) -> None:
    assert f"ai-office {name}" in DOCS, f"ai-office {name} is not documented"
    assert command.help, f"ai-office {name} has no help text"
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            flags = [f for f in param.opts if f.startswith("--")] or param.opts
            assert any(f in DOCS for f in flags), f"{name} {flags} is not documented"
