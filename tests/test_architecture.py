"""The layering rules of ARCHITECTURE.md, checked on the source (every import statement counts,
those inside functions and `if TYPE_CHECKING:` blocks included)."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("isolation", "cluster", "kubesim", "console")
FEATURES = ("policies", "tenancy", "traffic", "reachability", "history", "members")


@cache
def modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


@cache
def imports_of(module: str) -> frozenset[str]:
    """The dotted names `module` imports: a project module where the name is one (for
    `from package import module`), else the name as written."""
    names = set()
    tree = ast.parse(modules()[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                names.add(candidate if candidate in modules() else node.module)
    return frozenset(names)


def violations(rule) -> list[str]:
    return sorted(f"{module} imports {name}" for module in modules()
                  for name in imports_of(module) if rule(module, name))


def top(name: str) -> str:
    return name.split(".")[0]


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "console" and parts[1] in FEATURES else None


def test_the_domain_imports_neither_django_nor_kubernetes_nor_a_higher_layer():
    assert violations(lambda m, n: top(m) == "isolation" and top(n) in
                      {"django", "kubernetes", "celery", "console", "cluster", "kubesim"}) == []


def test_only_the_gateway_imports_the_kubernetes_client():
    assert violations(lambda m, n: top(n) == "kubernetes" and m != "cluster.gateway") == []


def test_the_cluster_layer_and_the_simulator_never_import_the_console():
    assert violations(lambda m, n: top(m) in {"cluster", "kubesim"} and top(n) == "console") == []
    assert violations(lambda m, n: top(m) == "cluster" and top(n) == "kubesim") == []


def test_the_core_imports_no_feature():
    assert violations(lambda m, n: m.startswith("console.core") and feature_of(n) is not None) == []


def test_no_feature_imports_another_features_views():
    def rule(module: str, name: str) -> bool:
        feature = feature_of(name)
        is_view = ".views" in name[len(f"console.{feature}"):] if feature else False
        return is_view and feature_of(module) != feature and module != "console.urls"

    assert violations(rule) == []


def test_the_console_package_holds_only_its_project_modules():
    loose = sorted(p.name for p in (ROOT / "console").glob("*.py"))
    assert loose == ["__init__.py", "celery.py", "settings.py", "urls.py", "wsgi.py"]
    for feature in FEATURES:
        assert (ROOT / "console" / feature / "apps.py").is_file(), feature


def test_there_are_no_import_cycles():
    graph = {m: {n for n in imports_of(m) if n in modules() and n != m} for m in modules()}
    cycles = [sorted(c) for c in strongly_connected(graph) if len(c) > 1]
    assert cycles == []


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
    return components


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"a"}, "c": set()}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
])
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert [sorted(c) for c in strongly_connected(graph) if len(c) > 1] == expected
