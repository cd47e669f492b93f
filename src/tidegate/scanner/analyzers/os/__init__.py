"""OS package analyzers (dpkg, apk, rpm); importing this package registers them."""

from tidegate.scanner.analyzers.os import apk, dpkg, rpm

__all__ = ["apk", "dpkg", "rpm"]
