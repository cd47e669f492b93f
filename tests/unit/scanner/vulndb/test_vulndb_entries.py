"""PackageEntries: matching on stored arrays gives what evaluating decoded advisories gives."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tidegate.scanner.versions import Verdict, evaluate, scheme_for
from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.entries import PackageEntries
from tidegate.scanner.vulndb.store import VulnStore

LOG4J = ("Maven", "org.apache.logging.log4j:log4j-core")


def _keys(root: Path) -> list[tuple[str, str]]:
    version = layout.current_version(root)
    assert version is not None
    with sqlite3.connect(layout.version_path(root, version)) as conn:
        return [(r[0], r[1]) for r in conn.execute("SELECT namespace, name FROM packages")]


def _probe_versions(entries: PackageEntries) -> list[str]:
    """Every version the key's ranges name, plus one below and one far above them all."""
    named = {v for row in entries.rows for _, events in row[2] for _, v in events}
    named |= {v for row in entries.rows for v in row[3]}
    return sorted(named | {"0", "0.0.1", "99999"})


def test_affecting_agrees_with_evaluating_decoded_advisories(built_db: Path) -> None:
    store = VulnStore(built_db, cache_size=0)
    checked = hits = 0
    for ns, name in _keys(built_db):
        entries = store.package(ns, name)
        advisories = entries.advisories()
        scheme = scheme_for(ns)
        for version in _probe_versions(entries):
            expected = []
            for adv in advisories:
                (pkg,) = adv.affected
                verdict = evaluate(scheme, pkg.ranges, pkg.versions, version)
                if verdict is not Verdict.NOT_AFFECTED:
                    expected.append((adv, verdict))
            fresh = store.package(ns, name)  # nothing decoded yet: the lazy path
            assert fresh.affecting(version) == expected, (ns, name, version)
            checked += 1
            hits += len(expected)
    # The mini mirror has every ecosystem: both outcomes occur many times.
    assert checked > 1000
    assert hits > 100


def test_affecting_decodes_only_the_hits(built_db: Path) -> None:
    entries = VulnStore(built_db).package(*LOG4J)
    assert len(entries.rows) >= 2
    assert entries.affecting("99999") == []  # newer than every fix
    assert entries._advisories is None  # nothing was built
    affected = entries.affecting("2.14.1")
    assert "CVE-2021-44228" in {a.id for a, _ in affected}
    assert all(v is Verdict.AFFECTED for _, v in affected)
    assert "CVE-2021-44228" not in {a.id for a, _ in entries.affecting("2.17.1")}
    # Decoded once: later calls hand out the same objects, in lists of their own.
    again = entries.affecting("2.14.1")
    assert again[0][0] is affected[0][0]
    again.clear()
    assert entries.affecting("2.14.1") == affected


def test_only_restricts_by_id_and_absent_keys_are_empty(built_db: Path) -> None:
    store = VulnStore(built_db)
    entries = store.package(*LOG4J)
    (only,) = entries.only(frozenset({"CVE-2021-44228"})).advisories()
    assert only.id == "CVE-2021-44228"
    absent = store.package("npm", "no-such-package-xyz")
    assert not absent
    assert absent.rows == []
    assert absent.affecting("1.0.0") == []


def test_of_matches_what_the_store_decodes(built_db: Path) -> None:
    stored = VulnStore(built_db).lookup(*LOG4J)
    rebuilt = PackageEntries.of(*LOG4J, stored)
    assert rebuilt.advisories() == stored
    assert rebuilt.affecting("2.14.1") == VulnStore(built_db).package(*LOG4J).affecting("2.14.1")


def test_unknown_ecosystem_is_unknown_for_every_entry() -> None:
    entries = PackageEntries.of("Hackage", "aeson", [])
    assert entries.affecting("1.0") == []
