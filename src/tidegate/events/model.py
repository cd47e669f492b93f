"""EventBridge-shaped events, built exactly as ECR and Inspector emit them (ecr-api.md §5).

Every builder returns an `Event`: the standard envelope (`version`, `id`, `detail-type`,
`source`, `account`, `time`, `region`, `resources`, `detail`) with only the documented
detail fields, in the documented order.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from tidegate.errors import InvalidParameter
from tidegate.events.inspector import to_inspector_finding
from tidegate.scanner.severity import ECR_SEVERITIES, INSPECTOR_SEVERITIES, Severity
from tidegate.states import FindingStatus, ScanFrequency, ScanStatus, ScanType

IMAGE_ACTION = "ECR Image Action"
IMAGE_SCAN = "ECR Image Scan"
SCAN_RESOURCE_CHANGE = "ECR Scan Resource Change"
INSPECTOR_SCAN = "Inspector2 Scan"
INSPECTOR_FINDING = "Inspector2 Finding"
DETAIL_TYPES = (IMAGE_ACTION, IMAGE_SCAN, SCAN_RESOURCE_CHANGE, INSPECTOR_SCAN, INSPECTOR_FINDING)

FINDING_STATUSES = tuple(FindingStatus)
# Members the Inspector2 model marks required on a Finding (ecr-api.md §4).
FINDING_REQUIRED = (
    "findingArn",
    "awsAccountId",
    "type",
    "description",
    "remediation",
    "severity",
    "firstObservedAt",
    "lastObservedAt",
    "status",
    "resources",
)


_VARIANT = "89ab"


def _uuid4() -> str:
    """A random RFC 4122 version-4 UUID string.

    Formatted from os.urandom directly: `str(uuid.uuid4())` builds a UUID object first,
    which was a tenth of the cost of a re-scan's thousands of finding events.
    """
    h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


@dataclass(frozen=True, slots=True)
class Origin:
    """Who emits events: the registry's account and region, plus an injectable clock and ids."""

    account: str
    region: str
    clock: Callable[[], float] = field(default=time.time, compare=False)
    new_id: Callable[[], str] = field(default=_uuid4, compare=False)

    def repository_arn(self, name: str) -> str:
        """The ECR ARN of repository `name` in this registry."""
        return f"arn:aws:ecr:{self.region}:{self.account}:repository/{name}"

    def image_arn(self, name: str, digest: str) -> str:
        """The resource id Inspector uses for one image: the repository ARN + `/sha256:<hex>`."""
        return f"{self.repository_arn(name)}/{digest}"

    def finding_arn(self, finding_id: str) -> str:
        """An Inspector finding ARN; `finding_id` is 32 hex digits (stable per finding)."""
        return f"arn:aws:inspector2:{self.region}:{self.account}:finding/{finding_id}"


@dataclass(frozen=True, slots=True)
class Event:
    """One event envelope; `at` is the epoch time that `time` renders."""

    id: str
    detail_type: str
    source: str
    account: str
    region: str
    at: float
    resources: tuple[str, ...]
    detail: Mapping[str, Any]

    @property
    def time(self) -> str:
        """ISO-8601 UTC with a `Z`, to the second, as EventBridge writes it."""
        return iso_time(self.at)

    def envelope(self) -> dict[str, Any]:
        """The JSON object, keys in EventBridge's order."""
        return {
            "version": "0",
            "id": self.id,
            "detail-type": self.detail_type,
            "source": self.source,
            "account": self.account,
            "time": self.time,
            "region": self.region,
            "resources": list(self.resources),
            "detail": self.detail,
        }

    def body(self) -> str:
        """The envelope as compact JSON: the exact bytes stored, logged and signed."""
        # orjson writes the same compact UTF-8 JSON as json.dumps(separators=(",", ":"),
        # ensure_ascii=False), several times faster: a re-scan may emit thousands.
        return orjson.dumps(self.envelope()).decode()


def iso_time(at: float) -> str:
    """`2019-10-29T02:36:48Z`."""
    return _iso_second(int(at))


@lru_cache(maxsize=1024)
def _iso_second(second: int) -> str:
    # Cached: the thousands of events of one re-scan fall within a few seconds.
    return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(
    origin: Origin, detail_type: str, source: str, resources: Iterable[str], detail: dict[str, Any]
) -> Event:
    return Event(
        id=origin.new_id(),
        detail_type=detail_type,
        source=source,
        account=origin.account,
        region=origin.region,
        at=origin.clock(),
        resources=tuple(resources),
        detail=detail,
    )


def _require(value: str, what: str) -> str:
    if not value:
        msg = f"event field {what} must not be empty"
        raise InvalidParameter(msg)
    return value


def _one_of(value: str, allowed: Iterable[str], what: str) -> str:
    options = tuple(allowed)
    if value not in options:
        msg = f"event field {what} must be one of {', '.join(options)}, not {value!r}"
        raise InvalidParameter(msg)
    return value


def image_action(
    origin: Origin,
    *,
    action: str,
    repository_name: str,
    image_digest: str,
    image_tag: str | None,
    result: str = "SUCCESS",
    manifest_media_type: str | None = None,
    artifact_media_type: str | None = None,
) -> Event:
    """`ECR Image Action`: an image push (`PUSH`) or delete (`DELETE`) completed.

    `image-tag` is left out when the image was pushed or deleted by digest alone; the media
    types are the newer schema's optional members and appear only when known.
    """
    detail: dict[str, Any] = {
        "result": _one_of(result, ("SUCCESS", "FAILURE"), "result"),
        "repository-name": _require(repository_name, "repository-name"),
        "image-digest": _require(image_digest, "image-digest"),
        "action-type": _one_of(action, ("PUSH", "DELETE"), "action-type"),
    }
    if image_tag:
        detail["image-tag"] = image_tag
    if manifest_media_type:
        detail["manifest-media-type"] = manifest_media_type
    if artifact_media_type:
        detail["artifact-media-type"] = artifact_media_type
    return _event(origin, IMAGE_ACTION, "aws.ecr", (), detail)


