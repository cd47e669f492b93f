"""ECR's wildcard patterns (scan filters, lifecycle tag patterns): `*` matches any run of
characters, and every other character only itself."""

from __future__ import annotations

import functools
import re


@functools.cache
def wildcard(pattern: str) -> re.Pattern[str]:
    """`pattern` as a regular expression to `fullmatch` against a whole name."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")), re.DOTALL)
