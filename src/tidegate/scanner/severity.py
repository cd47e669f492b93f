"""The one severity vocabulary, and the one rule that gives a finding its severity.

The rule is ECR's: the distribution's (or advisory database's) own rating where its feed
gives one, else the CVSS base score on the NVD scale, else UNDEFINED (basic scans) or
UNTRIAGED (enhanced scans). Every vendor vocabulary Tidegate reads is a table here, so an
updater only says which vendor a raw word came from.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from cvss import CVSS2, CVSS3, CVSS4  # type: ignore[import-untyped]
from cvss.exceptions import CVSSError  # type: ignore[import-untyped]


class Severity(enum.StrEnum):
    """Severity words shared by ECR's FindingSeverity and Inspector's Severity."""

    UNDEFINED = "UNDEFINED"  # basic scans: no rating and no score
    UNTRIAGED = "UNTRIAGED"  # enhanced scans: no rating and no score
    INFORMATIONAL = "INFORMATIONAL"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        """Order for sorting and `--fail-on` (unrated lowest)."""
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Severity:
        """A severity named case-insensitively; ValueError for any other word."""
        try:
            return cls[text.strip().upper()]
        except KeyError as exc:
            msg = f"unknown severity {text!r}"
            raise ValueError(msg) from exc

    def for_scan(self, *, enhanced: bool) -> Severity:
        """The unrated word of the scan type (UNDEFINED basic, UNTRIAGED enhanced)."""
        if self in (Severity.UNDEFINED, Severity.UNTRIAGED):
            return Severity.UNTRIAGED if enhanced else Severity.UNDEFINED
        return self


_RANK = {
    Severity.UNDEFINED: 0,
    Severity.UNTRIAGED: 0,
    Severity.INFORMATIONAL: 1,
    Severity.LOW: 2,
    Severity.MEDIUM: 3,
    Severity.HIGH: 4,
    Severity.CRITICAL: 5,
}

# The orders and subsets the APIs, events and console list severities in.
WORST_FIRST = (
    Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFORMATIONAL,
    Severity.UNTRIAGED, Severity.UNDEFINED,
)  # fmt: skip
ECR_SEVERITIES = tuple(s for s in WORST_FIRST if s is not Severity.UNTRIAGED)  # FindingSeverity
INSPECTOR_SEVERITIES = tuple(s for s in WORST_FIRST if s is not Severity.UNDEFINED)  # Severity
LOW_AND_ABOVE = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)


class Vendor(enum.StrEnum):
    """Whose rating vocabulary a raw word belongs to."""

    DEBIAN = "DEBIAN"  # security-tracker urgency, in debian-osv `ecosystem_specific`
    UBUNTU = "UBUNTU"  # UCT priority
    AMAZON = "AMAZON"  # ALAS severity
    REDHAT = "REDHAT"  # Red Hat / AlmaLinux impact, the prefix of an ALSA summary
    GHSA = "GHSA"  # GitHub's `database_specific.severity`


_TABLES: dict[Vendor, dict[str, Severity]] = {
    Vendor.DEBIAN: {
        "unimportant": Severity.INFORMATIONAL,
        "low": Severity.LOW,
        "medium": Severity.MEDIUM,
        "high": Severity.HIGH,
    },
    Vendor.UBUNTU: {
        "negligible": Severity.INFORMATIONAL,
        "low": Severity.LOW,
        "medium": Severity.MEDIUM,
        "high": Severity.HIGH,
        "critical": Severity.CRITICAL,
    },
    Vendor.AMAZON: {
        "low": Severity.LOW,
        "medium": Severity.MEDIUM,
        "moderate": Severity.MEDIUM,
        "important": Severity.HIGH,
        "critical": Severity.CRITICAL,
    },
    Vendor.REDHAT: {
        "low": Severity.LOW,
        "moderate": Severity.MEDIUM,
        "important": Severity.HIGH,
        "critical": Severity.CRITICAL,
    },
    Vendor.GHSA: {
        "low": Severity.LOW,
        "moderate": Severity.MEDIUM,
        "high": Severity.HIGH,
        "critical": Severity.CRITICAL,
    },
}
# Words that say "not rated yet": the rule falls back to CVSS without counting a fault.
# Debian's "end-of-life" rates nothing about the flaw itself.
_UNRATED: dict[Vendor, frozenset[str]] = {
    Vendor.DEBIAN: frozenset({"", "not yet assigned", "end-of-life"}),
    Vendor.UBUNTU: frozenset({"", "untriaged"}),
    Vendor.AMAZON: frozenset({""}),
    Vendor.REDHAT: frozenset({""}),
    Vendor.GHSA: frozenset({"", "unknown"}),
}


class UnknownRating(ValueError):
    """A vendor word outside its vocabulary; the caller counts it and falls back."""


def vendor_severity(vendor: Vendor, raw: str) -> Severity | None:
    """The vendor's rating as a Severity; None when the vendor has not rated it.

    A Debian urgency with a trailing `*` is provisional (set before triage), so it is
    treated as unrated. Raises UnknownRating for a word the vendor never uses.
    """
    word = raw.strip().lower()
    if vendor is Vendor.DEBIAN and word.endswith("*"):
        return None
    if word in _UNRATED[vendor]:
        return None
    try:
        return _TABLES[vendor][word]
    except KeyError:
        msg = f"unknown {vendor.value.lower()} rating {raw!r}"
        raise UnknownRating(msg) from None


class InvalidVector(ValueError):
    """Not a CVSS v2, v3.x or v4 vector the `cvss` library accepts."""


@dataclass(frozen=True, slots=True)
class CvssScore:
    """One CVSS vector with its version ("2.0", "3.0", "3.1", "4.0") and base score."""

    version: str
    vector: str
    base_score: float


def cvss_score(vector: str) -> CvssScore:
    """Parse `vector` and compute its base score with PyPI `cvss`; raises InvalidVector."""
    text = vector.strip()
    try:
        if text.startswith("CVSS:4.0/"):
            return CvssScore("4.0", text, _float(CVSS4(text).base_score))
        if text.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            return CvssScore(text[5:8], text, _float(CVSS3(text).base_score))
        if text.startswith("AV:") or text.startswith("(AV:"):
            return CvssScore("2.0", text, _float(CVSS2(text.strip("()")).base_score))
    except (CVSSError, ValueError, KeyError, IndexError) as exc:
        msg = f"malformed CVSS vector {vector!r}: {exc}"
        raise InvalidVector(msg) from exc
    msg = f"not a CVSS vector: {vector!r}"
    raise InvalidVector(msg)


def _float(value: Decimal | float) -> float:
    return float(value)


def _preference(version: str) -> int:
    # v3.x first (what NVD and ECR rate by), then v4, v2 last.
    if version.startswith("3"):
        return 0
    return 1 if version.startswith("4") else 2


def preferred_score(scores: Iterable[tuple[str, float | None]]) -> float | None:
    """The base score the rule uses from (version, score) pairs, in the given order."""
    usable = [(v, s) for v, s in scores if s is not None]
    if not usable:
        return None
    return min(enumerate(usable), key=lambda i: (_preference(i[1][0]), i[0]))[1][1]


def score_severity(score: float) -> Severity:
    """NVD's scale: 0.1-3.9 LOW, 4-6.9 MEDIUM, 7-8.9 HIGH, 9-10 CRITICAL; 0 (NONE) as
    INFORMATIONAL, which is how ECR reports NVD's NONE."""
    if score <= 0:
        return Severity.INFORMATIONAL
    if score < 4.0:
        return Severity.LOW
    if score < 7.0:
        return Severity.MEDIUM
    if score < 9.0:
        return Severity.HIGH
    return Severity.CRITICAL


def resolve(vendor: Severity | None, score: float | None, *, enhanced: bool = False) -> Severity:
    """The rule: the vendor's rating, else the CVSS score's band, else unrated."""
    if vendor is not None:
        return vendor
    if score is not None:
        return score_severity(score)
    return Severity.UNTRIAGED if enhanced else Severity.UNDEFINED
