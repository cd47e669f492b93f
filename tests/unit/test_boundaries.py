"""DESIGN's dependency rules, read from the source: imports (type-only ones included)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import tidegate

ROOT = Path(tidegate.__file__).parent
API_PACKAGES = (
    "tidegate.ecr",
    "tidegate.webapi",
    "tidegate.registry.api",
    "tidegate.console",
    "tidegate.inspector",
)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    """module → tidegate modules it imports (a `from pkg import name` counts as pkg.name
    when that is a module); edges from a module to its own ancestor packages are dropped,
    since Python imports those first anyway."""
    sources = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in sources.items():
        if name.startswith("tidegate.migrations"):
            continue
        graph[name]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [
                    f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in sources
                    else node.module
                    for a in node.names
                ]  # fmt: skip
            for target in targets:
                if not target.startswith("tidegate"):
                    continue
                if name == target or name.startswith(target + "."):
                    continue
                graph[name].add(target)
    return graph


GRAPH = _graph()


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _violations(
    source: str, forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()
) -> list[str]:
    return sorted(
        f"{mod} -> {target}"
        for mod, targets in GRAPH.items()
        if _within(mod, source)
        for target in targets
        if any(_within(target, f) for f in forbidden)
        and not any(_within(target, a) for a in allowed)
    )


def test_the_graph_was_read() -> None:
    assert len(GRAPH) > 150
    assert "tidegate.engine.pipeline" in GRAPH["tidegate.engine.runtime"]


def test_scanner_is_a_pure_library() -> None:
    # Only the shared error taxonomy, the input guards and the package version.
    offenders = [
        f"{mod} -> {target}"
        for mod, targets in GRAPH.items()
        if _within(mod, "tidegate.scanner")
        for target in targets
        if not _within(target, "tidegate.scanner")
        and target not in ("tidegate", "tidegate.errors", "tidegate.inputs")
    ]
    assert offenders == []


def test_registry_never_imports_the_engine_or_an_api() -> None:
    forbidden: tuple[str, ...] = (
        "tidegate.engine",
        "tidegate.auth",
        "tidegate.app",
        "tidegate.cli",
    )
    forbidden += tuple(p for p in API_PACKAGES if p != "tidegate.registry.api")
    assert _violations("tidegate.registry", forbidden) == []


def test_the_shared_aws_call_imports_no_api() -> None:
    # Each API passes its differences in as an `AwsApi`; importing one back would tie the
    # other API to it again.
    assert _violations("tidegate.aws_dispatch", API_PACKAGES) == []


# Known breaches of the API rule, to be moved behind engine/registry functions; the list
# may only shrink: a new breach fails, and so does a listed one that is gone (update it).
KNOWN_API_BREACHES = {
    "tidegate.inspector.aggregations -> tidegate.schema",
    "tidegate.inspector.coverage -> tidegate.schema",
    "tidegate.inspector.findings -> tidegate.schema",
    "tidegate.inspector.model -> tidegate.ecr.validation",
    "tidegate.inspector.operations -> tidegate.db",
    "tidegate.inspector.operations -> tidegate.schema",
}


def test_api_packages_do_not_reach_into_each_other_or_the_database() -> None:
    found: set[str] = set()
    for api in API_PACKAGES:
        others = tuple(p for p in API_PACKAGES if p != api and not _within(p, api))
        found |= set(_violations(api, (*others, "tidegate.db", "tidegate.schema")))
    assert sorted(found - KNOWN_API_BREACHES) == [], "new breaches"
    assert sorted(KNOWN_API_BREACHES - found) == [], "fixed: remove them from the list"


def test_top_level_packages_form_no_cycle() -> None:
    def top(module: str) -> str:
        return ".".join(module.split(".")[:2])

    packages: dict[str, set[str]] = defaultdict(set)
    for mod, targets in GRAPH.items():
        for target in targets:
            if top(mod) != top(target) and top(target) != "tidegate":
                packages[top(mod)].add(top(target))
    seen: set[str] = set()

    def visit(node: str, path: tuple[str, ...]) -> None:
        assert node not in path, " -> ".join((*path, node))
        if node in seen:
            return
        for nxt in sorted(packages[node]):
            visit(nxt, (*path, node))
        seen.add(node)

    for package in sorted(packages):
        visit(package, ())


def _cycle(package: str) -> list[str]:
    """One import cycle among the modules of `package` (type-only imports count), or []."""
    modules = {m for m in GRAPH if _within(m, package)}
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str]:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return []
        for nxt in sorted(GRAPH[node] & modules):
            found = visit(nxt, [*path, node])
            if found:
                return found
        done.add(node)
        return []

    for module in sorted(modules):
        found = visit(module, [])
        if found:
            return found
    return []


def test_engine_modules_depend_one_way() -> None:
    # Jobs get a ScanContext, not the ScanEngine that runs them: typing an argument as the
    # caller's class would be a dependency on it too.
    assert _cycle("tidegate.engine") == []
    assert "tidegate.engine.runtime" not in {
        target for mod in GRAPH if _within(mod, "tidegate.engine") for target in GRAPH[mod]
    }
