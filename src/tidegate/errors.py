"""The one error taxonomy of Tidegate; each API maps `ErrorCode` to its own wire vocabulary.

The tree:

* TidegateError
  x RegistryError                  (raised by registry use cases; both APIs render it)
    + NameUnknown, NameInvalid, TagInvalid
    + ManifestUnknown, ManifestInvalid, ManifestBlobUnknown, ManifestTooLarge
    + BlobUnknown, BlobUploadUnknown, BlobUploadInvalid, RangeInvalid
    + DigestInvalid, SizeInvalid
    + TagImmutable, ReferencedByIndex
    + Unsupported
  x AuthError
    + Unauthorized                 (missing or bad credentials: 401 with a challenge)
    + Denied                       (authenticated but not allowed)
  x RateLimited                    (quota such as one basic scan per image per 24 h)
  x InvalidParameter               (a request field breaks the API model's constraints)
  x NotFound                       (a generic missing resource outside the registry nouns)
  x Conflict                       (a name outside the registry nouns is taken)
  x ScanNotFound
  x StorageError                   (never reaches a client as such; rendered as UNKNOWN/500)
    + BlobNotFound
    + StorageUnavailable           (the store cannot be reached: 503 UNAVAILABLE / ServerException)
  elsewhere, each with its own code: RepositoryExists, RepositoryNotEmpty, TooManyTags,
  InvalidResourceTag (registry.repositories), LifecyclePolicyNotFound, LifecyclePreviewNotFound,
  InvalidLifecyclePolicy, ScanFailed, UpdaterError, UpdateInProgress, EcrError.

Domain code raises these and never picks HTTP statuses; `registry/api/errors.py`,
`ecr/errors.py` and `webapi/errors.py` each own one table from `ErrorCode` to their wire
format, and a test walks every subclass against all three.
"""

from __future__ import annotations

import enum


class ErrorCode(enum.Enum):
    """Stable identity of every leaf error; each API table must cover all of them."""

    NAME_UNKNOWN = "name_unknown"
    NAME_INVALID = "name_invalid"
    TAG_INVALID = "tag_invalid"
    MANIFEST_UNKNOWN = "manifest_unknown"
    MANIFEST_INVALID = "manifest_invalid"
    MANIFEST_BLOB_UNKNOWN = "manifest_blob_unknown"
    MANIFEST_TOO_LARGE = "manifest_too_large"
    BLOB_UNKNOWN = "blob_unknown"
    BLOB_UPLOAD_UNKNOWN = "blob_upload_unknown"
    BLOB_UPLOAD_INVALID = "blob_upload_invalid"
    RANGE_INVALID = "range_invalid"
    DIGEST_INVALID = "digest_invalid"
    SIZE_INVALID = "size_invalid"
    TAG_IMMUTABLE = "tag_immutable"
    REFERENCED_BY_INDEX = "referenced_by_index"
    UNSUPPORTED = "unsupported"
    UNAUTHORIZED = "unauthorized"
    DENIED = "denied"
    RATE_LIMITED = "rate_limited"
    INVALID_PARAMETER = "invalid_parameter"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    SCAN_NOT_FOUND = "scan_not_found"
    STORAGE = "storage"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    REPOSITORY_EXISTS = "repository_exists"
    REPOSITORY_NOT_EMPTY = "repository_not_empty"
    TOO_MANY_TAGS = "too_many_tags"
    INVALID_RESOURCE_TAG = "invalid_resource_tag"
    LIFECYCLE_POLICY_NOT_FOUND = "lifecycle_policy_not_found"
    LIFECYCLE_PREVIEW_NOT_FOUND = "lifecycle_preview_not_found"
    SCAN_FAILED = "scan_failed"
    UPDATE_FAILED = "update_failed"
    UPDATE_IN_PROGRESS = "update_in_progress"


