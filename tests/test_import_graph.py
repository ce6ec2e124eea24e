"""The package's file-level import graph has no cycle (docs/architecture.md, "one-way data flow").

Every import statement counts, including those inside functions; a package's ``__init__`` is a
file of its own. ``from . import x`` imports the module ``x`` when it is one, and the package
itself (its ``__init__`` runs first). Imports inside
functions are allowed only for heavy optional dependencies that are deferred on purpose.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "hwflow"
# Deferred on purpose: slow to import or optional (a function-level import of these is fine).
HEAVY = {"tensorflow", "tensorflow_model_optimization", "keras", "qkeras", "hls4ml", "dask", "distributed",
         "matplotlib", "pynq", "pynvml", "sklearn", "mlxtend", "absl", "scipy"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(mod: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _scan() -> tuple[dict[str, set[str]], dict[str, set[str]], list[tuple[str, int, str]]]:
    """(module -> hwflow modules it imports anywhere, module -> names it imports at module level,
    [(module, line, name) for every import inside a function])."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    top: dict[str, set[str]] = {m: set() for m in mods}
    local: list[tuple[str, int, str]] = []
    for mod, path in mods.items():
        tree = ast.parse(path.read_text(), str(path))
        is_pkg = path.name == "__init__.py"
        in_func: set[int] = set()
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                in_func.update(id(n) for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom)))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(mod, is_pkg, node)
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
                if base in mods and base not in names:
                    names.append(base)  # ``from pkg import sub`` runs pkg/__init__ too
            else:
                continue
            for n in names:
                if id(node) in in_func:
                    local.append((mod, node.lineno, n))
                else:
                    top[mod].add(n)
                t = _target(n, mods)
                if t and t != mod:
                    graph[mod].add(t)
    return graph, top, local


def _target(name: str, mods: dict[str, Path]) -> str | None:
    """The longest prefix of ``name`` that is a module of the package ('hwflow.a.b.func' -> 'hwflow.a.b')."""
    parts = name.split(".")
    while parts:
        cand = ".".join(parts)
        if cand in mods:
            return cand
        parts.pop()
    return None


def import_graph() -> tuple[dict[str, set[str]], list[tuple[str, int, str]]]:
    """(module -> modules of hwflow it imports, [(module, line, imported) for function-level imports])."""
    graph, _, local = _scan()
    return graph, local


def heavy_at_import() -> dict[str, bool]:
    """Does importing the module (its module-level imports, followed through hwflow) load a heavy dependency?"""
    mods = _modules()
    _, top, _ = _scan()
    memo: dict[str, bool] = {}

    def heavy(m: str, seen: frozenset[str]) -> bool:
        if m in memo:
            return memo[m]
        res = False
        for n in top.get(m, ()):
            if n.split(".")[0] in HEAVY:
                res = True
                break
            t = _target(n, mods)
            parent = ".".join(m.split(".")[:-1])
            if t and t not in seen and t not in (m, parent) and heavy(t, seen | {t}):
                res = True
                break
        memo[m] = res
        return res

    return {m: heavy(m, frozenset({m})) for m in mods}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_graph_sees_function_level_and_package_imports() -> None:
    graph, local = import_graph()
    assert "hwflow.flow" in graph and "hwflow.steps" in graph  # a package __init__ is a node
    assert "hwflow.steps.train" in graph["hwflow.steps"]       # `from . import train` in steps/__init__
    assert any(m == "hwflow.steps.train" and n.startswith("tensorflow") for m, _, n in local)


def test_cycle_finder_finds_a_cycle() -> None:
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle() -> None:
    graph, _ = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles in hwflow/ (break them; docs/architecture.md):\n" + "\n".join(
        " <-> ".join(c) for c in cycles
    )


# Modules whose hwflow imports are all at module level (imports inside functions only for heavy
# external dependencies). The CLI entry points (cli, cli_estimate, api, package __init__s, kept lazy so
# that `hwflow --help` and `hwflow check` start fast) and the domain packages still defer some hwflow
# imports; extend this list as they are hoisted.
NO_LOCAL_HWFLOW_IMPORTS = (
    "hwflow.flow", "hwflow.context", "hwflow.registry", "hwflow.manifest", "hwflow.figures", "hwflow.pareto",
    "hwflow.results", "hwflow.report.", "hwflow.steps.",
    "hwflow.sweep.worker", "hwflow.sweep.dotted", "hwflow.sweep.spec", "hwflow.sweep.metrics", "hwflow.sweep.cli",
    "hwflow.sweep.runner", "hwflow.baseline",
)


def test_function_level_imports_only_defer_heavy_dependencies() -> None:
    _, local = import_graph()
    heavy = heavy_at_import()
    mods = _modules()
    bad = sorted({
        f"{m}:{line} imports {n} inside a function"
        for m, line, n in local
        if m.startswith(NO_LOCAL_HWFLOW_IMPORTS) and n.split(".")[0] == "hwflow"
        and not heavy.get(_target(n, mods) or "", False)
    })
    assert not bad, "move these imports to the top of the module:\n" + "\n".join(bad)


def test_heavy_detection_follows_hwflow_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "hwflow"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "tf_user.py").write_text("import tensorflow as tf\n")
    (pkg / "light.py").write_text("from .sub import tf_user\n")
    (pkg / "lazy.py").write_text("def f():\n    from .light import x\n    import tensorflow\n")
    monkeypatch.setattr(__import__(__name__), "PKG", pkg)
    heavy = heavy_at_import()
    assert heavy["hwflow.sub.tf_user"] and heavy["hwflow.light"] and not heavy["hwflow.lazy"]
    _, local = import_graph()
    assert ("hwflow.lazy", 2, "hwflow.light") in local and ("hwflow.lazy", 3, "tensorflow") in local
