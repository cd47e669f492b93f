"""Golden files for the OS analyzers and distro detection (`pytest --update-golden` rewrites).

Each case under tests/golden/analyzers/os/<group>/<case>/ is an image root turned into a
one-layer image; the expected inventory is <group>/<case>.json (sorted, layer-free JSON).
rpm cases get their binary databases from the real rpm tool at test time; every group has
empty and invalid siblings, and dpkg/apk an oversized one generated here (64 MiB + 1).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import oci_build as ob
from tests.support import rpm_db
from tidegate.scanner.analyzers.base import Analyzer
from tidegate.scanner.analyzers.os.apk import ApkAnalyzer
from tidegate.scanner.analyzers.os.dpkg import DpkgAnalyzer
from tidegate.scanner.analyzers.os.rpm import RpmAnalyzer
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.report.jsonfmt import package_dict
from tidegate.scanner.sources.layout import OCILayoutSource

GOLDEN = Path(__file__).resolve().parents[4] / "golden" / "analyzers" / "os"
CASES = sorted(
    (group.name, case.name)
    for group in GOLDEN.iterdir()
    if group.is_dir()
    for case in group.iterdir()
    if case.is_dir()
)
GENERATED = [("dpkg", "oversized"), ("apk", "oversized")]
DB_PATH = {"dpkg": "var/lib/dpkg/status", "apk": "lib/apk/db/installed"}


def _rpm_extras(case: str, root: Path) -> None:
    dbdir = root / "var/lib/rpm"
    dbdir.mkdir(parents=True, exist_ok=True)
    if case == "basic":
        shutil.copy(rpm_db.sqlite_db() / "rpmdb.sqlite", dbdir)
    elif case == "bdb":
        shutil.copy(rpm_db.bdb_db() / "Packages", dbdir)
    elif case == "empty":
        subprocess.run(["rpm", "--initdb", "--dbpath", str(dbdir)], check=True)
        for extra in dbdir.glob("rpmdb.sqlite-*"):
            extra.unlink()
        (dbdir / ".rpm.lock").unlink(missing_ok=True)
    elif case == "invalid":
        (dbdir / "rpmdb.sqlite").write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
        (dbdir / "Packages").write_bytes(b"\x00\x61\x15\x06" * 1000)


def _inventory_json(root: Path, tmp_path: Path) -> dict[str, Any]:
    ob.build_oci_layout(tmp_path / "img", [ob.Layer(root, compression="zstd")])
    analyzers: list[Analyzer] = [ApkAnalyzer(), DpkgAnalyzer(), RpmAnalyzer()]
    [img] = analyze_image(OCILayoutSource(tmp_path / "img"), analyzers=analyzers)
    inv = img.inventory
    packages = []
    for p in inv.packages:
        d = package_dict(p)
        del d["layer"]
        packages.append(d)
    return {
        "distro": None
        if inv.distro is None
        else {
            "id": inv.distro.id,
            "versionId": inv.distro.version_id,
            "codename": inv.distro.codename,
            "prettyName": inv.distro.pretty_name,
            "recognised": inv.distro.recognised,
        },
        "packages": packages,
        "warnings": sorted([w.path, w.analyzer, w.reason] for w in inv.warnings),
    }


def _check(group: str, case: str, got: dict[str, Any], update_golden: bool) -> None:
    expected_file = GOLDEN / group / f"{case}.json"
    text = json.dumps(got, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if update_golden:
        expected_file.write_text(text)
    assert expected_file.exists(), f"missing {expected_file}; run pytest --update-golden"
    assert json.loads(expected_file.read_text()) == got


@pytest.mark.parametrize(("group", "case"), CASES, ids=[f"{g}/{c}" for g, c in CASES])
def test_golden(group: str, case: str, tmp_path: Path, update_golden: bool) -> None:
    root = tmp_path / "root"
    shutil.copytree(GOLDEN / group / case, root, symlinks=True)
    if group == "rpm":
        _rpm_extras(case, root)
    _check(group, case, _inventory_json(root, tmp_path), update_golden)


@pytest.mark.parametrize(("group", "case"), GENERATED, ids=[f"{g}/{c}" for g, c in GENERATED])
def test_golden_oversized(group: str, case: str, tmp_path: Path, update_golden: bool) -> None:
    root = tmp_path / "root"
    shutil.copytree(GOLDEN / group / "basic", root, symlinks=True)
    db = root / DB_PATH[group]
    with db.open("ab") as fh:
        fh.truncate(64 * 1024 * 1024 + 1)
    _check(group, case, _inventory_json(root, tmp_path), update_golden)


def test_every_group_has_empty_and_invalid_cases() -> None:
    for group in ("dpkg", "apk", "rpm", "release"):
        assert {(group, "empty"), (group, "invalid")} <= set(CASES)
