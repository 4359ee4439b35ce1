"""The layout rules of components/: no module imports another that imports it back (an
import inside a function counts: deferring one only hides the cycle), and no source file
grows past 600 lines."""

from __future__ import annotations

import ast
from pathlib import Path

COMPONENTS = Path(__file__).resolve().parent.parent / "components"
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = path.relative_to(COMPONENTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(source: str, modules: set[str]) -> set[str]:
    """The modules `source` imports anywhere: at the top, in functions, under TYPE_CHECKING."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                imported.add(full if full in modules else node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    return imported & modules


def _import_graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in COMPONENTS.rglob("*.py")}
    return {
        name: _imported(path.read_text(), set(modules)) - {name} for name, path in modules.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in on_stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_an_import_inside_a_function_counts() -> None:
    source = "import a\n\ndef build():\n    from b.c import d\n"
    assert _imported(source, {"a", "b.c", "e"}) == {"a", "b.c"}


def test_diff_and_graph_share_only_the_render_readers() -> None:
    graph = _import_graph()

    def imports_of(package: str) -> set[str]:
        return {other for name in graph if name.startswith(package) for other in graph[name]}

    assert not any(m.startswith("components.graph") for m in imports_of("components.diff"))
    assert not any(m.startswith("components.diff") for m in imports_of("components.graph"))
    # Each topology builder reads the kind-neutral model, not the other builder.
    for builder in ("docker_topology", "kubernetes_topology"):
        assert "components.graph.model" in graph[f"components.graph.{builder}"]


def test_no_import_cycle_between_modules() -> None:
    assert _cycles(_import_graph()) == []


def test_no_source_file_above_600_lines() -> None:
    too_long = {
        str(path.relative_to(COMPONENTS.parent)): length
        for path in COMPONENTS.rglob("*.py")
        if (length := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert too_long == {}
