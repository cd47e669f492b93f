"""Python distributions: `*.dist-info/METADATA`, `*.egg-info` (file or directory), `.egg` zips."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import ClassVar

from tidegate.scanner.analyzers.base import (
    AnalyzerError,
    AnalyzerInput,
    FileInfo,
    Prefilter,
    register,
)
from tidegate.scanner.analyzers.lang.purls import make_purl, pep503_name
from tidegate.scanner.analyzers.lang.reading import decode_text, read_bounded
from tidegate.scanner.model import Package, PackageManager

_MAX_METADATA = 4 << 20
_MAX_EGG_ENTRIES = 100_000
# A short single-line License header is an SPDX-ish name; longer ones are whole licence texts.
_MAX_LICENSE_HEADER = 80


def parse_core_metadata(text: str) -> dict[str, list[str]]:
    """Headers of a core-metadata file (RFC 822 style), up to the first blank line."""
    headers: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in text.splitlines():
        if not line.strip():
            break
        if line[0] in " \t" and last is not None:
            last[-1] += "\n" + line.strip()
            continue
        key, sep, value = line.partition(":")
        if not sep:
            last = None
            continue
        last = headers.setdefault(key.strip().lower(), [])
        last.append(value.strip())
    return headers


def _licenses(headers: dict[str, list[str]]) -> tuple[str, ...]:
    if expression := headers.get("license-expression"):
        return (expression[0],)
    license_header = (headers.get("license") or [""])[0]
    short = "\n" not in license_header and len(license_header) <= _MAX_LICENSE_HEADER
    if license_header and short and license_header.upper() != "UNKNOWN":
        return (license_header,)
    found = [
        c.rsplit("::", 1)[-1].strip()
        for c in headers.get("classifier", [])
        if c.startswith("License ::") and c.count("::") >= 2
    ]
    return tuple(dict.fromkeys(found))


def package_from_metadata(data: bytes, path: str) -> Package:
    """One `Package` from METADATA / PKG-INFO bytes; raises `AnalyzerError` without Name/Version."""
    headers = parse_core_metadata(decode_text(data))
    name = (headers.get("name") or [""])[0]
    version = (headers.get("version") or [""])[0]
    if not name or not version:
        msg = "core metadata has no Name or Version"
        raise AnalyzerError(msg)
    return Package(
        name=name,
        version=version,
        ecosystem="PyPI",
        package_manager=PackageManager.PYTHONPKG,
        purl=make_purl("pypi", pep503_name(name), version),
        path=path,
        licenses=_licenses(headers),
    )


def _read_egg_pkg_info(file: AnalyzerInput) -> bytes:
    try:
        with file.open() as stream, zipfile.ZipFile(stream) as egg:
            infos = egg.infolist()
            if len(infos) > _MAX_EGG_ENTRIES:
                msg = f"egg has more than {_MAX_EGG_ENTRIES} entries"
                raise AnalyzerError(msg)
            for info in infos:
                if info.filename == "EGG-INFO/PKG-INFO":
                    with egg.open(info) as member:
                        return read_bounded(member, _MAX_METADATA)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        msg = f"unreadable egg: {exc}"
        raise AnalyzerError(msg) from exc
    msg = "egg has no EGG-INFO/PKG-INFO"
    raise AnalyzerError(msg)


@register
class PythonAnalyzer:
    """Installed Python distributions, named as `pip list` names them."""

    name: ClassVar[str] = "lang/python"
    version: ClassVar[int] = 1
    max_file_size: ClassVar[int] = 64 << 20  # .egg zips can be big; metadata itself is capped
    prefilter: ClassVar[Prefilter] = Prefilter(
        names=frozenset({"METADATA", "PKG-INFO"}), suffixes=(".egg-info", ".egg")
    )

    def required(self, path: PurePosixPath, info: FileInfo) -> bool:
        """METADATA in dist-info, PKG-INFO in egg-info/EGG-INFO, egg-info files, `.egg` zips."""
        del info
        parent = path.parent.name
        if path.name == "METADATA":
            return parent.endswith(".dist-info")
        if path.name == "PKG-INFO":
            return parent.endswith(".egg-info") or parent == "EGG-INFO"
        return path.name.endswith((".egg-info", ".egg"))

    def analyze(self, file: AnalyzerInput) -> Iterable[Package]:
        """The one distribution the file describes."""
        if file.path.name.endswith(".egg"):
            data = _read_egg_pkg_info(file)
        else:
            with file.open() as stream:
                data = read_bounded(stream, _MAX_METADATA)
        return [package_from_metadata(data, str(file.path))]