def _nonzero_counts(counts: Mapping[str, int], allowed: tuple[str, ...]) -> dict[str, int]:
    for key, value in counts.items():
        _one_of(key, allowed, "finding-severity-counts key")
        if value < 0:
            msg = f"finding count for {key} is negative: {value}"
            raise InvalidParameter(msg)
    # Only severities with findings appear, in severity order (ECR's documented example).
    return {str(key): counts[key] for key in allowed if counts.get(key, 0) > 0}


def image_scan(
    origin: Origin,
    *,
    repository_name: str,
    image_digest: str,
    image_tags: Iterable[str],
    severity_counts: Mapping[str, int],
    scan_status: ScanStatus = ScanStatus.COMPLETE,
) -> Event:
    """`ECR Image Scan`: a BASIC scan finished (`COMPLETE`, or `FAILED`)."""
    detail = {
        "scan-status": _one_of(
            scan_status, (ScanStatus.COMPLETE, ScanStatus.FAILED), "scan-status"
        ),
        "repository-name": _require(repository_name, "repository-name"),
        "finding-severity-counts": _nonzero_counts(severity_counts, ECR_SEVERITIES),
        "image-digest": _require(image_digest, "image-digest"),
        "image-tags": sorted(image_tags),
    }
    return _event(origin, IMAGE_SCAN, "aws.ecr", (origin.repository_arn(repository_name),), detail)


def inspector_scan(
    origin: Origin,
    *,
    repository_name: str,
    image_digest: str,
    image_tags: Iterable[str],
    severity_counts: Mapping[str, int],
) -> Event:
    """`Inspector2 Scan`: the initial ENHANCED scan of an image finished.

    `repository-name` is the repository ARN (as Inspector sends it); the counts are always
    CRITICAL, HIGH, MEDIUM and TOTAL, where TOTAL counts every severity.
    """
    _nonzero_counts(severity_counts, INSPECTOR_SEVERITIES)
    arn = origin.repository_arn(_require(repository_name, "repository-name"))
    top = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM)
    counts = {str(key): severity_counts.get(key, 0) for key in top}
    counts["TOTAL"] = sum(severity_counts.values())
    detail = {
        "scan-status": "INITIAL_SCAN_COMPLETE",
        "repository-name": arn,
        "finding-severity-counts": counts,
        "image-digest": _require(image_digest, "image-digest"),
        "image-tags": sorted(image_tags),
        "version": "1.0",
    }
    return _event(origin, INSPECTOR_SCAN, "aws.inspector2", (arn,), detail)


@dataclass(frozen=True, slots=True)
class RepositoryScanChange:
    """One repository in an `ECR Scan Resource Change` event."""

    repository_name: str
    scan_frequency: str
    previous_scan_frequency: str


_FREQUENCIES = tuple(ScanFrequency)


def scan_resource_change(
    origin: Origin,
    *,
    repositories: Iterable[RepositoryScanChange],
    action_type: str = "SCAN_FREQUENCY_CHANGE",
    scan_type: ScanType = ScanType.ENHANCED,
) -> Event:
    """`ECR Scan Resource Change`: under ENHANCED, repositories' scan frequencies changed."""
    entries = [
        {
            "repository-name": _require(change.repository_name, "repository-name"),
            "repository-arn": origin.repository_arn(change.repository_name),
            "scan-frequency": _one_of(change.scan_frequency, _FREQUENCIES, "scan-frequency"),
            "previous-scan-frequency": _one_of(
                change.previous_scan_frequency, _FREQUENCIES, "previous-scan-frequency"
            ),
        }
        for change in repositories
    ]
    detail = {
        "action-type": _require(action_type, "action-type"),
        "repositories": entries,
        "resource-type": "REPOSITORY",
        "scan-type": _one_of(scan_type, tuple(ScanType), "scan-type"),
    }
    return _event(origin, SCAN_RESOURCE_CHANGE, "aws.ecr", (), detail)


def inspector_finding(
    origin: Origin,
    finding: Mapping[str, Any],
    *,
    repository_name: str,
    image_digest: str,
    converted: bool = False,
) -> Event:
    """`Inspector2 Finding`: one enhanced finding was created, updated or closed.

    `finding` is the Inspector `Finding` object (ecr-api.md §4). An ECR `enhancedFindings`
    entry is accepted too and converted (see `to_inspector_finding`). Epoch-number
    timestamps are rendered the way Inspector's events do (`inspector_time`). `converted`
    says the caller already applied `to_inspector_finding` (to shared parts, once).
    """
    detail = dict(finding) if converted else to_inspector_finding(finding)
    missing = [key for key in FINDING_REQUIRED if key not in detail]
    if missing:
        msg = f"Inspector finding lacks required members: {', '.join(missing)}"
        raise InvalidParameter(msg)
    _one_of(str(detail["status"]), FINDING_STATUSES, "status")
    _one_of(str(detail["severity"]), INSPECTOR_SEVERITIES, "severity")
    resource = origin.image_arn(
        _require(repository_name, "repository-name"), _require(image_digest, "image-digest")
    )
    return _event(origin, INSPECTOR_FINDING, "aws.inspector2", (resource,), detail)
