"""The board-side package imports only the standard library and numpy at module level."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import hwflow.runtime

RUNTIME_DIR = Path(hwflow.runtime.__file__).resolve().parent
MODULES = sorted(RUNTIME_DIR.glob("*.py"))
ALLOWED_THIRD_PARTY = {"numpy"}


def _imports(tree: ast.AST, *, module_level: bool):
    """Yield (node, top-level name or None for relative) for imports at (or below) module level."""

    def visit(node: ast.AST, in_function: bool):
        for child in ast.iter_child_nodes(node):
            inside = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import) and (in_function != module_level):
                for alias in child.names:
                    yield child, alias.name.split(".")[0]
            elif isinstance(child, ast.ImportFrom) and (in_function != module_level):
                yield child, None if child.level else (child.module or "").split(".")[0]
            yield from visit(child, inside)

    yield from visit(tree, False)


@pytest.mark.skipif(not hasattr(sys, "stdlib_module_names"), reason="needs Python >= 3.10")
@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_module_level_imports_are_stdlib_or_numpy(path: Path) -> None:
    tree = ast.parse(path.read_text())
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    for node, name in _imports(tree, module_level=True):
        if name is None:
            continue  # relative import inside runtime/
        assert name in stdlib or name in ALLOWED_THIRD_PARTY, \
            f"{path.name}:{node.lineno} imports {name!r} at module level (board code: stdlib + numpy only)"


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_absolute_hwflow_imports_anywhere(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for module_level in (True, False):
        for node, name in _imports(tree, module_level=module_level):
            assert name != "hwflow", f"{path.name}:{node.lineno}: runtime/ must be self-contained"


def test_python38_syntax() -> None:
    """PYNQ 2.7 images run Python 3.8: no syntax newer than that."""
    for path in MODULES:
        ast.parse(path.read_text(), feature_version=(3, 8))


NEWER_THAN_38 = ("removeprefix(", "removesuffix(", "pairwise(", "datetime.UTC", "functools.cache(", "strict=True",
                 "math.lcm(", "zoneinfo", "tomllib", "typing.Self")  # syntax: see test_python38_syntax


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_no_library_calls_newer_than_python38(path: Path) -> None:
    """Linters' auto-fixes (ruff UP/FURB) like to bring these in; the board's Python 3.8 lacks them."""
    code = "\n".join(line.split("#", 1)[0] for line in path.read_text().splitlines())
    found = [api for api in NEWER_THAN_38 if api in code]
    assert not found, f"{path.name} uses {found}, not available on Python 3.8 (PYNQ 2.7 images)"
