"""Checks shared by every scheme's property tests, and the real-world corpus loader."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
from collections.abc import Callable, Iterable
from itertools import pairwise
from pathlib import Path

from tidegate.scanner.versions import InvalidVersion, VersionScheme, compare

REALWORLD = Path(__file__).resolve().parents[1] / "corpora" / "versions" / "realworld"


def check_order_laws(scheme: VersionScheme, a: str, b: str, c: str) -> None:
    """Reflexive, antisymmetric and transitive: the key order is a total preorder."""
    check_order_laws_by(lambda x, y: compare(scheme, x, y), a, b, c)


def check_order_laws_by(cmp: Callable[[str, str], int], a: str, b: str, c: str) -> None:
    """The same laws for any three-way comparison function."""
    assert cmp(a, a) == 0
    ab, bc, ac = cmp(a, b), cmp(b, c), cmp(a, c)
    assert cmp(b, a) == -ab
    if ab <= 0 and bc <= 0:
        assert ac <= 0
    if ab == 0 and bc == 0:
        assert ac == 0


def check_sorted_neighbours(
    scheme: VersionScheme, versions: Iterable[str], reference: Callable[[str, str], int]
) -> int:
    """Sort by our key; the reference must agree on every neighbouring pair."""
    ordered = sorted(set(versions), key=scheme.key)
    wrong = [
        (x, y, reference(x, y))
        for x, y in pairwise(ordered)
        if reference(x, y) != compare(scheme, x, y)
    ]
    assert wrong == []
    return len(ordered)


def parses(scheme: VersionScheme, text: str) -> bool:
    """Whether our scheme accepts the string."""
    try:
        scheme.key(text)
    except InvalidVersion:
        return False
    return True


def curated(name: str) -> list[str]:
    """The hand-collected list tests/corpora/versions/realworld/<name>.txt."""
    lines = (REALWORLD / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip()]


def installed_deb_versions() -> list[str]:
    """Every package version in this machine's dpkg database."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}\n"], check=True, capture_output=True, text=True
    ).stdout
    return sorted({v for v in out.splitlines() if v})


def installed_npm_versions() -> list[str]:
    """Versions of the packages bundled with npm itself."""
    root = Path("/usr/lib/node_modules/npm")
    found = {
        json.loads(p.read_text(encoding="utf-8")).get("version", "")
        for p in root.rglob("package.json")
    }
    return sorted(v for v in found if isinstance(v, str) and v)


def installed_maven_versions() -> list[str]:
    """Version directories of the Debian Maven repository."""
    return sorted({p.parent.name for p in Path("/usr/share/maven-repo").rglob("*.pom")})


def installed_gem_versions() -> list[str]:
    """Versions of Ruby's default gems."""
    specs = Path("/usr/lib/ruby/gems").glob("*/specifications/default/*.gemspec")
    return sorted({p.name.removesuffix(".gemspec").rsplit("-", 1)[1] for p in specs})


def installed_python_versions() -> list[str]:
    """Versions of the distributions installed in this virtualenv."""
    return sorted({d.version for d in importlib.metadata.distributions()})
