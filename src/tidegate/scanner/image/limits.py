"""Resource limits that keep a hostile image from exhausting disk or memory."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds applied while reading layers.

    `max_layer_bytes` caps the decompressed size of one layer (decompression bombs);
    `max_ratio` caps decompressed/compressed once `ratio_after` bytes were produced, which
    catches bombs early without penalising small, very compressible layers.
    `max_spool_bytes` caps what one scan keeps in scratch space.
    """

    max_layer_bytes: int = 64 << 30
    max_ratio: int = 1000
    ratio_after: int = 512 << 20
    max_spool_bytes: int = 4 << 30
    max_entries: int = 2_000_000
    max_symlink_hops: int = 40
