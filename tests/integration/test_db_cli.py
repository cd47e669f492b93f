"""`tidegate db update|status|show|export|import` as real processes on the mini mirror."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.scanner.vulndb.mirror import build_mini_mirror

REPO = Path(__file__).resolve().parents[2]


def tidegate(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidegate", *args, "--data-dir", str(data_dir)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.integration
def test_db_commands_end_to_end(tmp_path: Path) -> None:
    mirror = build_mini_mirror()
    data = tmp_path / "data"
    up = tidegate("db", "update", "--source", str(mirror), data_dir=data)
    assert up.returncode == 0, up.stderr
    assert "published version 1" in up.stdout

    again = tidegate("db", "update", "--source", str(mirror), "--only", "cisa-kev", data_dir=data)
    assert again.returncode == 0, again.stderr
    assert "nothing changed" in again.stdout

    status = tidegate("db", "status", "--json", data_dir=data)
    assert status.returncode == 0, status.stderr
    doc = json.loads(status.stdout)
    assert doc["version"] == 1
    assert doc["counts"]["packages"] > 1000
    assert {s["name"] for s in doc["sources"]} >= {"debian-osv", "alpine-secdb", "cisa-kev"}
    assert all(s["status"] == "updated" for s in doc["sources"])
    assert isinstance(doc["age_seconds"], int)
    text = tidegate("db", "status", data_dir=data)
    assert "ubuntu-cve-tracker" in text.stdout

    show = tidegate("db", "show", "GHSA-jfh8-c2jp-5v3q", "--json", data_dir=data)
    assert show.returncode == 0, show.stderr
    adv = json.loads(show.stdout)
    assert adv["id"] == "GHSA-jfh8-c2jp-5v3q"
    assert "CVE-2021-44228" in adv["aliases"]
    assert adv["known_exploited"] is True
    log4j = [a for a in adv["affected"] if a["name"] == "org.apache.logging.log4j:log4j-core"]
    assert {"introduced": "2.13.0"} in log4j[0]["ranges"][0]["events"]
    human = tidegate("db", "show", "CVE-2021-44228", data_dir=data)
    assert "KNOWN EXPLOITED" in human.stdout
    assert "Debian:12 apache-log4j2" in human.stdout
    missing = tidegate("db", "show", "CVE-1999-99999", data_dir=data)
    assert missing.returncode == 1

    export = tmp_path / "vulndb.tar.gz"
    out = tidegate("db", "export", str(export), data_dir=data)
    assert out.returncode == 0, out.stderr
    other = tmp_path / "airgapped"
    imp = tidegate("db", "import", str(export), data_dir=other)
    assert imp.returncode == 0, imp.stderr
    assert "as version 1" in imp.stdout
    show2 = tidegate("db", "show", "CVE-2021-44228", "--json", data_dir=other)
    assert (
        json.loads(show2.stdout)["affected"]
        == json.loads(tidegate("db", "show", "CVE-2021-44228", "--json", data_dir=data).stdout)[
            "affected"
        ]
    )

    corrupt = tmp_path / "corrupt.tar"
    plain = tmp_path / "plain.tar"
    assert tidegate("db", "export", str(plain), data_dir=data).returncode == 0
    raw = bytearray(plain.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    corrupt.write_bytes(bytes(raw))
    bad = tidegate("db", "import", str(corrupt), data_dir=other)
    assert bad.returncode == 2
    assert "checksum mismatch" in bad.stderr or "integrity" in bad.stderr
    assert json.loads(tidegate("db", "status", "--json", data_dir=other).stdout)["version"] == 1
