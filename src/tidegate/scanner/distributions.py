"""The one table of Linux distributions: what Tidegate knows about each os-release ID.

For every ID: the OSV-style ecosystem and PURL namespace its packages carry, the vendor,
how `VERSION_ID` maps to an advisory namespace (None: no feed exists for it), whether the
feed is keyed by *source* package, the version scheme and the feeds that provide its data.
Detection, matching, PURLs and the "were the OS packages checked?" answer all read this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tidegate.scanner.model import Distro


def _major(vid: str) -> str | None:
    return vid.split(".", 1)[0] if vid else None


def _whole(vid: str) -> str | None:
    return vid or None


def _alpine(vid: str) -> str | None:
    parts = vid.split(".")
    return f"v{parts[0]}.{parts[1]}" if len(parts) >= 2 else None


def _amazon(vid: str) -> str | None:
    if vid.startswith("20") and len(vid) > 4:
        return "1"  # 2018.03 and the other Amazon Linux AMI releases
    return vid or None


@dataclass(frozen=True, slots=True)
class Distribution:
    os_id: str
    name: str
    ecosystem: str
    purl_namespace: str
    vendor: str
    scheme: str  # deb | rpm | apk
    source_keyed: bool
    feeds: tuple[str, ...]
    # Advisories live under "<feed_namespace>:<release(VERSION_ID)>"; both None when the
    # distribution has no feed at all.
    feed_namespace: str | None = None
    release: Callable[[str], str | None] | None = None


# RHEL and its rebuilds are binary-compatible: AlmaLinux's errata stand in for them.
TABLE: dict[str, Distribution] = {
    d.os_id: d
    for d in (
        Distribution("debian", "Debian", "Debian", "debian", "Debian", "deb", True,
                     ("debian-osv",), "Debian", _major),
        Distribution("ubuntu", "Ubuntu", "Ubuntu", "ubuntu", "Canonical", "deb", True,
                     ("ubuntu-cve-tracker",), "Ubuntu", _whole),
        Distribution("alpine", "Alpine Linux", "Alpine", "alpine", "Alpine", "apk", True,
                     ("alpine-secdb",), "Alpine", _alpine),
        Distribution("almalinux", "AlmaLinux", "AlmaLinux", "almalinux", "AlmaLinux", "rpm",
                     False, ("almalinux-osv",), "AlmaLinux", _major),
        Distribution("rhel", "Red Hat Enterprise Linux", "Red Hat", "redhat", "Red Hat", "rpm",
                     False, ("almalinux-osv",), "AlmaLinux", _major),
        Distribution("rocky", "Rocky Linux", "Rocky Linux", "rocky", "Rocky", "rpm", False,
                     ("almalinux-osv",), "AlmaLinux", _major),
        Distribution("amzn", "Amazon Linux", "Amazon Linux", "amazon", "Amazon", "rpm", False,
                     ("amazon-alas",), "Amazon Linux", _amazon),
        Distribution("wolfi", "Wolfi", "Wolfi", "wolfi", "Chainguard", "apk", False, ()),
        Distribution("sles", "SUSE Linux Enterprise Server", "SUSE", "suse", "SUSE", "rpm",
                     False, ()),
        Distribution("sle_hpc", "SUSE Linux Enterprise HPC", "SUSE", "suse", "SUSE", "rpm",
                     False, ()),
        Distribution("opensuse-leap", "openSUSE Leap", "SUSE", "opensuse", "SUSE", "rpm",
                     False, ()),
    )
}  # fmt: skip


def feed_namespace(feed: str) -> str:
    """The namespace family a distribution's feed writes its advisories under (`Alpine` for
    alpine-secdb), so the updaters spell namespaces as matching looks them up."""
    names = {row.feed_namespace for row in TABLE.values() if feed in row.feeds}
    if len(names) != 1 or None in names:
        msg = f"{feed!r} is not the feed of one namespace family in the distributions table"
        raise KeyError(msg)
    return str(names.pop())


def lookup(distro: Distro | None) -> Distribution | None:
    """The table row of a detected release (None: not a distribution Tidegate knows)."""
    if distro is None or not distro.recognised:
        return None
    return TABLE.get(distro.id)


def advisory_namespace(distro: Distro | None) -> str | None:
    """The advisory namespace of an OS release, or None when no feed covers it."""
    row = lookup(distro)
    if distro is None or row is None or row.release is None:
        return None
    release = row.release(distro.version_id)
    return None if release is None else f"{row.feed_namespace}:{release}"


def unchecked_reason(distro: Distro | None, has_namespace: Callable[[str], bool]) -> str | None:
    """Why a recognised release's OS packages cannot be checked, or None when they can.

    `has_namespace` asks the vulnerability DB whether it holds any advisory for a namespace
    (`Debian:7`) or, given a prefix ending in ":" (`Debian:`), for any release of the
    family. A release the installed feed does not cover (too old, too new) is reported; a
    DB built without that feed at all (`db update --only …`) is the operator's choice, and
    the scan goes on matching what the DB has.
    """
    row = lookup(distro)
    if distro is None or row is None:
        return None
    release = f"{row.name} {distro.version_id or distro.codename or '(no version)'}".strip()
    namespace = advisory_namespace(distro)
    if row.feed_namespace is None:
        return f"no vulnerability data exists for {release}; its OS packages were not checked"
    if not has_namespace(f"{row.feed_namespace}:"):
        return None
    if namespace is None or not has_namespace(namespace):
        return (
            f"the vulnerability database has no data for {release}; "
            "its OS packages were not checked"
        )
    return None
