"""Inspector findings reports, SBOM exports and ASFF over a real server: images pushed by
skopeo and scanned ENHANCED, reports made with the AWS CLI and boto3 and read back from the
destination folder (`<data_dir>/exports/<bucket>/<keyPrefix>/`), and, on a server whose
`[storage]` is S3 (SeaweedFS), from the destination bucket."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from botocore.loaders import Loader

from tests.support.scan_fixtures import advisory, db_update, mirror, npm_image, skopeo_push
from tests.support.seaweed import SeaweedS3
from tests.support.server import TidegateServer
from tidegate.ecr.validation import check_input
from tidegate.inspector.destination import PART_SIZE, DestinationError, S3Destination

pytestmark = [pytest.mark.integration]

AWS = str(Path(sys.executable).with_name("aws"))
KMS = "arn:aws:kms:us-east-1:123456789012:key/0b3b3d1c-1111-2222-3333-444455556666"
WEB = {"ecrImageRepositoryName": [{"comparison": "EQUALS", "value": "team/web"}]}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("reports")


RECORDS = [
    advisory("GHSA-aaaa-aaaa-aaaa", "CVE-2020-0001", "lodash", "4.17.19"),
    advisory("GHSA-bbbb-bbbb-bbbb", "CVE-2020-0002", "lodash", "4.17.21"),
    advisory("GHSA-cccc-cccc-cccc", "CVE-2020-0003", "minimist", "1.2.6"),
]
ENV = {"TIDEGATE_ANONYMOUS_ACCESS": "push", "TIDEGATE_API_ANONYMOUS_ACCESS": "true"}


@pytest.fixture(scope="module")
def inputs(root: Path) -> Path:
    """The advisory mirror (returned) and the image layout `root/layout`, made once."""
    npm_image(root / "layout")
    return mirror(root / "mirror", RECORDS)


def _scanned(srv: TidegateServer, layout: Path) -> None:
    """team/web:v1 and team/api:v1 pushed and scanned ENHANCED (three findings each)."""
    ecr = srv.ecr()
    rule = {"scanFrequency": "SCAN_ON_PUSH",
            "repositoryFilters": [{"filter": "team/*", "filterType": "WILDCARD"}]}  # fmt: skip
    ecr.put_registry_scanning_configuration(scanType="ENHANCED", rules=[rule])
    for name in ("team/web", "team/api"):
        skopeo_push(srv.host, layout, f"{name}:v1")
    deadline = time.monotonic() + 90
    for name in ("team/web", "team/api"):
        while _count(ecr, name) < 3:
            assert time.monotonic() < deadline, srv.log()
            time.sleep(0.3)


@pytest.fixture(scope="module")
def server(root: Path, inputs: Path) -> Iterator[TidegateServer]:
    db_update(root / "data", inputs)
    with TidegateServer(root / "data", env=ENV) as srv:
        _scanned(srv, root / "layout")
        yield srv


def _count(ecr: Any, repo: str) -> int:
    try:
        out = ecr.describe_image_scan_findings(repositoryName=repo, imageId={"imageTag": "v1"})
    except ClientError:
        return 0
    return len(out["imageScanFindings"].get("enhancedFindings", []))


@pytest.fixture(scope="module")
def inspector(server: TidegateServer) -> Any:
    key_id, secret = server.access_key()
    return boto3.client(
        "inspector2", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip


def aws(server: TidegateServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = str(server.data_dir.parent / "no-aws-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(server.data_dir.parent / "none")
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = server.access_key()
    argv = [AWS, "inspector2", *args, "--endpoint-url", server.url, "--output", "json"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


def raw_post(server: TidegateServer, path: str, body: dict[str, Any]) -> httpx.Response:
    """A signed request whose JSON reply is read as sent (botocore would parse the times)."""
    key_id, secret = server.access_key()
    text = json.dumps(body)
    request = AWSRequest("POST", f"{server.url}{path}", data=text,
                         headers={"Content-Type": "application/json"})  # fmt: skip
    SigV4Auth(Credentials(key_id, secret), "inspector2", "us-east-1").add_auth(request)
    return httpx.post(request.url, content=text, headers=dict(request.headers.items()))


def _wait(get: Any, report_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        out: dict[str, Any] = get(reportId=report_id)
        if out["status"] != "IN_PROGRESS":
            return out
        assert time.monotonic() < deadline, out
        time.sleep(0.2)


def dest(bucket: str, prefix: str) -> dict[str, str]:
    return {"bucketName": bucket, "keyPrefix": prefix, "kmsKeyArn": KMS}


def test_cli_csv_report_matches_list_findings(server: TidegateServer, inspector: Any) -> None:
    done = aws(
        server, "create-findings-report", "--report-format", "CSV",
        "--filter-criteria", json.dumps(WEB),
        "--s3-destination", json.dumps(dest("reports", "weekly/web")),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report_id = json.loads(done.stdout)["reportId"]
    status = _wait(inspector.get_findings_report_status, report_id)
    assert status["status"] == "SUCCEEDED", status
    assert status["destination"]["bucketName"] == "reports"
    assert status["filterCriteria"] == WEB
    shown = aws(server, "get-findings-report-status", "--report-id", report_id)
    assert json.loads(shown.stdout)["status"] == "SUCCEEDED", shown.stderr
    path = server.data_dir / "exports" / "reports" / "weekly" / "web" / f"{report_id}.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    listed = inspector.list_findings(filterCriteria=WEB)["findings"]
    assert len(rows) == len(listed) == 3
    by_arn = {f["findingArn"]: f for f in listed}
    assert {r["Finding ARN"] for r in rows} == set(by_arn)
    for row in rows:
        twin = by_arn[row["Finding ARN"]]
        assert row["Severity"] == twin["severity"]
        assert row["Vulnerability Id"] == twin["packageVulnerabilityDetails"]["vulnerabilityId"]
        assert row["Resource ID"] == twin["resources"][0]["id"]
        assert row["Container Image Tags"] == "v1"
        assert row["Status"] == "ACTIVE"
        assert row["Affected Packages"] in ("lodash", "minimist")
        assert row["AWS Account Id"] == twin["awsAccountId"]


def test_json_report_is_list_findings_verbatim(server: TidegateServer, inspector: Any) -> None:
    criteria = {"vulnerablePackages": [{"name": {"comparison": "EQUALS", "value": "lodash"}}]}
    report_id = inspector.create_findings_report(
        reportFormat="JSON", filterCriteria=criteria, s3Destination=dest("reports", "")
    )["reportId"]
    assert _wait(inspector.get_findings_report_status, report_id)["status"] == "SUCCEEDED"
    path = server.data_dir / "exports" / "reports" / f"{report_id}.json"
    written = json.loads(path.read_text(encoding="utf-8"))["findings"]
    listed = raw_post(server, "/findings/list", {"filterCriteria": criteria}).json()["findings"]
    assert len(written) == 4  # two lodash CVEs in each of two images
    assert written == listed


def test_report_failures_are_recorded_and_the_server_keeps_serving(
    server: TidegateServer, inspector: Any
) -> None:
    exports = server.data_dir / "exports"
    exports.mkdir(exist_ok=True)
    (exports / "blocked").write_text("a file where the bucket folder would be")
    report_id = inspector.create_findings_report(
        reportFormat="CSV", s3Destination=dest("blocked", "x")
    )["reportId"]
    status = _wait(inspector.get_findings_report_status, report_id)
    assert status["status"] == "FAILED"
    assert status["errorCode"] == "INVALID_PERMISSIONS"
    assert "blocked/x/" in status["errorMessage"]
    nothing = {"vulnerabilityId": [{"comparison": "EQUALS", "value": "CVE-1999-0001"}]}
    report_id = inspector.create_findings_report(
        reportFormat="JSON", filterCriteria=nothing, s3Destination=dest("reports", "none")
    )["reportId"]
    status = _wait(inspector.get_findings_report_status, report_id)
    assert (status["status"], status["errorCode"]) == ("FAILED", "NO_FINDINGS_FOUND")
    assert not (exports / "reports" / "none").exists()
    assert len(inspector.list_findings()["findings"]) == 6


def _code(caught: pytest.ExceptionInfo[ClientError]) -> str:
    return str(caught.value.response["Error"]["Code"])


def test_bad_report_requests_are_refused_and_store_nothing(inspector: Any) -> None:
    before = inspector.get_findings_report_status()
    bad: list[dict[str, Any]] = [
        {"reportFormat": "XML", "s3Destination": dest("reports", "")},
        {"reportFormat": "CSV", "s3Destination": dest("Bad_Bucket", "")},
        {"reportFormat": "CSV", "s3Destination": dest("reports", "../escape")},
        {"reportFormat": "CSV", "s3Destination": {**dest("reports", ""), "kmsKeyArn": "nope"}},
        {"reportFormat": "CSV", "s3Destination": dest("reports", ""),
         "filterCriteria": {"updatedAt": [{"startInclusive": 2000, "endInclusive": 1000}]}},
        {"reportFormat": "CSV", "s3Destination": dest("reports", ""),
         "filterCriteria": {"ec2InstanceImageId": [{"comparison": "EQUALS", "value": "x"}]}},
    ]  # fmt: skip
    for params in bad:
        with pytest.raises(ClientError) as caught:
            inspector.create_findings_report(**params)
        assert _code(caught) == "ValidationException", params
    assert "bucketName" in _message_of(inspector, dest("Bad_Bucket", ""))
    assert inspector.get_findings_report_status()["reportId"] == before["reportId"]
    missing = "00000000-0000-4000-8000-000000000000"
    for call in (inspector.get_findings_report_status, inspector.cancel_findings_report,
                 inspector.get_sbom_export):  # fmt: skip
        with pytest.raises(ClientError) as caught:
            call(reportId=missing)
        assert _code(caught) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        inspector.create_sbom_export(
            reportFormat="CYCLONEDX_1_4", s3Destination=dest("sboms", ""),
            resourceFilterCriteria={"lambdaFunctionName": [{"comparison": "EQUALS",
                                                            "value": "f"}]},
        )  # fmt: skip
    assert _code(caught) == "ValidationException"
    with pytest.raises(ClientError) as caught:
        inspector.create_sbom_export(reportFormat="CYCLONEDX_1_6", s3Destination=dest("s", "x"))
    assert _code(caught) == "ValidationException"


def _message_of(inspector: Any, destination: dict[str, str]) -> str:
    with pytest.raises(ClientError) as caught:
        inspector.create_findings_report(reportFormat="CSV", s3Destination=destination)
    return str(caught.value.response["Error"]["Message"])


def _tidegate(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "tidegate", *args], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_sbom_exports_match_the_images_inventory(
    server: TidegateServer, inspector: Any, root: Path
) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from spdx_tools.spdx.parser.parse_anything import parse_file

    cli = json.loads(
        _tidegate("sbom", f"oci:{root / 'layout'}:v1", "--format", "cyclonedx", "--no-cache")
    )
    truth = {(c["name"], c["version"], c.get("purl")) for c in _components(cli)}
    assert {name for name, _v, _p in truth} == {"lodash", "minimist"}
    criteria = {"ecrRepositoryName": [{"comparison": "EQUALS", "value": "team/api"}],
                "ecrImageTags": [{"comparison": "EQUALS", "value": "v1"}]}  # fmt: skip
    created = aws(
        server, "create-sbom-export", "--report-format", "CYCLONEDX_1_4",
        "--resource-filter-criteria", json.dumps(criteria),
        "--s3-destination", json.dumps(dest("sboms", "cdx")),
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    export_id = json.loads(created.stdout)["reportId"]
    done = _wait(inspector.get_sbom_export, export_id)
    shown = aws(server, "get-sbom-export", "--report-id", export_id)
    assert json.loads(shown.stdout)["format"] == "CYCLONEDX_1_4", shown.stderr
    assert (done["status"], done["format"]) == ("SUCCEEDED", "CYCLONEDX_1_4"), done
    assert done["filterCriteria"] == criteria
    folder = server.data_dir / "exports" / "sboms" / "cdx" / "SBOM"
    files = sorted(folder.rglob("*.json"))
    assert len(files) == 1, files
    assert "/team/api/sha256_" in files[0].as_posix()
    text = files[0].read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_4).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.4"
    assert {(c["name"], c["version"], c.get("purl")) for c in _components(bom)} == truth

    spdx_id = inspector.create_sbom_export(
        reportFormat="SPDX_2_3", s3Destination=dest("sboms", "spdx"),
        resourceFilterCriteria={"ecrRepositoryName": [{"comparison": "NOT_EQUALS",
                                                       "value": "team/api"}]},
    )["reportId"]  # fmt: skip
    assert _wait(inspector.get_sbom_export, spdx_id)["status"] == "SUCCEEDED"
    files = sorted((server.data_dir / "exports" / "sboms" / "spdx").rglob("*.json"))
    assert len(files) == 1, files
    assert "/team/web/sha256_" in files[0].as_posix()
    document = parse_file(str(files[0]))
    assert document.creation_info.spdx_version == "SPDX-2.3"
    names = ("lodash", "minimist")
    packages = {(p.name, p.version) for p in document.packages if p.name in names}
    assert packages == {(name, version) for name, version, _p in truth}


def _components(bom: dict[str, Any]) -> list[dict[str, Any]]:
    """Library components, wherever they nest (under the image's container component)."""
    out: list[dict[str, Any]] = []
    stack = list(bom.get("components", []))
    while stack:
        comp = stack.pop()
        stack.extend(comp.get("components", []))
        if comp.get("type") == "library":
            out.append(comp)
    return out


def test_asff_output_imports_into_security_hub_shapes(
    server: TidegateServer, inspector: Any
) -> None:
    out = json.loads(_tidegate("findings", "--format", "asff", "--data-dir",
                               str(server.data_dir)))  # fmt: skip
    findings = out["Findings"]
    listed = inspector.list_findings()["findings"]
    assert {f["Id"] for f in findings} == {f["findingArn"] for f in listed}
    model = Loader().load_service_model("securityhub", "service-2")
    for start in range(0, len(findings), 100):
        check_input(model, "BatchImportFindings", {"Findings": findings[start : start + 100]},
                    strict=True)  # fmt: skip
    by_id = {f["findingArn"]: f for f in listed}
    for finding in findings:
        twin = by_id[finding["Id"]]
        assert finding["SchemaVersion"] == "2018-10-08"
        assert finding["Severity"]["Label"] == twin["severity"]
        assert finding["Resources"][0]["Type"] == "AwsEcrContainerImage"
        image = finding["Resources"][0]["Details"]["AwsEcrContainerImage"]
        assert image["ImageDigest"] == twin["resources"][0]["details"]["awsEcrContainerImage"][
            "imageHash"]  # fmt: skip
        assert finding["Vulnerabilities"][0]["Id"] == twin["packageVulnerabilityDetails"][
            "vulnerabilityId"]  # fmt: skip
        assert finding["Workflow"]["Status"] == "NEW"
    web = json.loads(_tidegate("findings", "--format", "asff", "--repository", "team/web",
                               "--data-dir", str(server.data_dir)))["Findings"]  # fmt: skip
    assert len(web) == 3


def test_cancel_stops_a_queued_report_for_good(root: Path) -> None:
    """Without workers the report stays queued; cancelled, it never runs, not even when a
    process with workers claims its job later."""
    data = root / "cancel-data"
    env = ENV
    with TidegateServer(data, env=env, args=["--no-workers"]) as srv:
        client = _client(srv)
        report_id = client.create_findings_report(
            reportFormat="CSV", s3Destination=dest("reports", "")
        )["reportId"]
        assert client.get_findings_report_status(reportId=report_id)["status"] == "IN_PROGRESS"
        cancelled = aws(srv, "cancel-findings-report", "--report-id", report_id)
        assert cancelled.returncode == 0, cancelled.stderr
        assert json.loads(cancelled.stdout) == {"reportId": report_id}
        status = client.get_findings_report_status(reportId=report_id)
        assert status["status"] == "CANCELLED"
        with pytest.raises(ClientError) as caught:
            client.cancel_findings_report(reportId=report_id)
        assert _code(caught) == "ValidationException"
        port = srv.port
    with TidegateServer(data, env=env, port=port) as srv:
        client = _client(srv)
        # Jobs are claimed in order: once a later report has ended, the cancelled one's job
        # has been claimed and dropped.
        later = client.create_findings_report(
            reportFormat="JSON", s3Destination=dest("reports", "")
        )["reportId"]
        ended = _wait(client.get_findings_report_status, later)
        assert (ended["status"], ended["errorCode"]) == ("FAILED", "NO_FINDINGS_FOUND")
        assert client.get_findings_report_status(reportId=report_id)["status"] == "CANCELLED"
        assert not (data / "exports" / "reports").exists()


def _client(server: TidegateServer) -> Any:
    key_id, secret = server.access_key()
    return boto3.client(
        "inspector2", endpoint_url=server.url, region_name="us-east-1",
        aws_access_key_id=key_id, aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip


# -- [storage] driver = "s3": the destination is a bucket at the storage endpoint ---------

REPORTS = "inspector-reports"  # the destination bucket; the registry's blobs are in "registry"


@pytest.fixture(scope="module")
def weed(root: Path) -> Iterator[SeaweedS3]:
    with SeaweedS3(root / "weed" / "data", bucket="registry", kms=True) as s3:
        s3.client().create_bucket(Bucket=REPORTS)
        yield s3


@pytest.fixture(scope="module")
def s3_server(root: Path, inputs: Path, weed: SeaweedS3) -> Iterator[TidegateServer]:
    data = root / "s3-data"
    db_update(data, inputs)
    env = {**ENV, "TIDEGATE_STORAGE": json.dumps(weed.storage(prefix="reg"))}
    with TidegateServer(data, env=env) as srv:
        _scanned(srv, root / "layout")
        yield srv


def _object(weed: SeaweedS3, key: str) -> bytes:
    body: bytes = weed.client().get_object(Bucket=REPORTS, Key=key)["Body"].read()
    return body


def _kms_dest(weed: SeaweedS3, inspector: Any, prefix: str) -> dict[str, str]:
    """A destination encrypted with the store's real KMS key, named by its full ARN."""
    arn = f"arn:aws:kms:us-east-1:{_account(inspector)}:key/{weed.kms_key_id()}"
    return {**dest(REPORTS, prefix), "kmsKeyArn": arn}


def _sse(weed: SeaweedS3, key: str) -> tuple[str, str]:
    head = weed.client().head_object(Bucket=REPORTS, Key=key)
    return head.get("ServerSideEncryption", ""), head.get("SSEKMSKeyId", "")


@pytest.mark.s3
@pytest.mark.slow
def test_s3_storage_writes_reports_and_sboms_to_the_bucket(
    s3_server: TidegateServer, weed: SeaweedS3, root: Path
) -> None:
    inspector = _client(s3_server)
    key_id = weed.kms_key_id()
    report_id = inspector.create_findings_report(
        reportFormat="CSV", filterCriteria=WEB,
        s3Destination=_kms_dest(weed, inspector, "weekly/web"),
    )["reportId"]  # fmt: skip
    status = _wait(inspector.get_findings_report_status, report_id)
    assert status["status"] == "SUCCEEDED", status
    # Stored SSE-KMS under the request's key; S3 decrypts it for a reader with the key.
    assert _sse(weed, f"weekly/web/{report_id}.csv") == ("aws:kms", key_id)
    text = _object(weed, f"weekly/web/{report_id}.csv").decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    listed = inspector.list_findings(filterCriteria=WEB)["findings"]
    assert len(rows) == len(listed) == 3
    by_arn = {f["findingArn"]: f for f in listed}
    assert {r["Finding ARN"] for r in rows} == set(by_arn)
    for row in rows:
        twin = by_arn[row["Finding ARN"]]
        assert row["Severity"] == twin["severity"]
        assert row["Vulnerability Id"] == twin["packageVulnerabilityDetails"]["vulnerabilityId"]

    criteria = {"ecrRepositoryName": [{"comparison": "EQUALS", "value": "team/api"}]}
    export_id = inspector.create_sbom_export(
        reportFormat="CYCLONEDX_1_4", resourceFilterCriteria=criteria,
        s3Destination=_kms_dest(weed, inspector, "cdx"),
    )["reportId"]  # fmt: skip
    assert _wait(inspector.get_sbom_export, export_id)["status"] == "SUCCEEDED"
    keys = weed.client().list_objects_v2(Bucket=REPORTS, Prefix="cdx/")["Contents"]
    assert _sse(weed, keys[0]["Key"]) == ("aws:kms", key_id)
    assert [k["Key"].rsplit("/", 1)[0] for k in keys] == [f"cdx/SBOM/{_account(inspector)}/"
                                                         f"{export_id}/team/api"]  # fmt: skip
    bom = json.loads(_object(weed, keys[0]["Key"]))
    cli = json.loads(
        _tidegate("sbom", f"oci:{root / 'layout'}:v1", "--format", "cyclonedx", "--no-cache")
    )
    truth = {(c["name"], c["version"], c.get("purl")) for c in _components(cli)}
    assert {(c["name"], c["version"], c.get("purl")) for c in _components(bom)} == truth
    assert bom["specVersion"] == "1.4"
    # Nothing went to the data directory, and no upload was left open.
    assert not (s3_server.data_dir / "exports").exists()
    assert weed.client().list_multipart_uploads(Bucket=REPORTS).get("Uploads", []) == []


def _account(inspector: Any) -> str:
    return str(inspector.list_findings(maxResults=1)["findings"][0]["awsAccountId"])


@pytest.mark.s3
@pytest.mark.slow
def test_a_missing_bucket_fails_the_report_and_the_server_keeps_serving(
    s3_server: TidegateServer,
) -> None:
    inspector = _client(s3_server)
    report_id = inspector.create_findings_report(
        reportFormat="JSON", s3Destination=dest("no-such-bucket", "x")
    )["reportId"]
    status = _wait(inspector.get_findings_report_status, report_id)
    assert (status["status"], status["errorCode"]) == ("FAILED", "BUCKET_NOT_FOUND"), status
    assert status["errorCode"] in _reporting_error_codes()
    assert "s3://no-such-bucket/x/" in status["errorMessage"]
    assert "does not exist" in status["errorMessage"]
    assert len(inspector.list_findings()["findings"]) == 6


@pytest.mark.s3
@pytest.mark.slow
def test_a_kms_key_the_store_cannot_use_fails_the_report_and_leaves_nothing(
    s3_server: TidegateServer, weed: SeaweedS3
) -> None:
    inspector = _client(s3_server)
    unknown = f"arn:aws:kms:us-east-1:{_account(inspector)}:key/{uuid.uuid4()}"
    report_id = inspector.create_findings_report(
        reportFormat="JSON", s3Destination={**_kms_dest(weed, inspector, "nokey"),
                                            "kmsKeyArn": unknown},
    )["reportId"]  # fmt: skip
    status = _wait(inspector.get_findings_report_status, report_id)
    assert status["status"] == "FAILED", status
    assert status["errorCode"] in _reporting_error_codes()
    assert f"s3://{REPORTS}/nokey/{report_id}.json" in status["errorMessage"]
    assert f"SSE-KMS with key '{unknown.rsplit('/', 1)[1]}'" in status["errorMessage"]
    listed = weed.client().list_objects_v2(Bucket=REPORTS, Prefix="nokey/")
    assert listed.get("Contents", []) == []
    assert len(inspector.list_findings()["findings"]) == 6


def _reporting_error_codes() -> list[str]:
    model = Loader().load_service_model("inspector2", "service-2")
    return list(model["shapes"]["ReportingErrorCode"]["enum"])


@pytest.mark.s3
@pytest.mark.slow
def test_s3_objects_appear_whole_or_not_at_all(weed: SeaweedS3) -> None:
    """Past one part the body goes up as a multipart upload, completed only at its end; a
    failure midway aborts it, and refused credentials are INVALID_PERMISSIONS. Every part
    is encrypted with the KMS key."""
    key_id = weed.kms_key_id()
    destination = S3Destination(weed.client(), REPORTS, "big", kms_key_id=key_id)
    body = os.urandom(PART_SIZE) + b"x" * (PART_SIZE // 2) + b"tail"
    step = 1 << 20
    chunks = (body[i : i + step] for i in range(0, len(body), step))
    assert destination.write("r.json", chunks) == "big/r.json"
    assert _object(weed, "big/r.json") == body
    assert _sse(weed, "big/r.json") == ("aws:kms", key_id)

    def failing() -> Iterator[bytes]:
        yield body[: PART_SIZE + step]
        raise RuntimeError("cancelled midway")

    with pytest.raises(RuntimeError):
        destination.write("half.json", failing())
    keys = [o["Key"] for o in weed.client().list_objects_v2(Bucket=REPORTS, Prefix="big/")
            ["Contents"]]  # fmt: skip
    assert keys == ["big/r.json"]
    assert weed.client().list_multipart_uploads(Bucket=REPORTS).get("Uploads", []) == []

    stranger = boto3.client(
        "s3", endpoint_url=weed.endpoint_url, region_name="us-east-1",
        aws_access_key_id="not-a-key", aws_secret_access_key="not-a-secret",
        config=Config(retries={"max_attempts": 1}),
    )  # fmt: skip
    with pytest.raises(DestinationError) as caught:
        S3Destination(stranger, REPORTS, "").write("r.csv", [b"a,b\n"])
    assert caught.value.code == "INVALID_PERMISSIONS", caught.value.message
    assert f"s3://{REPORTS}/r.csv" in caught.value.message
