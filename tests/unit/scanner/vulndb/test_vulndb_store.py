"""The built DB read through VulnStore: known facts, alias merging, severity, distro wins."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from tidegate.scanner.severity import Severity
from tidegate.scanner.versions import Verdict, evaluate, scheme_for
from tidegate.scanner.vulndb.model import Advisory, FixState
from tidegate.scanner.vulndb.store import VulnStore

LOG4J = ("Maven", "org.apache.logging.log4j:log4j-core")


def _verdict(advs: list[Advisory], vid: str, version: str) -> Verdict:
    adv = next(a for a in advs if a.id == vid or vid in a.aliases)
    (pkg,) = adv.affected
    return evaluate(scheme_for(pkg.namespace), pkg.ranges, pkg.versions, version)


def test_log4shell_affects_2_14_1_not_2_17_1(built_db: Path) -> None:
    store = VulnStore(built_db)
    advs = store.lookup(*LOG4J)
    adv = next(a for a in advs if a.id == "CVE-2021-44228")
    assert "GHSA-jfh8-c2jp-5v3q" in adv.aliases
    assert adv.severity is Severity.CRITICAL
    assert adv.score == 10.0
    assert adv.known_exploited  # CISA KEV, joined by CVE id
    assert _verdict(advs, "CVE-2021-44228", "2.14.1") is Verdict.AFFECTED
    assert _verdict(advs, "CVE-2021-44228", "2.17.1") is Verdict.NOT_AFFECTED
    assert len([a for a in advs if a.id == "CVE-2021-44228"]) == 1


def test_bookworm_libwebp_fixed_by_dsa_5497_1(built_db: Path) -> None:
    """DSA-5497-1 fixed CVE-2023-4863 in bookworm's libwebp 1.2.4-0.2+deb12u1."""
    advs = VulnStore(built_db).lookup("Debian:12", "libwebp")
    adv = next(a for a in advs if a.id == "CVE-2023-4863")
    assert "DSA-5497-1" in adv.aliases
    assert adv.affected[0].fix is FixState.FIXED
    assert _verdict(advs, "DSA-5497-1", "1.2.4-0.2+deb12u1") is Verdict.NOT_AFFECTED
    assert _verdict(advs, "DSA-5497-1", "1.2.4-0.2") is Verdict.AFFECTED
    assert adv.severity is Severity.HIGH  # NVD CVSS 8.8 from the CVE record, no Debian urgency


def test_one_entry_per_vulnerability_with_all_aliases(built_db: Path) -> None:
    advs = VulnStore(built_db).lookup("PyPI", "requests")
    matching = [a for a in advs if "CVE-2023-32681" in (a.id, *a.aliases)]
    assert len(matching) == 1
    adv = matching[0]
    assert adv.id == "CVE-2023-32681"
    assert {"PYSEC-2023-74", "GHSA-j8r2-6x86-q33q"} <= set(adv.aliases)
    assert set(adv.sources) == {"pypa-osv", "ghsa-pip"}
    assert adv.severity is Severity.MEDIUM  # GHSA's CVSS 6.1, joined through the alias


def test_distro_severity_wins_over_cvss(built_db: Path) -> None:
    store = VulnStore(built_db)
    (ubuntu,) = [
        a for a in store.lookup("Ubuntu:18.04", "apache-log4j2") if a.id == "CVE-2021-44228"
    ]
    assert ubuntu.severity is Severity.HIGH  # Ubuntu priority "high", although CVSS says 10.0
    assert ubuntu.distro_severity is not None
    assert ubuntu.score == 10.0
    (amzn,) = [a for a in store.lookup("Amazon Linux:2023", "libwebp") if a.id == "CVE-2023-4863"]
    assert amzn.severity is Severity.HIGH  # Amazon "Important"
    assert "ALAS2023-2023-355" in amzn.aliases


def test_alpine_secdb_wins_for_alpine_packages(built_db: Path) -> None:
    advs = VulnStore(built_db).lookup("Alpine:v3.19", "libwebp")
    (adv,) = [a for a in advs if a.id == "CVE-2023-4863"]
    assert "alpine-secdb" in adv.sources
    assert adv.affected[0].fixed_version == "1.3.1-r1"
    assert _verdict(advs, "CVE-2023-4863", "1.3.1-r0") is Verdict.AFFECTED
    assert _verdict(advs, "CVE-2023-4863", "1.3.1-r1") is Verdict.NOT_AFFECTED


def test_unknown_key_is_empty_and_cached(built_db: Path) -> None:
    store = VulnStore(built_db)
    assert store.lookup("npm", "no-such-package-xyz") == []
    assert store.package(*LOG4J) is store.package(*LOG4J)
    first, again = store.lookup(*LOG4J), store.lookup(*LOG4J)
    assert all(a is b for a, b in zip(first, again, strict=True))


def test_get_by_id_and_by_alias(built_db: Path) -> None:
    store = VulnStore(built_db)
    adv = store.get("CVE-2021-44228")
    assert adv is not None
    assert adv.known_exploited
    assert adv.severity is Severity.CRITICAL
    assert "GHSA-jfh8-c2jp-5v3q" in adv.aliases
    keys = {(p.namespace, p.name) for p in adv.affected}
    assert LOG4J in keys
    assert ("Debian:12", "apache-log4j2") in keys
    assert adv.details
    via_dsa = store.get("DSA-5497-1")
    assert via_dsa is not None
    assert ("Debian:12", "libwebp") in {(p.namespace, p.name) for p in via_dsa.affected}
    assert store.get("CVE-1999-99999") is None


def test_version_info_and_counts(built_db: Path) -> None:
    store = VulnStore(built_db)
    info = store.version_info()
    assert info.version == 1
    assert info.previous is None
    assert {s.name for s in info.sources} >= {"debian-osv", "ubuntu-cve-tracker", "cisa-kev"}
    assert all(s.status == "updated" and s.fingerprint for s in info.sources)
    counts = store.counts()
    assert counts["packages"] == counts["changed_keys"] > 1000
    assert store.current_version() == 1
    assert store.reopen() is False


def test_cve_is_the_shown_id_even_for_a_single_record(built_db: Path) -> None:
    advs = VulnStore(built_db).lookup("npm", "lodash")
    ids = {a.id for a in advs}
    assert "CVE-2019-10744" in ids
    (adv,) = [a for a in advs if a.id == "CVE-2019-10744"]
    assert adv.aliases == ("GHSA-jf85-cpcp-j695",)


def test_header_is_get_without_the_packages(built_db: Path) -> None:
    store = VulnStore(built_db)
    for vid in ("CVE-2021-44228", "DSA-5497-1", "GHSA-jfh8-c2jp-5v3q"):
        full = store.get(vid)
        assert full is not None
        assert full.affected
        assert store.header(vid) == replace(full, affected=())
    assert store.header("CVE-1999-99999") is None
