"""Report destinations: S3's bucket-name rules, folder writes that appear whole or not at
all, refusals as Inspector's ReportingErrorCode; CSV columns and SBOM resource filters."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from tidegate.config import Settings, StorageDriver, StorageSection
from tidegate.engine.reports import StoredImage
from tidegate.events.model import Origin
from tidegate.inspector.destination import (
    DestinationError,
    FolderDestination,
    S3Destination,
    check_destination,
    destination_for,
    sse_kms_key_id,
)
from tidegate.inspector.errors import InspectorError
from tidegate.inspector.report_formats import CSV_COLUMNS, render_csv, render_json
from tidegate.inspector.sbom_export import check_criteria, matching, object_key

KMS = "arn:aws:kms:us-east-1:123456789012:key/0b3b3d1c-1111-2222-3333-444455556666"
ACCOUNT = "123456789012"
ORIGIN = Origin(ACCOUNT, "us-east-1")


@pytest.mark.parametrize(
    "bucket", ["reports", "my.reports-2024", "abc", "a" * 63, "1bucket"]
)  # fmt: skip
def test_valid_bucket_names(bucket: str) -> None:
    check_destination({"bucketName": bucket, "kmsKeyArn": KMS}, ACCOUNT)


@pytest.mark.parametrize(
    "bucket",
    ["ab", "a" * 64, "Reports", "my_reports", "-reports", "reports-", "my..reports",
     "my.-reports", "192.168.1.1", "../etc", "a/b"],
)  # fmt: skip
def test_invalid_bucket_names_are_validation_exceptions(bucket: str) -> None:
    with pytest.raises(InspectorError) as caught:
        check_destination({"bucketName": bucket, "kmsKeyArn": KMS}, ACCOUNT)
    assert caught.value.type_name == "ValidationException"
    assert caught.value.fields[0]["name"] == "s3Destination.bucketName"


@pytest.mark.parametrize("prefix", ["/abs", "../up", "a/../../b", "a\\b", "./here"])
def test_prefixes_may_not_escape_the_bucket(prefix: str) -> None:
    with pytest.raises(InspectorError, match="keyPrefix"):
        check_destination({"bucketName": "reports", "keyPrefix": prefix, "kmsKeyArn": KMS}, ACCOUNT)


def test_kms_key_must_be_a_kms_arn() -> None:
    with pytest.raises(InspectorError, match="kmsKeyArn"):
        check_destination({"bucketName": "reports", "kmsKeyArn": "alias/mine"}, ACCOUNT)
    check_destination({"bucketName": "reports", "kmsKeyArn":
                       "arn:aws:kms:eu-west-1:123456789012:alias/reports"}, ACCOUNT)  # fmt: skip


def test_the_bucket_owner_is_the_registrys_account() -> None:
    mine = {"bucketName": "reports", "kmsKeyArn": KMS, "expectedBucketOwner": ACCOUNT}
    check_destination(mine, ACCOUNT)
    with pytest.raises(InspectorError, match="expectedBucketOwner"):
        check_destination({**mine, "expectedBucketOwner": "999999999999"}, ACCOUNT)


def test_folder_layout_and_atomic_writes(tmp_path: Path) -> None:
    dest = destination_for(Settings(data_dir=tmp_path), {"bucketName": "reports",
                           "keyPrefix": "a/b/", "kmsKeyArn": KMS})  # fmt: skip
    assert isinstance(dest, FolderDestination)  # the default [storage] is the filesystem
    assert dest.write("r.csv", [b"one,", b"two\n"]) == "a/b/r.csv"
    folder = tmp_path / "exports" / "reports" / "a" / "b"
    assert (folder / "r.csv").read_bytes() == b"one,two\n"

    def failing() -> Iterator[bytes]:
        yield b"half"
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        dest.write("s.csv", failing())
    assert sorted(p.name for p in folder.iterdir()) == ["r.csv"]


def test_an_s3_storage_driver_writes_reports_to_its_endpoint(tmp_path: Path) -> None:
    storage = StorageSection(driver=StorageDriver.S3, endpoint_url="http://127.0.0.1:1",
                             bucket="registry", access_key_id="k",
                             secret_access_key="s")  # fmt: skip
    settings = Settings(data_dir=tmp_path, storage=storage)
    dest = destination_for(settings, {"bucketName": "reports", "keyPrefix": "w/",
                                      "kmsKeyArn": KMS})  # fmt: skip
    assert isinstance(dest, S3Destination)
    assert (dest.bucket, dest.full_key("r.csv")) == ("reports", "w/r.csv")
    assert dest.client.meta.endpoint_url == "http://127.0.0.1:1"
    # The registry's account is 000000000000 here: the key is another account's, by ARN.
    assert dest.kms_key_id == KMS


def test_own_keys_go_to_s3_by_id_and_others_by_arn() -> None:
    own = {"account": ACCOUNT, "region": "us-east-1"}
    assert sse_kms_key_id(KMS, **own) == "0b3b3d1c-1111-2222-3333-444455556666"
    alias = "arn:aws:kms:us-east-1:123456789012:alias/reports/weekly"
    assert sse_kms_key_id(alias, **own) == "alias/reports/weekly"
    elsewhere = "arn:aws:kms:eu-west-1:123456789012:key/0b3b3d1c-1111-2222-3333-444455556666"
    assert sse_kms_key_id(elsewhere, **own) == elsewhere
    assert sse_kms_key_id(KMS, account="210987654321", region="us-east-1") == KMS


def test_an_unwritable_destination_is_invalid_permissions(tmp_path: Path) -> None:
    (tmp_path / "blocked").write_text("not a folder")
    with pytest.raises(DestinationError) as caught:
        FolderDestination(tmp_path, "blocked", "x").write("r.json", [b"{}"])
    assert caught.value.code == "INVALID_PERMISSIONS"
    assert "blocked/x/r.json" in caught.value.message


FINDING = {
    "findingArn": "arn:aws:inspector2:us-east-1:123456789012:finding/" + "ab" * 16,
    "awsAccountId": "123456789012", "severity": "HIGH", "status": "ACTIVE",
    "type": "PACKAGE_VULNERABILITY", "title": "CVE-1 - lodash", "description": "d, with comma",
    "firstObservedAt": 1700000000.0, "lastObservedAt": 1700000000.0,
    "updatedAt": 1700000000.0, "fixAvailable": "YES", "exploitAvailable": "NO",
    "packageVulnerabilityDetails": {
        "vulnerabilityId": "CVE-1", "source": "GHSA",
        "vulnerablePackages": [{"name": "lodash", "version": "4.17.15",
                                "fixedInVersion": "4.17.21", "packageManager": "NPM"}],
        "cvss": [{"baseScore": 7.5, "scoringVector": "CVSS:3.1/AV:N", "source": "NVD",
                  "version": "3.1"}],
    },
    "resources": [{"id": "arn:aws:ecr:us-east-1:123456789012:repository/r/sha256:" + "c" * 64,
                   "type": "AWS_ECR_CONTAINER_IMAGE",
                   "details": {"awsEcrContainerImage": {"imageTags": ["v1", "latest"]}}}],
}  # fmt: skip


def test_csv_has_inspectors_columns_and_one_row_per_finding() -> None:
    text = b"".join(render_csv([[FINDING], [FINDING]], "us-east-1", 1700000000.0 + 86400 * 3))
    rows = list(csv.DictReader(io.StringIO(text.decode())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 2
    row = rows[0]
    assert row["Finding ARN"] == FINDING["findingArn"]
    assert row["Description"] == "d, with comma"
    assert row["Container Image Tags"] == "v1;latest"
    assert (row["Affected Packages"], row["Fixed in Version"]) == ("lodash", "4.17.21")
    assert (row["NVD CVSS3 Score"], row["Vendor CVSS3 Score"]) == ("7.5", "")
    assert row["First Seen"] == "2023-11-14T22:13:20.000Z"
    assert row["Age (Days)"] == "3"


def test_json_report_of_no_pages_is_an_empty_list() -> None:
    assert b"".join(render_json([], "us-east-1", 0.0)) == b'{"findings":[]}'


IMAGES = [
    StoredImage("team/api", "sha256:" + "1" * 64, ("v1", "latest"), 1.0),
    StoredImage("team/web", "sha256:" + "2" * 64, ("v1",), 2.0),
    StoredImage("team/web", "sha256:" + "3" * 64, (), 3.0),
]


def _names(criteria: dict[str, list[dict[str, str]]]) -> list[str]:
    return [f"{i.repository}@{i.digest[7]}" for i in matching(IMAGES, criteria, ORIGIN)]


def test_sbom_resource_filters() -> None:
    eq = "EQUALS"
    assert _names({}) == ["team/api@1", "team/web@2", "team/web@3"]
    assert _names({"ecrRepositoryName": [{"comparison": eq, "value": "team/web"}]}) == [
        "team/web@2", "team/web@3"]  # fmt: skip
    assert _names({"ecrImageTags": [{"comparison": eq, "value": "v1"}]}) == [
        "team/api@1", "team/web@2"]  # fmt: skip
    assert _names({"ecrImageTags": [{"comparison": "NOT_EQUALS", "value": "latest"}]}) == [
        "team/web@2", "team/web@3"]  # fmt: skip
    arn = ORIGIN.image_arn("team/web", IMAGES[2].digest)
    assert _names({"resourceId": [{"comparison": eq, "value": arn}]}) == ["team/web@3"]
    assert _names({"accountId": [{"comparison": eq, "value": "999999999999"}]}) == []
    assert _names({"resourceType": [{"comparison": eq, "value": "AWS_ECR_CONTAINER_IMAGE"}],
                   "ecrRepositoryName": [{"comparison": eq, "value": "team/api"},
                                         {"comparison": eq, "value": "team/web"}]}) == [
        "team/api@1", "team/web@2", "team/web@3"]  # fmt: skip
    with pytest.raises(InspectorError, match="ec2InstanceTags"):
        check_criteria({"ec2InstanceTags": [{"comparison": eq, "key": "k"}]})
    assert object_key("r-1", ORIGIN, IMAGES[0]) == (
        f"SBOM/123456789012/r-1/team/api/sha256_{'1' * 64}.json"
    )
