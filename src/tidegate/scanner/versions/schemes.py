"""Which version scheme each OSV ecosystem uses; the one table a reader checks for coverage."""

from __future__ import annotations

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


_DEB = DebVersionScheme()
_RPM = RpmVersionScheme()
_APK = ApkVersionScheme()

SEMVER: VersionScheme = SemverVersionScheme()

# OSV ecosystem names (before any ":release" suffix) to their scheme.
ECOSYSTEMS: dict[str, VersionScheme] = {
    "Debian": _DEB,
    "Ubuntu": _DEB,
    "Alpine": _APK,
    "Wolfi": _APK,
    "Chainguard": _APK,
    "AlmaLinux": _RPM,
    "Amazon Linux": _RPM,
    "Red Hat": _RPM,
    "Rocky Linux": _RPM,
    "SUSE": _RPM,
    "openSUSE": _RPM,
    "Mageia": _RPM,
    "openEuler": _RPM,
    "Photon OS": _RPM,
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
