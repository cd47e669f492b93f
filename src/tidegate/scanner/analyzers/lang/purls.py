"""Package URLs (purl spec) for the language ecosystems, built with packageurl-python."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

from packageurl import PackageURL

from tidegate.scanner.model import Package, PackageManager

_PEP503_SEPARATORS = re.compile(r"[-_.]+")


def pep503_name(name: str) -> str:
    """The PEP 503 normalised project name: lowercase, runs of `-_.` collapsed to `-`."""
    return _PEP503_SEPARATORS.sub("-", name).lower()


def make_purl(kind: str, name: str, version: str, namespace: str | None = None) -> str:
    """A purl string; an empty version is left out rather than written as `@`."""
    purl = PackageURL(type=kind, namespace=namespace or None, name=name, version=version or None)
    return str(purl.to_string())


def npm_purl(name: str, version: str) -> str:
    """`pkg:npm/%40scope/name@v` for scoped packages, `pkg:npm/name@v` otherwise."""
    if name.startswith("@") and "/" in name:
        scope, _, bare = name.partition("/")
        return make_purl("npm", bare, version, scope)
    return make_purl("npm", name, version)


def slash_purl(kind: str, name: str, version: str) -> str:
    """For `vendor/name` (composer) and `host/path/mod` (golang) names: namespace = all but last."""
    namespace, _, bare = name.rpartition("/")
    return make_purl(kind, bare, version, namespace or None)


def npm_lock_packages(
    pairs: Iterable[tuple[str, str]], path: PurePosixPath, manager: PackageManager
) -> list[Package]:
    """One npm package per distinct (name, version) a lockfile resolves, sorted."""
    return [
        Package(
            name=name,
            version=version,
            ecosystem="npm",
            package_manager=manager,
            purl=npm_purl(name, version),
            path=str(path),
        )
        for name, version in sorted(set(pairs))
    ]
