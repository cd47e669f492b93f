"""The `ImageSource` protocol every image origin implements, and the values it yields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Protocol


class ImageSource(Protocol):
    """Manifests and blobs of one image reference, by digest.

    `root` returns the manifest or index the reference names; `manifest` fetches a child
    manifest of an index; `open_blob` opens a config or layer blob for streaming. Sources do
    no analysis and need no registry code: the engine adapts its blob store with
    `BlobStoreSource`.
    """

    reference: str  # for reports: "oci:/path:tag", "docker://host/repo:tag", ...

    def root(self) -> bytes:
        """The manifest or index bytes the reference points at."""
        ...

    def manifest(self, digest: str) -> bytes:
        """A manifest named by an index, by digest."""
        ...

    def open_blob(self, digest: str) -> BinaryIO:
        """A readable stream of the blob; the caller closes it."""
        ...


@dataclass(frozen=True, slots=True)
class LayerRef:
    """One layer as the manifest lists it (digest of the blob as stored)."""

    digest: str
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class ImageTarget:
    """One single-platform image to analyse."""

    manifest_digest: str
    config_digest: str
    platform: str  # "linux/amd64", "linux/arm/v7", or "" when unknown
    layers: tuple[LayerRef, ...]
    diff_ids: tuple[str, ...] = ()
