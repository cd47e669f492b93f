"""Amazon Linux ALAS, as vuls' JSON of updateinfo: fixed NEVRAs, CVE references, severity."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

from tidegate.scanner import distributions
from tidegate.scanner.severity import Vendor
from tidegate.scanner.vulndb.model import Advisory
from tidegate.scanner.vulndb.updaters.base import Member, Parsed
from tidegate.scanner.vulndb.updaters.common import (
    CVE_RE,
    Faults,
    MalformedRecord,
    fan_out_by_cve,
    fixed_at,
    load_json,
    obj,
    opt_str,
    req_str,
    vendor_rating,
    with_faults,
)
from tidegate.scanner.vulndb.updaters.jsonfiles import JsonFilesUpdater

# Directory layout of the mirror: 1/updates, 2/core, 2/extras/<topic>, 2022/core, 2023/core,
# 2023/kernel-livepatch. Extras and livepatch packages install on the same release.
_RELEASES = ("1", "2", "2022", "2023")
_REPOS = ("updates", "core", "extras", "kernel-livepatch")
NAMESPACE = distributions.feed_namespace("amazon-alas")


def namespace_from_path(path: str) -> str | None:
    """`.../2023/core/2023/ALAS2023-2023-355.json` -> `Amazon Linux:2023`."""
    parts = path.split("/")
    for here, nxt in itertools.pairwise(parts):
        if here in _RELEASES and nxt in _REPOS:
            return f"{NAMESPACE}:{here}"
    return None


def _evr(pkg: Mapping[str, Any]) -> str:
    epoch = opt_str(pkg, "Epoch")
    vr = f"{req_str(pkg, 'Version')}-{req_str(pkg, 'Release')}"
    return vr if epoch in ("", "0") else f"{epoch}:{vr}"


def parse_record(doc_raw: object, path: str, source: str, faults: Faults | None = None) -> Advisory:
    """One ALAS file as an Advisory keyed by its ALAS id (fanned out per CVE later); an
    unknown severity word is noted in `faults` and falls back to CVSS."""
    doc = obj(doc_raw, "record")
    namespace = namespace_from_path(path)
    if namespace is None:
        msg = f"cannot tell the Amazon Linux release from the path {path!r}"
        raise MalformedRecord(msg)
    collection = obj(obj(doc.get("Pkglist"), "Pkglist").get("Collection"), "Collection")
    packages = collection.get("Package") or []
    if not isinstance(packages, list):
        packages = [packages]
    fixed: dict[str, str] = {}
    for raw in packages:
        pkg = obj(raw, "Package")
        fixed.setdefault(req_str(pkg, "Name"), _evr(pkg))
    affected = tuple(fixed_at(namespace, name, evr) for name, evr in sorted(fixed.items()))
    refs = (obj(doc.get("References") or {}, "References").get("Reference")) or []
    if not isinstance(refs, list):
        refs = [refs]
    cves = tuple(sorted({opt_str(r, "ID") for r in refs if isinstance(r, Mapping)} & _cves(refs)))
    faults = [] if faults is None else faults
    rating = vendor_rating(Vendor.AMAZON, opt_str(doc, "Severity"), faults)
    return Advisory(
        id=req_str(doc, "ID"),
        source=source,
        related=cves,
        summary=opt_str(doc, "Title"),
        details=opt_str(doc, "Description"),
        published=opt_str(obj(doc.get("Issued") or {}, "Issued"), "Date"),
        modified=opt_str(obj(doc.get("Updated") or {}, "Updated"), "Date"),
        distro_severity=rating,
        affected=affected,
        references=tuple(opt_str(r, "Href") for r in refs if isinstance(r, Mapping)),
    )


def _cves(refs: list[Any]) -> set[str]:
    return {
        r["ID"]
        for r in refs
        if isinstance(r, Mapping) and isinstance(r.get("ID"), str) and CVE_RE.fullmatch(r["ID"])
    }


class AmazonAlasUpdater(JsonFilesUpdater):
    """ALAS records (vuls JSON layout) from a directory, archive or URL."""

    def records(self, member: Member) -> Iterator[Parsed]:
        faults: Faults = []
        record = parse_record(load_json(member), member.path, self.name, faults)
        yield from with_faults(member, faults, fan_out_by_cve(record))
