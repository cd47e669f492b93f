"""Scanner output against labels and ground truth: TP/FP/FN, F1, severity and fix agreement.

Packages are compared as (ecosystem, name, version), the ecosystem taken from the purl type
so the comparison does not depend on how the scanner names ecosystems. A finding is a true
positive when its id is one of a label's ids (CVE, GHSA, PYSEC, GO, ALSA aliases) on the same
package and version; the same vulnerability reported again under another id is a false
positive ("duplicate"). The same finding at several locations counts once: labels are per
installed package version, not per path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from packaging.version import InvalidVersion, Version

PURL_ECOSYSTEM = {"deb": "Debian", "rpm": "AlmaLinux", "pypi": "PyPI", "npm": "npm",
                  "maven": "Maven", "gem": "RubyGems", "golang": "Go"}  # fmt: skip
TOOL = {"Debian": "dpkg-query", "AlmaLinux": "rpm -qa", "PyPI": "pip list", "npm": "npm query",
        "Maven": "the Maven repository coordinates", "RubyGems": "gem list",
        "Go": "go version -m"}  # fmt: skip
Key = tuple[str, str, str]


def norm(eco: str, name: str, version: str) -> Key:
    """One spelling per package: PEP 503 names, Go versions without `v`, rpm without epoch."""
    if eco == "PyPI":
        name = re.sub(r"[-_.]+", "-", name).lower()
        version = _pep440(version)
    if eco == "Go":
        version = version.removeprefix("v")
    if eco == "AlmaLinux":
        version = version.split(":", 1)[-1]
    return (eco, name, version)


def _pep440(version: str) -> str:
    """PEP 440's normal form: `2022.12.07` and `2022.12.7` are one version."""
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def purl_key(purl: str, name: str, version: str) -> Key:
    kind = purl.removeprefix("pkg:").split("/", 1)[0]
    eco = PURL_ECOSYSTEM.get(kind, kind)
    if eco == "Maven" and ":" not in name:
        path = unquote(purl.removeprefix("pkg:maven/").split("@", 1)[0])
        group, _, artifact = path.rpartition("/")
        name = f"{group}:{artifact}" if group else artifact
    return norm(eco, name, version)


def finding_key(f: dict[str, Any]) -> Key:
    return purl_key(str(f.get("purl", "")), str(f["package"]), str(f["version"]))


def same_fix(eco: str, finding: dict[str, Any], label: dict[str, Any]) -> bool:
    """Fix state and version agree: the label's fixed version is among the finding's (which
    may list one per release line); `fixState`, where the report carries it, agrees too."""
    versions = {
        norm(eco, "", v.strip())[2] for v in str(finding.get("fixedVersion") or "").split(",")
    }
    versions.discard("")
    state = finding.get("fixState")
    if isinstance(state, str) and state.lower() not in (
        "fixed",
        "notfixed",
        "not_fixed",
        "affected",
    ):
        state = None  # a state the labels do not name (wont-fix, deferred) is not compared
    if label["fixedVersion"]:
        return norm(eco, "", label["fixedVersion"])[2] in versions and state in (
            None,
            "fixed",
            "FIXED",
        )
    return not versions


def ident(vid: str, key: Key) -> str:
    """The stable name of one FN/FP in the baseline."""
    return f"{vid} {key[0]} {key[1]} {key[2]}"


@dataclass(slots=True)
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    severity_same: int = 0
    fix_same: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def severity_agreement(self) -> float:
        return self.severity_same / self.tp if self.tp else 1.0

    @property
    def fix_agreement(self) -> float:
        return self.fix_same / self.tp if self.tp else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp, "fp": self.fp, "fn": self.fn,
            "precision": round(self.precision, 4), "recall": round(self.recall, 4),
            "f1": round(self.f1, 4), "severity_agreement": round(self.severity_agreement, 4),
            "fix_agreement": round(self.fix_agreement, 4),
        }  # fmt: skip


@dataclass(slots=True)
class Inventory:
    truth: int = 0
    found: int = 0
    entries: int = 0  # scanner entries, duplicates and phantoms included
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"truth": self.truth, "found": self.found, "entries": self.entries,
                "missing": sorted(self.missing), "extra": sorted(self.extra)}  # fmt: skip


