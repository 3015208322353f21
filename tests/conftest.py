"""Shared fixtures: the bundled router (fitted once per session) and small packs in tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from samples import QUESTIONS as SAMPLES

from router import Router
from router.law.retrieval import ProvisionIndex, load_provisions
from router.pack import bundled_dirs

#: The questions the dirty log of messy_csv cycles through.
QUESTIONS = SAMPLES[:5]

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def router() -> Router:
    """The router on the bundled AI Office pack (fitting takes about a second)."""
    return Router.load()


@pytest.fixture
def runner(router, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """In-process runner; the bundled router is fitted once per session, not per command."""
    import router.cli as cli_module

    real = cli_module.load_router
    monkeypatch.setattr(
        cli_module, "load_router", lambda pack: router if pack is None else real(pack)
    )
    return CliRunner()


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled pack, as a pack folder (corpus/ and intents/)."""
    corpus, intents = bundled_dirs()
    root = tmp_path / "pack"
    shutil.copytree(corpus, root / "corpus", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(intents, root / "intents", ignore=shutil.ignore_patterns("__pycache__"))
    return root


TINY_UNITS = """\
units:
  - id: billing
    name: Billing Desk
    aliases: ["billing desk"]
    mandate:
      source: charter
      quote: "The Billing Desk answers questions about invoices and refunds."
  - id: support
    name: Technical Support
    aliases: ["tech support"]
"""

TINY_SOURCES = """\
sources:
  - id: charter
    file: sources/charter.txt
    title: Service charter
    publisher: Example Ltd
    date: "2024-01-01"
"""


#: The files of the small two-unit pack (relative path -> text).
TINY_FILES: dict[str, str] = {
    "corpus/units.yaml": TINY_UNITS,
    "corpus/sources.yaml": TINY_SOURCES,
    "corpus/sources/charter.txt": (
        "Our charter.\nThe Billing Desk answers questions about invoices and refunds.\n"
    ),
    "intents/billing.yaml": (
        "unit: billing\nterms: [invoice, refund]\nexamples:\n"
        + "".join(
            f"  - {t}\n"
            for t in [
                "where is my invoice",
                "I want a refund",
                "I was charged twice",
                "send me last month's bill",
                "refund my payment please",
                "my invoice has the wrong address",
            ]
        )
    ),
    "intents/support.yaml": (
        "unit: support\nterms: [password, crash]\nexamples:\n"
        + "".join(
            f"  - {t}\n"
            for t in [
                "the app crashes on start",
                "I forgot my password",
                "cannot log in to my account",
                "the screen stays black",
                "reset my password",
                "error 500 when I save",
            ]
        )
    ),
}


def write_tiny_pack(root: Path, files: dict[str, str | None] | None = None) -> Path:
    """Write the small two-unit pack under ``root``; ``files`` maps relative paths to
    replacement text (None leaves a file out)."""
    chosen: dict[str, str | None] = {**TINY_FILES, **(files or {})}
    for rel, text in chosen.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def make_pack(tmp_path: Path) -> Callable[..., Path]:
    """Write a small two-unit pack; ``files`` maps relative paths to replacement text
    (None leaves a file out)."""

    def build(files: dict[str, str | None] | None = None) -> Path:
        return write_tiny_pack(tmp_path / "tiny", files)

    return build


@pytest.fixture(scope="session")
def index() -> ProvisionIndex:
    """The bundled pack's AI Act passages (built once: it takes a second)."""
    corpus, _ = bundled_dirs()
    built = load_provisions(corpus)
    assert built is not None
    return built


def _write_messy_csv(path: Path, rows: int = 400) -> None:
    """A dirty log: a byte-order mark, quoted line breaks and quotes, surplus and missing
    cells, a stray quote, blank lines, CRLF endings and an undecodable byte."""
    lines = ["\ufeffid,unit,message\n"]
    for i in range(rows):
        kind = i % 10
        if kind == 0:
            lines.append(f'{i},x,"Hello,\nwho fines GPAI providers? ""urgent""\nBye"\n')
        elif kind == 1:
            lines.append(f"{i},x,too,many,cells\n")
        elif kind == 2:
            lines.append(f'{i},x,"bad "quote" here"\n')
        elif kind == 3:
            lines.append(f"{i}\n\n")
        else:
            lines.append(f"{i},y,{QUESTIONS[i % len(QUESTIONS)].replace(',', ' ')}\r\n")
    path.write_bytes("".join(lines).encode("utf-8") + b"99,z,bad byte \xff here\n")


@pytest.fixture
def messy_csv(tmp_path: Path) -> Path:
    """A dirty CSV log (see _write_messy_csv) in a temporary folder."""
    path = tmp_path / "messy.csv"
    _write_messy_csv(path)
    return path
