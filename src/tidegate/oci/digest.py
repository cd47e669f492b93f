"""Content digests: parsing, verification and hashers (OCI image-spec descriptor rules)."""

from __future__ import annotations

import hashlib
import re
from typing import BinaryIO, NewType

from tidegate.errors import DigestInvalid

Digest = NewType("Digest", str)

# Registered algorithms and the exact hex length each must have.
_HEX_LENGTH = {"sha256": 64, "sha512": 128}
_DIGEST_RE = re.compile(r"^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$")


def parse_digest(text: str) -> Digest:
    """Validate `algorithm:hex`; only registered algorithms are accepted for content."""
    match = _DIGEST_RE.match(text)
    if match is None:
        msg = f"invalid digest {text!r}"
        raise DigestInvalid(msg)
    algorithm, encoded = match.groups()
    length = _HEX_LENGTH.get(algorithm)
    if length is None:
        msg = f"unsupported digest algorithm {algorithm!r}"
        raise DigestInvalid(msg)
    if len(encoded) != length or not all(c in "0123456789abcdef" for c in encoded):
        msg = f"invalid {algorithm} digest {text!r}"
        raise DigestInvalid(msg)
    return Digest(text)


def is_digest(text: str) -> bool:
    """True when `text` looks like a digest rather than a tag (tags cannot contain ':')."""
    return ":" in text


def algorithm_of(digest: Digest) -> str:
    return digest.split(":", 1)[0]


def hex_of(digest: Digest) -> str:
    return digest.split(":", 1)[1]


def digest_bytes(data: bytes, algorithm: str = "sha256") -> Digest:
    return Digest(f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}")


def digest_stream(fh: BinaryIO, algorithm: str = "sha256", chunk: int = 1 << 20) -> Digest:
    """The digest of everything `fh` yields from its current position."""
    hasher = hashlib.new(algorithm)
    while data := fh.read(chunk):
        hasher.update(data)
    return Digest(f"{algorithm}:{hasher.hexdigest()}")
