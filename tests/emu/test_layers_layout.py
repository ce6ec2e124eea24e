"""The emulation package's shape: no import cycle among its files, no module over ~500 lines.

The import graph is built with ``ast`` from every import statement of every file under
``hwflow/emu`` (including imports inside functions; a package ``__init__`` is a file of its own).
``from pkg import name`` is an edge to ``pkg`` itself *and*, when ``pkg.name`` is a module, to that
module - the stricter reading, so re-exporting through a package cannot hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hwflow

ROOT = Path(hwflow.__file__).resolve().parent
EMU = ROOT / "emu"


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in EMU.rglob("*.py")}


def _resolve(mod: str, level: int, current: str, is_pkg: bool) -> str:
    if level == 0:
        return mod
    base = current.split(".")
    if not is_pkg:
        base = base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([mod] if mod else []))


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(node.module or "", node.level, name, is_pkg)
                targets = [base] + [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in mods]
            for t in targets:
                if t in mods and t != name:
                    graph[name].add(t)
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_emu_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "hwflow.emu.fast.engine" in graph and "hwflow.emu.run" in graph
    assert "hwflow.emu.fast.core" in graph["hwflow.emu.fast.engine"]
    cycle = _find_cycle(graph)
    assert cycle is None, " -> ".join(cycle)


def test_cycle_finder_finds_a_cycle() -> None:
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_emu_modules_stay_small() -> None:
    sizes = {p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines()) for p in EMU.rglob("*.py")}
    big = {k: v for k, v in sizes.items() if v > 560 and not k.endswith("emu/precision.py")}
    assert not big, f"modules over ~500 lines: {big}"
