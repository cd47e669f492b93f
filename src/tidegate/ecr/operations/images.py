"""Image operations: ListImages, DescribeImages, BatchGetImage, BatchDeleteImage, PutImage,
GetDownloadUrlForLayer. They call the same RegistryService as `/v2/`.
"""

from __future__ import annotations

from typing import Any

from tidegate.ecr import pagination, shapes
from tidegate.ecr.context import EcrContext
from tidegate.ecr.errors import EcrError
from tidegate.inputs import load_json
from tidegate.oci.digest import digest_bytes
from tidegate.registry import images, metadata
from tidegate.registry.images import TagStatus


def _tag_status(p: dict[str, Any]) -> TagStatus | None:
    """The tag-status filter; None when the imageStatus filter excludes every image."""
    flt = p.get("filter") or {}
    # Every Tidegate image is ACTIVE (there is no archive tier).
    if flt.get("imageStatus", "ACTIVE") not in ("ACTIVE", "ANY"):
        return None
    return TagStatus(flt.get("tagStatus", "ANY"))


def list_images(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """ListImages: one id per (digest, tag); filter by tag status."""
    ctx.check_registry_id(p)
    page = pagination.page_of("ListImages", p)
    status = _tag_status(p)
    name = p["repositoryName"]
    ctx.registry.repository(name)
    refs = (
        []
        if status is None
        else images.list_image_ids(ctx.registry, name, status, page.offset, page.size + 1)
    )
    return pagination.response("ListImages", page, "imageIds", [shapes.image_id(r) for r in refs])


def describe_images(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """DescribeImages by ids (all must exist) or paginated with a filter."""
    ctx.check_registry_id(p)
    name = p["repositoryName"]
    ctx.registry.repository(name)
    if p.get("imageIds") is not None:
        if "maxResults" in p or "nextToken" in p:
            msg = "maxResults and nextToken cannot be used together with imageIds"
            raise EcrError("InvalidParameterException", msg)
        found = images.describe_refs(
            ctx.registry, name, [shapes.image_ref(i) for i in p["imageIds"]]
        )
        return {"imageDetails": [shapes.image_detail(ctx, name, i) for i in found]}
    page = pagination.page_of("DescribeImages", p)
    status = _tag_status(p)
    infos = (
        []
        if status is None
        else images.describe_images(ctx.registry, name, status, page.offset, page.size + 1)
    )
    details = [shapes.image_detail(ctx, name, i) for i in infos]
    return pagination.response("DescribeImages", page, "imageDetails", details)


def batch_get_image(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """BatchGetImage: manifests with per-image failures; counts as a pull."""
    ctx.check_registry_id(p)
    name = p["repositoryName"]
    accepted = p.get("acceptedMediaTypes")
    found, failures = images.batch_get(
        ctx.registry, name, [shapes.image_ref(i) for i in p["imageIds"]]
    )
    out_images = []
    out_failures = [shapes.failure(f) for f in failures]
    for ref, fetched in found:
        if accepted is not None and fetched.media_type not in accepted:
            out_failures.append(
                {
                    "imageId": shapes.image_id(ref),
                    "failureCode": "UnsupportedImageType",
                    "failureReason": f"manifest media type {fetched.media_type} is not accepted",
                }
            )
            continue
        out_images.append(
            {
                "registryId": ctx.registry_id,
                "repositoryName": name,
                "imageId": shapes.image_id(ref),
                "imageManifest": fetched.body.decode(),
                "imageManifestMediaType": fetched.media_type,
            }
        )
    return {"images": out_images, "failures": out_failures}


def batch_delete_image(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """BatchDeleteImage: a tag goes alone unless it is the last; a digest takes the image."""
    ctx.check_registry_id(p)
    refs = [shapes.image_ref(i) for i in p["imageIds"]]
    deleted, failures = images.batch_delete(ctx.registry, p["repositoryName"], refs)
    return {
        "imageIds": [shapes.image_id(r) for r in deleted],
        "failures": [shapes.failure(f) for f in failures],
    }


def _media_type(p: dict[str, Any], body: bytes) -> str:
    given = p.get("imageManifestMediaType")
    if given:
        return str(given)
    try:
        declared = load_json(body).get("mediaType")
    except (ValueError, AttributeError):
        declared = None
    if not isinstance(declared, str):
        msg = "imageManifestMediaType is required when the manifest has no mediaType"
        raise EcrError("InvalidParameterException", msg)
    return declared


def put_image(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """PutImage: store a manifest whose layers were pushed; tag rules as on /v2/."""
    ctx.check_registry_id(p)
    name = p["repositoryName"]
    repo = ctx.registry.repository(name)
    body = str(p["imageManifest"]).encode()
    digest = digest_bytes(body)
    if p.get("imageDigest") is not None and p["imageDigest"] != digest:
        msg = (
            f"The provided image digest {p['imageDigest']} does not match the manifest "
            f"digest {digest}"
        )
        raise EcrError("ImageDigestDoesNotMatchException", msg)
    tag = p.get("imageTag")
    with ctx.registry.engine.connect() as conn:
        existing = metadata.find_manifest(conn, repo.id, digest)
        tagged = metadata.find_tag(conn, repo.id, tag) if tag is not None else None
    if existing is not None and (tag is None or (tagged is not None and tagged.id == existing.id)):
        msg = (
            f"Image with digest '{digest}' and tag '{tag}' already exists in the repository "
            f"with name '{name}' in registry with id '{ctx.registry_id}'"
        )
        raise EcrError("ImageAlreadyExistsException", msg)
    media_type = _media_type(p, body)
    ctx.registry.put_manifest(name, tag or digest, body, media_type)
    image_id = {"imageDigest": digest} | ({"imageTag": tag} if tag else {})
    return {
        "image": {
            "registryId": ctx.registry_id,
            "repositoryName": name,
            "imageId": image_id,
            "imageManifest": body.decode(),
            "imageManifestMediaType": media_type,
        }
    }


def get_download_url_for_layer(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """GetDownloadUrlForLayer: a presigned URL on the S3 store (as ECR's own), else a URL on
    Tidegate's /v2/ blob endpoint."""
    ctx.check_registry_id(p)
    name, digest = p["repositoryName"], p["layerDigest"]
    state = images.layer_referenced(ctx.registry, name, digest)
    if state is None:
        msg = f"The layer with digest '{digest}' does not exist in the repository '{name}'"
        raise EcrError("LayersNotFoundException", msg)
    if not state:
        msg = f"The layer with digest '{digest}' is not referenced by any image in '{name}'"
        raise EcrError("LayerInaccessibleException", msg)
    redirect = ctx.registry.blob_redirect(name, digest)
    url = redirect[1] if redirect else f"{ctx.base_url}/v2/{name}/blobs/{digest}"
    return {"downloadUrl": url, "layerDigest": digest}


OPERATIONS = {
    "ListImages": list_images,
    "DescribeImages": describe_images,
    "BatchGetImage": batch_get_image,
    "BatchDeleteImage": batch_delete_image,
    "PutImage": put_image,
    "GetDownloadUrlForLayer": get_download_url_for_layer,
}
