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


def _major(version_id: str) -> str:
    return version_id.split(".", 1)[0]


def _debian(vid: str) -> str | None:
    return f"Debian:{_major(vid)}" if vid else None


def _ubuntu(vid: str) -> str | None:
    return f"Ubuntu:{vid}" if vid else None


def _alpine(vid: str) -> str | None:
    parts = vid.split(".")
    return f"Alpine:v{parts[0]}.{parts[1]}" if len(parts) >= 2 else None


def _alma(vid: str) -> str | None:
    # RHEL rebuilds are binary-compatible: AlmaLinux's errata stand in for them.
    return f"AlmaLinux:{_major(vid)}" if vid else None


def _amazon(vid: str) -> str | None:
    if vid.startswith("20") and len(vid) > 4:
        return "Amazon Linux:1"  # 2018.03 and the other Amazon Linux AMI releases
    return f"Amazon Linux:{vid}" if vid else None


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
    # VERSION_ID -> advisory namespace; None when the distribution has no feed at all.
    namespace: Callable[[str], str | None] | None = None


TABLE: dict[str, Distribution] = {
    d.os_id: d
    for d in (
        Distribution("debian", "Debian", "Debian", "debian", "Debian", "deb", True,
                     ("debian-osv",), _debian),
        Distribution("ubuntu", "Ubuntu", "Ubuntu", "ubuntu", "Canonical", "deb", True,
                     ("ubuntu-cve-tracker",), _ubuntu),
        Distribution("alpine", "Alpine Linux", "Alpine", "alpine", "Alpine", "apk", True,
                     ("alpine-secdb",), _alpine),
        Distribution("almalinux", "AlmaLinux", "AlmaLinux", "almalinux", "AlmaLinux", "rpm",
                     False, ("almalinux-osv",), _alma),
        Distribution("rhel", "Red Hat Enterprise Linux", "Red Hat", "redhat", "Red Hat", "rpm",
                     False, ("almalinux-osv",), _alma),
        Distribution("rocky", "Rocky Linux", "Rocky Linux", "rocky", "Rocky", "rpm", False,
                     ("almalinux-osv",), _alma),
        Distribution("amzn", "Amazon Linux", "Amazon Linux", "amazon", "Amazon", "rpm", False,
                     ("amazon-alas",), _amazon),
        Distribution("wolfi", "Wolfi", "Wolfi", "wolfi", "Chainguard", "apk", False, ()),
        Distribution("sles", "SUSE Linux Enterprise Server", "SUSE", "suse", "SUSE", "rpm",
                     False, ()),
        Distribution("sle_hpc", "SUSE Linux Enterprise HPC", "SUSE", "suse", "SUSE", "rpm",
                     False, ()),
        Distribution("opensuse-leap", "openSUSE Leap", "SUSE", "opensuse", "SUSE", "rpm",
                     False, ()),
    )
}  # fmt: skip


def lookup(distro: Distro | None) -> Distribution | None:
    """The table row of a detected release (None: not a distribution Tidegate knows)."""
    if distro is None or not distro.recognised:
        return None
    return TABLE.get(distro.id)


def advisory_namespace(distro: Distro | None) -> str | None:
    """The advisory namespace of an OS release, or None when no feed covers it."""
    row = lookup(distro)
    if distro is None or row is None or row.namespace is None:
        return None
    return row.namespace(distro.version_id)


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
    if row.namespace is None:
        return f"no vulnerability data exists for {release}; its OS packages were not checked"
    family = (namespace or row.namespace("0") or f"{row.ecosystem}:").split(":", 1)[0] + ":"
    if not has_namespace(family):
        return None
    if namespace is None or not has_namespace(namespace):
        return (
            f"the vulnerability database has no data for {release}; "
            "its OS packages were not checked"
        )
    return None
