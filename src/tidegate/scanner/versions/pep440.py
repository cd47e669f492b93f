"""PyPI: PEP 440 version ordering, implemented from the specification.

`packaging` is the test oracle rather than the implementation, so this module has no
runtime dependency and its key is a plain tuple that the vulnerability DB can cache.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import ClassVar

from tidegate.scanner.versions.base import InvalidVersion

# PEP 440 appendix B "permissive" grammar: all the spellings that normalise to a version.
_PATTERN = re.compile(
    r"""
    \s*v?
    (?:(?P<epoch>[0-9]+)!)?
    (?P<release>[0-9]+(?:\.[0-9]+)*)
    (?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
    (?:-(?P<post_n1>[0-9]+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?)?
    (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
    (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
    \s*
    """,
    re.VERBOSE | re.IGNORECASE,
)
_PRE_RANK = {"a": 0, "alpha": 0, "b": 1, "beta": 1, "c": 2, "rc": 2, "pre": 2, "preview": 2}
_LOCAL_SEP = re.compile(r"[-_.]")

# Tagged so the key stays a tuple of comparable values: (0,) below anything, (2,) above.
_LOW = (0,)
_HIGH = (2,)


def _local_key(local: str | None) -> tuple[object, ...]:
    if local is None:
        return _LOW
    parts = _LOCAL_SEP.split(local.lower())
    # Numeric segments sort above alphanumeric ones and compare as integers.
    return (1, tuple((1, int(p), "") if p.isdigit() else (0, 0, p) for p in parts))


@lru_cache(maxsize=65536)
def _key(text: str) -> tuple[object, ...]:
    m = _PATTERN.fullmatch(text)
    if m is None:
        raise InvalidVersion(text)
    release = [int(p) for p in m["release"].split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    pre: tuple[object, ...] = _HIGH
    if m["pre_l"]:
        pre = (1, _PRE_RANK[m["pre_l"].lower()], int(m["pre_n"] or 0))
    post: tuple[object, ...] = _LOW
    if m["post_n1"] is not None:
        post = (1, int(m["post_n1"]))
    elif m["post_l"]:
        post = (1, int(m["post_n2"] or 0))
    dev: tuple[object, ...] = _HIGH
    if m["dev_l"]:
        dev = (1, int(m["dev_n"] or 0))
        # A dev release of a final release sorts before that release's prereleases.
        if not m["pre_l"] and post is _LOW:
            pre = _LOW
    epoch = int(m["epoch"] or 0)
    return (epoch, tuple(release), pre, post, dev, _local_key(m["local"]))


class Pep440VersionScheme:
    """PEP 440 versions with all the spellings PEP 440 normalises."""

    name: ClassVar[str] = "pep440"

    def key(self, text: str) -> tuple[object, ...]:
        """Ordering key; raises InvalidVersion for strings PEP 440 does not accept."""
        return _key(text)
