"""Where reports and SBOM exports are written: Inspector's `s3Destination`, resolved.

The embedded default is a folder: {bucketName, keyPrefix} maps to
`<data_dir>/exports/<bucketName>/<keyPrefix>/<key>`. With `[storage] driver = "s3"` it is
the object `<keyPrefix>/<key>` in bucket `bucketName` at the storage endpoint, with the
storage credentials, encrypted by the store with the request's `kmsKeyArn` (SSE-KMS), as
Inspector writes its reports. Every write goes through `Destination`; `destination_for`
chooses.
"""

from __future__ import annotations

import contextlib
import ipaddress
import mimetypes
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from tidegate.config import Settings, StorageDriver
from tidegate.inspector.errors import invalid

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_KMS_KEY = re.compile(
    r"arn:aws[a-z-]*:kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"(?P<resource>(key|alias)/[A-Za-z0-9/_+=.@-]+)"
)
# 8 MiB parts: above S3's 5 MiB minimum for all but the last part.
PART_SIZE = 8 << 20
# S3 error codes -> Inspector's ReportingErrorCode (the rest are INTERNAL_ERROR).
_S3_CODES = {
    "NoSuchBucket": "BUCKET_NOT_FOUND",
    "AccessDenied": "INVALID_PERMISSIONS",
    "AllAccessDisabled": "INVALID_PERMISSIONS",
    "InvalidAccessKeyId": "INVALID_PERMISSIONS",
    "SignatureDoesNotMatch": "INVALID_PERMISSIONS",
    "InvalidBucketState": "INVALID_PERMISSIONS",
    "PermanentRedirect": "INCOMPATIBLE_BUCKET_REGION",
    "AuthorizationHeaderMalformed": "INCOMPATIBLE_BUCKET_REGION",
    "IllegalLocationConstraintException": "INCOMPATIBLE_BUCKET_REGION",
}
# S3 names a refused SSE-KMS key "KMS.<KMS exception>" (NotFoundException, DisabledException,
# KMSInvalidStateException, AccessDeniedException...): the key or its policy, not S3.
_KMS_REFUSAL = "KMS."


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


def sse_kms_key_id(kms_key_arn: str, *, account: str, region: str) -> str:
    """The `SSEKMSKeyId` to send for `kms_key_arn`: for a key or alias of the registry's own
    account in the bucket's region the key ID (`1234abcd-…`) or alias name (`alias/x`),
    which S3 resolves to the same key there; any other ARN as it is. S3-compatible engines
    with a KMS (SeaweedFS, MinIO KES) name keys that way and do not parse ARNs."""
    match = _KMS_KEY.fullmatch(kms_key_arn)
    if match is None or match["account"] != account or match["region"] != region:
        return kms_key_arn
    resource = match["resource"]
    return resource.removeprefix("key/")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class FolderDestination:
    """`<root>/<bucket>/<prefix>/<key>`, written to a temporary file and renamed. There is no
    KMS beside a folder: files are created 0600 (mkstemp) and the data directory's
    permissions guard them, as they guard the blobs."""

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


class S3Destination:
    """Objects `<prefix>/<key>` in `bucket`: one PUT when the body fits in a part, else a
    multipart upload completed after the last chunk and aborted on any error, so a reader
    never sees part of a report. With `kms_key_id` every object is stored SSE-KMS with that
    key; S3 encrypts each part as it arrives."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        prefix: str,
        *,
        kms_key_id: str = "",
        part_size: int = PART_SIZE,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.kms_key_id = kms_key_id
        self.part_size = part_size

    @property
    def _sse(self) -> dict[str, str]:
        """The encryption arguments of every PUT and multipart upload (none without a key)."""
        if not self.kms_key_id:
            return {}
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.kms_key_id}

    def full_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def write(self, key: str, chunks: Iterable[bytes]) -> str:
        full = self.full_key(key)
        where = f"s3://{self.bucket}/{full}"
        try:
            self._upload(full, chunks)
        except ClientError as exc:
            raise self._refusal(where, exc) from None
        except BotoCoreError as exc:  # unreachable endpoint, timeouts, broken connections
            raise DestinationError("INTERNAL_ERROR", f"cannot write {where}: {exc}") from None
        return full

    def _refusal(self, where: str, exc: ClientError) -> DestinationError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        kms_refused = code.startswith(_KMS_REFUSAL)
        mapped = _S3_CODES.get(code) or (
            "INVALID_PERMISSIONS" if status == 403 or kms_refused else None
        )
        if mapped == "BUCKET_NOT_FOUND":
            reason = f"bucket '{self.bucket}' does not exist"
        else:
            reason = f"S3 answered {code or status}: {error.get('Message') or 'no message'}"
            if self.kms_key_id and (status >= 500 or kms_refused):
                # Engines answer an unknown or unusable key with a bare 500 InternalError.
                reason += f" (writing SSE-KMS with key '{self.kms_key_id}')"
        return DestinationError(mapped or "INTERNAL_ERROR", f"cannot write {where}: {reason}")

    def _upload(self, full: str, chunks: Iterable[bytes]) -> None:
        kind = mimetypes.guess_type(full)[0] or "application/octet-stream"
        buffer = bytearray()
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            for chunk in chunks:
                buffer += chunk
                while len(buffer) >= self.part_size:
                    if upload_id is None:
                        started = self.client.create_multipart_upload(
                            Bucket=self.bucket, Key=full, ContentType=kind, **self._sse
                        )
                        upload_id = str(started["UploadId"])
                    parts.append(self._part(full, upload_id, len(parts) + 1, buffer))
                    del buffer[: self.part_size]
            if upload_id is None:
                self.client.put_object(Bucket=self.bucket, Key=full, Body=bytes(buffer),
                                       ContentType=kind, **self._sse)  # fmt: skip
                return
            if buffer:
                parts.append(self._part(full, upload_id, len(parts) + 1, buffer))
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=full, UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )  # fmt: skip
        except BaseException:
            if upload_id is not None:
                with contextlib.suppress(ClientError, BotoCoreError):
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=full, UploadId=upload_id
                    )
            raise

    def _part(self, full: str, upload_id: str, number: int, buffer: bytearray) -> dict[str, Any]:
        sent = self.client.upload_part(
            Bucket=self.bucket, Key=full, UploadId=upload_id, PartNumber=number,
            Body=bytes(buffer[: self.part_size]),
        )  # fmt: skip
        return {"PartNumber": number, "ETag": sent["ETag"]}


def exports_root(settings: Settings) -> Path:
    """Where folder destinations live: `<data_dir>/exports`."""
    return settings.data_dir / "exports"


def destination_for(settings: Settings, dest: Mapping[str, Any]) -> Destination:
    """The destination a request's `s3Destination` names (already checked): the storage
    driver's bucket namespace when it is S3, encrypted with its `kmsKeyArn`, else a folder
    under the data directory."""
    bucket, prefix = str(dest["bucketName"]), str(dest.get("keyPrefix") or "")
    if settings.storage.driver is StorageDriver.S3:
        from tidegate.registry.storage.s3 import s3_client  # boto3 only when S3 is chosen

        key = sse_kms_key_id(
            str(dest["kmsKeyArn"]),
            account=settings.registry_id,
            region=settings.storage.region or settings.region,
        )
        return S3Destination(s3_client(settings.storage), bucket, prefix, kms_key_id=key)
    return FolderDestination(exports_root(settings), bucket, prefix)
