"""The seed walkthrough through the console in a real browser, against a real server with
images pushed by skopeo and really scanned: sign-in, scanning settings with a preview,
CONTINUOUS_SCAN vs MANUAL ("Scanning off"), Scan and the 24 h limit, the image's findings
with filters, an SBOM download, every findings view, the operations pages, error pages,
anonymous redirects and a form POST without its CSRF token. Every page is screenshotted."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.support.seed import log4j_image, seed_mirror, tidegate
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WIDE: ViewportSize = {"width": 1280, "height": 900}
NARROW: ViewportSize = {"width": 390, "height": 844}
LOG4SHELL = "CVE-2021-44228"


def push(server: TidegateServer, layout: Path, repo: str, authfile: Path) -> None:
    copy = subprocess.run(
        ["skopeo", "copy", "--dest-tls-verify=false", "--authfile", str(authfile),
         f"oci:{layout}:v1", f"docker://{server.host}/{repo}:v1"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert copy.returncode == 0, copy.stderr


def login(server: TidegateServer, authfile: Path) -> None:
    token = server.ecr().get_authorization_token()["authorizationData"][0]
    import base64

    password = base64.b64decode(token["authorizationToken"]).decode().partition(":")[2]
    done = subprocess.run(
        ["skopeo", "login", "--tls-verify=false", "--authfile", str(authfile),
         "--username", "AWS", "--password-stdin", server.host],
        input=password, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


class Shots:
    def __init__(self, page: Page, where: Path) -> None:
        self.page = page
        self.where = where

    def take(self, name: str) -> None:
        self.page.screenshot(path=str(self.where / f"{name}.png"), full_page=True)
        # No page may scroll sideways as a whole: wide tables scroll inside their wrapper.
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} scrolls sideways by {overflow}px"


def sign_in(page: Page, server: TidegateServer) -> None:
    key_id, secret = server.access_key()
    page.get_by_label("Access key ID").fill(key_id)
    page.get_by_label("Secret access key").fill(secret)
    page.get_by_role("button", name="Sign in").click()


def test_console_walkthrough(tmp_path: Path, browser: Browser, shots: Path) -> None:
    data = tmp_path / "data"
    tidegate(data, "db", "update", "--source", str(seed_mirror(tmp_path / "mirror")),
             "--only", "ghsa-maven", "cisa-kev")  # fmt: skip
    layout = tmp_path / "layout"
    log4j_image(layout)
    with TidegateServer(data) as server:
        context = browser.new_context(viewport=WIDE, accept_downloads=True)
        page = context.new_page()
        shot = Shots(page, shots)
        # The pages' own CSP must not block anything they use (a violation is a console error).
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

        # Anonymous visits go to the sign-in page; a wrong secret is refused.
        page.goto(server.url + "/")
        expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))
        shot.take("01-sign-in")
        page.get_by_label("Access key ID").fill(server.access_key()[0])
        page.get_by_label("Secret access key").fill("not-the-secret")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_contain_text("wrong secret")
        sign_in(page, server)
        expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
        cookie = next(c for c in context.cookies() if c["name"] == "tidegate_console")
        assert cookie["httpOnly"]
        assert cookie["sameSite"] == "Strict"
        assert cookie["path"] == "/console"
        assert cookie["expires"] > 0

        # A form POST without its CSRF token is refused, with the session cookie attached.
        refused = context.request.post(server.url + "/console/repositories",
                                       form={"repository_name": "csrf-less"})  # fmt: skip
        assert refused.status == 403
        assert "CSRF" in refused.text()

        # Create the two repositories with the console's form.
        page.goto(server.url + "/console/repositories")
        for name in ("scanrepo-prod", "scanrepo-test"):
            page.goto(server.url + "/console/repositories")
            page.get_by_label("Name", exact=True).fill(name)
            page.get_by_role("button", name="Create repository").click()
            expect(page.get_by_role("status")).to_contain_text(f"Created repository {name}")

        # Settings: ENHANCED with a `prod` CONTINUOUS_SCAN rule, previewed, then saved.
        page.goto(server.url + "/console/settings/scanning")
        page.get_by_label("Enhanced scanning").check()
        page.locator("select[name=rule0_frequency]").select_option("CONTINUOUS_SCAN")
        page.locator("input[name=rule0_filters]").fill("prod")
        page.get_by_role("button", name="Preview matches").click()
        expect(page.get_by_test_id("rule-1-count")).to_have_text("1")
        expect(page.locator("#preview ~ ul, section ul").first).to_contain_text("scanrepo-prod")
        shot.take("05-scanning-preview")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_role("status")).to_contain_text("Saved the scanning configuration")
        expect(page.get_by_test_id("saved-scan-type")).to_have_text("ENHANCED")
        shot.take("05-scanning-saved")

        authfile = tmp_path / "auth.json"
        login(server, authfile)
        for repo in ("scanrepo-prod", "scanrepo-test"):
            push(server, layout, repo, authfile)

        page.goto(server.url + "/console/repositories")
        prod_row = page.get_by_role("row", name=re.compile("scanrepo-prod"))
        test_row = page.get_by_role("row", name=re.compile("scanrepo-test"))
        expect(prod_row).to_contain_text("CONTINUOUS_SCAN")
        expect(test_row).to_contain_text("MANUAL")
        shot.take("02-repositories")

        # prod is scanned without anyone asking; the page polls until the scan is ACTIVE.
        page.goto(server.url + "/console/repositories/scanrepo-prod")
        expect(page.get_by_test_id("frequency")).to_have_text("CONTINUOUS_SCAN")
        vuln = page.locator("td.vuln").first
        # No reload here: the page's poller reloads it when the scan finishes.
        expect(vuln).to_contain_text("Active", timeout=120_000)
        expect(vuln).to_contain_text(re.compile(r"C [1-9]"))
        shot.take("03-repository-prod")

        page.locator("td a.mono").first.click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("sha256:")
        layers = page.locator("table[aria-labelledby=layers]")
        expect(layers).to_contain_text("layer 1")
        findings = page.locator("table[aria-labelledby=findings]")
        log4shell = findings.get_by_role("row", name=re.compile(LOG4SHELL))
        expect(log4shell).to_contain_text("CRITICAL")
        expect(log4shell).to_contain_text("org.apache.logging.log4j:log4j-core")
        expect(log4shell).to_contain_text("2.14.1")
        expect(log4shell).to_contain_text("YES")
        shot.take("04-image")
        image_url = page.url.split("#")[0]

        # Filters: CRITICAL keeps log4shell, LOW shows none, text narrows to one row.
        page.locator("form[aria-label='Filter findings'] select[name=severity]").select_option(
            "CRITICAL"
        )
        page.get_by_role("button", name="Filter").click()
        expect(findings.get_by_role("row", name=re.compile(LOG4SHELL))).to_have_count(1)
        page.goto(image_url + "?severity=LOW")
        expect(findings).to_contain_text("No open findings match these filters")
        page.goto(image_url + f"?q={LOG4SHELL}")
        expect(findings.locator("tbody tr")).to_have_count(1)
        page.goto(image_url + "?sort=cvss&order=desc")
        expect(findings.locator("tbody tr").first).to_contain_text("CRITICAL")

        # SBOM and exports download through the browser.
        page.goto(image_url)
        with page.expect_download() as got:
            page.get_by_role("link", name="CycloneDX").click()
        sbom = json.loads(Path(got.value.path()).read_text())
        assert sbom["bomFormat"] == "CycloneDX"
        names = json.dumps(sbom["components"])
        assert "log4j-core" in names
        with page.expect_download() as got:
            page.get_by_role("link", name="SARIF").click()
        sarif = json.loads(Path(got.value.path()).read_text())
        assert LOG4SHELL in {r["ruleId"] for r in sarif["runs"][0]["results"]}
        csv_text = context.request.get(image_url + "/export/csv").text()
        assert LOG4SHELL in csv_text
        assert csv_text.startswith("vulnerability_id,")
        spdx = context.request.get(image_url + "/export/spdx").json()
        assert spdx["spdxVersion"].startswith("SPDX-2")

        # test: MANUAL, so "Scanning off" until Scan; a second Scan meets the 24 h limit.
        page.goto(server.url + "/console/repositories/scanrepo-test")
        expect(page.get_by_test_id("frequency")).to_have_text("MANUAL")
        vuln = page.locator("td.vuln").first
        expect(vuln).to_have_text(re.compile(r"^\s*Scanning off\s*$"))
        shot.take("06-repository-test-scanning-off")
        page.get_by_role("button", name=re.compile("^Scan ")).first.click()
        expect(page.get_by_role("status")).to_contain_text("Scan started")
        expect(page.locator("td.vuln").first).to_contain_text("Complete", timeout=120_000)
        expect(page.locator("td.vuln").first).to_contain_text(re.compile(r"C [1-9]"))
        page.get_by_role("button", name=re.compile("^Scan ")).first.click()
        expect(page.get_by_role("status")).to_contain_text("scan quota per image has been exceeded")
        shot.take("07-scan-limit")

        # Every findings view, with a filter and a drill-down.
        for group, expected in (("vulnerability", LOG4SHELL), ("repository", "scanrepo-test"),
                                ("image", "scanrepo-prod@sha256:"), ("layer", "in scanrepo-prod"),
                                ("package", "org.apache.logging.log4j:log4j-core")):  # fmt: skip
            page.goto(server.url + f"/console/findings?groupBy={group}")
            expect(page.locator("main table")).to_contain_text(expected)
            shot.take(f"08-findings-{group}")
        page.goto(server.url + "/console/findings?groupBy=vulnerability")
        row = page.get_by_role("row", name=re.compile(LOG4SHELL))
        expect(row.locator("td").nth(5)).to_have_text("2")  # two images
        page.locator("select[name=severity]").select_option("CRITICAL")
        page.get_by_label("Repository", exact=True).fill("scanrepo-test")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile("repository=scanrepo-test"))
        row = page.get_by_role("row", name=re.compile(LOG4SHELL))
        expect(row.locator("td").nth(5)).to_have_text("1")
        page.goto(server.url + "/console/findings?groupBy=vulnerability&severity=LOW")
        expect(page.locator("main table")).not_to_contain_text(LOG4SHELL)
        # Fix available: log4j-core 2.14.1 has a fixed release, so only YES lists it.
        page.goto(server.url + "/console/findings?groupBy=package")
        page.locator("select[name=fixAvailable]").select_option("YES")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile("fixAvailable=YES"))
        expect(page.locator("main table")).to_contain_text("log4j-core")
        page.goto(server.url + "/console/findings?groupBy=package&fixAvailable=NO")
        expect(page.locator("main table")).not_to_contain_text("log4j-core")
        # Text: a package name finds its vulnerabilities; a repository name its images.
        page.get_by_label("ID, package or repository contains").fill("log4j-core")
        page.locator("select[name=fixAvailable]").select_option("")
        page.get_by_role("button", name="Filter").click()
        expect(page.locator("main table tbody tr")).to_have_count(1)
        page.goto(server.url + "/console/findings?groupBy=image&q=scanrepo-test")
        expect(page.locator("main table")).to_contain_text("scanrepo-test@")
        expect(page.locator("main table")).not_to_contain_text("scanrepo-prod@")
        page.goto(server.url + "/console/findings?groupBy=vulnerability&q=no-such-thing")
        expect(page.locator("main table")).to_contain_text("No open findings match")
        page.goto(server.url + "/console/findings?groupBy=vulnerability")
        page.get_by_role("link", name=LOG4SHELL).click()
        expect(page).to_have_url(re.compile("groupBy=image"))
        page.get_by_role("link", name=re.compile("scanrepo-test@")).click()
        expect(page.get_by_role("heading", level=2, name=re.compile("Findings"))).to_be_visible()

        # Dashboard, usage, events and the vulnerability DB.
        page.goto(server.url + "/console/dashboard")
        tiles = page.locator("section[aria-labelledby=coverage]")
        expect(tiles).to_contain_text("2Images")
        expect(page.locator("section[aria-labelledby=kev]")).to_contain_text(LOG4SHELL)
        expect(page.locator("section[aria-labelledby=top]")).to_contain_text(LOG4SHELL)
        expect(page.locator("svg.chart").first).to_be_visible()
        shot.take("09-dashboard")
        page.goto(server.url + "/console/usage")
        expect(page.locator("main")).to_contain_text("scanrepo-prod")
        shot.take("10-usage")
        page.goto(server.url + "/console/events")
        expect(page.locator("table[aria-labelledby=outbox]")).to_contain_text("ECR Image Action")
        shot.take("11-events")
        page.get_by_role("button", name="Redeliver").first.click()
        expect(page.get_by_role("status")).to_contain_text("Queued 0 deliveries")
        page.goto(server.url + "/console/vulndb")
        expect(page.locator("table[aria-labelledby=sources]")).to_contain_text("ghsa-maven")
        shot.take("12-vulndb")

        # Bad input: clear pages with the right status, never a stack trace.
        for path, status, text in (
            ("/console/repositories/no-such-repo", 404, "does not exist"),
            ("/console/repositories/scanrepo-prod/images/sha256:" + "0" * 64, 404,
             "does not exist"),
            ("/console/repositories/scanrepo-prod/images/not-a-digest", 400, "not an image digest"),
            ("/console/findings?groupBy=everything", 400, "groupBy must be one of"),
            ("/console/findings?severity=SEVERE", 400, "severity must be one of"),
            ("/console/repositories?sort=size", 400, "sort must be one of"),
            ("/console/repositories?page=0", 400, "page must be a positive integer"),
            ("/console/findings?fixAvailable=MAYBE", 400, "fixAvailable must be YES or NO"),
            (image_url.removeprefix(server.url) + "?sort=size", 400, "sort must be one of"),
            (image_url.removeprefix(server.url) + "?ipage=x", 400, "ipage must be a positive"),
            (image_url.removeprefix(server.url) + "/export/pdf", 400, "format must be one of"),
            ("/console/usage?month=2026-13-01", 400, "month must be YYYY-MM"),
            ("/console/events?before=abc", 400, "before must be a row number"),
        ):  # fmt: skip
            response = page.goto(server.url + path)
            assert response is not None
            assert response.status == status, path
            expect(page.get_by_role("alert")).to_contain_text(text)
            assert "Traceback" not in page.content()
        shot.take("13-error")

        # The narrow layout: a phone-width screenshot of the main pages.
        page.set_viewport_size(NARROW)
        for name, path in (("repositories", "/console/repositories"),
                           ("repository", "/console/repositories/scanrepo-prod"),
                           ("image", image_url.removeprefix(server.url)),
                           ("findings", "/console/findings?groupBy=vulnerability"),
                           ("findings-layer", "/console/findings?groupBy=layer"),
                           ("dashboard", "/console/dashboard"),
                           ("scanning", "/console/settings/scanning"),
                           ("usage", "/console/usage"), ("events", "/console/events"),
                           ("vulndb", "/console/vulndb"),
                           ("error", "/console/repositories/no-such-repo")):  # fmt: skip
            page.goto(server.url + path)
            shot.take(f"20-narrow-{name}")

        # Sign out: the session is gone and pages redirect to the sign-in form again.
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile("/console/sign-in"))
        page.goto(server.url + "/console/dashboard")
        expect(page).to_have_url(re.compile(r"/console/sign-in\?next=%2Fconsole%2Fdashboard"))
        shot.take("20-narrow-sign-in")
        context.close()
        assert "Traceback" not in server.log()
        blocked = [p for p in problems if "Content Security Policy" in p]
        assert blocked == []
