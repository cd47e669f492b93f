"""Parse skopeo's transport syntax into an `ImageSource`."""

from __future__ import annotations

from pathlib import Path

from tidegate.errors import InvalidParameter
from tidegate.scanner.sources.archive import DockerArchiveSource, OCIArchiveSource
from tidegate.scanner.sources.base import ImageSource
from tidegate.scanner.sources.layout import OCILayoutSource
from tidegate.scanner.sources.remote import RemoteSource

TRANSPORTS = ("oci", "oci-archive", "docker-archive", "docker")


def _split_path_ref(rest: str) -> tuple[Path, str]:
    """`PATH[:REF]`: the longest prefix naming an existing file or directory is the path."""
    if Path(rest).exists():
        return Path(rest), ""
    cuts = [i for i, ch in enumerate(rest) if ch == ":"]
    for i in reversed(cuts):
        if Path(rest[:i]).exists():
            return Path(rest[:i]), rest[i + 1 :]
    return Path(rest), ""


def parse_registry_ref(rest: str) -> tuple[str, str, str]:
    """`//HOST/REPO[:TAG|@DIGEST]` -> (host, repo, tag or digest)."""
    if not rest.startswith("//"):
        msg = "docker: references look like docker://HOST/REPO:TAG"
        raise InvalidParameter(msg)
    name = rest[2:]
    host, _, remainder = name.partition("/")
    if not remainder:
        msg = f"no repository in docker://{name}"
        raise InvalidParameter(msg)
    if "@" in remainder:
        repo, _, ref = remainder.partition("@")
    else:
        repo, sep, ref = remainder.rpartition(":")
        if not sep or "/" in ref:
            repo, ref = remainder, "latest"
    return host, repo, ref


def open_source(
    image: str, *, username: str = "", password: str = "", insecure: bool = False
) -> ImageSource:
    """The source for `oci:DIR[:TAG]`, `oci-archive:F`, `docker-archive:F`, `docker://H/R:T`."""
    transport, sep, rest = image.partition(":")
    if not sep or transport not in TRANSPORTS:
        msg = f"unknown image transport in {image!r}; use one of {', '.join(TRANSPORTS)}"
        raise InvalidParameter(msg)
    if transport == "docker":
        host, repo, ref = parse_registry_ref(rest)
        return RemoteSource(
            host, repo, ref, username=username, password=password, insecure=insecure
        )
    path, ref = _split_path_ref(rest)
    if transport == "oci":
        return OCILayoutSource(path, ref)
    if transport == "oci-archive":
        return OCIArchiveSource(path, ref)
    return DockerArchiveSource(path, ref)
