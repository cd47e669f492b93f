"""Resource budgets that keep a hostile image from exhausting disk, memory or CPU.

Each budget has the name of the setting that configures it, so a scan that exceeds one
fails saying which budget and which layer (`BudgetExceeded`).
"""

from __future__ import annotations

from dataclasses import dataclass

from tidegate.scanner.image.errors import ScanFailed

GiB = 1 << 30


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds applied while reading an image.

    `max_layer_bytes` / `max_image_bytes` cap decompressed tar bytes of one layer and of all
    layers read by one scan; `max_files` caps tar entries over the whole image. `max_ratio`
    caps decompressed/compressed once `ratio_after` bytes were produced: gzip's own ceiling
    is ~1030:1, so only a ratio well below it, applied past a size no real small layer
    reaches, stops bombs that are not pure zeros (a 2 GiB layer at 230:1).
    `max_config_bytes` caps the image config read into memory; `max_metadata_file_bytes`
    caps any one file handed to an analyzer (on top of each analyzer's own cap).
    `max_spool_bytes` caps what one layer keeps in scratch space.
    """

    max_layer_bytes: int = 16 * GiB
    max_image_bytes: int = 64 * GiB
    max_files: int = 2_000_000
    max_ratio: int = 100
    ratio_after: int = 1 * GiB
    max_config_bytes: int = 4 << 20
    max_metadata_file_bytes: int = 1 * GiB
    max_spool_bytes: int = 4 * GiB
    max_symlink_hops: int = 40


class BudgetExceeded(ScanFailed):
    """A resource budget ran out; `budget` is the setting's name, `layer` where (if known)."""

    def __init__(self, budget: str, reason: str, layer: str = "") -> None:
        where = f"layer {layer}: " if layer else ""
        super().__init__(f"{where}{reason} (budget {budget})")
        self.budget = budget
        self.bare = reason

    def in_layer(self, digest: str) -> BudgetExceeded:
        """The same failure, naming the layer it happened in."""
        return BudgetExceeded(self.budget, self.bare, digest)


class Usage:
    """What one scan has consumed so far, charged against its `Limits`."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.image_bytes = 0
        self.files = 0

    def charge_bytes(self, n: int) -> None:
        self.image_bytes += n
        if self.image_bytes > self.limits.max_image_bytes:
            msg = f"the image decompresses beyond {self.limits.max_image_bytes} bytes"
            raise BudgetExceeded("max_image_uncompressed_bytes", msg)

    def charge_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            msg = f"the image has more than {self.limits.max_files} files"
            raise BudgetExceeded("max_files_per_image", msg)
