"""Inspector2's exceptions: `x-amzn-ErrorType` + a JSON body botocore reads the code from."""

from __future__ import annotations

from typing import Any

from tidegate.errors import ErrorCode, TidegateError

# The HTTP status the inspector2 model gives each exception shape.
STATUS = {
    "ValidationException": 400,
    "ConflictException": 409,
    "ResourceNotFoundException": 404,
    "AccessDeniedException": 403,
    "InternalServerException": 500,
    "ThrottlingException": 429,
    "ServiceQuotaExceededException": 402,
}


class InspectorError(TidegateError):
    """An Inspector2 exception by its modeled name; `fields` go to ValidationException."""

    code = ErrorCode.INVALID_PARAMETER  # per instance: STORAGE for a 5xx

    def __init__(
        self,
        type_name: str,
        message: str,
        *,
        status: int | None = None,
        fields: list[dict[str, str]] | None = None,
        reason: str = "OTHER",
        members: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.status = status if status is not None else STATUS.get(type_name, 400)
        self.fields = fields or []
        self.reason = reason
        self.members = members or {}  # the exception's other modeled members
        self.code = ErrorCode.STORAGE if self.status >= 500 else ErrorCode.INVALID_PARAMETER

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {**self.members, "message": self.message}
        if self.type_name == "ValidationException":
            out["reason"] = self.reason
            if self.fields:
                out["fields"] = self.fields
        return out


def invalid(field: str, message: str) -> InspectorError:
    """A ValidationException naming the offending field."""
    return InspectorError(
        "ValidationException",
        f"{field}: {message}",
        fields=[{"name": field, "message": message}],
        reason="FIELD_VALIDATION_FAILED",
    )
