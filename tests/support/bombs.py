"""Decompression bombs generated as the tests run, streamed: never held uncompressed.

A bomb is a multi-member gzip stream (which every gzip reader must accept): one member
holds a 1 MiB tar entry of mostly zeros salted with random bytes, so it compresses at a
chosen ratio far below gzip's ~1030:1 ceiling, and is repeated; a last member ends the tar.
"""

from __future__ import annotations

import hashlib
import random
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

MiB = 1 << 20


def _member(raw: bytes) -> bytes:
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    return z.compress(raw) + z.flush()


@dataclass(frozen=True, slots=True)
class Bomb:
    """`count` copies of `member` then `tail`: a tar of `count` 1 MiB entries, gzipped."""

    member: bytes
    count: int
    tail: bytes

    @property
    def uncompressed(self) -> int:
        return self.count * MiB + 1024

    @property
    def size(self) -> int:
        return self.count * len(self.member) + len(self.tail)

    @property
    def ratio(self) -> float:
        return self.uncompressed / self.size

    def chunks(self) -> Iterator[bytes]:
        for _ in range(self.count):
            yield self.member
        yield self.tail

    @property
    def digest(self) -> str:
        h = hashlib.sha256()
        for chunk in self.chunks():
            h.update(chunk)
        return "sha256:" + h.hexdigest()


def gzip_bomb(uncompressed: int, *, salt_every: int = 2400, salt: int = 4) -> Bomb:
    """About `uncompressed` bytes of tar; the default salting gives ~230:1."""
    rnd = random.Random(17)
    body = bytearray(MiB - 512)
    for i in range(0, len(body), salt_every):
        body[i : i + salt] = rnd.randbytes(salt)
    head = tarfile.TarInfo("bomb/part")  # the same name each time: later entries win
    head.size = len(body)
    member = _member(head.tobuf(format=tarfile.GNU_FORMAT) + bytes(body))
    return Bomb(member, max(1, uncompressed // MiB), _member(b"\0" * 1024))
