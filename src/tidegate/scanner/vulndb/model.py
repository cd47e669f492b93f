"""The OSV-shaped internal model of the vulnerability database.

An `Advisory` is one vulnerability as one source states it; `affected` holds one entry per
(namespace, package). Namespaces are OSV ecosystem strings with the distro release for OS
packages (`Debian:12`, `Alpine:v3.19`, `Ubuntu:22.04`, `AlmaLinux:9`, `Amazon Linux:2023`)
and the bare ecosystem for language packages (`PyPI`, `npm`, `Maven`, ...).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from tidegate.scanner.severity import Severity
from tidegate.scanner.versions.base import AffectedRange


class FixState(enum.StrEnum):
    """What the feed says about a fix for one package in one release."""

    FIXED = "fixed"  # a fixed version exists (`fixed_version`)
    NOT_FIXED = "not_fixed"  # affected, no fix yet (OSV without a fixed event, Ubuntu needed)
    WONT_FIX = "wont_fix"  # the distribution decided not to fix it (Ubuntu "ignored")
    DEFERRED = "deferred"  # a fix is postponed (Ubuntu "deferred")
    END_OF_LIFE = "end_of_life"  # the release is out of support (Debian urgency end-of-life,
    # Ubuntu "ignored" noted "end of standard support" / "end of life")


@dataclass(frozen=True, slots=True)
class Cvss:
    """One CVSS vector as a feed gives it: version, base score and whose vector it is."""

    version: str  # "2.0", "3.0", "3.1", "4.0"
    vector: str
    score: float | None = None
    source: str = ""  # NVD, GITHUB, UBUNTU, ... (who scored it)

    @property
    def type(self) -> str:
        """The OSV `severity[].type`: CVSS_V2, CVSS_V3 or CVSS_V4."""
        return f"CVSS_V{self.version[:1]}"


@dataclass(frozen=True, slots=True)
class DistroSeverity:
    """A feed's own rating: the raw word (Debian urgency, Ubuntu priority, ALAS severity,
    AlmaLinux summary prefix, GHSA severity) and what it means on the shared scale."""

    raw: str
    rating: Severity


@dataclass(frozen=True, slots=True)
class AffectedPackage:
    """One package an advisory affects, with its OSV ranges and explicit versions."""

    namespace: str
    name: str
    ranges: tuple[AffectedRange, ...] = ()
    versions: tuple[str, ...] = ()
    fix: FixState = FixState.NOT_FIXED
    fixed_version: str | None = None
    # A rating given per package and release (Debian's urgency); wins over the advisory's.
    rating: DistroSeverity | None = None


@dataclass(frozen=True, slots=True)
class Advisory:
    """One vulnerability; `severity`/`score` are resolved at build time (distro, else CVSS)."""

    id: str
    source: str
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    published: str = ""
    modified: str = ""
    severities: tuple[Cvss, ...] = ()
    distro_severity: DistroSeverity | None = None
    affected: tuple[AffectedPackage, ...] = ()
    references: tuple[str, ...] = ()
    known_exploited: bool = False
    severity: Severity = Severity.UNDEFINED
    score: float | None = None
    sources: tuple[str, ...] = ()


_PEP503 = re.compile(r"[-_.]+")


def ecosystem_of(namespace: str) -> str:
    """`Debian:12` -> `Debian`; `Amazon Linux:2` -> `Amazon Linux`; `PyPI` -> `PyPI`."""
    return namespace.split(":", 1)[0]


def normalize_name(namespace: str, name: str) -> str:
    """The lookup form of a package name in its ecosystem (PEP 503 for PyPI, ...)."""
    eco = ecosystem_of(namespace)
    name = name.strip()
    if eco == "PyPI":
        return _PEP503.sub("-", name).lower()
    if eco in ("NuGet", "Packagist"):
        # NuGet ids and Composer names are case-insensitive.
        return name.lower()
    return name
