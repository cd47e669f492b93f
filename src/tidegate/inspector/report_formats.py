"""A findings report's file: CSV with Inspector's report columns, or JSON `{"findings": []}`.

Both are made from the ECR-shaped findings (numeric times) ListFindings renders; the JSON
report holds each finding exactly as ListFindings returns it. CSV columns keep Inspector's
names and order, the EC2, Lambda and network ones included (left empty), so a sheet or
script that reads Inspector's reports reads these.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from tidegate.events.inspector import to_inspector_finding

CSV_COLUMNS = (
    "AWS Account Id", "Severity", "Fix Available", "Finding Type", "Title", "Description",
    "Finding ARN", "First Seen", "Last Seen", "Last Updated", "Resource ID",
    "Container Image Tags", "Region", "Platform", "Resource Tags", "Affected Packages",
    "Package Installed Version", "Fixed in Version", "Package Remediation", "File Path",
    "Network Paths", "Age (Days)", "Remediation", "Inspector Score", "Inspector Score Vector",
    "Status", "Vulnerability Id", "Vendor", "Vendor Severity", "Vendor Advisory",
    "Vendor Advisory Published", "NVD CVSS3 Score", "NVD CVSS3 Vectors", "NVD CVSS2 Score",
    "NVD CVSS2 Vectors", "Vendor CVSS3 Score", "Vendor CVSS3 Vectors", "Vendor CVSS2 Score",
    "Vendor CVSS2 Vectors", "Resource Type", "Ami", "Resource Public Ipv4",
    "Resource Private Ipv4", "Resource Ipv6", "Resource Vpc", "Port Range", "Epss Score",
    "Exploit Available", "Last Exploited At", "Lambda Layers", "Lambda Package Type",
    "Lambda Last Updated At", "Reference Urls", "Detector Name", "Package Manager",
)  # fmt: skip

EXTENSIONS = {"CSV": "csv", "JSON": "json"}


def iso(value: object) -> str:
    """Epoch seconds as ISO 8601 UTC with milliseconds (`2024-09-04T16:55:38.411Z`)."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    return _iso(float(value))


@lru_cache(maxsize=4096)
def _iso(value: float) -> str:
    # Cached: a report renders the same few instants (each scan's time) thousands of times.
    at = datetime.fromtimestamp(value, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def installed_version(package: Mapping[str, Any]) -> str:
    """epoch:version-release, as the package manager spells it."""
    version = str(package.get("version", ""))
    if package.get("release"):
        version += f"-{package['release']}"
    if package.get("epoch"):
        version = f"{package['epoch']}:{version}"
    return version


def _cvss(vuln: Mapping[str, Any], nvd: bool, major: str) -> tuple[str, str]:
    picked = [
        c for c in vuln.get("cvss", [])
        if str(c.get("version", "")).startswith(major) and (c.get("source") == "NVD") == nvd
    ]  # fmt: skip
    scores = ";".join(str(c.get("baseScore", "")) for c in picked)
    vectors = ";".join(str(c.get("scoringVector", "")) for c in picked)
    return scores, vectors


def csv_row(finding: Mapping[str, Any], region: str, now: float) -> list[str]:
    """One CSV row of an ECR-shaped finding, in `CSV_COLUMNS` order."""
    vuln = finding.get("packageVulnerabilityDetails", {})
    packages = vuln.get("vulnerablePackages", [])
    resource = (finding.get("resources") or [{}])[0]
    image = resource.get("details", {}).get("awsEcrContainerImage", {})
    first = finding.get("firstObservedAt")
    age = int((now - first) // 86400) if isinstance(first, int | float) else ""
    nvd3, nvd3v = _cvss(vuln, True, "3")
    nvd2, nvd2v = _cvss(vuln, True, "2")
    ven3, ven3v = _cvss(vuln, False, "3")
    ven2, ven2v = _cvss(vuln, False, "2")
    cvss = finding.get("scoreDetails", {}).get("cvss", {})
    row = {
        "AWS Account Id": finding.get("awsAccountId", ""),
        "Severity": finding.get("severity", ""),
        "Fix Available": finding.get("fixAvailable", ""),
        "Finding Type": finding.get("type", ""),
        "Title": finding.get("title", ""),
        "Description": finding.get("description", ""),
        "Finding ARN": finding.get("findingArn", ""),
        "First Seen": iso(first),
        "Last Seen": iso(finding.get("lastObservedAt")),
        "Last Updated": iso(finding.get("updatedAt")),
        "Resource ID": resource.get("id", ""),
        "Container Image Tags": ";".join(image.get("imageTags", [])),
        "Region": region,
        "Platform": image.get("platform", ""),
        "Affected Packages": ";".join(p.get("name", "") for p in packages),
        "Package Installed Version": ";".join(installed_version(p) for p in packages),
        "Fixed in Version": ";".join(p.get("fixedInVersion", "") for p in packages),
        "Package Remediation": ";".join(p.get("remediation", "") for p in packages),
        "File Path": ";".join(p.get("filePath", "") for p in packages),
        "Age (Days)": str(age),
        "Remediation": finding.get("remediation", {}).get("recommendation", {}).get("text", ""),
        "Inspector Score": _text(finding.get("score")),
        "Inspector Score Vector": cvss.get("scoringVector", ""),
        "Status": finding.get("status", ""),
        "Vulnerability Id": vuln.get("vulnerabilityId", ""),
        "Vendor": vuln.get("source", ""),
        "Vendor Severity": vuln.get("vendorSeverity", ""),
        "Vendor Advisory": vuln.get("sourceUrl", ""),
        "Vendor Advisory Published": iso(vuln.get("vendorCreatedAt")),
        "NVD CVSS3 Score": nvd3, "NVD CVSS3 Vectors": nvd3v,
        "NVD CVSS2 Score": nvd2, "NVD CVSS2 Vectors": nvd2v,
        "Vendor CVSS3 Score": ven3, "Vendor CVSS3 Vectors": ven3v,
        "Vendor CVSS2 Score": ven2, "Vendor CVSS2 Vectors": ven2v,
        "Resource Type": resource.get("type", ""),
        "Epss Score": _text(finding.get("epss", {}).get("score")),
        "Exploit Available": finding.get("exploitAvailable", ""),
        "Reference Urls": ";".join(vuln.get("referenceUrls", [])),
        "Detector Name": "tidegate",
        "Package Manager": ";".join(p.get("packageManager", "") for p in packages),
    }  # fmt: skip
    return [_text(row.get(column)) for column in CSV_COLUMNS]


def _text(value: object) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else str(value)


Pages = Iterable[list[dict[str, Any]]]


def render_csv(pages: Pages, region: str, now: float) -> Iterator[bytes]:
    """The CSV, one chunk per page of findings (a report is never held whole in memory)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for page in pages:
        writer.writerows(csv_row(finding, region, now) for finding in page)
        yield out.getvalue().encode()
        out.seek(0)
        out.truncate()
    yield out.getvalue().encode()


def render_json(pages: Pages, region: str, now: float) -> Iterator[bytes]:
    """`{"findings": [...]}`, each finding as ListFindings returns it, one chunk per page."""
    yield b'{"findings":['
    first = True
    for page in pages:
        for finding in page:
            yield (b"" if first else b",") + orjson.dumps(to_inspector_finding(finding))
            first = False
    yield b"]}"


RENDERERS: dict[str, Callable[[Pages, str, float], Iterator[bytes]]] = {
    "CSV": render_csv,
    "JSON": render_json,
}
