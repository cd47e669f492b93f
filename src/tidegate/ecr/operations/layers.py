"""ECR's own layer API: BatchCheckLayerAvailability, InitiateLayerUpload, UploadLayerPart,
CompleteLayerUpload. They drive the same upload sessions as `/v2/` blob uploads, so a layer
pushed either way is the same blob, and a session survives restarts the same way.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from tidegate.ecr.context import EcrContext
from tidegate.ecr.errors import EcrError
from tidegate.errors import BlobUnknown, DigestInvalid
from tidegate.oci.digest import parse_digest

# ECR: "Layer parts must be at least 5 MiB in size" (all but the last). It is also the size
# advertised as partSize, because a part travels base64-encoded in a JSON body and the ECR
# endpoint caps bodies at 10 MiB (a 5 MiB part is about 6.7 MiB encoded).
MIN_PART_SIZE = 5 * 1024 * 1024
PART_SIZE = MIN_PART_SIZE


def batch_check_layer_availability(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """AVAILABLE layers with their size; malformed or absent digests as failures."""
    ctx.check_registry_id(p)
    name = p["repositoryName"]
    ctx.registry.repository(name)
    layers: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for digest in p["layerDigests"]:
        try:
            parsed, size = ctx.registry.stat_blob(name, digest)
        except DigestInvalid as exc:
            failures.append(
                {"layerDigest": digest, "failureCode": "InvalidLayerDigest",
                 "failureReason": f"Invalid layer digest: {exc.message}"}
            )  # fmt: skip
        except BlobUnknown:
            failures.append(
                {"layerDigest": digest, "failureCode": "MissingLayerDigest",
                 "failureReason": "Requested layer not found"}
            )  # fmt: skip
        else:
            layers.append(
                {"layerDigest": parsed, "layerAvailability": "AVAILABLE", "layerSize": size}
            )
    return {"layers": layers, "failures": failures}


def initiate_layer_upload(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """A new upload session in an existing repository (ECR does not create on push)."""
    ctx.check_registry_id(p)
    repo = ctx.registry.repository(p["repositoryName"])
    state = ctx.registry.uploads.start(repo.id)
    return {"uploadId": state.id, "partSize": PART_SIZE}


def _part_bytes(p: dict[str, Any]) -> bytes:
    try:
        return base64.b64decode(p["layerPartBlob"], validate=True)
    except (binascii.Error, TypeError, ValueError):
        msg = "layerPartBlob is not valid base64"
        raise EcrError("SerializationException", msg) from None


def upload_layer_part(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """Append one part; it must start at the byte after the last one received."""
    ctx.check_registry_id(p)
    name, upload_id = p["repositoryName"], p["uploadId"]
    first, last = int(p["partFirstByte"]), int(p["partLastByte"])
    data = _part_bytes(p)
    repo = ctx.registry.repository(name)
    uploads = ctx.registry.uploads
    state = uploads.state(repo.id, upload_id)
    if last < first or last - first + 1 != len(data):
        msg = (
            f"The layer part size is not valid: partFirstByte {first} to partLastByte {last} "
            f"is not the {len(data)} bytes of layerPartBlob"
        )
        raise EcrError("InvalidLayerPartException", msg)
    if first != state.offset:
        msg = (
            f"The part's first byte {first} is not consecutive to the last byte received "
            f"({state.offset - 1}) for upload '{upload_id}'"
        )
        raise EcrError("InvalidLayerPartException", msg)
    appender = uploads.open(state, first)
    try:
        appender.write(data)
    except BaseException:
        uploads.abort(appender)
        raise
    state = uploads.ack(appender)
    uploads.record_part(upload_id, first, last)
    return {
        "registryId": ctx.registry_id,
        "repositoryName": name,
        "uploadId": upload_id,
        "lastByteReceived": state.offset - 1,
    }


def complete_layer_upload(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """Check the parts and the digest, then install the layer as a blob of the repository."""
    ctx.check_registry_id(p)
    name, upload_id = p["repositoryName"], p["uploadId"]
    digests = p["layerDigests"]
    if len(digests) != 1:
        msg = f"layerDigests must name exactly one digest for one upload, not {len(digests)}"
        raise EcrError("InvalidParameterException", msg)
    repo = ctx.registry.repository(name)
    uploads = ctx.registry.uploads
    state = uploads.state(repo.id, upload_id)
    if state.offset == 0:
        raise EcrError("EmptyUploadException", f"The upload '{upload_id}' contains no layer parts")
    sizes = uploads.part_sizes(upload_id)
    if any(size < MIN_PART_SIZE for size in sizes[:-1]):
        msg = f"Layer parts must be at least {MIN_PART_SIZE} bytes in size (all but the last)"
        raise EcrError("LayerPartTooSmallException", msg)
    try:
        digest = parse_digest(digests[0])
    except DigestInvalid as exc:
        raise EcrError("InvalidLayerException", f"Invalid layer digest: {exc.message}") from None
    try:
        ctx.registry.stat_blob(name, digest)
    except BlobUnknown:
        pass
    else:
        uploads.cancel(repo.id, upload_id)
        msg = f"The layer '{digest}' already exists in the repository '{name}'"
        raise EcrError("LayerAlreadyExistsException", msg)
    appender = uploads.open(state, None)
    try:
        uploads.finish(appender, digest, None)
    except DigestInvalid as exc:
        # finish() has already discarded the session: a wrong layer leaves nothing behind.
        msg = f"The layer digest calculated for the upload does not match: {exc.message}"
        raise EcrError("InvalidLayerException", msg) from None
    return {
        "registryId": ctx.registry_id,
        "repositoryName": name,
        "uploadId": upload_id,
        "layerDigest": digest,
    }


OPERATIONS = {
    "BatchCheckLayerAvailability": batch_check_layer_availability,
    "InitiateLayerUpload": initiate_layer_upload,
    "UploadLayerPart": upload_layer_part,
    "CompleteLayerUpload": complete_layer_upload,
}
