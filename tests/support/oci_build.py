"""Build real OCI images on disk for tests: OCI layout directories, oci-archive and docker-archive.

A layer comes from one of three sources:

* a directory on disk (`Path`): every entry under it, sorted, names relative to it; hard
  links are kept as tar hard links (tarfile tracks inodes), symlinks as symlinks;
* a list of `Member` values built with `file`, `directory`, `symlink`, `hardlink`,
  `whiteout`, `opaque` (or `Member(...)` directly for hostile names such as `../x`);
* `RawLayer(blob, media_type)`: bytes stored verbatim (for corrupt gzip, truncated tars...).

Usage::

    from tests.support import oci_build as ob

    img = ob.build_oci_layout(
        tmp_path / "layout",
        [
            ob.Layer([ob.file("etc/os-release", b"ID=debian\\nVERSION_ID=12\\n")]),
            ob.Layer(rootfs_dir, compression="zstd"),
            ob.Layer([ob.whiteout("usr/bin/perl"), ob.opaque("var/cache")], compression="none"),
        ],
        tag="latest",
    )
    img.manifest_digest, img.layer_digests  # "sha256:..." strings
    ob.write_oci_archive(tmp_path / "layout", tmp_path / "img.tar")
    ob.build_docker_archive(tmp_path / "docker.tar", [ob.Layer(...)], repo_tag="x:1")
    ob.build_oci_index(tmp_path / "multi", {"linux/amd64": [...], "linux/arm64": [...]})

Compression is "gzip", "zstd" or "none"; `docker_media_types=True` uses the Docker schema 2
media types instead of OCI ones. Everything is written to temporary files and streamed, so
large rootfs directories do not sit in memory.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import zstandard

Compression = Literal["gzip", "zstd", "none"]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
_OCI_LAYER = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
_DOCKER_LAYER = {
    "none": "application/vnd.docker.image.rootfs.diff.tar",
    "gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "zstd": "application/vnd.docker.image.rootfs.diff.tar.zstd",
}
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class Member:
    """One tar entry. `kind` is file, dir, symlink, hardlink; `size` overrides the header size."""

    name: str
    kind: Literal["file", "dir", "symlink", "hardlink"] = "file"
    data: bytes = b""
    target: str = ""
    mode: int = 0o644
    size: int | None = None


def file(name: str, data: bytes | str, mode: int = 0o644) -> Member:
    """A regular file with the given content."""
    return Member(name, "file", data.encode() if isinstance(data, str) else data, mode=mode)


def directory(name: str, mode: int = 0o755) -> Member:
    return Member(name, "dir", mode=mode)


def symlink(name: str, target: str) -> Member:
    return Member(name, "symlink", target=target, mode=0o777)


def hardlink(name: str, target: str) -> Member:
    return Member(name, "hardlink", target=target)


def whiteout(path: str) -> Member:
    """Delete `path` (file or directory) of the lower layers."""
    head, _, tail = path.rstrip("/").rpartition("/")
    return file(f"{head}/.wh.{tail}" if head else f".wh.{tail}", b"")


def opaque(dirpath: str) -> Member:
    """Hide everything lower layers put in `dirpath`."""
    return file(f"{dirpath.rstrip('/')}/.wh..wh..opq", b"")


@dataclass(frozen=True, slots=True)
class RawLayer:
    """A layer blob stored byte for byte; `diff_id` defaults to the blob's own digest."""

    blob: bytes
    media_type: str = _OCI_LAYER["gzip"]
    diff_id: str = ""


@dataclass(frozen=True, slots=True)
class Layer:
    """A layer to build from a directory or a list of members."""

    source: Path | Sequence[Member]
    compression: Compression = "gzip"


@dataclass(frozen=True, slots=True)
class BuiltImage:
    """What was written: digests as "sha256:<hex>" strings, layers bottom first."""

    manifest_digest: str
    config_digest: str
    layer_digests: tuple[str, ...]
    diff_ids: tuple[str, ...]
    manifest: bytes = field(repr=False)


