"""What is installed wins: lockfiles never add packages on top of an installed tree.

Analyzers see one file at a time, so the inventory builder runs `installed_only` over a whole
image's packages afterwards. Two rules, both judged from the paths the analyzers recorded:

* A lockfile inside an installed package (under `node_modules/`, `site-packages/`,
  `dist-packages/`, `vendor/`, or a gem directory `R/gems/<name>-<version>/` whose
  specification `R/specifications/<name>-<version>.gemspec` was found) is that package's
  development file: nothing it lists is installed by it.
* A lockfile beside an installed tree yields to the tree. npm, yarn and pnpm lockfiles in D
  yield when any package was found under `D/node_modules/`; composer.lock in D when
  `D/vendor/composer/installed.json` exists. Gems and Python distributions are installed per
  interpreter, not per project, so a Gemfile.lock yields when any gem is installed in the
  image and a Python lock file (poetry.lock, Pipfile.lock, uv.lock, pdm.lock,
  requirements*.txt) when any Python distribution is.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from tidegate.scanner.model import Package, PackageManager

_NODE_LOCKS = frozenset({"package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"})
_RUBY_LOCKS = frozenset({"Gemfile.lock", "gems.locked"})
_PYTHON_LOCKS = frozenset({"poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock"})
_OTHER_LOCKS = frozenset({"composer.lock", "Cargo.lock", "packages.lock.json"})
_INSTALLED_DIRS = frozenset({"node_modules", "site-packages", "dist-packages", "vendor"})


def _is_python_lock(name: str) -> bool:
    return name in _PYTHON_LOCKS or (name.startswith("requirements") and name.endswith(".txt"))


def is_lockfile(path: str) -> bool:
    """Whether `path` names a lockfile or requirements file (not an installed-package record)."""
    name = PurePosixPath(path).name
    return name in _NODE_LOCKS | _RUBY_LOCKS | _OTHER_LOCKS or _is_python_lock(name)


def _gem_dirs(packages: list[Package]) -> set[str]:
    """`R/gems/<name>-<version>` for every gem installed through `R/specifications/`."""
    dirs = set()
    for pkg in packages:
        if pkg.package_manager is not PackageManager.GEMSPEC:
            continue
        spec = PurePosixPath(pkg.path)
        root = spec.parent.parent if spec.parent.name == "default" else spec.parent
        dirs.add(str(root.parent / "gems" / spec.stem))
    return dirs


def _inside_installed(path: PurePosixPath, gem_dirs: set[str]) -> bool:
    if _INSTALLED_DIRS.intersection(path.parent.parts):
        return True
    return any(str(parent) in gem_dirs for parent in path.parents)


def _node_roots(packages: list[Package]) -> set[str]:
    """Project directories D with packages installed under D/node_modules."""
    roots = set()
    for pkg in packages:
        if pkg.package_manager is PackageManager.NODEPKG:
            parts = PurePosixPath(pkg.path).parts
            if "node_modules" in parts:
                i = parts.index("node_modules")
                roots.add(str(PurePosixPath(*parts[:i])) if i else ".")
    return roots


def _composer_roots(packages: list[Package]) -> set[str]:
    suffix = "vendor/composer/installed.json"
    return {
        pkg.path.removesuffix(suffix).rstrip("/") or "."
        for pkg in packages
        if pkg.path == suffix or pkg.path.endswith("/" + suffix)
    }


def installed_only(packages: Iterable[Package]) -> list[Package]:
    """`packages` without the lockfile entries that an installed tree shadows or owns."""
    found = list(packages)
    gem_dirs = _gem_dirs(found)
    node_roots, composer_roots = _node_roots(found), _composer_roots(found)
    gems = bool(gem_dirs)
    python = any(p.package_manager is PackageManager.PYTHONPKG for p in found)
    kept = []
    for pkg in found:
        path = PurePosixPath(pkg.path.split("!/", 1)[0])
        if not is_lockfile(str(path)):
            kept.append(pkg)
            continue
        directory = str(path.parent) if path.parent.parts else "."
        name = path.name
        shadowed = (
            _inside_installed(path, gem_dirs)
            or (name in _NODE_LOCKS and directory in node_roots)
            or (name == "composer.lock" and directory in composer_roots)
            or (name in _RUBY_LOCKS and gems)
            or (_is_python_lock(name) and python)
        )
        if not shadowed:
            kept.append(pkg)
    return kept
