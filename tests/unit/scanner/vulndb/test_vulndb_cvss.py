"""CVSS v3.x base scores, checked against published scores in the real data."""

from __future__ import annotations

import json

import pytest

from tests.support.paths import VULNDATA
from tidegate.scanner.vulndb.cvss import InvalidVector, base_score, rating_for_score
from tidegate.scanner.vulndb.model import Rating

SAMPLES = VULNDATA / "samples" / "ubuntu-cve-tracker"


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        # Scores as NVD publishes them for these vectors.
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N", 5.4),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),
    ],
)
def test_known_scores(vector: str, score: float) -> None:
    assert base_score(vector) == score


def test_scores_match_ubuntu_nvd_annotations() -> None:
    """Ubuntu's `cvss.nvd` strings carry NVD's own score: `CVSS:3.1/... [10.0 CRITICAL]`."""
    checked = 0
    for path in sorted(SAMPLES.rglob("*.json")):
        doc = json.loads(path.read_text())
        for text in (doc.get("cvss") or {}).values():
            vector, bracket = text.split()[0], text.split("[")[1]
            score, rating = bracket.rstrip("]").split()
            assert base_score(vector) == float(score), vector
            assert rating_for_score(float(score)).value == rating
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize(
    ("score", "rating"),
    [
        (None, Rating.UNDEFINED), (0.0, Rating.NONE), (0.1, Rating.LOW), (3.9, Rating.LOW),
        (4.0, Rating.MEDIUM), (6.9, Rating.MEDIUM), (7.0, Rating.HIGH), (8.9, Rating.HIGH),
        (9.0, Rating.CRITICAL), (10.0, Rating.CRITICAL),
    ],
)  # fmt: skip
def test_nvd_bands(score: float | None, rating: Rating) -> None:
    assert rating_for_score(score) is rating


@pytest.mark.parametrize(
    "vector",
    [
        "AV:N/AC:L/Au:N/C:P/I:P/A:P",  # v2
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # A missing
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
    ],
)
def test_invalid_vectors(vector: str) -> None:
    with pytest.raises(InvalidVector):
        base_score(vector)
