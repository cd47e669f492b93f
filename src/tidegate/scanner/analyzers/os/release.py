"""Distribution detection from os-release and friends, and distro-aware package identity.

The walker keeps `DISTRO_FILES` for every image; `detect` reads them from the merged view.
`finalize` then gives OS packages their distro ecosystem and PURL, which package analyzers
cannot know on their own (one dpkg database serves Debian and Ubuntu alike).
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import Mapping

from packageurl import PackageURL

from tidegate.scanner import distributions
from tidegate.scanner.model import Distro, Package

DISTRO_FILES = (
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    "etc/redhat-release",
    "etc/system-release",
)
MAX_DISTRO_FILE = 64 << 10

# os-release ID -> (OSV ecosystem, PURL type namespace), from the one distributions table.
ECOSYSTEMS: dict[str, tuple[str, str]] = {
    d.os_id: (d.ecosystem, d.purl_namespace) for d in distributions.TABLE.values()
}


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines with shell quoting; malformed lines are ignored, as systemd does."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or not key.isidentifier():
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            continue
        out[key] = words[0] if words else ""
    return out


def _from_os_release(text: str) -> Distro | None:
    fields = parse_os_release(text)
    distro_id = fields.get("ID", "").lower()
    if not distro_id:
        return None
    return Distro(
        id=distro_id,
        version_id=fields.get("VERSION_ID", ""),
        codename=fields.get("VERSION_CODENAME", ""),
        pretty_name=fields.get("PRETTY_NAME", ""),
        recognised=distro_id in ECOSYSTEMS,
    )


def detect(files: Mapping[str, bytes]) -> Distro | None:
    """The distro from the merged view's distro files, os-release first."""
    for name in ("etc/os-release", "usr/lib/os-release"):
        if name in files:
            found = _from_os_release(files[name].decode("utf-8", "replace"))
            if found is not None:
                return found
    if "etc/alpine-release" in files:
        version = files["etc/alpine-release"].decode("utf-8", "replace").strip()
        return Distro("alpine", version, pretty_name=f"Alpine Linux v{version}")
    if "etc/debian_version" in files:
        version = files["etc/debian_version"].decode("utf-8", "replace").strip()
        major = version.split(".")[0]
        return Distro("debian", major if major.isdigit() else version)
    for name in ("etc/redhat-release", "etc/system-release"):
        if name in files:
            text = files[name].decode("utf-8", "replace").strip()
            return Distro("unknown", "", pretty_name=text, recognised=False)
    return None


def _release(distro: Distro) -> str:
    if distro.id == "alpine":
        # Alpine advisories are per branch: v3.19 for 3.19.1.
        return "v" + ".".join(distro.version_id.split(".")[:2])
    if distro.id in ("rhel", "almalinux", "rocky"):
        return distro.version_id.split(".")[0]
    return distro.version_id


def namespace(distro: Distro | None, ecosystem: str) -> str:
    """The advisory namespace (`Debian:12`, `Alpine:v3.19`) of an OS package."""
    if distro is None or not distro.recognised:
        return ecosystem
    release = _release(distro)
    return f"{ecosystem}:{release}" if release and distro.id != "wolfi" else ecosystem


def _purl(pkg: Package, distro: Distro | None, purl_type: str, vendor: str) -> str:
    qualifiers: dict[str, str] = {}
    if pkg.arch:
        qualifiers["arch"] = pkg.arch
    version = pkg.version
    if purl_type == "rpm" and ":" in version:
        epoch, _, version = version.partition(":")
        qualifiers["epoch"] = epoch
    if distro is not None and distro.version_id:
        qualifiers["distro"] = f"{distro.id}-{distro.version_id}"
    return PackageURL(
        type=purl_type, namespace=vendor, name=pkg.name, version=version, qualifiers=qualifiers
    ).to_string()


_PURL_TYPES = {"os/dpkg": "deb", "os/apk": "apk", "os/rpm": "rpm"}
_DEFAULT_VENDOR = {"deb": "debian", "apk": "alpine", "rpm": "redhat"}


def finalize(pkg: Package, analyzer: str, distro: Distro | None) -> Package:
    """Set an OS package's ecosystem and PURL from the detected distro."""
    purl_type = _PURL_TYPES.get(analyzer)
    if purl_type is None:
        return pkg
    ecosystem, vendor = pkg.ecosystem, _DEFAULT_VENDOR[purl_type]
    if distro is not None and distro.id in ECOSYSTEMS:
        ecosystem, vendor = ECOSYSTEMS[distro.id]
    elif distro is not None:
        vendor = distro.id
    return dataclasses.replace(pkg, ecosystem=ecosystem, purl=_purl(pkg, distro, purl_type, vendor))
