"""The Inspector views: findings by vulnerability, repository, image, layer or package, with
severity, fix-available, repository and text filters, one page at a time."""

from __future__ import annotations

from functools import partial
from urllib.parse import urlencode

from starlette.responses import Response
from starlette.routing import Route

from tidegate.console.views.repositories import image_path
from tidegate.console.web import PAGE_SIZE, SEVERITIES, Call, Console, view
from tidegate.engine import console_reads
from tidegate.engine.aggregate import FindingFilter, GroupBy
from tidegate.engine.finding_groups import GroupRow
from tidegate.errors import InvalidParameter

TITLES = {
    GroupBy.VULNERABILITY: "By vulnerability",
    GroupBy.REPOSITORY: "By repository",
    GroupBy.IMAGE: "By container image",
    GroupBy.LAYER: "By layer",
    GroupBy.PACKAGE: "By package",
}


def _filter(call: Call) -> FindingFilter:
    severities = tuple(s for s in call.query.get("severity", "").upper().split(",") if s)
    for s in severities:
        if s not in SEVERITIES:
            raise InvalidParameter(f"severity must be one of {', '.join(SEVERITIES)}, not {s!r}")
    fix = call.query.get("fixAvailable", "").upper() or None
    if fix is not None and fix not in ("YES", "NO"):
        raise InvalidParameter(
            f"fixAvailable must be YES or NO, not {call.query['fixAvailable']!r}"
        )
    return FindingFilter(
        severities=severities,
        fix_available=fix,
        text=call.query.get("q", "").strip(),
        repository=call.query.get("repository", "").strip() or None,
    )


def _group(call: Call) -> GroupBy:
    raw = call.query.get("groupBy", "vulnerability")
    try:
        return GroupBy(raw)
    except ValueError:
        options = ", ".join(g.value for g in GroupBy)
        raise InvalidParameter(f"groupBy must be one of {options}, not {raw!r}") from None


def _drill(group_by: GroupBy, row: GroupRow) -> tuple[str, str]:
    """(label, link) of one group: the next, narrower view of its findings."""
    key = row.key
    match group_by:
        case GroupBy.VULNERABILITY:
            v = key["vulnerabilityId"]
            return v, "/console/findings?" + urlencode({"groupBy": "image", "q": v})
        case GroupBy.REPOSITORY:
            r = key["repository"]
            return r, "/console/findings?" + urlencode({"groupBy": "image", "repository": r})
        case GroupBy.IMAGE:
            return (
                f"{key['repository']}@{key['imageDigest'][:19]}",
                image_path(key["repository"], key["imageDigest"]) + "#findings",
            )
        case GroupBy.LAYER:
            link = (
                image_path(key["repository"], key["imageDigest"])
                + "?"
                + urlencode({"layer": key["layerHash"]})
            )
            label = f"{key['layerHash'][:19] or '(no layer)'} in {key['repository']}"
            return label, link + "#findings"
        case GroupBy.PACKAGE:
            p = key["packageName"]
            return p, "/console/findings?" + urlencode({"groupBy": "image", "q": p})


def _key(group_by: GroupBy, flt: FindingFilter, number: int, size: int) -> tuple[object, ...]:
    return ("findings", group_by, flt, number, size)


def warm(console: Console) -> None:
    """Count the first page of every unfiltered view in the background (server start)."""
    for group_by in GroupBy:
        flt = FindingFilter()
        console.recent.warm(
            _key(group_by, flt, 1, PAGE_SIZE),
            lambda: console_reads.findings_stamp(console.registry),
            partial(
                console_reads.finding_groups_page,
                console.registry,
                group_by,
                flt,
                offset=0,
                limit=PAGE_SIZE,
            ),
        )


def findings(call: Call) -> Response:
    group_by = _group(call)
    flt = _filter(call)
    target = call.repository_arn(flt.repository or "*")
    call.require("ecr:DescribeImageScanFindings", target)
    number, size = call.page()
    stamp = console_reads.findings_stamp(call.registry)
    computed = call.console.recent.get(
        _key(group_by, flt, number, size),
        stamp,
        lambda: console_reads.finding_groups_page(
            call.registry, group_by, flt, offset=(number - 1) * size, limit=size
        ),
    )
    if computed is None:
        return call.counting("Findings")
    groups, more = computed.value
    rows = [(g, *_drill(group_by, g)) for g in groups]
    return call.render(
        "findings.html",
        title="Findings",
        group_by=group_by,
        groups=list(GroupBy),
        titles=TITLES,
        rows=rows,
        flt=flt,
        number=number,
        more=more,
        computed=computed,
    )


ROUTES = [Route("/findings", view(findings), methods=["GET"])]
