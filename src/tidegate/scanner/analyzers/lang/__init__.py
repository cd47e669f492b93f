"""Language-package analyzers; importing this package registers every one of them.

`prefer_installed` is meant for the inventory builder: lockfile packages only count where no
installed tree (node_modules, vendor/composer) exists for the same project.
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
from tidegate.scanner.analyzers.lang.lockfiles import prefer_installed

__all__ = [
    "dotnet",
    "gobinary",
    "java",
    "npm",
    "npm_lock",
    "php",
    "pnpm_lock",
    "prefer_installed",
    "python",
    "ruby",
    "rust",
    "yarn_lock",
]
