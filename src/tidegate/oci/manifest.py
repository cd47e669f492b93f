"""Parse and validate image manifests and indexes (OCI and Docker schema 2) into values."""

from __future__ import annotations

from dataclasses import dataclass

from tidegate.errors import DigestInvalid, ManifestInvalid
from tidegate.inputs import load_json
from tidegate.oci import mediatypes
from tidegate.oci.digest import Digest, parse_digest

MAX_SIZE = 2**63 - 1
"""The largest size a database BIGINT column holds."""


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: Digest
    size: int
    artifact_type: str = ""
    platform: str = ""  # "os/arch[/variant]" for index entries
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Manifest:
    """A validated manifest: what it references, and how the referrers API describes it."""

    media_type: str
    config: Descriptor | None
    layers: tuple[Descriptor, ...]
    manifests: tuple[Descriptor, ...]  # index entries
    subject: Descriptor | None
    artifact_type: str
    annotations: tuple[tuple[str, str], ...]

    @property
    def is_index(self) -> bool:
        return self.media_type in mediatypes.INDEXES

    @property
    def blob_references(self) -> tuple[Descriptor, ...]:
        return ((self.config,) if self.config else ()) + self.layers


def _fail(reason: str) -> ManifestInvalid:
    return ManifestInvalid(f"manifest invalid: {reason}", detail={"reason": reason})


def _annotations(raw: object) -> tuple[tuple[str, str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise _fail("annotations must map strings to strings")
    return tuple(sorted(raw.items()))


def _descriptor(raw: object, where: str) -> Descriptor:
    if not isinstance(raw, dict):
        raise _fail(f"{where} is not an object")
    media_type = raw.get("mediaType")
    digest = raw.get("digest")
    size = raw.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise _fail(f"{where}.mediaType missing")
    if not isinstance(digest, str):
        raise _fail(f"{where}.digest missing")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_SIZE:
        raise _fail(f"{where}.size must be an integer from 0 to {MAX_SIZE}")
    try:
        parsed = parse_digest(digest)
    except DigestInvalid as exc:
        raise _fail(f"{where}.digest: {exc.message}") from exc
    platform = ""
    plat = raw.get("platform")
    if isinstance(plat, dict):
        parts = [str(plat.get("os", "")), str(plat.get("architecture", ""))]
        if plat.get("variant"):
            parts.append(str(plat["variant"]))
        platform = "/".join(parts)
    artifact_type = raw.get("artifactType", "")
    return Descriptor(
        media_type=media_type,
        digest=parsed,
        size=size,
        artifact_type=artifact_type if isinstance(artifact_type, str) else "",
        platform=platform,
        annotations=_annotations(raw.get("annotations")),
    )


def _descriptors(raw: object, where: str) -> tuple[Descriptor, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _fail(f"{where} must be a list")
    return tuple(_descriptor(item, f"{where}[{i}]") for i, item in enumerate(raw))


def parse_manifest(body: bytes, content_type: str) -> Manifest:
    """Validate a pushed manifest; the body's mediaType wins over a generic Content-Type."""
    try:
        doc = load_json(body)
    except ValueError as exc:
        raise _fail(f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise _fail("top level must be a JSON object")
    declared = doc.get("mediaType")
    media_type = declared if isinstance(declared, str) and declared else content_type
    media_type = media_type.split(";", 1)[0].strip()
    if (
        declared
        and content_type
        and content_type in mediatypes.MANIFEST_TYPES
        and (declared != content_type)
    ):
        raise _fail(f"mediaType {declared!r} does not match Content-Type {content_type!r}")
    if media_type not in mediatypes.MANIFEST_TYPES:
        if "manifests" in doc:
            media_type = mediatypes.OCI_INDEX
        elif "config" in doc:
            media_type = mediatypes.OCI_MANIFEST
        else:
            raise _fail(f"unsupported manifest media type {media_type!r}")
    if doc.get("schemaVersion") != 2:
        raise _fail("schemaVersion must be 2")
    subject = doc.get("subject")
    artifact_type = doc.get("artifactType", "")
    if not isinstance(artifact_type, str):
        raise _fail("artifactType must be a string")
    if media_type in mediatypes.INDEXES:
        if "manifests" not in doc:
            raise _fail("an index needs a manifests list")
        return Manifest(
            media_type=media_type,
            config=None,
            layers=(),
            manifests=_descriptors(doc.get("manifests"), "manifests"),
            subject=_descriptor(subject, "subject") if subject is not None else None,
            artifact_type=artifact_type,
            annotations=_annotations(doc.get("annotations")),
        )
    config = _descriptor(doc.get("config"), "config")
    return Manifest(
        media_type=media_type,
        config=config,
        layers=_descriptors(doc.get("layers", []), "layers"),
        manifests=(),
        subject=_descriptor(subject, "subject") if subject is not None else None,
        # The referrers API reports the config media type when no artifactType is declared.
        artifact_type=artifact_type or config.media_type,
        annotations=_annotations(doc.get("annotations")),
    )
