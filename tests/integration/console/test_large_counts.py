"""A registry too large to count on the request, in a real browser: the first view of a
grouping answers 202 "Counting" and reloads itself into the counts; after the findings
change the page shows the previous counts, marked, and reloads itself into the new ones."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPOS, IMAGES, PER_IMAGE = 20, 50, 400  # 400,000 open findings: a count takes ~0.5 s
VIEW = "/console/findings?groupBy=vulnerability&fixAvailable=NO"  # not counted at start
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


def seed(db: Path) -> None:
    """The rows a scan writes, straight into the metadata DB (bulk, like bench/console.py)."""
    now = time.time()
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO finding_details (id, details, shape) VALUES ('d', '{}', NULL)")
        for r in range(REPOS):
            repo_id = conn.execute(
                "INSERT INTO repositories (name, created_at, tag_mutability,"
                " mutability_exclusions, scan_on_push, encryption_type)"
                " VALUES (?, ?, 'MUTABLE', '[]', 0, 'AES256')",
                (f"big/repo-{r:02d}", now),
            ).lastrowid
            rows = []
            for i in range(IMAGES):
                digest = "sha256:" + f"{r:04x}{i:04x}".ljust(64, "0")
                conn.execute(
                    "INSERT INTO manifests (repository_id, digest, media_type, artifact_type,"
                    " size, image_size, config_digest, annotations, pushed_at) VALUES"
                    " (?, ?, 'application/vnd.oci.image.manifest.v1+json', '', 10, 10, NULL,"
                    " '{}', ?)",
                    (repo_id, digest, now),
                )
                conn.execute(
                    "INSERT INTO image_scans (repository_id, digest, scan_type, status,"
                    " description, requested_at, completed_at, severity_counts, frequency)"
                    " VALUES (?, ?, 'ENHANCED', 'ACTIVE', '', ?, ?, '{}', 'CONTINUOUS_SCAN')",
                    (repo_id, digest, now, now),
                )
                for k in range(PER_IMAGE):
                    v = (k * 7 + i) % 3000
                    rows.append((
                        repo_id, digest, "ENHANCED", f"{i:06x}{k:06x}", f"CVE-2030-{v:05d}",
                        f"pkg{v % 300}", "1.0", "OS", "Debian:12", f"pkg{v % 300}", "", "",
                        SEVERITIES[v % 4], 5.0, "", "NO" if k % 2 else "YES", "NO", "ACTIVE",
                        "d", now, now, now,
                    ))  # fmt: skip
            conn.executemany(
                "INSERT INTO findings (repository_id, digest, scan_type, finding_key, vuln_id,"
                " package_name, package_version, package_manager, namespace, match_name,"
                " file_path, layer, severity, score, fixed_in, fix_available, exploit_available,"
                " status, details_id, first_observed_at, last_observed_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )


def close_findings_of(db: Path, vuln_id: str) -> None:
    """What a re-scan that no longer matches `vuln_id` leaves: its findings CLOSED, and the
    scan rows' completion time moved (the findings stamp)."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE findings SET status = 'CLOSED' WHERE vuln_id = ?", (vuln_id,))
        conn.execute(
            "UPDATE image_scans SET completed_at = (SELECT max(completed_at) FROM image_scans)"
            " + 1 WHERE rowid = (SELECT min(rowid) FROM image_scans)"
        )


def test_slow_counts_show_counting_then_previous_then_new_counts(
    tmp_path: Path, browser: Browser
) -> None:
    data = tmp_path / "data"
    env = {"TIDEGATE_RUN_WORKERS": "false"}
    server = TidegateServer(data, env=env)
    server.start()  # the schema and the admin key
    server.stop()
    seed(data / "meta.db")
    with server:
        page = browser.new_page()
        page.goto(server.url + "/console/sign-in")
        key_id, secret = server.access_key()
        page.get_by_label("Access key ID").fill(key_id)
        page.get_by_label("Secret access key").fill(secret)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard", timeout=30_000)

        first = page.goto(server.url + VIEW)
        assert first is not None
        assert first.status == 202
        expect(page.get_by_test_id("counting")).to_contain_text("Counting")
        # No reload here: the page reloads itself into the counts.
        rows = page.locator("main table tbody tr")
        expect(rows).to_have_count(25, timeout=60_000)
        expect(page.get_by_test_id("freshness")).to_contain_text("recounted when the findings")
        top = page.locator("main table tbody tr th a").first.inner_text()
        assert re.fullmatch(r"CVE-2030-\d{5}", top)

        close_findings_of(data / "meta.db", top)
        again = page.goto(server.url + VIEW)
        assert again is not None
        assert again.status == 200
        freshness = page.get_by_test_id("freshness")
        expect(freshness).to_contain_text("The findings have changed since")
        expect(page.locator("main table")).to_contain_text(top)  # the previous counts
        # The recount is throttled (the first took longer than the wait), then lands.
        expect(freshness).to_contain_text("recounted when the findings", timeout=90_000)
        expect(page.locator("main table")).not_to_contain_text(top)
        page.close()
        assert "Traceback" not in server.log()
