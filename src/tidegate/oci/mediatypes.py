"""Media types the registry understands, and manifest Accept negotiation."""

from __future__ import annotations

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"

IMAGE_MANIFESTS = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEXES = frozenset({OCI_INDEX, DOCKER_MANIFEST_LIST})
MANIFEST_TYPES = IMAGE_MANIFESTS | INDEXES


def parse_accept(headers: list[str]) -> set[str]:
    """Media types listed across all Accept headers, without parameters."""
    accepted: set[str] = set()
    for header in headers:
        for part in header.split(","):
            media = part.split(";", 1)[0].strip().lower()
            if media:
                accepted.add(media)
    return accepted


def acceptable(media_type: str, accepted: set[str]) -> bool:
    """Whether a stored manifest may be served to a client with this Accept set.

    No Accept header, `*/*` or an explicit match all allow it. Clients that list only
    Docker types still get OCI content when they accept nothing else we could convert to,
    matching Distribution, which never converts manifests either.
    """
    if not accepted or "*/*" in accepted or media_type in accepted:
        return True
    return not (accepted & MANIFEST_TYPES)
