"""Repositories: the list (search, sort, pages, create, delete) and one repository's images
with the Vulnerabilities column as ECR shows it, Scan and delete."""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from starlette.responses import Response
from starlette.routing import Route

from tidegate.console.web import Call, error_status, pages, view
from tidegate.engine import console_reads, overview, policy
from tidegate.errors import InvalidParameter, TidegateError
from tidegate.registry import images
from tidegate.registry.image_scans import ScanState
from tidegate.registry.images import ImageInfo, TagStatus
from tidegate.states import ScanFrequency, ScanStatus


@dataclass(frozen=True, slots=True)
class VulnCell:
    """The Vulnerabilities column of one image."""

    state: str  # the raw status, "" when never scanned (what the page polls on)
    label: str
    css: str
    counts: dict[str, int]
    reason: str = ""


def vulnerability_cell(scan: ScanState | None, frequency: str) -> VulnCell:
    if scan is None:
        if frequency == ScanFrequency.MANUAL:
            return VulnCell("", "Scanning off", "status-off", {})
        return VulnCell("", "Not scanned", "status-off", {})
    counts = dict(scan.severity_counts)
    match scan.status:
        case ScanStatus.PENDING | ScanStatus.IN_PROGRESS:
            return VulnCell(scan.status, "In progress", "", {})
        case ScanStatus.ACTIVE:
            return VulnCell(scan.status, "Active", "status-ok", counts)
        case ScanStatus.COMPLETE:
            return VulnCell(scan.status, "Complete", "status-ok", counts)
        case ScanStatus.FAILED:
            return VulnCell(scan.status, "Failed", "status-bad", {}, scan.description)
        case ScanStatus.UNSUPPORTED_IMAGE:
            return VulnCell(scan.status, "Unsupported", "status-bad", {}, scan.description)
    label = scan.status.replace("_", " ").capitalize()
    return VulnCell(scan.status, label, "status-off", counts, scan.description)


def repo_path(name: str) -> str:
    return "/console/repositories/" + quote(name, safe="/")


def image_path(name: str, digest: str) -> str:
    return repo_path(name) + "/images/" + quote(digest, safe=":")


def _sort(call: Call) -> tuple[str, bool]:
    sort = call.query.get("sort", "name")
    if sort not in overview.REPOSITORY_SORTS:
        allowed = ", ".join(overview.REPOSITORY_SORTS)
        raise InvalidParameter(f"sort must be one of {allowed}, not {sort!r}")
    order = call.query.get("order", "asc")
    if order not in ("asc", "desc"):
        raise InvalidParameter(f"order must be asc or desc, not {order!r}")
    return sort, order == "desc"


def repositories(call: Call) -> Response:
    call.require("ecr:DescribeRepositories", call.repository_arn("*"))
    number, size = call.page()
    sort, descending = _sort(call)
    text = call.query.get("q", "").strip()
    found, total, config = console_reads.repository_page(
        call.registry,
        text=text,
        sort=sort,
        descending=descending,
        offset=(number - 1) * size,
        limit=size,
    )
    host = call.registry_host()
    rows = [
        {
            "summary": s,
            "uri": f"{host}/{s.repo.name}",
            "path": repo_path(s.repo.name),
            "frequency": policy.effective_scanning(
                config, s.repo.name, s.repo.scan_on_push
            ).frequency.value,
        }
        for s in found
    ]
    return call.render(
        "repositories.html",
        title="Repositories",
        rows=rows,
        total=total,
        number=number,
        total_pages=pages(total, number, size),
        sort=sort,
        desc=descending,
        q=text,
        scan_type=config.scan_type.value,
    )


def create_repository(call: Call) -> Response:
    name = call.form.get("repository_name", "").strip()
    mutability = call.form.get("tag_mutability", "MUTABLE")
    params = {
        "repositoryName": name,
        "imageTagMutability": mutability,
        "imageScanningConfiguration": {"scanOnPush": call.form.get("scan_on_push") == "on"},
    }
    call.ecr("CreateRepository", params)
    return call.redirect(repo_path(name), f"Created repository {name}.")


