"""Parse manifests, indexes and configs into `ImageTarget`s, with platform selection."""

from __future__ import annotations

import hashlib
from typing import Any

from tidegate import inputs
from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.image.limits import BudgetExceeded
from tidegate.scanner.sources.base import ImageSource, ImageTarget, LayerRef

INDEX_TYPES = frozenset(
    {
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    }
)
MANIFEST_TYPES = frozenset(
    {
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    }
)
ACCEPT = ", ".join(sorted(INDEX_TYPES | MANIFEST_TYPES))
_MAX_MANIFEST = 4 << 20


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def load_json(data: bytes, what: str, limit: int = _MAX_MANIFEST) -> dict[str, Any]:
    """Parse a JSON object, failing the scan with a clear reason otherwise."""
    if len(data) > limit:
        msg = f"{what} larger than {limit} bytes"
        raise ScanFailed(msg)
    try:
        obj = inputs.load_json(data)
    except ValueError as exc:
        msg = f"{what} is not valid JSON: {exc}"
        raise ScanFailed(msg) from exc
    if not isinstance(obj, dict):
        msg = f"{what} is not a JSON object"
        raise ScanFailed(msg)
    return obj


def _platform_string(p: dict[str, Any]) -> str:
    parts = [str(p.get("os", "")), str(p.get("architecture", ""))]
    if p.get("variant"):
        parts.append(str(p["variant"]))
    return "/".join(parts)


def is_index(doc: dict[str, Any]) -> bool:
    media_type = doc.get("mediaType")
    declared = isinstance(media_type, str) and media_type in INDEX_TYPES
    return declared or ("manifests" in doc and "layers" not in doc)


def _target(
    source: ImageSource, data: bytes, platform: str, max_config_bytes: int = _MAX_MANIFEST
) -> ImageTarget:
    doc = load_json(data, "manifest")
    try:
        config_digest = str(doc["config"]["digest"])
        layers = tuple(
            LayerRef(str(lay["digest"]), str(lay.get("mediaType", "")), int(lay.get("size", 0)))
            for lay in doc["layers"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        msg = f"manifest lacks config or layers: {exc}"
        raise ScanFailed(msg) from exc
    with source.open_blob(config_digest) as fh:
        raw = fh.read(max_config_bytes + 1)
    if len(raw) > max_config_bytes:
        msg = f"image config {config_digest} is larger than {max_config_bytes} bytes"
        raise BudgetExceeded("max_config_bytes", msg)
    config = load_json(raw, "image config", max_config_bytes)
    if not platform and config.get("os"):
        platform = _platform_string(config)
    rootfs = config.get("rootfs") or {}
    raw_ids = rootfs.get("diff_ids") or [] if isinstance(rootfs, dict) else None
    if not isinstance(raw_ids, list):
        msg = "image config rootfs.diff_ids is not a list"
        raise ScanFailed(msg)
    diff_ids = tuple(str(d) for d in raw_ids)
    return ImageTarget(digest_of(data), config_digest, platform, layers, diff_ids)


def resolve_targets(
    source: ImageSource, platform: str | None = None, *, max_config_bytes: int = _MAX_MANIFEST
) -> list[ImageTarget]:
    """Every platform image of the reference (or only `platform`), attestations left out."""
    data = source.root()
    doc = load_json(data, "manifest")
    if not is_index(doc):
        target = _target(source, data, "", max_config_bytes)
        if platform and target.platform and target.platform != platform:
            msg = f"image is {target.platform}, not {platform}"
            raise ScanFailed(msg)
        return [target]
    targets = []
    entries = doc.get("manifests")
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("digest"), str) for e in entries
    ):
        msg = "index manifests must be a list of descriptors with a digest"
        raise ScanFailed(msg)
    for entry in entries:
        platform_doc = entry.get("platform")
        plat = _platform_string(platform_doc if isinstance(platform_doc, dict) else {})
        if plat == "unknown/unknown":  # buildkit attestation manifests
            continue
        if platform and plat != platform:
            continue
        child = source.manifest(str(entry["digest"]))
        child_doc = load_json(child, "manifest")
        if is_index(child_doc):
            continue
        targets.append(_target(source, child, plat, max_config_bytes))
    if not targets:
        msg = f"index has no manifest for platform {platform}" if platform else "empty index"
        raise ScanFailed(msg)
    return targets
