"""`tidegate scan` with a vulnerability DB: findings in every format, and --fail-on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import oci_build as ob
from tests.support.paths import VULNDATA
from tests.support.scan_fixtures import db_update

pytestmark = pytest.mark.integration


def tidegate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidegate", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("scan")
    data = root / "data"
    db_update(data, VULNDATA)
    lodash = json.dumps({"name": "lodash", "version": "4.17.15"}).encode()
    minimist = json.dumps({"name": "minimist", "version": "1.2.6"}).encode()
    ob.build_oci_layout(
        root / "layout",
        [
            ob.Layer([ob.file("srv/node_modules/lodash/package.json", lodash)]),
            ob.Layer([ob.file("srv/node_modules/minimist/package.json", minimist)]),
        ],
        tag="v1",
    )
    return data, root / "layout"


def test_findings_and_fail_on(setup: tuple[Path, Path]) -> None:
    data, layout = setup
    out = tidegate("scan", f"oci:{layout}:v1", "--data-dir", str(data), "--format", "json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    ids = {(f["id"], f["package"]) for f in report["findings"]}
    # lodash 4.17.15 is before the 4.17.19 and 4.17.21 fixes; minimist 1.2.6 is fixed.
    assert ("CVE-2020-8203", "lodash") in ids
    assert ("CVE-2021-23337", "lodash") in ids
    assert not {i for i in ids if i[1] == "minimist"}
    gate = tidegate("scan", f"oci:{layout}:v1", "--data-dir", str(data), "--fail-on", "high")
    assert gate.returncode == 1
    assert "CVE-2020-8203" in gate.stdout
    sarif = json.loads(
        tidegate("scan", f"oci:{layout}:v1", "--data-dir", str(data), "--format", "sarif").stdout
    )
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"CVE-2020-8203"}


def test_without_a_db_only_packages_are_listed(setup: tuple[Path, Path], tmp_path: Path) -> None:
    _, layout = setup
    out = tidegate("scan", f"oci:{layout}:v1", "--data-dir", str(tmp_path / "empty"))
    assert out.returncode == 0
    assert "lodash" in out.stdout
    assert "no vulnerability DB" in out.stdout
    assert "no vulnerability DB" in out.stderr
