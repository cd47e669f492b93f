"""Lockfile packages yield to installed ones: a lockfile only speaks where nothing is installed.

Analyzers see one file at a time, so this runs over a whole inventory afterwards: packages
from an npm/yarn/pnpm lockfile in directory D are dropped when any package was found under
D/node_modules, and composer.lock packages in D when D/vendor/composer/installed.json exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from tidegate.scanner.model import Package

_NODE_LOCKFILES = frozenset(
    {"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"}
)
_INSTALLED_MARKERS = {
    "node_modules": _NODE_LOCKFILES,
    "vendor": frozenset({"composer.lock"}),
}


def _installed_roots(packages: list[Package]) -> set[tuple[str, str]]:
    """(project directory, marker) pairs for which installed packages were found."""
    roots = set()
    for pkg in packages:
        parts = PurePosixPath(pkg.path.split("!/", 1)[0]).parts
        for i, part in enumerate(parts):
            if part == "vendor" and parts[i + 1 : i + 2] != ("composer",):
                continue  # other things live in vendor/ too (Go modules, jars)
            if part in _INSTALLED_MARKERS and parts[-1] not in _INSTALLED_MARKERS[part]:
                roots.add((str(PurePosixPath(*parts[:i])) if i else ".", part))
                break
    return roots


def prefer_installed(packages: Iterable[Package]) -> list[Package]:
    """Drop lockfile packages shadowed by installed packages of the same project directory."""
    found = list(packages)
    roots = _installed_roots(found)
    kept = []
    for pkg in found:
        path = PurePosixPath(pkg.path)
        directory = str(path.parent) if path.parent.parts else "."
        shadowed = any(
            (directory, marker) in roots and path.name in names
            for marker, names in _INSTALLED_MARKERS.items()
        )
        if not shadowed:
            kept.append(pkg)
    return kept
