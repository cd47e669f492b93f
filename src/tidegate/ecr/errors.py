"""ErrorCode → ECR `__type` and HTTP status: the one table of the ECR API.

The wire shape is AWS JSON 1.1: `{"__type": <modeled exception name>, "message": ...}`.
botocore reads the code only from `__type`, so every name here is a shape name from the
ECR service model (or an AWS framework error the CLI knows, such as
UnrecognizedClientException).
"""

from __future__ import annotations

from tidegate.errors import ErrorCode, TidegateError

ECR_ERRORS: dict[ErrorCode, tuple[str, int]] = {
    ErrorCode.NAME_UNKNOWN: ("RepositoryNotFoundException", 400),
    ErrorCode.NAME_INVALID: ("InvalidParameterException", 400),
    ErrorCode.TAG_INVALID: ("InvalidParameterException", 400),
    ErrorCode.MANIFEST_UNKNOWN: ("ImageNotFoundException", 400),
    ErrorCode.MANIFEST_INVALID: ("InvalidParameterException", 400),
    ErrorCode.MANIFEST_BLOB_UNKNOWN: ("LayersNotFoundException", 400),
    ErrorCode.MANIFEST_TOO_LARGE: ("InvalidParameterException", 400),
    ErrorCode.BLOB_UNKNOWN: ("LayersNotFoundException", 400),
    ErrorCode.BLOB_UPLOAD_UNKNOWN: ("UploadNotFoundException", 400),
    ErrorCode.BLOB_UPLOAD_INVALID: ("InvalidLayerPartException", 400),
    ErrorCode.RANGE_INVALID: ("InvalidLayerPartException", 400),
    ErrorCode.DIGEST_INVALID: ("InvalidLayerException", 400),
    ErrorCode.SIZE_INVALID: ("InvalidLayerException", 400),
    ErrorCode.TAG_IMMUTABLE: ("ImageTagAlreadyExistsException", 400),
    ErrorCode.REFERENCED_BY_INDEX: ("InvalidParameterException", 400),
    ErrorCode.UNSUPPORTED: ("ValidationException", 400),
    ErrorCode.UNAUTHORIZED: ("UnrecognizedClientException", 400),
    ErrorCode.DENIED: ("AccessDeniedException", 403),
    ErrorCode.RATE_LIMITED: ("LimitExceededException", 400),
    ErrorCode.INVALID_PARAMETER: ("InvalidParameterException", 400),
    ErrorCode.NOT_FOUND: ("InvalidParameterException", 400),
    ErrorCode.CONFLICT: ("InvalidParameterException", 400),
    ErrorCode.SCAN_NOT_FOUND: ("ScanNotFoundException", 400),
    ErrorCode.STORAGE: ("ServerException", 500),
    ErrorCode.STORAGE_UNAVAILABLE: ("ServerException", 503),
    ErrorCode.REPOSITORY_EXISTS: ("RepositoryAlreadyExistsException", 400),
    ErrorCode.REPOSITORY_NOT_EMPTY: ("RepositoryNotEmptyException", 400),
    ErrorCode.TOO_MANY_TAGS: ("TooManyTagsException", 400),
    ErrorCode.INVALID_RESOURCE_TAG: ("InvalidTagParameterException", 400),
    ErrorCode.LIFECYCLE_POLICY_NOT_FOUND: ("LifecyclePolicyNotFoundException", 400),
    ErrorCode.LIFECYCLE_PREVIEW_NOT_FOUND: ("LifecyclePolicyPreviewNotFoundException", 400),
    ErrorCode.SCAN_FAILED: ("ServerException", 500),
    ErrorCode.UPDATE_FAILED: ("ServerException", 500),
    ErrorCode.UPDATE_IN_PROGRESS: ("ServerException", 500),
}


class EcrError(TidegateError):
    """An error whose ECR `__type` is chosen explicitly (protocol, auth, ECR-only cases).

    Raised by the ECR dispatcher and operations; the caller gets `type_name` verbatim.
    """

    code = ErrorCode.INVALID_PARAMETER

    def __init__(self, type_name: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.status = status
        self.code = ErrorCode.STORAGE if status >= 500 else ErrorCode.INVALID_PARAMETER


def ecr_error_of(exc: TidegateError, registry_id: str) -> tuple[str, int, str]:
    """The (`__type`, HTTP status, message) to send for `exc`; internals never leak on 500."""
    if isinstance(exc, EcrError):
        return exc.type_name, exc.status, exc.message
    type_name, status = ECR_ERRORS[exc.code]
    if exc.code is ErrorCode.NAME_UNKNOWN and isinstance(exc.detail, dict) and "name" in exc.detail:
        # The wording AWS uses, which scripts grep for.
        name = exc.detail["name"]
        msg = (
            f"The repository with name '{name}' does not exist in the registry "
            f"with id '{registry_id}'"
        )
        return type_name, status, msg
    if status >= 500 and exc.code is not ErrorCode.STORAGE_UNAVAILABLE:
        return type_name, status, "An internal error occurred."
    return type_name, status, exc.message
