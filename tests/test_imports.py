"""No import cycle anywhere in the package.

Every `import` statement counts, wherever it stands: at the top, inside a function (the
usual way to hide a cycle from Python) or under `if TYPE_CHECKING:`. Only the package's
own modules are followed; importing `asgi_consent.x` also runs `asgi_consent/__init__.py`,
but that implicit step is not an edge (every module would otherwise form a cycle with it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import asgi_consent

PACKAGE = "asgi_consent"
ROOT = Path(asgi_consent.__file__).parent


def _modules() -> dict[str, tuple[str, bool]]:
    """Every module of the package: name -> (source, whether it is a package)."""
    found: dict[str, tuple[str, bool]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path.read_text("utf-8"), is_package)
    return found


def _imported(module: str, source: str, is_package: bool, known: Iterable[str]) -> set[str]:
    """The package modules that `module` imports anywhere in its source."""
    known = set(known)
    edges: set[str] = set()

    def add(name: str) -> None:
        # `import a.b.c` or `from a.b import c`: the deepest module that exists.
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name:
            edges.add(name)

    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{node.module}" if node.module else anchor
            else:
                base = node.module or ""
            for alias in node.names:
                add(f"{base}.{alias.name}")
    edges.discard(module)
    return edges


def _graph(modules: Mapping[str, tuple[str, bool]]) -> dict[str, set[str]]:
    return {
        name: _imported(name, source, is_package, modules)
        for name, (source, is_package) in modules.items()
    }


def _cycles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected group of modules (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(_cycle_within(sorted(group), graph))
    return groups


def _cycle_within(group: list[str], graph: Mapping[str, set[str]]) -> list[str]:
    """A path a -> ... -> a inside one strongly connected group, for the failure message."""
    members = set(group)
    path = [group[0]]
    seen = {group[0]: 0}
    while True:
        step = min(n for n in graph[path[-1]] if n in members)
        if step in seen:
            return [*path[seen[step] :], step]
        seen[step] = len(path)
        path.append(step)


def test_no_module_of_the_package_is_part_of_an_import_cycle() -> None:
    cycles = _cycles(_graph(_modules()))
    assert cycles == [], "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_the_walk_finds_every_module_of_the_package() -> None:
    modules = _modules()
    assert {"asgi_consent", "asgi_consent.config", "asgi_consent.locales"} <= set(modules)
    assert len(modules) == len(list(ROOT.rglob("*.py")))


def test_an_import_inside_a_function_counts() -> None:
    source = "def load():\n    from .sources import read\n    return read()\n"
    known = {"pkg", "pkg.config", "pkg.sources"}
    assert _imported("pkg.config", source, False, known) == {"pkg.sources"}


def test_an_import_under_type_checking_counts() -> None:
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .rewrite import Plan\n"
    known = {"pkg", "pkg.rewrite", "pkg.tagdecision"}
    assert _imported("pkg.tagdecision", source, False, known) == {"pkg.rewrite"}


def test_a_relative_import_from_a_subpackage_resolves_against_its_parent() -> None:
    source = "from ..config import ConsentConfig\nfrom . import de\n"
    known = {"pkg", "pkg.config", "pkg.locales", "pkg.locales.de"}
    assert _imported("pkg.locales", source, True, known) == {"pkg.config", "pkg.locales.de"}


def test_an_absolute_import_of_a_name_resolves_to_its_module() -> None:
    source = "import pkg.config\nfrom pkg.errors import ConfigError\nimport json\n"
    known = {"pkg", "pkg.config", "pkg.errors", "pkg.sources"}
    assert _imported("pkg.sources", source, False, known) == {"pkg.config", "pkg.errors"}


def test_a_cycle_through_three_modules_is_found_and_shown_in_order() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]


def test_modules_that_import_in_one_direction_only_have_no_cycle() -> None:
    graph = {"a": {"b", "c"}, "b": {"c"}, "c": set()}
    assert _cycles(graph) == []
