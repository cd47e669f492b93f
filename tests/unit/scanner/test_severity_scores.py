"""CVSS base scores via PyPI `cvss` (what replaced the hand-written v3 code), checked against
published scores in the real data, and the NVD bands."""

from __future__ import annotations

import json

import pytest

from tests.support.paths import VULNDATA
from tidegate.scanner.severity import InvalidVector, Severity, cvss_score, resolve, score_severity

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
    assert cvss_score(vector).base_score == score


def test_scores_match_ubuntu_nvd_annotations() -> None:
    """Ubuntu's `cvss.nvd` strings carry NVD's own score: `CVSS:3.1/... [10.0 CRITICAL]`."""
    checked = 0
    for path in sorted(SAMPLES.rglob("*.json")):
        doc = json.loads(path.read_text())
        for text in (doc.get("cvss") or {}).values():
            vector, bracket = text.split()[0], text.split("[")[1]
            score, rating = bracket.rstrip("]").split()
            assert cvss_score(vector).base_score == float(score), vector
            assert score_severity(float(score)).value == rating
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize(
    ("score", "rating"),
    [
        # NVD's NONE (0.0) is reported as INFORMATIONAL, as ECR does.
        (None, Severity.UNDEFINED), (0.0, Severity.INFORMATIONAL), (0.1, Severity.LOW),
        (3.9, Severity.LOW), (4.0, Severity.MEDIUM), (6.9, Severity.MEDIUM),
        (7.0, Severity.HIGH), (8.9, Severity.HIGH), (9.0, Severity.CRITICAL),
        (10.0, Severity.CRITICAL),
    ],
)  # fmt: skip
def test_nvd_bands(score: float | None, rating: Severity) -> None:
    assert resolve(None, score) is rating


@pytest.mark.parametrize(
    "vector",
    [
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # A missing
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",  # SA missing
        "CVSS:2.0/AV:N",
        "AV:N/AC:L/Au:N/C:P/I:P",  # v2, A missing
    ],
)
def test_invalid_vectors(vector: str) -> None:
    with pytest.raises(InvalidVector):
        cvss_score(vector)