@dataclass(slots=True)
class Result:
    image: str
    overall: Tally
    by_ecosystem: dict[str, Tally]
    inventory: dict[str, Inventory]
    false_negatives: dict[str, str]  # ident -> why, as far as the comparison can tell
    false_positives: dict[str, str]
    severity_mismatches: dict[str, str]
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "seconds": round(self.seconds, 2),
            "overall": self.overall.as_dict(),
            "by_ecosystem": {k: v.as_dict() for k, v in sorted(self.by_ecosystem.items())},
            "inventory": {k: v.as_dict() for k, v in sorted(self.inventory.items())},
            "false_negatives": dict(sorted(self.false_negatives.items())),
            "false_positives": dict(sorted(self.false_positives.items())),
            "severity_mismatches": dict(sorted(self.severity_mismatches.items())),
        }


def truth_keys(labels: dict[str, Any]) -> set[Key]:
    return {norm(*row) for row in labels["inventory"]}


def compare(report: dict[str, Any], labels: dict[str, Any], seconds: float = 0.0) -> Result:
    truth = truth_keys(labels)
    packages = [p for img in report["images"] for p in img["packages"]]
    found_keys = [purl_key(p["purl"], p["name"], p["version"]) for p in packages]
    inventory: dict[str, Inventory] = {}
    for key in truth:
        inventory.setdefault(key[0], Inventory()).truth += 1
    for key in found_keys:
        inventory.setdefault(key[0], Inventory()).entries += 1
    for key in set(found_keys):
        inv = inventory[key[0]]
        inv.found += 1
        if key not in truth:
            inv.extra.append(f"{key[1]} {key[2]}")
    for key in truth - set(found_keys):
        inventory[key[0]].missing.append(f"{key[1]} {key[2]}")

    by_key: dict[Key, list[dict[str, Any]]] = {}
    for lab in labels["labels"]:
        by_key.setdefault(norm(lab["ecosystem"], lab["package"], lab["version"]), []).append(lab)
    matched: set[int] = set()
    overall, per_eco = Tally(), dict[str, Tally]()
    fps: dict[str, str] = {}
    sev: dict[str, str] = {}
    seen: set[tuple[str, Key]] = set()
    for f in report["findings"]:
        key = finding_key(f)
        if (f["id"], key) in seen:
            continue  # the same finding at another location of the same package version
        seen.add((f["id"], key))
        tally = per_eco.setdefault(key[0], Tally())
        candidates = [lab for lab in by_key.get(key, []) if f["id"] in lab["ids"]]
        free = [lab for lab in candidates if id(lab) not in matched]
        if free:
            lab = free[0]
            matched.add(id(lab))
            for t in (overall, tally):
                t.tp += 1
                t.severity_same += f["severity"] == lab["severity"]
                t.fix_same += same_fix(key[0], f, lab)
            if f["severity"] != lab["severity"]:
                sev[ident(f["id"], key)] = f"{f['severity']} (label {lab['severity']})"
            continue
        for t in (overall, tally):
            t.fp += 1
        if candidates:
            why = f"duplicate: the same vulnerability as {candidates[0]['id']}, another id"
        elif key not in truth:
            why = f"package not installed per {TOOL.get(key[0], 'the real tool')} (phantom)"
        else:
            why = "no feed record puts this installed version in an affected range"
        fps[ident(f["id"], key)] = why
    fns: dict[str, str] = {}
    for key, labs in by_key.items():
        for lab in labs:
            if id(lab) in matched:
                continue
            tally = per_eco.setdefault(key[0], Tally())
            for t in (overall, tally):
                t.fn += 1
            if key not in set(found_keys):
                why = "package missing from Tidegate's inventory"
            else:
                fix = f"fixed in {lab['fixedVersion']}" if lab["fixedVersion"] else "no fix"
                why = f"not reported; {'/'.join(lab['sources'])} says affected ({fix})"
            fns[ident(lab["id"], key)] = why
    return Result(labels["image"], overall, per_eco, inventory, fns, fps, sev, seconds)


def load_labels(labels_dir: Path, image: str) -> dict[str, Any]:
    import json

    return dict(json.loads((labels_dir / f"{image}.json").read_text()))
