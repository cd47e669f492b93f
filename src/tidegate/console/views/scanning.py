"""The registry scanning configuration: view, preview which repositories each rule would
match, save (PutRegistryScanningConfiguration); per-repository scanOnPush for BASIC."""

from __future__ import annotations

from collections import Counter
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from tidegate.console.views.repositories import repo_path
from tidegate.console.web import Call, error_status, pages, view
from tidegate.engine import console_reads, policy
from tidegate.engine.policy import ScanningConfiguration, ScanRule
from tidegate.errors import InvalidParameter, TidegateError
from tidegate.states import ScanFrequency, ScanType

RULE_SLOTS = 2
PREVIEW_REPOSITORIES = 5000  # names the preview reads; more are counted as "not previewed"
PREVIEW_SHOWN = 25


def _rules_from(form: dict[str, str] | Any) -> list[dict[str, Any]]:
    rules = []
    for i in range(RULE_SLOTS):
        frequency = form.get(f"rule{i}_frequency", "")
        filters = [f.strip() for f in form.get(f"rule{i}_filters", "").split(",") if f.strip()]
        if not frequency and not filters:
            continue
        if frequency not in tuple(ScanFrequency):
            raise InvalidParameter(f"rule {i + 1}: choose a scan frequency")
        rules.append(
            {
                "scanFrequency": frequency,
                "repositoryFilters": [{"filter": f, "filterType": "WILDCARD"} for f in filters],
            }
        )
    return rules


def _config(scan_type: str, rules: list[dict[str, Any]]) -> ScanningConfiguration:
    return ScanningConfiguration(
        ScanType(scan_type),
        tuple(
            ScanRule(
                ScanFrequency(r["scanFrequency"]),
                tuple(f["filter"] for f in r["repositoryFilters"]),
            )
            for r in rules
        ),
    )


def _preview(call: Call, config: ScanningConfiguration) -> dict[str, Any]:
    flags = console_reads.repository_flags(call.registry, limit=PREVIEW_REPOSITORIES + 1)
    truncated = len(flags) > PREVIEW_REPOSITORIES
    scan_on_push = dict(flags[:PREVIEW_REPOSITORIES])
    names = list(scan_on_push)
    per_rule = []
    for rule in config.rules:
        matched = [n for n in names if any(policy.filter_matches(f, n) for f in rule.filters)]
        per_rule.append({"rule": rule, "count": len(matched), "shown": matched[:PREVIEW_SHOWN]})
    outcome = Counter(
        policy.effective_scanning(config, n, scan_on_push[n]).frequency.value for n in names
    )
    return {
        "rules": per_rule,
        "outcome": dict(outcome),
        "truncated": truncated,
        "repositories": len(names),
    }


def _form_values(scan_type: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    slots = []
    for i in range(RULE_SLOTS):
        rule = rules[i] if i < len(rules) else None
        slots.append(
            {
                "frequency": rule["scanFrequency"] if rule else "",
                "filters": ", ".join(f["filter"] for f in rule["repositoryFilters"])
                if rule
                else "",
            }
        )
    return {"scan_type": scan_type, "slots": slots}


def _page(
    call: Call,
    scan_type: str,
    rules: list[dict[str, Any]],
    *,
    preview: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    number, size = call.page()
    repos, total, saved = console_reads.repository_page(
        call.registry,
        text="",
        sort="name",
        descending=False,
        offset=(number - 1) * size,
        limit=size,
    )
    rows = [
        {
            "repo": s.repo,
            "path": repo_path(s.repo.name),
            "frequency": policy.effective_scanning(
                saved, s.repo.name, s.repo.scan_on_push
            ).frequency.value,
        }
        for s in repos
    ]
    return call.render(
        "scanning.html",
        status,
        title="Scanning configuration",
        form=_form_values(scan_type, rules),
        preview=preview,
        error=error,
        saved=saved,
        rows=rows,
        number=number,
        total_pages=pages(total, number, size),
        frequencies=list(ScanFrequency),
    )


def scanning(call: Call) -> Response:
    out = call.ecr("GetRegistryScanningConfiguration", {})
    config = out["scanningConfiguration"]
    return _page(call, config["scanType"], config["rules"])


def save_scanning(call: Call) -> Response:
    scan_type = call.form.get("scan_type", str(ScanType.BASIC))
    if scan_type not in tuple(ScanType):
        raise InvalidParameter(f"scan type must be BASIC or ENHANCED, not {scan_type!r}")
    try:
        rules = _rules_from(call.form)
    except InvalidParameter as exc:
        return _page(call, scan_type, [], error=exc.message, status=400)
    if call.form.get("intent") == "preview":
        call.require("ecr:GetRegistryScanningConfiguration", "*")
        return _page(call, scan_type, rules, preview=_preview(call, _config(scan_type, rules)))
    try:
        call.ecr("PutRegistryScanningConfiguration", {"scanType": scan_type, "rules": rules})
    except TidegateError as exc:
        status, _title, message = error_status(call.console, exc)
        if status != 400:
            raise
        return _page(call, scan_type, rules, error=message, status=400)
    return call.redirect("/console/settings/scanning", "Saved the scanning configuration.")


def scan_on_push(call: Call) -> Response:
    name = call.path_name()
    flag = call.form.get("scan_on_push") == "on"
    call.ecr(
        "PutImageScanningConfiguration",
        {"repositoryName": name, "imageScanningConfiguration": {"scanOnPush": flag}},
    )
    state = "on" if flag else "off"
    return call.redirect("/console/settings/scanning", f"Scan on push is {state} for {name}.")


ROUTES = [
    Route("/settings/scanning", view(scanning), methods=["GET"]),
    Route("/settings/scanning", view(save_scanning), methods=["POST"]),
    Route("/settings/scanning/repositories/{name:path}", view(scan_on_push), methods=["POST"]),
]
