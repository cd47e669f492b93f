"""Where reports and SBOM exports are written: Inspector's `s3Destination`, resolved.

The embedded default is a folder: {bucketName, keyPrefix} maps to
`<data_dir>/exports/<bucketName>/<keyPrefix>/<key>`. Every write goes through `Destination`,
so an S3 bucket is one more implementation, chosen in `destination_for`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from tidegate.inspector.errors import invalid

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_KMS_KEY = re.compile(r"arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_+=.@-]+")


class DestinationError(Exception):
    """A write the destination refused; `code` is Inspector's ReportingErrorCode for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Destination(Protocol):
    """A place reports are written to, addressed by object key (below the keyPrefix)."""

    def write(self, key: str, chunks: Iterable[bytes]) -> str:
        """Store the concatenated `chunks` under `key`, whole or not at all (an exception
        from `chunks` leaves nothing behind); returns the full key. Raises
        `DestinationError` when the destination refuses the write."""
        ...


def check_destination(dest: Mapping[str, Any], account: str, field: str = "s3Destination") -> None:
    """ValidationException for a bucket name S3 would refuse, an escaping keyPrefix, a
    kmsKeyArn that is not a KMS key ARN, or an expectedBucketOwner other than `account`
    (every destination bucket belongs to the registry's account)."""
    bucket = str(dest["bucketName"])
    if (
        not _BUCKET.fullmatch(bucket)
        or ".." in bucket
        or ".-" in bucket
        or "-." in bucket
        or _is_ip(bucket)
    ):
        raise invalid(
            f"{field}.bucketName",
            f"'{bucket}' is not a valid bucket name (3-63 lowercase letters, digits, dots and "
            "hyphens, starting and ending with a letter or digit)",
        )
    prefix = str(dest.get("keyPrefix") or "")
    parts = prefix.split("/")
    if prefix.startswith("/") or any(p in ("..", ".") for p in parts) or "\\" in prefix:
        raise invalid(f"{field}.keyPrefix", f"'{prefix}' must be a relative key prefix")
    if not _KMS_KEY.fullmatch(str(dest["kmsKeyArn"])):
        raise invalid(f"{field}.kmsKeyArn", f"'{dest['kmsKeyArn']}' is not a KMS key ARN")
    owner = dest.get("expectedBucketOwner")
    if owner is not None and owner != account:
        raise invalid(
            f"{field}.expectedBucketOwner", f"bucket '{bucket}' belongs to account {account}"
        )


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class FolderDestination:
    """`<root>/<bucket>/<prefix>/<key>`, written to a temporary file and renamed."""

    def __init__(self, root: Path, bucket: str, prefix: str) -> None:
        self.root = root
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def full_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def write(self, key: str, chunks: Iterable[bytes]) -> str:
        full = self.full_key(key)
        path = self.root / self.bucket / full
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out:
                    for chunk in chunks:
                        out.write(chunk)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            where = f"{self.bucket}/{full}"
            raise DestinationError(
                "INVALID_PERMISSIONS", f"cannot write {where}: {exc.strerror or exc}"
            ) from None
        return full


def destination_for(exports_root: Path, dest: Mapping[str, Any]) -> Destination:
    """The destination a request's `s3Destination` names (already checked)."""
    return FolderDestination(
        exports_root, str(dest["bucketName"]), str(dest.get("keyPrefix") or "")
    )
