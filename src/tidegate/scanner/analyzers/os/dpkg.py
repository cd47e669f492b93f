"""dpkg databases: `var/lib/dpkg/status` and distroless `var/lib/dpkg/status.d/*`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import ClassVar

from tidegate.scanner.analyzers.base import (
    AnalyzerError,
    AnalyzerInput,
    FileInfo,
    Prefilter,
    register,
)
from tidegate.scanner.model import Package, PackageManager

STATUS = PurePosixPath("var/lib/dpkg/status")
STATUS_D = PurePosixPath("var/lib/dpkg/status.d")


def paragraphs(text: str) -> Iterator[dict[str, str]]:
    """RFC 822-style stanzas; continuation lines are folded into the previous field."""
    fields: dict[str, str] = {}
    last = ""
    for line in text.splitlines():
        if not line.strip():
            if fields:
                yield fields
            fields, last = {}, ""
        elif line[0] in " \t":
            if last:
                fields[last] += "\n" + line.strip()
        else:
            key, sep, value = line.partition(":")
            if not sep:
                msg = f"malformed line {line[:60]!r}"
                raise AnalyzerError(msg)
            last = key.strip()
            fields[last] = value.strip()
    if fields:
        yield fields


def _source(fields: dict[str, str], version: str) -> tuple[str, str]:
    raw = fields.get("Source", "")
    if not raw:
        return fields["Package"], version
    name, _, rest = raw.partition(" ")
    src_version = rest.strip().strip("()") or version
    return name, src_version


@register
class DpkgAnalyzer:
    """Installed packages of Debian-family images, with their source package."""

    name: ClassVar[str] = "os/dpkg"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 64 << 20
    prefilter: ClassVar[Prefilter] = Prefilter(
        paths=frozenset({str(STATUS)}), parents=frozenset({str(STATUS_D)})
    )

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        if path == STATUS:
            return True
        return path.parent == STATUS_D and not path.name.endswith(".md5sums")

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        text = file.read_utf8()
        distroless = file.path.parent == STATUS_D
        found = []
        for fields in paragraphs(text):
            if "Package" not in fields or "Version" not in fields:
                msg = "stanza without Package or Version"
                raise AnalyzerError(msg)
            status = fields.get("Status", "install ok installed" if distroless else "")
            if status.split()[-1:] != ["installed"]:
                continue
            version = fields["Version"]
            src_name, src_version = _source(fields, version)
            found.append(
                Package(
                    name=fields["Package"],
                    version=version,
                    ecosystem="Debian",
                    package_manager=PackageManager.OS,
                    path=str(file.path),
                    source_name=src_name,
                    source_version=src_version,
                    arch=fields.get("Architecture", ""),
                )
            )
        return found
