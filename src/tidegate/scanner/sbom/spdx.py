"""Inventory -> SPDX 2.3 JSON via spdx-tools (validated by the same library on write)."""

from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime

from spdx_tools.spdx.model.actor import Actor, ActorType
from spdx_tools.spdx.model.document import CreationInfo, Document
from spdx_tools.spdx.model.package import (
    ExternalPackageRef,
    ExternalPackageRefCategory,
    Package,
    PackagePurpose,
)
from spdx_tools.spdx.model.relationship import Relationship, RelationshipType
from spdx_tools.spdx.model.spdx_no_assertion import SpdxNoAssertion
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from tidegate import __version__
from tidegate.scanner.report.model import ScanReport

_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]")


def _spdx_id(*parts: str) -> str:
    return "SPDXRef-" + _ID_CHARS.sub("-", "-".join(parts))[:200]


def build_document(report: ScanReport, *, created: datetime | None = None) -> Document:
    """An SPDX document describing each image, each containing its packages."""
    name = report.images[0].reference if report.images else "empty"
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=name,
        document_namespace=f"https://tidegate.invalid/spdx/{uuid.uuid4()}",
        creators=[Actor(ActorType.TOOL, f"tidegate-{__version__}")],
        created=(created or datetime.now(UTC)).replace(microsecond=0),
    )
    packages: list[Package] = []
    relationships: list[Relationship] = []
    for n, img in enumerate(report.images):
        image_id = _spdx_id("image", str(n))
        packages.append(
            Package(
                spdx_id=image_id,
                name=img.reference,
                version=img.manifest_digest,
                download_location=SpdxNoAssertion(),
                files_analyzed=False,
                primary_package_purpose=PackagePurpose.CONTAINER,
                comment=f"platform {img.inventory.platform}" if img.inventory.platform else None,
            )
        )
        relationships.append(Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, image_id))
        for i, p in enumerate(img.inventory.packages):
            pkg_id = _spdx_id("pkg", str(n), str(i), p.name)
            refs = []
            if p.purl:
                refs.append(
                    ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", p.purl)
                )
            packages.append(
                Package(
                    spdx_id=pkg_id,
                    name=p.name,
                    version=p.version,
                    download_location=SpdxNoAssertion(),
                    files_analyzed=False,
                    source_info=f"from {p.path} in layer {p.layer}",
                    external_references=refs,
                )
            )
            relationships.append(Relationship(image_id, RelationshipType.CONTAINS, pkg_id))
    return Document(creation_info=info, packages=packages, relationships=relationships)


def render_spdx(report: ScanReport) -> str:
    out = io.StringIO()
    write_document_to_stream(build_document(report), out, validate=True)
    return out.getvalue() + "\n"
