"""Manifest GET/HEAD (Accept negotiation), PUT and DELETE by tag or digest."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tidegate.access import authorize
from tidegate.errors import ManifestUnknown, TagInvalid
from tidegate.oci import mediatypes
from tidegate.registry.api.common import call, read_body, service


async def get_manifest(request: Request, name: str, reference: str) -> Response:
    await authorize(request, name, "pull")
    registry = service(request)
    head = request.method == "HEAD"
    try:
        fetched = await call(registry.get_manifest, name, reference, record_pull=not head)
    except TagInvalid as exc:
        # The distribution spec answers a read of a reference that can never exist with
        # 404 MANIFEST_UNKNOWN; TAG_INVALID is for writes that try to create one.
        raise ManifestUnknown(f"manifest {reference!r} is unknown: {exc}") from exc
    accepted = mediatypes.parse_accept(request.headers.getlist("accept"))
    if not mediatypes.acceptable(fetched.media_type, accepted):
        msg = (
            f"manifest {reference!r} is {fetched.media_type}, which the Accept header "
            "does not allow"
        )
        raise ManifestUnknown(msg, detail={"mediaType": fetched.media_type})
    headers = {
        "Content-Type": fetched.media_type,
        "Docker-Content-Digest": fetched.digest,
        "Content-Length": str(len(fetched.body)),
        "ETag": f'"{fetched.digest}"',
    }
    return Response(b"" if head else fetched.body, status_code=200, headers=headers)


async def put_manifest(request: Request, name: str, reference: str) -> Response:
    await authorize(request, name, "push")
    registry = service(request)
    body = await read_body(request, registry.max_manifest_bytes)
    content_type = request.headers.get("content-type", "")
    digest, parsed = await call(registry.put_manifest, name, reference, body, content_type)
    headers = {
        "Location": f"/v2/{name}/manifests/{digest}",
        "Docker-Content-Digest": digest,
        "Content-Length": "0",
    }
    if parsed.subject is not None:
        headers["OCI-Subject"] = parsed.subject.digest
    return Response(status_code=201, headers=headers)


async def delete_manifest(request: Request, name: str, reference: str) -> Response:
    await authorize(request, name, "delete")
    await call(service(request).delete_manifest, name, reference)
    return Response(status_code=202, headers={"Content-Length": "0"})
