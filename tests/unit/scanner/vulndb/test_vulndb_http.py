"""The URL path: a real HTTP server on 127.0.0.1 serving the mirror."""

from __future__ import annotations

from pathlib import Path

from tests.unit.scanner.vulndb.httpserver import MirrorServer
from tidegate.scanner.vulndb.manager import update
from tidegate.scanner.vulndb.store import VulnStore

LOG4J = ("Maven", "org.apache.logging.log4j:log4j-core")


def test_update_over_http_then_conditional_get(served_mirror: MirrorServer, tmp_path: Path) -> None:
    root = tmp_path / "vulndb"
    first = update(root, mirror=served_mirror.url)
    assert first.published
    assert {s.status for s in first.sources} == {"updated"}
    store = VulnStore(root)
    assert any(a.id == "CVE-2021-44228" for a in store.lookup(*LOG4J))
    assert store.lookup("Alpine:v3.20", "libwebp")  # per-branch files fetched one by one
    fetched = len(served_mirror.log)

    second = update(root, mirror=served_mirror.url)
    assert not second.published
    assert {s.status for s in second.sources} == {"unchanged"}
    again = served_mirror.log[fetched:]
    # Every existing file answered 304; only missing Alpine branches answer 404.
    assert {status for _, status in again} <= {304, 404}
    assert sum(1 for _, status in again if status == 304) >= 14


def test_truncated_download_fails_that_source_only(
    served_mirror: MirrorServer, tmp_path: Path
) -> None:
    served_mirror.truncate.add("ghsa/ghsa-npm.tar.xz")
    root = tmp_path / "vulndb"
    result = update(root, mirror=served_mirror.url)
    status = {s.name: s for s in result.sources}
    assert status["ghsa-npm"].status == "failed"
    assert "GET" in status["ghsa-npm"].error
    assert all(s.status == "updated" for n, s in status.items() if n != "ghsa-npm")
    assert result.published
    assert not list((root / "downloads").glob("*"))  # no partial download left behind
    assert VulnStore(root).lookup("npm", "lodash") == []

    served_mirror.truncate.clear()
    retry = update(root, mirror=served_mirror.url)
    states = {s.name: s.status for s in retry.sources}
    assert states["ghsa-npm"] == "updated"
    assert {v for k, v in states.items() if k != "ghsa-npm"} == {"unchanged"}
    assert any(a.id == "CVE-2019-10744" for a in VulnStore(root).lookup("npm", "lodash"))


def test_bad_zip_and_http_error_fail_alone(served_mirror: MirrorServer, tmp_path: Path) -> None:
    served_mirror.bodies["rustsec-osv/rustsec-osv.tar.xz"] = b"PK\x03\x04 not really a zip"
    served_mirror.bodies["go-vulndb-osv/go-vulndb-osv.tar.xz"] = b"\xfd7zXZ\x00 broken xz"
    root = tmp_path / "vulndb"
    result = update(root, mirror=served_mirror.url + "/")
    status = {s.name: s for s in result.sources}
    assert status["rustsec"].status == "failed"
    assert "zip" in status["rustsec"].error
    assert status["go-vulndb"].status == "failed"
    assert status["ghsa-maven"].status == "updated"
    info = {s.name: s for s in VulnStore(root).version_info().sources}
    assert info["rustsec"].status == "failed"
    assert info["rustsec"].records == 0
