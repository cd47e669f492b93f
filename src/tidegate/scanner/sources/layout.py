"""OCI image layout directories (`oci:DIR[:TAG]`) and the blob-store adapter for the engine."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.sources.manifest import load_json

_DIGEST = re.compile(r"^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
REF_NAME = "org.opencontainers.image.ref.name"


def check_digest(digest: str) -> str:
    """A digest safe to turn into a path; anything else fails the scan."""
    if not _DIGEST.match(digest):
        msg = f"invalid digest {digest!r}"
        raise ScanFailed(msg)
    return digest


def pick_index_entry(index: dict[str, object], tag: str, where: str) -> str:
    """The digest of the index.json entry named `tag` (or the only entry when no tag)."""
    entries = index.get("manifests")
    if not isinstance(entries, list) or not entries:
        msg = f"{where}: index.json lists no manifests"
        raise ScanFailed(msg)
    if tag:
        for entry in entries:
            if entry.get("annotations", {}).get(REF_NAME) == tag:
                return check_digest(str(entry.get("digest")))
        msg = f"{where}: no image tagged {tag!r}"
        raise ScanFailed(msg)
    if len(entries) != 1:
        msg = f"{where}: {len(entries)} images in index.json; name one with :TAG"
        raise ScanFailed(msg)
    return check_digest(str(entries[0].get("digest")))


class OCILayoutSource:
    """Reads an OCI image layout directory."""

    def __init__(self, directory: Path, tag: str = "") -> None:
        self.directory = directory
        self.tag = tag
        self.reference = f"oci:{directory}" + (f":{tag}" if tag else "")

    def _path(self, digest: str) -> Path:
        algo, _, hexpart = check_digest(digest).partition(":")
        return self.directory / "blobs" / algo / hexpart

    def root(self) -> bytes:
        try:
            data = (self.directory / "index.json").read_bytes()
        except OSError as exc:
            msg = f"not an OCI layout: {exc}"
            raise ScanFailed(msg) from exc
        index = load_json(data, "index.json")
        return self.manifest(pick_index_entry(index, self.tag, str(self.directory)))

    def manifest(self, digest: str) -> bytes:
        with self.open_blob(digest) as fh:
            return fh.read()

    def open_blob(self, digest: str) -> BinaryIO:
        try:
            return self._path(digest).open("rb")
        except OSError as exc:
            msg = f"blob {digest} missing from the layout"
            raise ScanFailed(msg) from exc


class BlobStoreSource:
    """Adapts any content-addressed store: give it the manifest bytes and `open_blob`.

    The engine passes its registry blob store's reader; the scanner never imports it.
    `open_manifest` resolves index children (defaults to `open_blob`).
    """

    def __init__(
        self,
        manifest: bytes,
        open_blob: Callable[[str], BinaryIO],
        *,
        reference: str = "blobstore",
        open_manifest: Callable[[str], bytes] | None = None,
    ) -> None:
        self._manifest = manifest
        self._open_blob = open_blob
        self._open_manifest = open_manifest
        self.reference = reference

    def root(self) -> bytes:
        return self._manifest

    def manifest(self, digest: str) -> bytes:
        if self._open_manifest is not None:
            return self._open_manifest(digest)
        with self._open_blob(digest) as fh:
            return fh.read()

    def open_blob(self, digest: str) -> BinaryIO:
        return self._open_blob(digest)
