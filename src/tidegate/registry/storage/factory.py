"""The blob store the configuration names: one seam for the server, GC and analysis."""

from __future__ import annotations

from pathlib import Path

from tidegate.config import StorageDriver, StorageSection
from tidegate.registry.storage.base import BlobStore
from tidegate.registry.storage.filesystem import FilesystemBlobStore


def open_store(section: StorageSection, blob_dir: Path) -> BlobStore:
    """The configured driver; boto3 is imported only when S3 is chosen."""
    if section.driver is StorageDriver.S3:
        from tidegate.registry.storage.s3 import S3BlobStore

        return S3BlobStore(section)
    return FilesystemBlobStore(blob_dir)
