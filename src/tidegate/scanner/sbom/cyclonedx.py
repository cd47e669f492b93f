"""Inventory (and findings, when any) -> CycloneDX 1.6 JSON via cyclonedx-python-lib."""

from __future__ import annotations

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityRating,
    VulnerabilitySeverity,
)
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from tidegate.scanner.model import Package
from tidegate.scanner.report.model import ScanReport, Severity

_SEVERITY = {
    Severity.CRITICAL: VulnerabilitySeverity.CRITICAL,
    Severity.HIGH: VulnerabilitySeverity.HIGH,
    Severity.MEDIUM: VulnerabilitySeverity.MEDIUM,
    Severity.LOW: VulnerabilitySeverity.LOW,
    Severity.INFORMATIONAL: VulnerabilitySeverity.INFO,
    Severity.UNDEFINED: VulnerabilitySeverity.UNKNOWN,
}


def _ref(image: str, p: Package) -> str:
    return f"{p.purl or p.ecosystem + '/' + p.name + '@' + p.version}#{image}:{p.path}"


def build_bom(report: ScanReport) -> Bom:
    """One container component per image, its packages as components beneath it."""
    bom = Bom()
    subject = Component(
        name=report.images[0].reference if report.images else "empty",
        type=ComponentType.CONTAINER,
        bom_ref="subject",
    )
    bom.metadata.component = subject
    refs: dict[tuple[str, Package], Component] = {}
    containers: list[Component] = []
    for img in report.images:
        inv = img.inventory
        container = Component(
            name=img.reference,
            type=ComponentType.CONTAINER,
            bom_ref=img.manifest_digest,
            version=img.manifest_digest,
            properties=[Property(name="tidegate:platform", value=inv.platform)]
            if inv.platform
            else [],
        )
        if inv.distro is not None:
            container.components.add(
                Component(
                    name=inv.distro.id,
                    version=inv.distro.version_id,
                    type=ComponentType.OPERATING_SYSTEM,
                    bom_ref=f"os:{inv.distro.id}@{inv.distro.version_id}#{img.manifest_digest}",
                )
            )
        for p in inv.packages:
            props = [Property(name="tidegate:layer", value=p.layer)]
            if p.path:
                props.append(Property(name="tidegate:path", value=p.path))
            if p.source_name:
                props.append(Property(name="tidegate:source", value=p.source_name))
            comp = Component(
                name=p.name,
                version=p.version,
                type=ComponentType.LIBRARY,
                purl=PackageURL.from_string(p.purl) if p.purl else None,
                bom_ref=_ref(img.manifest_digest, p),
                properties=props,
            )
            container.components.add(comp)
            refs[(img.manifest_digest, p)] = comp
        bom.components.add(container)
        bom.register_dependency(container, list(container.components))
        containers.append(container)
    bom.register_dependency(subject, containers)
    for f in report.findings:
        found = refs.get((f.image, f.package))
        if found is None or found.bom_ref.value is None:
            continue
        ref = str(found.bom_ref.value)
        bom.vulnerabilities.add(
            Vulnerability(
                bom_ref=f"{f.vulnerability_id}#{ref}",
                id=f.vulnerability_id,
                ratings=[VulnerabilityRating(severity=_SEVERITY[f.severity])],
                affects=[BomTarget(ref=ref)],
            )
        )
    return bom


def render_cyclonedx(report: ScanReport) -> str:
    return JsonV1Dot6(build_bom(report)).output_as_string(indent=2) + "\n"
