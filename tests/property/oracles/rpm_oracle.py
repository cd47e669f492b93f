"""Run by /usr/bin/python3: read "a<TAB>b" lines, print rpm.labelCompare of the two EVRs."""

from __future__ import annotations

import sys

import rpm  # type: ignore[import-not-found]  # Debian python3-rpm, system interpreter only


def evr(text: str) -> tuple[str, str, str]:
    """[epoch:]version[-release] with the epoch defaulting to "0" and release to ""."""
    epoch, colon, rest = text.partition(":")
    if not colon:
        epoch, rest = "0", text
    version, dash, release = rest.rpartition("-")
    if not dash:
        version, release = rest, ""
    return (epoch, version, release)


def main() -> None:
    """Answer one comparison per input line until stdin closes."""
    for line in sys.stdin:
        a, b = line.rstrip("\n").split("\t")
        print(rpm.labelCompare(evr(a), evr(b)), flush=True)


main()
