"""A running server's surroundings for scan tests: hand-written GHSA advisories built into a
DB version, a small npm image, and the event log as the CLI lists it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support import oci_build as ob


def advisory(vid: str, cve: str, name: str, fixed: str) -> dict[str, Any]:
    return {
        "schema_version": "1.4.0",
        "id": vid,
        "modified": "2024-01-01T00:00:00Z",
        "aliases": [cve],
        "summary": f"{cve} in {name}",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": name},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }


def mirror(root: Path, records: list[dict[str, Any]]) -> Path:
    folder = root / "ghsa" / "ghsa-npm.tar.xz"  # a directory source where the archive would be
    folder.mkdir(parents=True)
    for record in records:
        (folder / f"{record['id']}.json").write_text(json.dumps(record))
    return root


def db_update(
    data: Path, source: Path, only: str = "ghsa-npm", timeout: float | None = 300
) -> None:
    """`tidegate db update` of one source from a mirror laid out like shared/vulndata."""
    done = subprocess.run(
        [sys.executable, "-m", "tidegate", "db", "update", "--source", str(source),
         "--only", only, "--data-dir", str(data)],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def npm_image(layout: Path) -> None:
    """An OCI layout, tag v1, of one layer holding lodash 4.17.15 and minimist 1.2.0."""
    layer = ob.Layer([
        ob.file("app/node_modules/lodash/package.json", b'{"name":"lodash","version":"4.17.15"}'),
        ob.file("app/node_modules/minimist/package.json", b'{"name":"minimist","version":"1.2.0"}'),
    ])  # fmt: skip
    ob.build_oci_layout(layout, [layer], tag="v1")


def events(
    data: Path, detail_type: str = "Inspector2 Finding", limit: int = 500
) -> list[dict[str, Any]]:
    """The event log's events of one detail type, newest first (`tidegate events list`)."""
    out = subprocess.run(
        [sys.executable, "-m", "tidegate", "events", "list", "--limit", str(limit),
         "--detail-type", detail_type, "--data-dir", str(data)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return [json.loads(line) for line in out.splitlines()]


def skopeo_push(
    host: str, layout: Path, reference: str, tag: str = "v1", timeout: float = 120
) -> None:
    """Copy `oci:layout:tag` to `docker://host/reference` (plain HTTP)."""
    copy = subprocess.run(
        ["skopeo", "copy", "--dest-tls-verify=false", f"oci:{layout}:{tag}",
         f"docker://{host}/{reference}"],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    assert copy.returncode == 0, copy.stderr
