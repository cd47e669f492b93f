"""Maven coordinates from the metadata inside a Java archive, and from its file name."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Maven names files artifactId-version[-classifier]; artifact ids may hold digits themselves
# (log4j-1.2-api-2.19.0.jar), so the version starts at the last "-<dotted number>", or at the
# first "-<digit>" when no dotted number exists (junit-4.jar).
_DOTTED = re.compile(r"-\d+(?:\.\d+)+")
_ANY_DIGIT = re.compile(r"-\d")
_ARCHIVE_EXTENSIONS = ("jar", "war", "ear", "par", "sar")
_ARCHIVE_SUFFIX = re.compile(r"\.(?:" + "|".join(_ARCHIVE_EXTENSIONS) + ")$", re.I)
# For pre-filters: what `is_archive_name` accepts, as lower-case suffixes.
ARCHIVE_SUFFIXES = tuple(f".{ext}" for ext in _ARCHIVE_EXTENSIONS)


@dataclass(frozen=True, slots=True)
class Coordinates:
    """Maven `group:artifact` at `version`; group is empty when nothing states it."""

    group: str
    artifact: str
    version: str

    @property
    def name(self) -> str:
        """`group:artifact`, or the bare artifact when the group is unknown."""
        return f"{self.group}:{self.artifact}" if self.group else self.artifact


def parse_properties(text: str) -> dict[str, str]:
    """Java `.properties` key/value pairs (`=` or `:` separated, `#`/`!` comments)."""
    props: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        match = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)", line)
        if match:
            props[match.group(1)] = match.group(2).strip()
    return props


def coordinates_from_pom_properties(text: str) -> Coordinates | None:
    """groupId/artifactId/version of a `META-INF/maven/<g>/<a>/pom.properties`."""
    props = parse_properties(text)
    group, artifact = props.get("groupId", ""), props.get("artifactId", "")
    version = props.get("version", "")
    if not (group and artifact and version):
        return None
    return Coordinates(group, artifact, version)


def _version_start(stem: str) -> int:
    dotted = list(_DOTTED.finditer(stem))
    if dotted:
        return dotted[-1].start()
    first = _ANY_DIGIT.search(stem)
    return first.start() if first else -1


def parse_manifest(text: str) -> dict[str, str]:
    """Main section of a `META-INF/MANIFEST.MF` (72-byte lines continued by a leading space)."""
    attrs: dict[str, str] = {}
    key = ""
    for line in text.splitlines():
        if not line.strip():
            break
        if line.startswith(" ") and key:
            attrs[key] += line[1:]
            continue
        key, sep, value = line.partition(":")
        if not sep:
            key = ""
            continue
        key = key.strip()
        attrs[key] = value.strip()
    return attrs


def coordinates_from_fallback(file_name: str, manifest: dict[str, str]) -> Coordinates | None:
    """Artifact and version from the file name, completed by MANIFEST.MF.

    The manifest cannot name a Maven group reliably (log4j-core says `Implementation-Vendor-Id:
    org.apache`), so no group is guessed: the name is the bare artifact.
    """
    stem = _ARCHIVE_SUFFIX.sub("", file_name)
    split = _version_start(stem)
    if split > 0:
        artifact, version = stem[:split], stem[split + 1 :]
    else:
        artifact = stem
        version = (
            manifest.get("Implementation-Version")
            or manifest.get("Bundle-Version")
            or manifest.get("Specification-Version")
            or ""
        )
    if not artifact or not version:
        return None
    return Coordinates("", artifact, version)


def is_archive_name(name: str) -> bool:
    """Whether an entry or file name is a Java archive by its suffix."""
    return bool(_ARCHIVE_SUFFIX.search(name))


def is_pom_properties(entry: str) -> bool:
    """`META-INF/maven/<group>/<artifact>/pom.properties` (any prefix, as in exploded wars)."""
    parts = entry.split("/")
    return (
        len(parts) >= 5
        and parts[-1] == "pom.properties"
        and parts[-5] == "META-INF"
        and parts[-4] == "maven"
    )
