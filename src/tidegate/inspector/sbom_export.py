"""CreateSbomExport's `resourceFilterCriteria` over stored images, and one SBOM per image.

The SBOMs are the CLI's (`scanner.sbom`), rendered from each image's stored inventory, so
`tidegate sbom` and an export never disagree about what an image holds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tidegate.engine.reports import StoredImage
from tidegate.events.model import Origin
from tidegate.inspector.errors import invalid
from tidegate.scanner.inventory import ImageInventory
from tidegate.scanner.model import Inventory
from tidegate.scanner.report.model import ScanReport

RESOURCE_TYPE = "AWS_ECR_CONTAINER_IMAGE"
FORMATS = ("CYCLONEDX_1_4", "SPDX_2_3")
_SUPPORTED = ("accountId", "resourceId", "resourceType", "ecrRepositoryName", "ecrImageTags")


def check_criteria(criteria: Mapping[str, Any]) -> None:
    """ValidationException for filters on resources Tidegate does not have (EC2, Lambda…)."""
    for field, items in criteria.items():
        if items and field not in _SUPPORTED:
            raise invalid(
                f"resourceFilterCriteria.{field}",
                "this filter applies to resources Tidegate does not scan",
            )


def _holds(values: Sequence[str], items: Sequence[Mapping[str, Any]]) -> bool:
    """EQUALS entries are alternatives (any value matches one); NOT_EQUALS entries all hold."""
    wanted = [str(i["value"]) for i in items if i["comparison"] == "EQUALS"]
    refused = {str(i["value"]) for i in items if i["comparison"] == "NOT_EQUALS"}
    if refused & set(values):
        return False
    return not wanted or any(v in wanted for v in values)


def matching(
    images: Sequence[StoredImage], criteria: Mapping[str, Any], origin: Origin
) -> list[StoredImage]:
    """The images every filter of `criteria` selects."""
    fields: dict[str, Callable[[StoredImage], Sequence[str]]] = {
        "accountId": lambda _i: [origin.account],
        "resourceId": lambda i: [origin.image_arn(i.repository, i.digest)],
        "resourceType": lambda _i: [RESOURCE_TYPE],
        "ecrRepositoryName": lambda i: [i.repository],
        "ecrImageTags": lambda i: list(i.tags),
    }
    return [
        image
        for image in images
        if all(_holds(fields[f](image), items) for f, items in criteria.items() if items)
    ]


def object_key(report_id: str, origin: Origin, image: StoredImage) -> str:
    """`SBOM/<account>/<reportId>/<repository>/sha256_<hex>.json` (below the keyPrefix)."""
    algorithm, _, hexdigits = image.digest.partition(":")
    return f"SBOM/{origin.account}/{report_id}/{image.repository}/{algorithm}_{hexdigits}.json"


def render_sbom(image: StoredImage, inventory: Inventory, report_format: str) -> bytes:
    """One image's SBOM in `report_format` (CYCLONEDX_1_4 or SPDX_2_3)."""
    reference = f"{image.repository}:{image.tags[0]}" if image.tags else image.repository
    report = ScanReport(images=(ImageInventory(f"{reference}@{image.digest}", image.digest,
                                               inventory),))  # fmt: skip
    if report_format == "CYCLONEDX_1_4":
        from tidegate.scanner.sbom.cyclonedx import render_cyclonedx_1_4

        return render_cyclonedx_1_4(report).encode()
    from tidegate.scanner.sbom.spdx import render_spdx

    return render_spdx(report).encode()
