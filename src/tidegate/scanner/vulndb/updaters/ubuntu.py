"""Ubuntu CVE tracker, as vuls' JSON parse of UCT: one file per CVE, status per release."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tidegate.scanner import distributions
from tidegate.scanner.severity import Vendor
from tidegate.scanner.versions.base import AffectedRange, RangeEvent
from tidegate.scanner.vulndb.model import Advisory, AffectedPackage, Cvss, FixState
from tidegate.scanner.vulndb.updaters.base import Member, Parsed
from tidegate.scanner.vulndb.updaters.common import (
    Faults,
    cvss_entry,
    fixed_at,
    load_json,
    obj,
    opt_str,
    req_str,
    str_list,
    vendor_rating,
    with_faults,
)
from tidegate.scanner.vulndb.updaters.jsonfiles import JsonFilesUpdater

RELEASES = {
    "warty": "4.10", "hoary": "5.04", "breezy": "5.10", "dapper": "6.06", "edgy": "6.10",
    "feisty": "7.04", "gutsy": "7.10", "hardy": "8.04", "intrepid": "8.10", "jaunty": "9.04",
    "karmic": "9.10", "lucid": "10.04", "maverick": "10.10", "natty": "11.04",
    "oneiric": "11.10", "precise": "12.04", "quantal": "12.10", "raring": "13.04",
    "saucy": "13.10", "trusty": "14.04", "utopic": "14.10", "vivid": "15.04", "wily": "15.10",
    "xenial": "16.04", "yakkety": "16.10", "zesty": "17.04", "artful": "17.10",
    "bionic": "18.04", "cosmic": "18.10", "disco": "19.04", "eoan": "19.10", "focal": "20.04",
    "groovy": "20.10", "hirsute": "21.04", "impish": "21.10", "jammy": "22.04",
    "kinetic": "22.10", "lunar": "23.04", "mantic": "23.10", "noble": "24.04",
    "oracular": "24.10", "plucky": "25.04", "questing": "25.10",
}  # fmt: skip
_OPEN = {
    "needed": FixState.NOT_FIXED,
    "pending": FixState.NOT_FIXED,
    "needs-triage": FixState.NOT_FIXED,
    "deferred": FixState.DEFERRED,
    "ignored": FixState.WONT_FIX,
}

NAMESPACE = distributions.feed_namespace("ubuntu-cve-tracker")


def namespace_for(release: str) -> str | None:
    """`jammy` -> `Ubuntu:22.04`, `esm-apps/jammy` -> `Ubuntu:Pro:22.04`; None for the rest.

    `upstream`, `devel`, `snap`, FIPS, ROS and phone/core overlays describe no installable
    release an image could carry, and `<x>/esm` duplicates `esm-infra[-legacy]/<x>`.
    """
    if release in RELEASES:
        return f"{NAMESPACE}:{RELEASES[release]}"
    channel, _, codename = release.partition("/")
    if channel in ("esm-apps", "esm-infra") and codename in RELEASES:
        return f"{NAMESPACE}:Pro:{RELEASES[codename]}"
    return None


def _entry(namespace: str, pkg: str, info: Mapping[str, Any]) -> AffectedPackage | None:
    status = opt_str(info, "status")
    if status == "released":
        note = opt_str(info, "note").split()
        if not note:
            return None  # released without a version: nothing comparable
        return fixed_at(namespace, pkg, note[0])
    state = _OPEN.get(status)
    if state is None:
        return None  # not-affected, DNE
    if state is FixState.WONT_FIX and "end of" in opt_str(info, "note").lower():
        # "end of standard support", "end of life": ignored because the release is over.
        state = FixState.END_OF_LIFE
    rng = AffectedRange("ECOSYSTEM", (RangeEvent(introduced="0"),))
    return AffectedPackage(namespace, pkg, (rng,), (), state, None)


def parse_record(doc_raw: object, source: str, faults: Faults | None = None) -> Advisory:
    """One UCT CVE file as an Advisory; an unknown priority or bad vector is noted in
    `faults` and falls back."""
    faults = [] if faults is None else faults
    doc = obj(doc_raw, "record")
    affected: list[AffectedPackage] = []
    for release, pkgs in obj(doc.get("packages") or {}, "packages").items():
        namespace = namespace_for(release)
        if namespace is None:
            continue
        for pkg, info in obj(pkgs, f"packages[{release}]").items():
            entry = _entry(namespace, pkg, obj(info, f"packages[{release}][{pkg}]"))
            if entry is not None:
                affected.append(entry)
    distro = vendor_rating(Vendor.UBUNTU, opt_str(doc, "priority"), faults)
    return Advisory(
        id=req_str(doc, "candidate"),
        source=source,
        details=opt_str(doc, "description"),
        published=opt_str(doc, "public_date"),
        severities=_cvss(doc.get("cvss"), faults),
        distro_severity=distro,
        affected=tuple(affected),
        references=str_list(doc, "references"),
    )


def _cvss(raw: object, faults: Faults) -> tuple[Cvss, ...]:
    """Every scorer's vector (`nvd` first: the rule falls back to NVD's), as
    `" CVSS:3.1/... [8.8 HIGH]"`: the vector is the first word."""
    if not isinstance(raw, Mapping):
        return ()
    out: list[Cvss] = []
    for key in ("nvd", *sorted(k for k in raw if k != "nvd")):
        text = raw.get(key)
        if isinstance(text, str) and text.split():
            entry = cvss_entry(text.split()[0], str(key).upper(), faults)
            if entry is not None:
                out.append(entry)
    return tuple(out)


class UbuntuTrackerUpdater(JsonFilesUpdater):
    """UCT records (vuls JSON layout) from a directory, archive or URL."""

    def records(self, member: Member) -> Iterator[Parsed]:
        faults: Faults = []
        record = parse_record(load_json(member), self.name, faults)
        yield from with_faults(member, faults, iter((record,)))
