"""The labeller stays independent of Tidegate and reads OSV ranges as the spec says."""

from __future__ import annotations

import subprocess
import sys

from tests.property.oracle import dpkg_compare
from tests.quality.compare import norm
from tests.quality.label import (
    Bands,
    Label,
    _label_ids,
    _same,
    affected_by,
    cvss_severity,
    evaluate,
)


def test_labeller_loads_no_tidegate_module() -> None:
    code = (
        "import sys, tests.quality.label, tests.quality.images\n"
        "print(sorted(m for m in sys.modules if m == 'tidegate' or m.startswith('tidegate.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_ranges_with_dpkg_as_the_oracle() -> None:
    cmp = dpkg_compare
    events = [{"introduced": "0"}, {"fixed": "1.1.1w-0+deb11u2"}]
    assert affected_by("1.1.1w-0+deb11u1", events, cmp) == (True, "1.1.1w-0+deb11u2")
    assert affected_by("1.1.1w-0+deb11u2", events, cmp) == (False, "")
    # two release lines, events given out of order: 1:2.0-1 sits in neither
    split = [{"fixed": "1:3.0-2"}, {"introduced": "1:3.0-1"}, {"introduced": "0"},
             {"fixed": "1:1.0-2"}]  # fmt: skip
    assert affected_by("1:2.0-1", split, cmp) == (False, "")
    assert affected_by("1:3.0-1", split, cmp) == (True, "1:3.0-2")
    assert affected_by("1.5", [{"introduced": "0"}, {"last_affected": "2.0"}], cmp) == (True, "")
    assert affected_by("2.1", [{"introduced": "0"}, {"last_affected": "2.0"}], cmp)[0] is False


def test_explicit_versions_and_bad_vectors() -> None:
    cmp = dpkg_compare
    entry = {"versions": ["1.0-1"], "ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}]}
    assert evaluate(entry, "1.0-1", cmp, explicit=True) == (True, "")
    assert evaluate(entry, "1.0-1", cmp, explicit=False) == (False, "")
    assert cvss_severity({"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/garbage"}]}) is None
    vector = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N"  # 7.4
    assert cvss_severity({"severity": [{"type": "CVSS_V3", "score": vector}]}) == "HIGH"


def test_an_advisory_fixing_several_cves_labels_each_cve() -> None:
    alsa = {"id": "ALSA-2022:6157", "related": ["CVE-2022-32206", "CVE-2022-32207"]}
    assert _label_ids(alsa, "AlmaLinux") == [
        {"CVE-2022-32206", "ALSA-2022:6157"},
        {"CVE-2022-32207", "ALSA-2022:6157"},
    ]

    def label(*ids: str) -> Label:
        return Label(set(ids), "AlmaLinux", "curl", "7.76.1-14.el9", "MEDIUM", "fixed", "x")

    assert not _same(label("CVE-2022-32206", "ALSA-1"), label("CVE-2022-32207", "ALSA-1"))
    assert _same(label("CVE-2022-32206", "ALSA-1"), label("CVE-2022-32206", "ALSA-2"))
    assert _same(label("GHSA-a", "PYSEC-1"), label("CVE-2022-32206", "GHSA-a"))


def test_cvss_v3_before_v4_and_the_cves_record_first() -> None:
    """GHSA-vmwr-mc7x-5vc3 (rexml) carries v3.1 5.9 and v4.0 8.2: the v3.x vector rates it.
    A Go advisory has no vector: its CVE's own record (NVD's) rates it before any alias."""
    v3 = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H"
    v4 = "CVSS:4.0/AV:N/AC:L/AT:P/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N"
    ghsa = {"id": "GHSA-vmwr-mc7x-5vc3", "aliases": ["CVE-2024-43398"], "severity": [
        {"type": "CVSS_V3", "score": v3}, {"type": "CVSS_V4", "score": v4}]}  # fmt: skip
    assert cvss_severity(ghsa) == "MEDIUM"
    bands = Bands()
    nvd = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8
    bands.note({"id": "GO-2023-1752", "aliases": ["CVE-2023-24540"]}, None)
    bands.note({"id": "GHSA-x", "aliases": ["CVE-2023-24540"]}, "LOW")
    bands.note({"id": "CVE-2023-24540"}, cvss_severity({"severity": [
        {"type": "CVSS_V3", "score": nvd}]}))  # fmt: skip
    assert bands.severity({"GO-2023-1752", "CVE-2023-24540"}) == "CRITICAL"
    assert bands.severity({"GO-2023-1752"}) == "UNDEFINED"


def test_pypi_versions_compare_in_pep440_form() -> None:
    assert norm("PyPI", "certifi", "2022.12.07") == norm("PyPI", "certifi", "2022.12.7")
