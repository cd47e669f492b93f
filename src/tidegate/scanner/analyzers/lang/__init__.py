"""Language-package analyzers; importing this package registers every one of them.

Lockfile packages only count where no installed tree exists: the inventory builder applies
that rule (`tidegate.scanner.installed`), since each analyzer sees one file at a time.
"""

from __future__ import annotations

from tidegate.scanner.analyzers.lang import (
    dotnet,
    gobinary,
    java,
    npm,
    npm_lock,
    php,
    pnpm_lock,
    python,
    ruby,
    rust,
    yarn_lock,
)

__all__ = [
    "dotnet",
    "gobinary",
    "java",
    "npm",
    "npm_lock",
    "php",
    "pnpm_lock",
    "python",
    "ruby",
    "rust",
    "yarn_lock",
]
