"""The one error that ends a scan; everything smaller becomes a `ScanWarning`."""

from __future__ import annotations

from tidegate.errors import ErrorCode, TidegateError


class ScanFailed(TidegateError):
    """The image cannot be analysed at all; `reason` says why in one line.

    Raised for unreadable manifests, corrupt or truncated layers, decompression bombs and
    missing blobs. A single bad file inside a readable layer is a warning instead.
    """

    code = ErrorCode.SCAN_FAILED

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
