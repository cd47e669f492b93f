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

from tidegate.scanner.versions.base import AffectedRange


class Rating(enum.Enum):
    """Severity vocabulary shared with ECR/Inspector findings."""

    UNDEFINED = "UNDEFINED"
    NONE = "NONE"
    INFORMATIONAL = "INFORMATIONAL"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class FixState(enum.Enum):
    """Whether the package has a fix; distro feeds add won't-fix and deferred."""

    FIXED = "fixed"
    NOT_FIXED = "not_fixed"  # no fix yet (OSV without a fixed event, Ubuntu needed/pending)
    WONT_FIX = "wont_fix"  # Ubuntu "ignored"
    DEFERRED = "deferred"  # Ubuntu "deferred"


@dataclass(frozen=True, slots=True)
class Severity:
    """One `severity[]` entry: a CVSS vector and, for v3.x, its computed base score."""

    type: str  # CVSS_V2, CVSS_V3, CVSS_V4
    vector: str
    score: float | None = None


@dataclass(frozen=True, slots=True)
class DistroSeverity:
    """A distribution's own rating (Ubuntu priority, Amazon severity, AlmaLinux summary)."""

    raw: str
    rating: Rating


@dataclass(frozen=True, slots=True)
class AffectedPackage:
    """One package an advisory affects, with its OSV ranges and explicit versions."""

    namespace: str
    name: str
    ranges: tuple[AffectedRange, ...] = ()
    versions: tuple[str, ...] = ()
    fix: FixState = FixState.NOT_FIXED
    fixed_version: str | None = None


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
    severities: tuple[Severity, ...] = ()
    distro_severity: DistroSeverity | None = None
    affected: tuple[AffectedPackage, ...] = ()
    references: tuple[str, ...] = ()
    known_exploited: bool = False
    severity: Rating = Rating.UNDEFINED
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
