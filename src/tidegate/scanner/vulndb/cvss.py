"""CVSS v3.0/v3.1 base score from a vector string, and the NVD rating scale.

Formulas and weights are those of the FIRST CVSS v3.1 specification, section 7; v3.0
differs only in its Roundup (a plain ceiling to one decimal).
"""

from __future__ import annotations

import math

from tidegate.scanner.vulndb.model import Rating


class InvalidVector(ValueError):
    """The text is not a complete CVSS v3.x vector; callers fall back to other data."""


_AV = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_AC = {"L": 0.77, "H": 0.44}
_PR_UNCHANGED = {"N": 0.85, "L": 0.62, "H": 0.27}
_PR_CHANGED = {"N": 0.85, "L": 0.68, "H": 0.5}
_UI = {"N": 0.85, "R": 0.62}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}
_REQUIRED = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")


def _roundup_31(value: float) -> float:
    # The v3.1 Roundup works on integers to avoid float artefacts such as 4.000001 -> 4.1.
    as_int = round(value * 100_000)
    if as_int % 10_000 == 0:
        return as_int / 100_000
    return (math.floor(as_int / 10_000) + 1) / 10


def _roundup_30(value: float) -> float:
    return math.ceil(value * 10) / 10


def parse_vector(vector: str) -> tuple[str, dict[str, str]]:
    """Split `CVSS:3.1/AV:N/...` into its version and metric map; raises InvalidVector."""
    parts = vector.strip().split("/")
    head = parts[0]
    if head not in ("CVSS:3.0", "CVSS:3.1"):
        msg = f"not a CVSS v3.x vector: {vector!r}"
        raise InvalidVector(msg)
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, val = part.partition(":")
        if not sep or key in metrics:
            msg = f"bad metric {part!r} in {vector!r}"
            raise InvalidVector(msg)
        metrics[key] = val
    return head[5:], metrics


def base_score(vector: str) -> float:
    """The CVSS v3.x base score (0.0-10.0) of `vector`; raises InvalidVector."""
    version, m = parse_vector(vector)
    try:
        changed = {"U": False, "C": True}[m["S"]]
        pr = (_PR_CHANGED if changed else _PR_UNCHANGED)[m["PR"]]
        iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
        exploitability = 8.22 * _AV[m["AV"]] * _AC[m["AC"]] * pr * _UI[m["UI"]]
    except KeyError as exc:
        msg = f"missing or unknown metric value {exc} in {vector!r}"
        raise InvalidVector(msg) from exc
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    if impact <= 0:
        return 0.0
    total = impact + exploitability
    if changed:
        total *= 1.08
    roundup = _roundup_31 if version == "3.1" else _roundup_30
    return roundup(min(total, 10.0))


def rating_for_score(score: float | None) -> Rating:
    """NVD's qualitative scale: 0 NONE, 0.1-3.9 LOW, 4-6.9 MEDIUM, 7-8.9 HIGH, 9-10 CRITICAL."""
    if score is None:
        return Rating.UNDEFINED
    if score == 0:
        return Rating.NONE
    if score < 4.0:
        return Rating.LOW
    if score < 7.0:
        return Rating.MEDIUM
    if score < 9.0:
        return Rating.HIGH
    return Rating.CRITICAL


def score_or_none(vector: str) -> float | None:
    """`base_score`, or None for a vector that is not v3.x or is malformed."""
    try:
        return base_score(vector)
    except InvalidVector:
        return None
