"""Each updater against real records from the snapshot's samples, and against bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.paths import VULNDATA
from tidegate.scanner.severity import Severity
from tidegate.scanner.vulndb.model import Advisory, FixState
from tidegate.scanner.vulndb.payloads import DirPayload
from tidegate.scanner.vulndb.updaters.alpine import AlpineSecdbUpdater
from tidegate.scanner.vulndb.updaters.amazon import AmazonAlasUpdater
from tidegate.scanner.vulndb.updaters.base import Skipped
from tidegate.scanner.vulndb.updaters.kev import KevUpdater
from tidegate.scanner.vulndb.updaters.osv import OsvUpdater
from tidegate.scanner.vulndb.updaters.ubuntu import UbuntuTrackerUpdater, namespace_for

DATA = VULNDATA
SAMPLES = DATA / "samples"


def _parse(updater: object, root: Path) -> tuple[list[Advisory], list[Skipped]]:
    items = list(updater.parse(DirPayload(root)))  # type: ignore[attr-defined]
    return (
        [i for i in items if isinstance(i, Advisory)],
        [i for i in items if isinstance(i, Skipped)],
    )


def _by_id(advs: list[Advisory], vid: str) -> list[Advisory]:
    return [a for a in advs if a.id == vid]


def test_debian_dsa_fans_out_to_cve_with_alias(tmp_path: Path) -> None:
    advs, skipped = _parse(OsvUpdater("debian-osv", "", tmp_path, fan_out=True),
                           SAMPLES / "debian-osv")  # fmt: skip
    assert not skipped
    from_dsa = [a for a in _by_id(advs, "CVE-2023-4863") if "DSA-5497-1" in a.aliases]
    assert len(from_dsa) == 1
    (pkg,) = from_dsa[0].affected
    assert (pkg.namespace, pkg.name) == ("Debian:12", "libwebp")
    assert pkg.fix is FixState.FIXED
    assert pkg.fixed_version == "1.2.4-0.2+deb12u1"
    cve = next(a for a in _by_id(advs, "CVE-2021-44228") if not a.aliases or "GHSA" in a.aliases[0])
    assert cve.severities[0].score == 10.0
    assert {"Debian:11", "Debian:12"} <= {p.namespace for p in cve.affected}


def test_almalinux_rating_from_summary_and_fan_out(tmp_path: Path) -> None:
    advs, _ = _parse(
        OsvUpdater("almalinux-osv", "", tmp_path, fan_out=True, summary_rating=True),
        SAMPLES / "almalinux-osv",
    )
    (adv,) = advs
    assert adv.id == "CVE-2023-4863"
    assert adv.aliases == ("ALSA-2023:5214",)
    assert adv.distro_severity is not None
    assert adv.distro_severity.rating is Severity.HIGH  # "Important"
    assert ("AlmaLinux:9", "libwebp") in {(p.namespace, p.name) for p in adv.affected}


def test_pypa_yaml_keeps_versions_as_strings(tmp_path: Path) -> None:
    advs, skipped = _parse(OsvUpdater("pypa-osv", "", tmp_path), SAMPLES / "pypa-osv")
    assert not skipped
    (req,) = _by_id(advs, "PYSEC-2023-74")
    (pkg,) = req.affected
    assert (pkg.namespace, pkg.name) == ("PyPI", "requests")
    assert "2.10.0" in pkg.versions
    assert all(isinstance(v, str) for v in pkg.versions)
    assert [r.type for r in pkg.ranges] == ["ECOSYSTEM"]  # the GIT range is dropped
    assert pkg.fixed_version == "2.31.0"


def test_ghsa_maven_log4j(tmp_path: Path) -> None:
    advs, _ = _parse(OsvUpdater("ghsa-maven", "", tmp_path, "GHSA-"), SAMPLES / "ghsa-maven")
    (adv,) = _by_id(advs, "GHSA-jfh8-c2jp-5v3q")
    assert adv.aliases == ("CVE-2021-44228",)
    names = {p.name for p in adv.affected}
    assert "org.apache.logging.log4j:log4j-core" in names
    assert adv.severities[0].score == 10.0


def test_ghsa_pip_names_are_pep503_normalised(tmp_path: Path) -> None:
    rec = json.loads((SAMPLES / "ghsa-pip/2023/05/GHSA-j8r2-6x86-q33q/GHSA-j8r2-6x86-q33q.json")
                     .read_text())  # fmt: skip
    rec["affected"][0]["package"]["name"] = "Zope_Interface.Extra"
    (tmp_path / "r.json").write_text(json.dumps(rec))
    advs, _ = _parse(OsvUpdater("ghsa-pip", "", tmp_path), tmp_path)
    assert advs[0].affected[0].name == "zope-interface-extra"


def test_alpine_branch_namespace(tmp_path: Path) -> None:
    advs, skipped = _parse(AlpineSecdbUpdater("alpine-secdb", "", tmp_path),
                           DATA / "alpine-secdb" / "3.19")  # fmt: skip
    assert not skipped
    webp = [a for a in advs if a.id == "CVE-2023-4863" and a.affected[0].name == "libwebp"]
    assert webp
    pkg = webp[0].affected[0]
    assert pkg.namespace == "Alpine:v3.19"
    assert pkg.fix is FixState.FIXED
    assert all(a.affected[0].fixed_version != "0" for a in advs)


def test_ubuntu_statuses_releases_and_priority(tmp_path: Path) -> None:
    advs, skipped = _parse(UbuntuTrackerUpdater("ubuntu-cve-tracker", "", tmp_path),
                           SAMPLES / "ubuntu-cve-tracker")  # fmt: skip
    assert not skipped
    (log4j,) = _by_id(advs, "CVE-2021-44228")
    assert log4j.distro_severity is not None
    assert log4j.distro_severity.rating is Severity.HIGH
    assert log4j.severities[0].score == 10.0
    by_key = {(p.namespace, p.name): p for p in log4j.affected}
    assert by_key[("Ubuntu:18.04", "apache-log4j2")].fixed_version == "2.10.0-2ubuntu0.1"
    assert all(not ns.startswith("Ubuntu:devel") for ns, _ in by_key)
    states = {p.fix for a in advs for p in a.affected}
    # Every "ignored" in these samples is noted "end of standard support" / "end of life".
    assert {FixState.FIXED, FixState.END_OF_LIFE} <= states


@pytest.mark.parametrize(
    ("release", "namespace"),
    [("jammy", "Ubuntu:22.04"), ("noble", "Ubuntu:24.04"), ("esm-apps/focal", "Ubuntu:Pro:20.04"),
     ("trusty/esm", None), ("upstream", None), ("devel", None), ("fips/bionic", None)],
)  # fmt: skip
def test_ubuntu_release_names(release: str, namespace: str | None) -> None:
    assert namespace_for(release) == namespace


def test_amazon_release_from_path_and_severity(tmp_path: Path) -> None:
    advs, skipped = _parse(AmazonAlasUpdater("amazon-alas", "", tmp_path),
                           SAMPLES / "amazon-linux-alas")  # fmt: skip
    assert not skipped
    webp = next(a for a in advs if "ALAS2023-2023-355" in a.aliases)
    assert webp.id == "CVE-2023-4863"
    assert webp.distro_severity is not None
    assert webp.distro_severity.rating is Severity.HIGH  # "Important"
    pkg = next(p for p in webp.affected if p.name == "libwebp")
    assert pkg.namespace == "Amazon Linux:2023"
    assert pkg.fixed_version == "1.2.4-1.amzn2023.0.6"
    heartbleed = [a for a in advs if "ALAS-2014-320" in a.aliases]
    assert heartbleed
    assert heartbleed[0].affected[0].namespace == "Amazon Linux:1"


def test_kev_flags_and_catalogue_format(tmp_path: Path) -> None:
    advs, _ = _parse(KevUpdater("cisa-kev", "", tmp_path), SAMPLES / "cisa-kev")
    assert [(a.id, a.known_exploited) for a in advs] == [("CVE-2021-44228", True)]
    entry = json.loads((SAMPLES / "cisa-kev/2021/CVE-2021-44228.json").read_text())
    (tmp_path / "cat").mkdir()
    (tmp_path / "cat/known_exploited_vulnerabilities.json").write_text(
        json.dumps(
            {"title": "KEV", "vulnerabilities": [entry, {**entry, "cveID": "CVE-2014-0160"}]}
        )
    )
    advs, _ = _parse(KevUpdater("cisa-kev", "", tmp_path), tmp_path / "cat")
    assert [a.id for a in advs] == ["CVE-2021-44228", "CVE-2014-0160"]


def test_malformed_records_are_skipped_with_reasons(tmp_path: Path) -> None:
    good = (SAMPLES / "rustsec-osv/crates/RUSTSEC-2023-0060.json").read_bytes()
    (tmp_path / "a-good.json").write_bytes(good)
    (tmp_path / "b-not-json.json").write_text("{ nope")
    (tmp_path / "c-no-id.json").write_text(json.dumps({"affected": []}))
    (tmp_path / "d-bad-event.json").write_text(json.dumps({
        "id": "X-1", "affected": [{"package": {"ecosystem": "npm", "name": "a"},
                                   "ranges": [{"type": "SEMVER", "events": [{"bogus": "1"}]}]}],
    }))  # fmt: skip
    (tmp_path / "e-list.json").write_text("[]")
    (tmp_path / "README.md").write_text("not a record")
    advs, skipped = _parse(OsvUpdater("rustsec", "", tmp_path), tmp_path)
    assert [a.id for a in advs] == ["RUSTSEC-2023-0060"]
    reasons = {s.where: s.reason for s in skipped}
    assert set(reasons) == {"b-not-json.json", "c-no-id.json", "d-bad-event.json", "e-list.json"}
    assert "invalid JSON" in reasons["b-not-json.json"]
    assert "'id'" in reasons["c-no-id.json"]
    assert "exactly one" in reasons["d-bad-event.json"]


def test_withdrawn_osv_records_are_dropped(tmp_path: Path) -> None:
    rec = json.loads((SAMPLES / "rustsec-osv/crates/RUSTSEC-2023-0060.json").read_text())
    rec["withdrawn"] = "2024-01-01T00:00:00Z"
    (tmp_path / "w.json").write_text(json.dumps(rec))
    assert _parse(OsvUpdater("rustsec", "", tmp_path), tmp_path) == ([], [])


def test_withdrawn_ghsa_records_are_left_out(tmp_path: Path) -> None:
    """GitHub withdrew GHSA-8p5q-j9m2-g8wr (lodash CVE-2021-41720); the mirror keeps only the
    summary prefix, the OSV export the `withdrawn` field. Neither may become a finding."""
    src = tmp_path / "src"
    src.mkdir()
    base = {
        "schema_version": "1.4.0",
        "modified": "2021-12-02T00:01:18Z",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "lodash"},
                "ranges": [
                    {
                        "type": "ECOSYSTEM",
                        "events": [{"introduced": "0"}, {"last_affected": "4.17.21"}],
                    }
                ],
            }
        ],
    }
    records = {
        "GHSA-8p5q-j9m2-g8wr": {"summary": "Withdrawn: Arbitrary code execution in lodash"},
        "GHSA-aaaa-bbbb-cccc": {"summary": "Gone", "withdrawn": "2022-01-01T00:00:00Z"},
        "GHSA-35jh-r3h4-6jhm": {"summary": "Command Injection in lodash"},
    }
    for vid, extra in records.items():
        (src / f"{vid}.json").write_text(json.dumps({**base, "id": vid, **extra}))
    advs, skipped = _parse(OsvUpdater("ghsa-npm", "", tmp_path / "dl", "GHSA-"), src)
    assert [a.id for a in advs] == ["GHSA-35jh-r3h4-6jhm"]
    assert skipped == []
