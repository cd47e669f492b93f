"""The state words Tidegate stores and answers with, one StrEnum per vocabulary.

StrEnums, so a member is the word itself: it compares equal to the text read back from the
database, binds as a plain string in SQL and serialises to JSON unchanged. Where two
vocabularies share a word (a scan's ACTIVE, a finding's ACTIVE) they are two enums.
Severity lives in `scanner.severity`, since the scanner (which imports nothing of the app)
rates findings. This module imports nothing, so every package may use it.
"""

from __future__ import annotations

import enum


class ScanType(enum.StrEnum):
    """ECR's ScanType: BASIC (OS packages) or ENHANCED (OS and language packages)."""

    BASIC = "BASIC"
    ENHANCED = "ENHANCED"


class ScanFrequency(enum.StrEnum):
    """ECR's ScanFrequency, a repository's effective rule."""

    SCAN_ON_PUSH = "SCAN_ON_PUSH"
    CONTINUOUS_SCAN = "CONTINUOUS_SCAN"
    MANUAL = "MANUAL"


class ScanStatus(enum.StrEnum):
    """ECR's ScanStatus of one image's scan (the states Tidegate reaches, then the rest)."""

    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETE = "COMPLETE"  # a basic or on-push-only enhanced scan finished
    ACTIVE = "ACTIVE"  # an enhanced scan finished and the image stays under continuous scan
    FAILED = "FAILED"
    UNSUPPORTED_IMAGE = "UNSUPPORTED_IMAGE"
    SCAN_ELIGIBILITY_EXPIRED = "SCAN_ELIGIBILITY_EXPIRED"
    FINDINGS_UNAVAILABLE = "FINDINGS_UNAVAILABLE"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    IMAGE_ARCHIVED = "IMAGE_ARCHIVED"
    IMAGE_SIZE_EXCEEDED = "IMAGE_SIZE_EXCEEDED"


# A scan in one of these has findings to show.
SCANNED = (ScanStatus.COMPLETE, ScanStatus.ACTIVE)
# A scan in one of these has not finished yet.
UNFINISHED = (ScanStatus.PENDING, ScanStatus.IN_PROGRESS)


class FindingStatus(enum.StrEnum):
    """Inspector's FindingStatus of one stored finding (ECR shows only ACTIVE ones)."""

    ACTIVE = "ACTIVE"
    SUPPRESSED = "SUPPRESSED"
    CLOSED = "CLOSED"


class JobKind(enum.StrEnum):
    """What a `scan_jobs` row asks a worker to do."""

    SCAN = "scan"  # analyze and match one image
    RESCAN = "rescan"  # re-match the images a vulnerability-DB update touched
    REPORT = "report"  # write an Inspector findings report or SBOM export


class FilterAction(enum.StrEnum):
    """Inspector's FilterAction: what a findings filter does to the findings it matches."""

    NONE = "NONE"
    SUPPRESS = "SUPPRESS"


class CoverageStatus(enum.StrEnum):
    """Inspector's ScanStatusCode, a covered resource's `scanStatus.statusCode`."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


class CoverageReason(enum.StrEnum):
    """Inspector's ScanStatusReason, a covered resource's `scanStatus.reason` (those used)."""

    SUCCESSFUL = "SUCCESSFUL"
    SCAN_IN_PROGRESS = "SCAN_IN_PROGRESS"
    PENDING_INITIAL_SCAN = "PENDING_INITIAL_SCAN"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    SCAN_ELIGIBILITY_EXPIRED = "SCAN_ELIGIBILITY_EXPIRED"
    SCAN_FREQUENCY_MANUAL = "SCAN_FREQUENCY_MANUAL"
    SCAN_FREQUENCY_SCAN_ON_PUSH = "SCAN_FREQUENCY_SCAN_ON_PUSH"


class ReportStatus(enum.StrEnum):
    """Inspector's ExternalReportStatus of a findings report or SBOM export request."""

    IN_PROGRESS = "IN_PROGRESS"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
