"""Path rules for layer members: normalisation, whiteout names, confined symlink resolution.

Every path is kept relative to the image root without a leading "/". Resolution behaves like
a chroot: ".." at the root stays at the root and absolute link targets start at the image
root, so no link can name anything outside the image.
"""

from __future__ import annotations

from collections.abc import Mapping

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"


class PathRejected(ValueError):
    """A member name that can never be part of an image tree (traversal, absolute)."""


def normalize_member(name: str) -> str:
    """The member's image-relative path; raises `PathRejected` for `..` or absolute names."""
    if name.startswith("/"):
        msg = "absolute path in layer"
        raise PathRejected(msg)
    parts = name.split("/")
    if ".." in parts:
        msg = "path traversal ('..') in layer"
        raise PathRejected(msg)
    if "" not in parts and "." not in parts:
        return name  # already normal, as most member names are
    return "/".join(p for p in parts if p not in ("", "."))


def is_under(path: str, directory: str) -> bool:
    """Whether `path` is `directory` itself or inside it ("" is the root)."""
    return not directory or path == directory or path.startswith(directory + "/")


class LinkLoop(ValueError):
    """A symlink chain that does not end within the hop limit."""


def resolve(path: str, symlinks: Mapping[str, str], max_hops: int = 40) -> str:
    """Follow symlinks (in any component) inside the image root; raises `LinkLoop`."""
    hops = 0
    pending = [p for p in path.split("/") if p]
    done: list[str] = []
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        candidate = "/".join([*done, part])
        target = symlinks.get(candidate)
        if target is None:
            done.append(part)
            continue
        hops += 1
        if hops > max_hops:
            msg = f"symlink loop or chain longer than {max_hops} at {candidate}"
            raise LinkLoop(msg)
        if target.startswith("/"):
            done = []
        pending = [p for p in target.split("/") if p] + pending
    return "/".join(done)
