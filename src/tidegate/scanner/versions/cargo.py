"""Cargo (crates.io): SemVer 2.0.0 precedence as the Rust `semver` crate parses it."""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions._semver import parse_semver, precedence_key

# The semver crate stores major/minor/patch as u64.
_U64_MAX = 2**64 - 1


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    return precedence_key(parse_semver(text, limit=_U64_MAX))


class CargoVersionScheme:
    """crates.io versions: strict SemVer 2.0.0, no "v" prefix, build metadata unordered."""

    name: ClassVar[str] = "cargo"

    def key(self, text: str) -> tuple[object, ...]:
        """Precedence key; raises InvalidVersion for anything that is not strict SemVer."""
        return _key(text)
