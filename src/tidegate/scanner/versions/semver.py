"""Plain SemVer 2.0.0, used for OSV ranges of type SEMVER whatever the ecosystem."""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions._semver import parse_semver, precedence_key


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    # OSV SEMVER ranges are unprefixed, but Go and npm installs often say "v1.2.3".
    body = text[1:] if text[:1] == "v" else text
    return precedence_key(parse_semver(body))


class SemverVersionScheme:
    """SemVer 2.0.0 precedence with an optional leading "v"."""

    name: ClassVar[str] = "semver"

    def key(self, text: str) -> tuple[object, ...]:
        """Precedence key; raises InvalidVersion for anything that is not SemVer."""
        return _key(text)
