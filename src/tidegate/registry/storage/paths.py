"""Where the filesystem blob store keeps things, drawn as a tree:

    <root>/
      blobs/
        sha256/
          ab/
            ab12…ef            one file per blob, named by its hex digest; written only by
                               an atomic rename from an upload, so a present file is complete
        sha512/…
      uploads/
        <upload-uuid>/
          data                 bytes received so far; the acknowledged length is in SQL
      tmp/                     manifest bytes on their way to blobs/ (same filesystem)

Two-character fan-out keeps directories small; everything sits on one filesystem so that
`os.replace` is atomic.
"""

from __future__ import annotations

from pathlib import Path

from tidegate.oci.digest import Digest, algorithm_of, hex_of


def blob_path(root: Path, digest: Digest) -> Path:
    encoded = hex_of(digest)
    return root / "blobs" / algorithm_of(digest) / encoded[:2] / encoded


def upload_dir(root: Path, upload_id: str) -> Path:
    return root / "uploads" / upload_id


def upload_data(root: Path, upload_id: str) -> Path:
    return upload_dir(root, upload_id) / "data"


def tmp_dir(root: Path) -> Path:
    return root / "tmp"
