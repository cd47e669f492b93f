"""Image tarballs: `oci-archive:FILE[:TAG]` and `docker-archive:FILE[:REPO:TAG]`.

Blobs are read in place through tarfile's member views, never extracted: the outer tar is
uncompressed (as skopeo and `docker save` write it), so each view is a seekable slice.
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import BinaryIO

from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.image.paths import PathRejected, normalize_member
from tidegate.scanner.sources.layout import check_digest, pick_index_entry
from tidegate.scanner.sources.manifest import digest_of, load_json

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar"


class _Tarball:
    def __init__(self, path: Path) -> None:
        try:
            self.tar = tarfile.open(path, "r:")  # noqa: SIM115 - lives as long as the source
        except (OSError, tarfile.TarError) as exc:
            msg = f"cannot read archive {path}: {exc}"
            raise ScanFailed(msg) from exc
        self.members: dict[str, tarfile.TarInfo] = {}
        for m in self.tar.getmembers():
            try:
                self.members[normalize_member(m.name)] = m
            except PathRejected:
                continue

    def read(self, name: str) -> bytes:
        with self.open(name) as fh:
            return fh.read()

    def open(self, name: str) -> BinaryIO:
        m = self.members.get(name)
        fh = self.tar.extractfile(m) if m is not None and m.isreg() else None
        if fh is None:
            msg = f"archive has no file {name}"
            raise ScanFailed(msg)
        return fh  # type: ignore[return-value]


class OCIArchiveSource:
    """An OCI layout packed in a tar file."""

    def __init__(self, path: Path, tag: str = "") -> None:
        self.tarball = _Tarball(path)
        self.tag = tag
        self.reference = f"oci-archive:{path}" + (f":{tag}" if tag else "")

    def root(self) -> bytes:
        index = load_json(self.tarball.read("index.json"), "index.json")
        return self.manifest(pick_index_entry(index, self.tag, "oci-archive"))

    def manifest(self, digest: str) -> bytes:
        with self.open_blob(digest) as fh:
            return fh.read()

    def open_blob(self, digest: str) -> BinaryIO:
        algo, _, hexpart = check_digest(digest).partition(":")
        return self.tarball.open(f"blobs/{algo}/{hexpart}")


class DockerArchiveSource:
    """A `docker save` tarball; a Docker schema 2 manifest is synthesised from manifest.json.

    Layers of the classic format are uncompressed, so a layer's digest is its diff_id; the
    newer format (Docker 25+) names blobs by digest and those names are used.
    """

    def __init__(self, path: Path, ref: str = "") -> None:
        self.tarball = _Tarball(path)
        self.reference = f"docker-archive:{path}" + (f":{ref}" if ref else "")
        entries = json.loads(self.tarball.read("manifest.json"))
        if not isinstance(entries, list) or not entries:
            raise ScanFailed("docker-archive manifest.json lists no images")
        entry = self._pick(entries, ref)
        self._names: dict[str, str] = {}
        config_name = normalize_member(str(entry["Config"]))
        config_bytes = self.tarball.read(config_name)
        self.config_digest = digest_of(config_bytes)
        self._names[self.config_digest] = config_name
        config = load_json(config_bytes, "image config")
        diff_ids = config.get("rootfs", {}).get("diff_ids", [])
        layers = []
        layer_names: list[object] = list(entry["Layers"])  # type: ignore[call-overload]
        for i, name in enumerate(layer_names):
            lname = normalize_member(str(name))
            digest = self._layer_digest(lname, diff_ids, i)
            self._names[digest] = lname
            size = self.tarball.members[lname].size if lname in self.tarball.members else 0
            layers.append({"mediaType": DOCKER_LAYER, "digest": digest, "size": size})
        self._manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": DOCKER_MANIFEST,
                "config": {"mediaType": DOCKER_CONFIG, "digest": self.config_digest},
                "layers": layers,
            }
        ).encode()

    @staticmethod
    def _pick(entries: list[dict[str, object]], ref: str) -> dict[str, object]:
        if ref.startswith("@"):
            return entries[int(ref[1:])]
        if ref:
            for e in entries:
                tags = e.get("RepoTags") or []
                if isinstance(tags, list) and ref in tags:
                    return e
            msg = f"docker-archive has no image {ref!r}"
            raise ScanFailed(msg)
        if len(entries) != 1:
            msg = f"docker-archive holds {len(entries)} images; name one"
            raise ScanFailed(msg)
        return entries[0]

    @staticmethod
    def _layer_digest(name: str, diff_ids: list[str], i: int) -> str:
        if name.startswith("blobs/sha256/"):
            return check_digest("sha256:" + name.rsplit("/", 1)[1])
        if i < len(diff_ids):
            return check_digest(str(diff_ids[i]))
        msg = f"docker-archive layer {name} has no diff_id"
        raise ScanFailed(msg)

    def root(self) -> bytes:
        return self._manifest

    def manifest(self, digest: str) -> bytes:
        msg = "docker-archive images have no index"
        raise ScanFailed(msg)

    def open_blob(self, digest: str) -> BinaryIO:
        name = self._names.get(digest)
        if name is None:
            msg = f"docker-archive has no blob {digest}"
            raise ScanFailed(msg)
        return self.tarball.open(name)
