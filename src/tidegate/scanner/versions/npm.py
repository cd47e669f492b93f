"""npm: node-semver ordering (prereleases, build metadata ignored, loose "v"/"=" prefix)."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions._semver import parse_semver, precedence_key
from tidegate.scanner.versions.base import InvalidVersion

# node-semver refuses longer strings and numbers beyond Number.MAX_SAFE_INTEGER.
_MAX_LENGTH = 256
_MAX_SAFE_INTEGER = 2**53 - 1
# node-semver's loose grammar accepts any run of "v", "=" and spaces before the version.
_PREFIX = re.compile(r"^[v=\s]+")


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    if len(text) > _MAX_LENGTH:
        raise InvalidVersion(text)
    body = text.strip()
    body = _PREFIX.sub("", body, count=1)
    return precedence_key(parse_semver(body, limit=_MAX_SAFE_INTEGER))


class NpmVersionScheme:
    """node-semver versions; otherwise strict SemVer 2.0.0 (no leading zeros)."""

    name: ClassVar[str] = "npm"

    def key(self, text: str) -> tuple[object, ...]:
        """Precedence key; raises InvalidVersion where node-semver would return null."""
        return _key(text)
