"""Suppression rules through the real AWS CLI (`aws inspector2 create-filter ...`) and boto3
against a real server: the log4j 2.14.1 image pushed by skopeo to three repositories and
scanned ENHANCED; a rule hides CVE-2021-44228 on one repository only, and everything that
counts findings agrees until the rule is deleted or expires."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import httpx
import oras.client
import oras.oci
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.integration.console.test_access import signed_in
from tests.support.cli_users import new_user
from tests.support.scan_fixtures import db_update, events, skopeo_push
from tests.support.seed import log4j_image
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration]

AWS = str(Path(sys.executable).with_name("aws"))
LOG4SHELL = "CVE-2021-44228"
SECOND = "CVE-2021-45046"
LOG4J = "org.apache.logging.log4j:log4j-core"
CRITICAL = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"
MEDIUM = "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N"


def _maven(vid: str, cve: str, fixed: str, vector: str) -> dict[str, Any]:
    return {
        "schema_version": "1.4.0", "id": vid, "modified": "2024-01-01T00:00:00Z",
        "aliases": [cve], "summary": f"{cve} in log4j-core",
        "severity": [{"type": "CVSS_V3", "score": vector}],
        "affected": [{
            "package": {"ecosystem": "Maven", "name": LOG4J},
            "ranges": [{"type": "ECOSYSTEM",
                        "events": [{"introduced": "2.0-beta9"}, {"fixed": fixed}]}],
        }],
    }  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    root = tmp_path_factory.mktemp("suppression")
    folder = root / "mirror" / "ghsa" / "ghsa-maven.tar.xz"  # a directory source
    folder.mkdir(parents=True)
    for record in (
        _maven("GHSA-jfh8-c2jp-5v3q", LOG4SHELL, "2.15.0", CRITICAL),
        _maven("GHSA-7rjr-3q55-vv33", SECOND, "2.16.0", MEDIUM),
    ):
        (folder / f"{record['id']}.json").write_text(json.dumps(record))
    db_update(root / "data", root / "mirror", only="ghsa-maven")
    log4j_image(root / "layout")
    env = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_API_ANONYMOUS_ACCESS": "true"}
    with TidegateServer(root / "data", env=env) as srv:
        rule = {"scanFrequency": "SCAN_ON_PUSH",
                "repositoryFilters": [{"filter": "*", "filterType": "WILDCARD"}]}  # fmt: skip
        srv.ecr().put_registry_scanning_configuration(scanType="ENHANCED", rules=[rule])
        for name in ("shop/api", "shop/web"):
            skopeo_push(srv.host, root / "layout", f"{name}:v1")
        for name in ("shop/api", "shop/web"):
            _wait(srv, lambda n=name: _vulns(srv, n) == {LOG4SHELL, SECOND})
        srv.layout = root / "layout"  # type: ignore[attr-defined]
        yield srv


def _wait(server: TidegateServer, check: Any, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.3)


def _describe(server: TidegateServer, repo: str) -> dict[str, Any]:
    try:
        out: dict[str, Any] = server.ecr().describe_image_scan_findings(
            repositoryName=repo, imageId={"imageTag": "v1"}
        )
    except ClientError:
        return {}
    return out


def _vulns(server: TidegateServer, repo: str) -> set[str]:
    found = _describe(server, repo).get("imageScanFindings", {}).get("enhancedFindings", [])
    return {f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in found}


def _counts(server: TidegateServer, repo: str) -> dict[str, int]:
    counts: dict[str, int] = _describe(server, repo)["imageScanFindings"]["findingSeverityCounts"]
    return counts


def aws(server: TidegateServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = str(server.data_dir.parent / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(server.data_dir.parent / "none")
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = server.access_key()
    argv = [AWS, "inspector2", *args, "--endpoint-url", server.url, "--output", "json"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


def aws_ok(server: TidegateServer, *args: str) -> dict[str, Any]:
    done = aws(server, *args)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout or "{}")
    return out


def _eq(value: str) -> list[dict[str, str]]:
    return [{"comparison": "EQUALS", "value": value}]


def _create(server: TidegateServer, name: str, criteria: dict[str, Any], *extra: str) -> str:
    out = aws_ok(
        server, "create-filter", "--name", name, "--action", "SUPPRESS",
        "--filter-criteria", json.dumps(criteria), "--reason", "not reachable", *extra,
    )  # fmt: skip
    arn: str = out["arn"]
    return arn


def _listed(server: TidegateServer, criteria: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = aws_ok(
        server, "list-findings", "--filter-criteria", json.dumps(criteria)
    )["findings"]
    return found


def _repo_of(finding: dict[str, Any]) -> str:
    return str(finding["resources"][0]["details"]["awsEcrContainerImage"]["repositoryName"])


def _api(server: TidegateServer, **params: str) -> dict[str, Any]:
    reply = httpx.get(f"{server.url}/api/findings", params=params)
    assert reply.status_code == 200, reply.text
    out: dict[str, Any] = reply.json()
    return out


def _tidegate(server: TidegateServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tidegate", *args, "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _finding_events(server: TidegateServer, finding: dict[str, Any]) -> list[str]:
    """The statuses `Inspector2 Finding` events gave this finding, newest first (its ARN
    names the vulnerability and package; the resource names the image)."""
    return [e["detail"]["status"] for e in events(server.data_dir, limit=2000)
            if e["detail"]["findingArn"] == finding["findingArn"]
            and _repo_of(e["detail"]) == _repo_of(finding)]  # fmt: skip


def _inspector(server: TidegateServer) -> Any:
    """boto3 without its own checks, so the server's are what answers."""
    key_id, secret = server.access_key()
    return boto3.client(
        "inspector2", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, parameter_validation=False),
    )  # fmt: skip


