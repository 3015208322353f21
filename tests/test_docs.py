"""The docs cannot drift from the CLI: every command and option is documented."""

from __future__ import annotations

import ast
import gzip
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from router import Router
from router.cli import cli
from router.repl import PROMPT, Chat, RouterLoader, greeting

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
    shown = [p for p in command.params if isinstance(p, click.Option) and not p.hidden]
    for param in shown:
        flags = [f for f in param.opts if f.startswith("--")] or param.opts
        assert any(f in DOCS for f in flags), f"{name} {flags} is not documented"


# -- the examples in the docs run, and show what the program prints ------------------------
#
# ```text blocks that start with "$ ai-office ..." are run with click's CliRunner at
# COLUMNS=100 without colour, and the output must match what is shown, where "..." stands
# for any text (none, part of a line, or whole lines), as doctest's ELLIPSIS does; trailing
# spaces are ignored. "$ ai-office chat" blocks are transcripts: the greeting, then each
# "ai-office> LINE" is typed into the chat (width 100) and followed by its reply.
# ```python blocks are run statement by statement in a folder holding small inquiries.csv
# and inquiries.csv.gz files; a bare expression followed by a comment that is a Python
# literal (`d.unit.id  # 'regulation_compliance'`) must equal it. A block after the line
# "<!-- not run: REASON -->" is skipped, with the reason. ```sh blocks show no output
# and are not run.

DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
NOT_RUN = re.compile(r"<!-- not run: (.+?) -->\s*\Z")
WIDTH = 100


def examples(language: str) -> list[Any]:
    found = []
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            body = match.group(2)
            if match.group(1) != language or (language == "text" and not body.startswith("$ ")):
                continue
            where = f"{path.relative_to(REPO)}:{text.count(chr(10), 0, match.start()) + 1}"
            skip = NOT_RUN.search(text[: match.start()])
            marks = [pytest.mark.skip(reason=skip.group(1))] if skip else []
            found.append(pytest.param(body, id=where, marks=marks))
    return found


def shown(expected: str) -> re.Pattern[str]:
    """The shown output as a pattern: "..." matches any text."""
    parts = [re.escape(part) for part in _tidy(expected).split("...")]
    return re.compile(".*?".join(parts), re.DOTALL)


def _tidy(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


def sessions(block: str) -> list[tuple[str, str]]:
    """(command, shown output) for each "$ " line of a block."""
    found: list[tuple[str, list[str]]] = []
    for line in block.split("\n"):
        if line.startswith("$ "):
            found.append((line[2:], []))
        else:
            found[-1][1].append(line)
    return [(command, "\n".join(lines)) for command, lines in found]


def chat_transcript(router: Router, typed: list[str]) -> str:
    chat = Chat(router.pack_, RouterLoader.ready(router), width=WIDTH)
    out = [greeting(router.pack_, width=WIDTH)]
    for line in typed:
        out += [f"{PROMPT}{line}", chat.handle(line).text]
    return "\n".join(part for part in out if part)


@pytest.mark.parametrize("block", examples("text"))
def test_shell_examples_print_what_the_docs_show(
    block: str, runner: CliRunner, router: Router
) -> None:
    for command, output in sessions(block):
        argv = shlex.split(command)
        assert argv[0] == "ai-office", command
        if argv[1:] == ["chat"]:
            typed = [line[len(PROMPT) :] for line in output.split("\n") if line.startswith(PROMPT)]
            got, code = chat_transcript(router, typed), 0  # a transcript has no exit code
        else:
            result = runner.invoke(cli, argv[1:], env={"COLUMNS": str(WIDTH), "NO_COLOR": "1"})
            got, code = result.output, result.exit_code
        assert code == 0, got
        assert shown(output).fullmatch(_tidy(got)), f"$ {command}\n{_tidy(got)}"


@pytest.mark.parametrize("block", examples("python"))
def test_python_examples_run(
    block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    questions = ["who fines GPAI providers?", "what is the weather in Paris?", "AI Factories"]
    csv = "id,text\n" + "".join(f"{i},{q}\n" for i, q in enumerate(questions))
    (tmp_path / "inquiries.csv").write_text(csv, encoding="utf-8")
    (tmp_path / "inquiries.csv.gz").write_bytes(gzip.compress(csv.replace("text", "body").encode()))
    monkeypatch.chdir(tmp_path)
    lines = block.split("\n")
    namespace: dict[str, Any] = {}
    claims = []
    for node in ast.parse(block).body:
        comment = lines[node.end_lineno - 1][node.end_col_offset :].strip()  # type: ignore[operator, index]
        claim = _literal(comment.removeprefix("#")) if comment.startswith("#") else _NONE
        if isinstance(node, ast.Expr) and claim is not _NONE:
            value = eval(compile(ast.Expression(node.value), "<example>", "eval"), namespace)
            claims.append((ast.unparse(node), value, claim))
        else:
            exec(compile(ast.Module([node], []), "<example>", "exec"), namespace)
    assert [c for c in claims if c[1] != c[2]] == []


_NONE = object()


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return _NONE