def delete_repository(call: Call) -> Response:
    name = call.path_name()
    force = call.form.get("force") == "on"
    call.ecr("DeleteRepository", {"repositoryName": name, "force": force})
    return call.redirect("/console/repositories", f"Deleted repository {name}.")


def repository(call: Call) -> Response:
    name = call.path_name()
    call.require("ecr:DescribeImages", call.repository_arn(name))
    number, size = call.page()
    repo = call.registry.repository(name)
    infos = images.describe_images(
        call.registry, name, TagStatus.ANY, (number - 1) * size, size + 1
    )
    config = console_reads.scanning_configuration(call.registry)
    effective = policy.effective_scanning(config, repo.name, repo.scan_on_push)
    rows = [_image_row(name, info, effective.frequency.value) for info in infos[:size]]
    host = call.registry_host()
    return call.render(
        "repository.html",
        title=name,
        repo=repo,
        rows=rows,
        number=number,
        more=len(infos) > size,
        frequency=effective.frequency.value,
        applied=effective.applied_filters,
        scan_type=config.scan_type.value,
        uri=f"{host}/{name}",
        path=repo_path(name),
    )


def _image_row(name: str, info: ImageInfo, frequency: str) -> dict[str, object]:
    return {
        "info": info,
        "path": image_path(name, info.manifest.digest),
        "cell": vulnerability_cell(info.scan, frequency),
    }


def start_scan(call: Call) -> Response:
    name, digest = call.path_name(), call.path_digest()
    back = call.form.get("next") or repo_path(name)
    if not back.startswith("/console/"):
        back = repo_path(name)
    try:
        call.ecr("StartImageScan", {"repositoryName": name, "imageId": {"imageDigest": digest}})
    except TidegateError as exc:
        status, _title, message = error_status(call.console, exc)
        if status in (400, 429):  # the 24 h limit and ECR's refusals read best in place
            return call.redirect(back, f"Scan not started: {message}")
        raise
    return call.redirect(back, f"Scan started for {digest}.")


def delete_image(call: Call) -> Response:
    name, digest = call.path_name(), call.path_digest()
    out = call.ecr(
        "BatchDeleteImage", {"repositoryName": name, "imageIds": [{"imageDigest": digest}]}
    )
    if out.get("failures"):
        failure = out["failures"][0]
        return call.redirect(
            repo_path(name), f"Not deleted: {failure.get('failureReason', 'unknown reason')}"
        )
    return call.redirect(repo_path(name), f"Deleted image {digest}.")


def scan_status(call: Call) -> Response:
    """JSON for the page's poller: the Vulnerabilities cell of one image."""
    name, digest = call.path_name(), call.path_digest()
    call.require("ecr:DescribeImages", call.repository_arn(name))
    repo, _row = images.resolve_one(call.registry, name, images.ImageRef(digest, None))
    found = images.describe_refs(call.registry, name, [images.ImageRef(digest, None)])
    config = console_reads.scanning_configuration(call.registry)
    frequency = policy.effective_scanning(config, repo.name, repo.scan_on_push).frequency.value
    cell = vulnerability_cell(found[0].scan, frequency)
    body = {"status": cell.state, "label": cell.label, "counts": cell.counts, "reason": cell.reason}
    return Response(
        json.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"}
    )


ROUTES = [
    Route("/repositories", view(repositories), methods=["GET"]),
    Route("/repositories", view(create_repository), methods=["POST"]),
    Route("/repositories/{name:path}/images/{digest}/scan", view(start_scan), methods=["POST"]),
    Route("/repositories/{name:path}/images/{digest}/delete", view(delete_image), methods=["POST"]),
    Route(
        "/repositories/{name:path}/images/{digest}/status.json", view(scan_status), methods=["GET"]
    ),
    Route("/repositories/{name:path}/delete", view(delete_repository), methods=["POST"]),
]
