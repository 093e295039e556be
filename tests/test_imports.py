"""No import cycles between modules of keisei_jax.

This covers the whole package (every module under keisei_jax/, not only the rules engine), and
counts imports wherever they stand: at module level, inside functions (lazy imports), and under
``if TYPE_CHECKING``. A package's ``__init__`` importing its own submodules, and a submodule
importing a sibling through the package path (``from keisei_jax.shogi import tables``), is not a
cycle: an import of a submodule counts as an edge to that submodule, not to its package, and a
submodule's import of one of its own ancestor packages is ignored.
"""

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _modules() -> dict[str, pathlib.Path]:
    mods = {}
    for path in sorted((ROOT / "keisei_jax").rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = path
    return mods


def import_graph() -> dict[str, set[str]]:
    """module -> the keisei_jax modules it imports."""
    mods = _modules()
    deps: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in mods else base)
            for target in targets:
                if target in mods and target != mod and not mod.startswith(target + "."):
                    deps[mod].add(target)
    return deps


def cycles(deps: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(deps[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(deps):
        if v not in index:
            visit(v)
    return sorted(found)


def test_cycle_finder_sees_mutual_and_lazy_imports():
    deps = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert cycles(deps) == [["a", "b"], ["c", "d", "e"]]
    graph = import_graph()
    # The package imports its submodules; their imports through the package path are no edge.
    assert "keisei_jax.shogi.game" in graph["keisei_jax.shogi"]
    assert "keisei_jax.shogi" not in graph["keisei_jax.shogi.game"]
    assert "keisei_jax.shogi.tables" in graph["keisei_jax.shogi.game"]
    # A function-level import counts (usi.engine loads checkpoints lazily).
    assert "keisei_jax.eval.checkpoint" in graph["keisei_jax.usi.engine"]


def test_no_two_modules_import_each_other():
    graph = import_graph()
    mutual = sorted((a, b) for a in graph for b in graph[a] if a < b and a in graph[b])
    assert not mutual, f"modules importing each other: {mutual}"
    assert not cycles(graph), f"import cycles: {cycles(graph)}"
