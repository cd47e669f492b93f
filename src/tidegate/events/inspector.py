"""Inspector2's spelling of a finding, for `Inspector2 Finding` events.

ECR's enhancedFindings and Inspector's Finding carry the same facts under different names
(`score` vs `inspectorScore`, `remediation.recommendation.url` vs `Url`), and Inspector's
events render timestamps as text (`Wed Sep 04 16:55:38.411 UTC 2024`), not numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=4096)
def inspector_time(at: float) -> str:
    """`Wed Sep 04 16:55:38.411 UTC 2024`: how Inspector2 Finding events render timestamps.

    Day and month names come from fixed tables, not strftime, so the locale cannot change them.
    Cached: a re-scan renders the same few instants (its own time, each image's push time)
    into thousands of events.
    """
    dt = datetime.fromtimestamp(at, UTC)
    millis = dt.microsecond // 1000
    return (
        f"{_DAYS[dt.weekday()]} {_MONTHS[dt.month - 1]} {dt.day:02d} "
        f"{dt:%H:%M:%S}.{millis:03d} UTC {dt.year}"
    )


def to_inspector_finding(finding: Mapping[str, Any]) -> dict[str, Any]:
    """Inspector's spelling of a finding: `inspectorScore`, `adjustedCvss`, `Url`, text times.

    ECR's enhancedFindings use `score`/`scoreDetails.cvss` and `remediation.recommendation.url`;
    Inspector uses `inspectorScore`/`inspectorScoreDetails.adjustedCvss` and `Url`.
    """
    out = dict(finding)
    if "score" in out and "inspectorScore" not in out:
        out["inspectorScore"] = out.pop("score")
    details = out.pop("scoreDetails", None)
    if isinstance(details, Mapping) and "inspectorScoreDetails" not in out:
        out["inspectorScoreDetails"] = {"adjustedCvss": details.get("cvss", {})}
    remediation = out.get("remediation")
    if isinstance(remediation, Mapping):
        recommendation = dict(remediation.get("recommendation", {}))
        if "url" in recommendation:
            recommendation["Url"] = recommendation.pop("url")
        out["remediation"] = {**remediation, "recommendation": recommendation}
    _render_times(out, ("firstObservedAt", "lastObservedAt", "updatedAt"))
    package = out.get("packageVulnerabilityDetails")
    if isinstance(package, Mapping):
        out["packageVulnerabilityDetails"] = package = dict(package)
        _render_times(package, ("vendorCreatedAt", "vendorUpdatedAt"))
    resources = out.get("resources")
    if isinstance(resources, list):
        out["resources"] = [_render_resource(r) for r in resources]
    return out


def _render_resource(resource: Any) -> Any:
    if not isinstance(resource, Mapping):
        return resource
    image = resource.get("details", {}).get("awsEcrContainerImage")
    if not isinstance(image, Mapping):
        return dict(resource)
    image = dict(image)
    _render_times(image, ("pushedAt", "lastInUseAt"))
    return {**resource, "details": {**resource["details"], "awsEcrContainerImage": image}}


def _render_times(obj: dict[str, Any], keys: Iterable[str]) -> None:
    for key in keys:
        value = obj.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            obj[key] = inspector_time(float(value))
