"""Version schemes for every supported ecosystem and OSV range evaluation.

The vulnerability DB and matchers import exactly these names; keep them stable.
"""

from __future__ import annotations

from tidegate.scanner.versions.base import (
    AffectedRange,
    InvalidVersion,
    RangeEvent,
    Verdict,
    VersionScheme,
)
from tidegate.scanner.versions.ranges import evaluate
from tidegate.scanner.versions.schemes import UnknownEcosystem, compare, scheme_for

__all__ = [
    "AffectedRange",
    "InvalidVersion",
    "RangeEvent",
    "UnknownEcosystem",
    "Verdict",
    "VersionScheme",
    "compare",
    "evaluate",
    "scheme_for",
]
