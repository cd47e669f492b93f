"""Which version scheme each OSV ecosystem uses; the one table a reader checks for coverage.

Language ecosystems are listed here; a distribution's scheme comes from its row in
`scanner.distributions`, under both its ecosystem and its advisory namespace.
"""

from __future__ import annotations

from tidegate.scanner import distributions
from tidegate.scanner.versions.apk import ApkVersionScheme
from tidegate.scanner.versions.base import VersionScheme
from tidegate.scanner.versions.cargo import CargoVersionScheme
from tidegate.scanner.versions.composer import ComposerVersionScheme
from tidegate.scanner.versions.deb import DebVersionScheme
from tidegate.scanner.versions.gem import GemVersionScheme
from tidegate.scanner.versions.golang import GoVersionScheme
from tidegate.scanner.versions.maven import MavenVersionScheme
from tidegate.scanner.versions.npm import NpmVersionScheme
from tidegate.scanner.versions.nuget import NuGetVersionScheme
from tidegate.scanner.versions.pep440 import Pep440VersionScheme
from tidegate.scanner.versions.rpm import RpmVersionScheme
from tidegate.scanner.versions.semver import SemverVersionScheme


class UnknownEcosystem(KeyError):
    """No version scheme is known for the ecosystem; callers report the package as UNKNOWN."""


_BY_KIND: dict[str, VersionScheme] = {
    "deb": DebVersionScheme(),
    "rpm": RpmVersionScheme(),
    "apk": ApkVersionScheme(),
}

SEMVER: VersionScheme = SemverVersionScheme()

# OSV ecosystem names (before any ":release" suffix) to their scheme.
ECOSYSTEMS: dict[str, VersionScheme] = {
    **{
        name: _BY_KIND[row.scheme]
        for row in distributions.TABLE.values()
        for name in (row.ecosystem, row.feed_namespace)
        if name is not None
    },
    "PyPI": Pep440VersionScheme(),
    "npm": NpmVersionScheme(),
    "Go": GoVersionScheme(),
    "Maven": MavenVersionScheme(),
    "RubyGems": GemVersionScheme(),
    "NuGet": NuGetVersionScheme(),
    "crates.io": CargoVersionScheme(),
    "Packagist": ComposerVersionScheme(),
}


def scheme_for(ecosystem: str) -> VersionScheme:
    """The scheme for an OSV ecosystem string such as "Debian:12" or "Alpine:v3.19"."""
    base = ecosystem.split(":", 1)[0].strip()
    try:
        return ECOSYSTEMS[base]
    except KeyError:
        raise UnknownEcosystem(ecosystem) from None


def compare(scheme: VersionScheme, a: str, b: str) -> int:
    """-1, 0 or 1 as a sorts before, with or after b; raises InvalidVersion."""
    ka, kb = scheme.key(a), scheme.key(b)
    return (ka > kb) - (ka < kb)
