"""Reader for tests/corpora/versions/<scheme>.txt: upstream ordering vectors as data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[4] / "tests" / "corpora" / "versions"
_LINE = re.compile(r"(?P<a>.*?) (?P<op>[<>=]) (?P<b>.*)")


@dataclass(frozen=True, slots=True)
class Vector:
    """One line: `a op b` (op "" for a bare validity case); `invalid`: upstream rejects it."""

    a: str
    op: str
    b: str
    invalid: bool


def read_vectors(name: str) -> list[Vector]:
    """All vectors of one corpus file, comments skipped."""
    out: list[Vector] = []
    for raw in (CORPORA / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        invalid = raw.startswith("! ")
        line = raw[2:] if invalid else raw
        m = _LINE.fullmatch(line)
        if m is None:
            # A bare version: upstream says it is valid, or invalid with a "!" prefix.
            out.append(Vector(line.strip(), "", "", invalid=invalid))
        else:
            out.append(Vector(m["a"], m["op"], m["b"], invalid=invalid))
    return out


def sign(op: str) -> int:
    """The comparison result an operator stands for."""
    return {"<": -1, "=": 0, ">": 1}[op]