def _signed(server: TidegateServer, path: str, body: dict[str, Any]) -> httpx.Response:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    raw = json.dumps(body)
    request = AWSRequest("POST", f"{server.url}{path}", data=raw,
                         headers={"Content-Type": "application/json"})  # fmt: skip
    SigV4Auth(Credentials(*server.access_key()), "inspector2", "us-east-1").add_auth(request)
    return httpx.post(request.url, content=raw, headers=dict(request.headers.items()))


@pytest.mark.slow
def test_a_rule_hides_log4shell_on_one_repository_until_deleted(server: TidegateServer) -> None:
    web_before = _counts(server, "shop/web")
    assert web_before == {"CRITICAL": 1, "MEDIUM": 1}
    assert _tidegate(server, "findings", "--repository", "shop/web",
                     "--fail-on", "CRITICAL").returncode == 1  # fmt: skip
    criteria = {"vulnerabilityId": _eq(LOG4SHELL), "ecrImageRepositoryName": _eq("shop/web")}
    arn = _create(server, "log4shell-web", criteria, "--description", "web never logs input")

    assert _vulns(server, "shop/web") == {SECOND}
    assert _counts(server, "shop/web") == {"MEDIUM": 1}
    assert _vulns(server, "shop/api") == {LOG4SHELL, SECOND}
    assert _counts(server, "shop/api") == {"CRITICAL": 1, "MEDIUM": 1}
    (hidden,) = _listed(server, {"findingStatus": _eq("SUPPRESSED")})
    assert (hidden["status"], _repo_of(hidden)) == ("SUPPRESSED", "shop/web")
    assert hidden["packageVulnerabilityDetails"]["vulnerabilityId"] == LOG4SHELL
    assert len(_listed(server, {"findingStatus": _eq("ACTIVE")})) == 3
    # The aggregations, /api/findings and the CLI's --fail-on count ACTIVE findings only.
    repos = aws_ok(server, "list-finding-aggregations", "--aggregation-type", "REPOSITORY")
    by_repo = {r["repositoryAggregation"]["repository"]: r["repositoryAggregation"]
               for r in repos["responses"]}  # fmt: skip
    assert by_repo["shop/web"]["severityCounts"]["critical"] == 0
    assert by_repo["shop/api"]["severityCounts"]["critical"] == 1
    groups = _api(server, groupBy="repository")["groups"]
    api = {g["repository"]: g["severityCounts"] for g in groups}
    assert api["shop/web"] == {"all": 1, "medium": 1}
    suppressed = _api(server, groupBy="vulnerability", status="SUPPRESSED")["groups"]
    assert [(g["vulnerabilityId"], g["repositories"]) for g in suppressed] == [
        (LOG4SHELL, ["shop/web"])
    ]
    assert _tidegate(server, "findings", "--repository", "shop/web",
                     "--fail-on", "CRITICAL").returncode == 0  # fmt: skip
    (listed,) = aws_ok(server, "list-filters", "--action", "SUPPRESS")["filters"]
    assert (listed["arn"], listed["name"], listed["reason"]) == (arn, "log4shell-web",
                                                                 "not reachable")  # fmt: skip
    assert listed["criteria"] == criteria
    assert listed["ownerId"] == "000000000000"
    assert listed["description"] == "web never logs input"
    assert _finding_events(server, hidden)[0] == "SUPPRESSED"

    assert aws_ok(server, "delete-filter", "--arn", arn) == {"arn": arn}
    assert _vulns(server, "shop/web") == {LOG4SHELL, SECOND}
    assert _counts(server, "shop/web") == web_before
    assert _listed(server, {"findingStatus": _eq("SUPPRESSED")}) == []
    assert _finding_events(server, hidden)[:2] == ["ACTIVE", "SUPPRESSED"]


