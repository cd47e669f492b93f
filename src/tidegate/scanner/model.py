"""The nouns the analyzers produce and the matchers consume: packages, distros, inventories.

Ecosystem strings are OSV's (`PyPI`, `npm`, `Maven`, `Go`, `crates.io`, `NuGet`, `RubyGems`,
`Packagist`, `Debian`, `Ubuntu`, `Alpine`, `AlmaLinux`, `Red Hat`, `Rocky Linux`,
`Amazon Linux`, `SUSE`, `Wolfi`), so a package's advisory key is `(namespace, name)` where the
namespace adds the distro release for OS packages (`Debian:12`, `Alpine:v3.19`, `Ubuntu:22.04`,
`AlmaLinux:9`, `Amazon Linux:2023`) and is the bare ecosystem for language packages.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class PackageManager(enum.Enum):
    """Inspector's `packageManager` vocabulary; also tells OS packages from language ones."""

    OS = "OS"
    PYTHONPKG = "PYTHONPKG"
    NODEPKG = "NODEPKG"
    NPM = "NPM"
    YARN = "YARN"
    JAR = "JAR"
    POM = "POM"
    GOBINARY = "GOBINARY"
    GOMOD = "GOMOD"
    DOTNET_CORE = "DOTNET_CORE"
    NUGET = "NUGET"
    GEMSPEC = "GEMSPEC"
    BUNDLER = "BUNDLER"
    CARGO = "CARGO"
    COMPOSER = "COMPOSER"


@dataclass(frozen=True, slots=True)
class Distro:
    """An operating-system release as found in os-release and friends."""

    id: str  # os-release ID: debian, ubuntu, alpine, rhel, almalinux, rocky, amzn, sles, wolfi
    version_id: str  # os-release VERSION_ID ("12", "22.04", "3.19.1", "2023")
    codename: str = ""  # VERSION_CODENAME (bookworm, jammy)
    pretty_name: str = ""
    recognised: bool = True  # False when os-release names a distro Tidegate has no data for


@dataclass(frozen=True, slots=True)
class Package:
    """One installed package, attributed to the file and layer that introduced it."""

    name: str
    version: str  # as the package manager states it; rpm: [epoch:]version-release
    ecosystem: str  # OSV ecosystem without release ("Debian", "PyPI", ...)
    package_manager: PackageManager
    purl: str = ""
    path: str = ""  # file in the image that declared it, without leading "/"
    layer: str = ""  # digest of the layer that introduced it; set by the inventory builder
    source_name: str = ""  # dpkg Source / rpm SOURCERPM name / apk origin
    source_version: str = ""
    arch: str = ""
    licenses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScanWarning:
    """A file skipped or an analyzer failure, kept as a value so reports can show it."""

    path: str
    layer: str
    analyzer: str
    reason: str


@dataclass(frozen=True, slots=True)
class Inventory:
    """Everything found in one image (one platform): distro, packages, warnings."""

    distro: Distro | None
    packages: tuple[Package, ...]
    warnings: tuple[ScanWarning, ...] = ()
    platform: str = ""  # "linux/amd64" when known
    layers: tuple[str, ...] = field(default=())  # layer digests, bottom first