class TidegateError(Exception):
    """Root of every error Tidegate raises on purpose.

    `detail` is optional structured context that an API may render (OCI `detail`);
    `headers` are response headers the error calls for (a challenge, a Content-Range).

    There is no default `code`: a concrete subclass that forgets one fails at import, so a
    new error can never reach a client as an accidental 500. Grouping classes say
    `abstract=True`.
    """

    code: ErrorCode

    def __init_subclass__(cls, *, abstract: bool = False, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if not abstract and not isinstance(getattr(cls, "code", None), ErrorCode):
            raise TypeError(f"{cls.__qualname__} must set `code` (or say abstract=True)")

    def __init__(self, message: str, *, detail: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.headers: dict[str, str] | None = None


class RegistryError(TidegateError, abstract=True):
    """A registry use case refused the request; the caller should fix the request."""


class NameUnknown(RegistryError):
    """The repository does not exist."""

    code = ErrorCode.NAME_UNKNOWN


class NameInvalid(RegistryError):
    """The repository name breaks the distribution-spec grammar."""

    code = ErrorCode.NAME_INVALID


class TagInvalid(RegistryError):
    """The tag breaks the `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}` grammar."""

    code = ErrorCode.TAG_INVALID


class ManifestUnknown(RegistryError):
    """No manifest with that tag or digest in the repository."""

    code = ErrorCode.MANIFEST_UNKNOWN


class ManifestInvalid(RegistryError):
    """The manifest is not valid JSON of a supported media type, or is inconsistent."""

    code = ErrorCode.MANIFEST_INVALID


class ManifestTooLarge(RegistryError):
    """The manifest exceeds the configured size limit."""

    code = ErrorCode.MANIFEST_TOO_LARGE


class ManifestBlobUnknown(RegistryError):
    """The manifest references a blob or manifest the repository does not have."""

    code = ErrorCode.MANIFEST_BLOB_UNKNOWN


class BlobUnknown(RegistryError):
    """The blob is not known to the repository."""

    code = ErrorCode.BLOB_UNKNOWN


class BlobUploadUnknown(RegistryError):
    """The upload session does not exist (never did, finished, cancelled or expired)."""

    code = ErrorCode.BLOB_UPLOAD_UNKNOWN


class BlobUploadInvalid(RegistryError):
    """A chunk arrived out of order or the upload is otherwise inconsistent."""

    code = ErrorCode.BLOB_UPLOAD_INVALID


class RangeInvalid(RegistryError):
    """A Content-Range or Range header cannot be satisfied."""

    code = ErrorCode.RANGE_INVALID


class DigestInvalid(RegistryError):
    """The content does not match the digest given, or the digest is malformed."""

    code = ErrorCode.DIGEST_INVALID


class SizeInvalid(RegistryError):
    """The content length does not match the size declared."""

    code = ErrorCode.SIZE_INVALID


class TagImmutable(RegistryError):
    """The tag already points at another image in a repository with immutable tags."""

    code = ErrorCode.TAG_IMMUTABLE


class ReferencedByIndex(RegistryError):
    """The manifest cannot be deleted while an index in the repository references it."""

    code = ErrorCode.REFERENCED_BY_INDEX


class Unsupported(RegistryError):
    """The operation is valid in the spec but this registry does not offer it."""

    code = ErrorCode.UNSUPPORTED


class AuthError(TidegateError, abstract=True):
    """Authentication or authorisation failed."""


class Unauthorized(AuthError):
    """No credentials, or credentials that do not verify; the client should log in."""

    code = ErrorCode.UNAUTHORIZED


class Denied(AuthError):
    """Credentials verified but the principal may not do this."""

    code = ErrorCode.DENIED


class RateLimited(TidegateError):
    """A quota was exceeded; the message says when the next attempt is allowed."""

    code = ErrorCode.RATE_LIMITED


class InvalidParameter(TidegateError):
    """A request member violates the API model (length, pattern, enum or range)."""

    code = ErrorCode.INVALID_PARAMETER


class NotFound(TidegateError):
    """A resource outside the registry nouns (an access key, a DB vulnerability) is missing."""

    code = ErrorCode.NOT_FOUND


class Conflict(TidegateError):
    """A name outside the registry nouns (an Inspector filter's) is taken; pick another."""

    code = ErrorCode.CONFLICT


class ScanNotFound(TidegateError):
    """The image has never been scanned."""

    code = ErrorCode.SCAN_NOT_FOUND


class StorageError(TidegateError):
    """The blob store failed; the service layer translates it, clients see a 500."""

    code = ErrorCode.STORAGE


class BlobNotFound(StorageError):
    """The storage key holds no blob; the registry layer turns it into `BlobUnknown`."""


class StorageUnavailable(StorageError):
    """The blob store cannot be reached or its bucket is missing; retry later.

    Raised by the S3 driver for connection failures, timeouts, 5xx answers and a missing
    bucket. Its message is ours (no endpoint or credential detail), so the APIs show it.
    """

    code = ErrorCode.STORAGE_UNAVAILABLE