def test_a_new_image_of_a_matching_repository_arrives_suppressed(server: TidegateServer) -> None:
    later = [{"comparison": "PREFIX", "value": "later/"}]
    criteria = {"vulnerabilityId": _eq(LOG4SHELL), "ecrImageRepositoryName": later}
    arn = _create(server, "log4shell-later", criteria)
    layout: Path = server.layout  # type: ignore[attr-defined]
    skopeo_push(server.host, layout, "later/app:v1")
    _wait(server, lambda: _vulns(server, "later/app") == {SECOND})
    assert _counts(server, "later/app") == {"MEDIUM": 1}
    (hidden,) = _listed(server, {"findingStatus": _eq("SUPPRESSED")})
    assert _repo_of(hidden) == "later/app"
    assert _finding_events(server, hidden) == ["SUPPRESSED"]
    aws_ok(server, "delete-filter", "--arn", arn)
    assert _vulns(server, "later/app") == {LOG4SHELL, SECOND}


def test_a_rule_with_an_expiry_lets_its_findings_back(server: TidegateServer) -> None:
    soon = datetime.fromtimestamp(time.time() + 4, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    criteria = {"vulnerabilityId": _eq(LOG4SHELL), "ecrImageRepositoryName": _eq("shop/api")}
    arn = _create(server, "until-patched", criteria,
                  "--tags", json.dumps({"tidegate:expires": soon}))  # fmt: skip
    assert _vulns(server, "shop/api") == {SECOND}
    _wait(server, lambda: _vulns(server, "shop/api") == {LOG4SHELL, SECOND}, seconds=30)
    assert _counts(server, "shop/api") == {"CRITICAL": 1, "MEDIUM": 1}
    (listed,) = aws_ok(server, "list-filters", "--arns", arn)["filters"]
    assert listed["tags"] == {"tidegate:expires": soon}
    (rule,) = _api(server)["suppressionRules"]
    assert (rule["name"], rule["expired"], rule["matching"]) == ("until-patched", True, 1)
    aws_ok(server, "delete-filter", "--arn", arn)


def test_tagging_an_expiry_moves_it(server: TidegateServer) -> None:
    criteria = {"vulnerabilityId": _eq(LOG4SHELL), "ecrImageRepositoryName": _eq("shop/api")}
    arn = _create(server, "retagged", criteria)
    assert _vulns(server, "shop/api") == {SECOND}
    soon = datetime.fromtimestamp(time.time() + 3, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    aws_ok(server, "tag-resource", "--resource-arn", arn,
           "--tags", json.dumps({"tidegate:expires": soon}))  # fmt: skip
    _wait(server, lambda: _vulns(server, "shop/api") == {LOG4SHELL, SECOND}, seconds=30)
    # Without the expiry the rule holds again, at once.
    aws_ok(server, "untag-resource", "--resource-arn", arn, "--tag-keys", "tidegate:expires")
    assert _vulns(server, "shop/api") == {SECOND}
    assert aws_ok(server, "list-tags-for-resource", "--resource-arn", arn)["tags"] == {}
    past = aws(server, "tag-resource", "--resource-arn", arn,
               "--tags", json.dumps({"tidegate:expires": "2001-01-01"}))  # fmt: skip
    assert "ValidationException" in _error(past)
    assert _vulns(server, "shop/api") == {SECOND}
    aws_ok(server, "delete-filter", "--arn", arn)
    assert _vulns(server, "shop/api") == {LOG4SHELL, SECOND}


def test_rules_that_match_nothing_are_reported_stale(server: TidegateServer) -> None:
    live = _create(server, "live", {"vulnerabilityId": _eq(LOG4SHELL),
                                    "ecrImageRepositoryName": _eq("shop/api")})  # fmt: skip
    gone = _create(server, "gone", {"vulnerabilityId": _eq("CVE-1999-0001")})
    rules = {r["name"]: r for r in _api(server)["suppressionRules"]}
    assert (rules["live"]["stale"], rules["live"]["matching"]) == (False, 1)
    assert (rules["gone"]["stale"], rules["gone"]["matching"]) == (True, 0)
    assert rules["live"]["reason"] == "not reachable"
    assert rules["live"]["author"] == "arn:aws:iam::000000000000:user/admin"
    text = _tidegate(server, "findings")
    assert text.returncode == 0, text.stderr
    lines = {line.split()[0]: line for line in text.stdout.splitlines() if line.strip()}
    assert "STALE" in lines["gone"]
    assert "STALE" not in lines["live"]
    listed = _tidegate(server, "findings", "--rules", "--json")
    assert listed.returncode == 0, listed.stderr
    by_name = {r["name"]: r for r in json.loads(listed.stdout)}
    assert (by_name["gone"]["stale"], by_name["live"]["matching"]) == (True, 1)
    assert by_name["live"]["author"] == "arn:aws:iam::000000000000:user/admin"
    for arn in (live, gone):
        aws_ok(server, "delete-filter", "--arn", arn)


def _error(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    return done.stderr


@pytest.mark.slow
def test_bad_input_is_refused_and_changes_nothing(server: TidegateServer) -> None:
    kept = aws_ok(
        server, "create-filter", "--name", "taken", "--action", "NONE",
        "--filter-criteria", json.dumps({"severity": _eq("CRITICAL")}),
    )["arn"]  # fmt: skip
    base = ["create-filter", "--action", "SUPPRESS", "--filter-criteria"]
    rng = {"inspectorScore": [{"lowerInclusive": 9.0, "upperInclusive": 1.0}]}
    cases = [
        ([*base, json.dumps({"severity": _eq("LOW")}), "--name", "taken"], "ConflictException"),
        ([*base, json.dumps(rng), "--name", "reversed"], "lowerInclusive"),
        ([*base, json.dumps({"findingStatus": _eq("ACTIVE")}), "--name", "st"], "findingStatus"),
        ([*base, json.dumps({"ec2InstanceVpcId": _eq("vpc-1")}), "--name", "ec2"], "does not scan"),
        ([*base, json.dumps({"severity": _eq("LOW")}), "--name", "exp",
          "--tags", json.dumps({"tidegate:expires": "next week"})], "ISO 8601"),
        (["delete-filter", "--arn", kept + "0"], "ResourceNotFoundException"),
        (["update-filter", "--filter-arn", kept + "0", "--reason", "x"],
         "ResourceNotFoundException"),
        (["update-filter", "--filter-arn", kept, "--filter-criteria", json.dumps(rng)],
         "ValidationException"),
    ]  # fmt: skip
    for args, expected in cases:
        assert expected in _error(aws(server, *args)), args
    # A misspelt field (the CLI and boto3 refuse it themselves; a raw request reaches us).
    reply = _signed(server, "/filters/create", {"name": "typo", "action": "SUPPRESS",
                    "filterCriteria": {"vulnerabilityID": _eq(LOG4SHELL)}})  # fmt: skip
    assert (reply.status_code, reply.headers["x-amzn-ErrorType"]) == (400, "ValidationException")
    assert reply.json()["fields"][0]["name"] == "filterCriteria.vulnerabilityID"
    with pytest.raises(ClientError) as caught:
        _inspector(server).update_filter(filterArn=kept, name="x" * 200)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    filters = aws_ok(server, "list-filters")["filters"]
    assert [(f["name"], f["action"]) for f in filters] == [("taken", "NONE")]
    assert filters[0]["criteria"] == {"severity": _eq("CRITICAL")}
    assert _listed(server, {"findingStatus": _eq("SUPPRESSED")}) == []
    aws_ok(server, "delete-filter", "--arn", kept)


def _manifest_digest(server: TidegateServer, repo: str, ref: str) -> tuple[str, int]:
    accept = {"Accept": "application/vnd.oci.image.manifest.v1+json"}
    raw = httpx.get(f"{server.url}/v2/{repo}/manifests/{ref}", headers=accept).content
    return "sha256:" + hashlib.sha256(raw).hexdigest(), len(raw)


def _attach(
    server: TidegateServer,
    tmp: Path,
    repo: str,
    tag: str,
    name: str,
    doc: dict[str, Any],
    media_type: str,
) -> None:
    """`oras attach`: the document as an artifact whose subject is `repo:v1`."""
    digest, size = _manifest_digest(server, repo, "v1")
    (tmp / name).write_text(json.dumps(doc))
    subject = oras.oci.Subject(mediaType="application/vnd.oci.image.manifest.v1+json",
                               digest=digest, size=size)  # fmt: skip
    client = oras.client.OrasClient(hostname=server.host, insecure=True)
    client.push(files=[f"{tmp / name}:{media_type}"], target=f"{server.host}/{repo}:{tag}",
                subject=subject, disable_path_validation=True)  # fmt: skip


def _openvex(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "@context": "https://openvex.dev/ns/v0.2.0", "@id": "https://example.com/vex/1",
        "author": "security@example.com", "timestamp": "2024-01-01T00:00:00Z", "version": 1,
        "statements": [{
            "vulnerability": {"name": LOG4SHELL}, "status": status,
            "products": [{"@id": "pkg:oci/api",
                          "subcomponents": [{"@id": "pkg:maven/org.apache.logging.log4j/"
                                                    "log4j-core@2.14.1"}]}],
            **extra,
        }],
    }  # fmt: skip


def test_vex_referrers_suppress_or_annotate_their_image(
    server: TidegateServer, tmp_path: Path
) -> None:
    reason = {"justification": "vulnerable_code_not_in_execute_path",
              "impact_statement": "message lookups are disabled"}  # fmt: skip
    _attach(server, tmp_path, "shop/api", "vex-log4shell", "vex.openvex.json",
            _openvex("not_affected", **reason), "application/vnd.openvex+json")  # fmt: skip
    assert _vulns(server, "shop/api") == {SECOND}
    assert _vulns(server, "shop/web") == {LOG4SHELL, SECOND}
    assert _counts(server, "shop/api") == {"MEDIUM": 1}
    (hidden,) = _listed(server, {"findingStatus": _eq("SUPPRESSED")})
    assert _repo_of(hidden) == "shop/api"
    assert _finding_events(server, hidden)[0] == "SUPPRESSED"
    triage = {"state": "in_triage", "detail": "checking the config"}
    cdx = {"bomFormat": "CycloneDX", "specVersion": "1.5",
           "vulnerabilities": [{"id": SECOND, "analysis": triage}]}  # fmt: skip
    _attach(server, tmp_path, "shop/api", "vex-triage", "vex.cdx.json", cdx,
            "application/vnd.cyclonedx+json")  # fmt: skip
    assert _vulns(server, "shop/api") == {SECOND}  # annotated, not hidden
    shown = httpx.get(f"{server.url}/api/vex", params={"repository": "shop/api"}).json()
    by_vuln = {s["vulnerabilityId"]: s for s in shown["statements"]}
    assert by_vuln[LOG4SHELL]["status"] == "not_affected"
    assert by_vuln[LOG4SHELL]["justification"] == "vulnerable_code_not_in_execute_path"
    assert by_vuln[LOG4SHELL]["statement"] == "message lookups are disabled"
    assert by_vuln[LOG4SHELL]["findings"] == 1
    assert (by_vuln[SECOND]["status"], by_vuln[SECOND]["findings"]) == ("under_investigation", 1)
    assert by_vuln[SECOND]["statement"] == "checking the config"
    _vex_is_shown_on_the_findings(server, by_vuln)

    ecr = server.ecr()
    ecr.batch_delete_image(repositoryName="shop/api", imageIds=[{"imageTag": "vex-log4shell"}])
    assert _vulns(server, "shop/api") == {LOG4SHELL, SECOND}
    assert _counts(server, "shop/api") == {"CRITICAL": 1, "MEDIUM": 1}
    assert _finding_events(server, hidden)[0] == "ACTIVE"
    ecr.batch_delete_image(repositoryName="shop/api", imageIds=[{"imageTag": "vex-triage"}])
    assert (
        httpx.get(f"{server.url}/api/vex", params={"repository": "shop/api"}).json()["statements"]
        == []
    )


def _vex_is_shown_on_the_findings(server: TidegateServer, by_vuln: dict[str, Any]) -> None:
    """/api/findings, `tidegate findings` and the console's image page show each finding the
    statements that apply: the suppressed one its not_affected, the active one its triage."""
    not_affected = {"status": "not_affected",
                    "justification": "vulnerable_code_not_in_execute_path",
                    "statement": "message lookups are disabled",
                    "document": by_vuln[LOG4SHELL]["document"],
                    "vulnerabilityId": LOG4SHELL}  # fmt: skip
    triage = {"status": "under_investigation", "justification": None,
              "statement": "checking the config", "document": by_vuln[SECOND]["document"],
              "vulnerabilityId": SECOND}  # fmt: skip
    (hidden,) = _api(server, repository="shop/api", status="SUPPRESSED")["groups"]
    assert (hidden["vulnerabilityId"], hidden["vex"]) == (LOG4SHELL, [not_affected])
    (active,) = _api(server, repository="shop/api")["groups"]
    assert (active["vulnerabilityId"], active["vex"]) == (SECOND, [triage])
    assert all("vex" not in g for g in _api(server, repository="shop/web", status="ALL")["groups"])
    listed = _tidegate(server, "findings", "--repository", "shop/api", "--status", "ALL",
                       "--format", "json")  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    by_id = {g["vulnerabilityId"]: g["vex"] for g in json.loads(listed.stdout)}
    assert by_id == {LOG4SHELL: [not_affected], SECOND: [triage]}
    table = _tidegate(server, "findings", "--repository", "shop/api", "--status", "SUPPRESSED")
    assert table.returncode == 0, table.stderr
    (row,) = [line for line in table.stdout.splitlines() if line.startswith(LOG4SHELL)]
    assert row.endswith("not_affected: vulnerable_code_not_in_execute_path")
    client = signed_in(server, server.access_key())
    digest, _size = _manifest_digest(server, "shop/api", "v1")
    page = client.get(f"/console/repositories/shop/api/images/{digest}")
    assert page.status_code == 200, page.text
    findings = page.text.split('id="findings"')[1]  # the image page lists ACTIVE findings
    assert 'VEX: under_investigation</span> <span class="muted">checking the config' in findings
    assert "not_affected" not in findings


def _upload(server: TidegateServer, repo: str, blob: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(blob).hexdigest()
    start = httpx.post(f"{server.url}/v2/{repo}/blobs/uploads/")
    assert start.status_code == 202, start.text
    location = start.headers["Location"]
    url = location if location.startswith("http") else f"{server.url}{location}"
    sep = "&" if "?" in url else "?"
    done = httpx.put(f"{url}{sep}digest={digest}", content=blob,
                     headers={"Content-Type": "application/octet-stream"})  # fmt: skip
    assert done.status_code == 201, done.text
    return digest


def test_a_malformed_vex_document_refuses_the_push(server: TidegateServer) -> None:
    subject, size = _manifest_digest(server, "shop/api", "v1")
    bad = json.dumps(_openvex("not_affected")).encode()  # no justification nor impact
    empty = b"{}"
    layer, config = _upload(server, "shop/api", bad), _upload(server, "shop/api", empty)
    manifest = {
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "artifactType": "application/vnd.openvex+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config,
                   "size": len(empty)},
        "layers": [{"mediaType": "application/vnd.openvex+json", "digest": layer,
                    "size": len(bad)}],
        "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": subject, "size": size},
    }  # fmt: skip
    reply = httpx.put(
        f"{server.url}/v2/shop/api/manifests/vex-bad", content=json.dumps(manifest),
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )  # fmt: skip
    assert reply.status_code == 400, reply.text
    (error,) = reply.json()["errors"]
    assert error["code"] == "MANIFEST_INVALID"
    assert "justification or an impact_statement" in error["message"]
    assert httpx.get(f"{server.url}/v2/shop/api/manifests/vex-bad").status_code == 404
    assert _vulns(server, "shop/api") == {LOG4SHELL, SECOND}
    assert httpx.get(f"{server.url}/v2/shop/api/referrers/{subject}").json()["manifests"] == []


def test_a_vex_document_without_subject_covers_its_repository(
    server: TidegateServer, tmp_path: Path
) -> None:
    doc = _openvex("fixed", action_statement="rebuilt on 2.17.1")
    (tmp_path / "repo.openvex.json").write_text(json.dumps(doc))
    client = oras.client.OrasClient(hostname=server.host, insecure=True)
    client.push(files=[f"{tmp_path / 'repo.openvex.json'}:application/vnd.openvex+json"],
                target=f"{server.host}/shop/web:vex-all", disable_path_validation=True)  # fmt: skip
    assert _vulns(server, "shop/web") == {SECOND}
    assert _vulns(server, "shop/api") == {LOG4SHELL, SECOND}
    (shown,) = httpx.get(f"{server.url}/api/vex", params={"repository": "shop/web"}).json()[
        "statements"
    ]
    assert (shown["status"], shown["subject"], shown["statement"]) == (
        "fixed", None, "rebuilt on 2.17.1"
    )  # fmt: skip
    server.ecr().batch_delete_image(repositoryName="shop/web", imageIds=[{"imageTag": "vex-all"}])
    assert _vulns(server, "shop/web") == {LOG4SHELL, SECOND}


def test_a_read_only_user_lists_filters_but_cannot_change_them(server: TidegateServer) -> None:
    key_id, secret = new_user(server, "auditor", "AmazonInspector2ReadOnlyAccess")
    reader = boto3.client(
        "inspector2", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip
    assert reader.list_filters()["filters"] == []
    with pytest.raises(ClientError) as caught:
        reader.create_filter(name="sneaky", action="SUPPRESS",
                             filterCriteria={"severity": _eq("CRITICAL")})  # fmt: skip
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "inspector2:CreateFilter" in caught.value.response["Error"]["Message"]
    assert reader.list_filters()["filters"] == []
    assert _vulns(server, "shop/api") == {LOG4SHELL, SECOND}