def _add_members(tar: tarfile.TarFile, members: Iterable[Member]) -> None:
    for m in members:
        info = tarfile.TarInfo(m.name)
        info.mode = m.mode
        info.mtime = 1_700_000_000
        if m.kind == "dir":
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
        elif m.kind == "symlink":
            info.type = tarfile.SYMTYPE
            info.linkname = m.target
            tar.addfile(info)
        elif m.kind == "hardlink":
            info.type = tarfile.LNKTYPE
            info.linkname = m.target
            tar.addfile(info)
        elif m.size is None:
            info.size = len(m.data)
            tar.addfile(info, io.BytesIO(m.data))
        else:
            _add_lying_file(tar, info, m.data, m.size)


def _add_lying_file(tar: tarfile.TarFile, info: tarfile.TarInfo, data: bytes, size: int) -> None:
    """A header claiming `size` bytes followed by only `data` (tarfile refuses to write it)."""
    assert tar.fileobj is not None
    info.size = size
    buf = info.tobuf(tar.format, tar.encoding, tar.errors) + data
    buf += b"\0" * (-len(buf) % 512)
    tar.fileobj.write(buf)
    tar.offset += len(buf)


def _add_directory(tar: tarfile.TarFile, root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(dirnames + filenames):
            full = base / name
            tar.add(full, arcname=str(full.relative_to(root)), recursive=False)


def _write_tar(source: Path | Sequence[Member], out: BinaryIO) -> None:
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tar:
        if isinstance(source, Path):
            _add_directory(tar, source)
        else:
            _add_members(tar, source)


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _compress(src: Path, dst: Path, compression: Compression) -> None:
    with src.open("rb") as fin, dst.open("wb") as fout:
        if compression == "gzip":
            with gzip.GzipFile(fileobj=fout, mode="wb", mtime=0, compresslevel=1) as gz:
                shutil.copyfileobj(fin, gz, _CHUNK)
        elif compression == "zstd":
            with zstandard.ZstdCompressor(level=3).stream_writer(fout, closefd=False) as zw:
                shutil.copyfileobj(fin, zw, _CHUNK)
        else:
            shutil.copyfileobj(fin, fout, _CHUNK)


class _BlobDir:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)

    def put_bytes(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.path(digest).write_bytes(data)
        return digest

    def put_file(self, src: Path) -> str:
        digest = _hash_file(src)
        shutil.move(str(src), self.path(digest))
        return digest

    def path(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / digest.split(":", 1)[1]


def _build_layer(
    blobs: _BlobDir, layer: Layer | RawLayer, docker: bool
) -> tuple[str, str, int, str]:
    """Store one layer; returns (digest, diff_id, size, media type)."""
    if isinstance(layer, RawLayer):
        digest = blobs.put_bytes(layer.blob)
        return digest, layer.diff_id or digest, len(layer.blob), layer.media_type
    with tempfile.TemporaryDirectory(dir=blobs.root) as tmp:
        raw = Path(tmp) / "layer.tar"
        with raw.open("wb") as fh:
            _write_tar(layer.source, fh)
        diff_id = _hash_file(raw)
        packed = Path(tmp) / "layer.blob"
        _compress(raw, packed, layer.compression)
        size = packed.stat().st_size
        digest = blobs.put_file(packed)
    media = (_DOCKER_LAYER if docker else _OCI_LAYER)[layer.compression]
    return digest, diff_id, size, media


def _write_image(
    blobs: _BlobDir,
    layers: Sequence[Layer | RawLayer],
    platform: str,
    docker: bool,
) -> BuiltImage:
    built = [_build_layer(blobs, lay, docker) for lay in layers]
    os_name, _, arch = platform.partition("/")
    arch, _, variant = arch.partition("/")
    config: dict[str, object] = {
        "architecture": arch,
        "os": os_name,
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": [b[1] for b in built]},
        "history": [{"created_by": f"layer {i}"} for i in range(len(built))],
    }
    if variant:
        config["variant"] = variant
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_digest = blobs.put_bytes(config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST if docker else OCI_MANIFEST,
        "config": {
            "mediaType": DOCKER_CONFIG if docker else OCI_CONFIG,
            "digest": config_digest,
            "size": len(config_bytes),
        },
        "layers": [{"mediaType": b[3], "digest": b[0], "size": b[2]} for b in built],
    }
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    return BuiltImage(
        manifest_digest=blobs.put_bytes(manifest_bytes),
        config_digest=config_digest,
        layer_digests=tuple(b[0] for b in built),
        diff_ids=tuple(b[1] for b in built),
        manifest=manifest_bytes,
    )


def _write_layout_index(dest: Path, entries: list[dict[str, object]]) -> None:
    (dest / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    (dest / "index.json").write_text(json.dumps(index, indent=1))


def build_oci_layout(
    dest: Path,
    layers: Sequence[Layer | RawLayer],
    *,
    tag: str = "latest",
    platform: str = "linux/amd64",
    docker_media_types: bool = False,
) -> BuiltImage:
    """Write a one-image OCI layout at `dest` whose index.json names the image `tag`."""
    blobs = _BlobDir(dest)
    img = _write_image(blobs, layers, platform, docker_media_types)
    entry = {
        "mediaType": DOCKER_MANIFEST if docker_media_types else OCI_MANIFEST,
        "digest": img.manifest_digest,
        "size": len(img.manifest),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }
    _write_layout_index(dest, [entry])
    return img


def build_oci_index(
    dest: Path,
    platforms: Mapping[str, Sequence[Layer | RawLayer]],
    *,
    tag: str = "latest",
) -> dict[str, BuiltImage]:
    """Write a layout whose index.json names an image index (tagged `tag`) of several platforms."""
    blobs = _BlobDir(dest)
    images = {p: _write_image(blobs, layers, p, False) for p, layers in platforms.items()}
    manifests = []
    for plat, img in images.items():
        os_name, _, arch = plat.partition("/")
        arch, _, variant = arch.partition("/")
        platform_obj = {"os": os_name, "architecture": arch} | (
            {"variant": variant} if variant else {}
        )
        manifests.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": img.manifest_digest,
                "size": len(img.manifest),
                "platform": platform_obj,
            }
        )
    index_bytes = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}
    ).encode()
    index_digest = blobs.put_bytes(index_bytes)
    entry = {
        "mediaType": OCI_INDEX,
        "digest": index_digest,
        "size": len(index_bytes),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }
    _write_layout_index(dest, [entry])
    return images


def write_oci_archive(layout: Path, archive: Path) -> Path:
    """Tar an OCI layout directory into an oci-archive file (as `skopeo` reads it)."""
    with tarfile.open(archive, "w") as tar:
        for name in ("oci-layout", "index.json", "blobs"):
            tar.add(layout / name, arcname=name)
    return archive


def build_docker_archive(
    archive: Path,
    layers: Sequence[Layer | RawLayer],
    *,
    repo_tag: str = "tidegate-test:latest",
    platform: str = "linux/amd64",
) -> BuiltImage:
    """Write a classic `docker save` tarball: manifest.json, <config>.json, <id>/layer.tar."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        blobs = _BlobDir(root)
        img = _write_image(blobs, layers, platform, True)
        with tarfile.open(archive, "w") as tar:
            layer_names = []
            for digest in img.layer_digests:
                name = f"{digest.split(':', 1)[1]}/layer.tar"
                tar.add(blobs.path(digest), arcname=name)
                layer_names.append(name)
            config_name = img.config_digest.split(":", 1)[1] + ".json"
            tar.add(blobs.path(img.config_digest), arcname=config_name)
            manifest = [{"Config": config_name, "RepoTags": [repo_tag], "Layers": layer_names}]
            data = json.dumps(manifest).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return img
