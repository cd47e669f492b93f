"""Inventory (and findings, when any) -> CycloneDX 1.6 JSON via cyclonedx-python-lib."""

from __future__ import annotations

from decimal import Decimal

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.vulnerability import (
    BomTarget,
    Vulnerability,
    VulnerabilityRating,
    VulnerabilityScoreSource,
    VulnerabilitySeverity,
    VulnerabilitySource,
)
from cyclonedx.output.json import JsonV1Dot4, JsonV1Dot6
from packageurl import PackageURL

from tidegate.scanner.model import Package
from tidegate.scanner.report.model import Finding, ScanReport
from tidegate.scanner.severity import Severity, score_severity

_SEVERITY = {
    Severity.CRITICAL: VulnerabilitySeverity.CRITICAL,
    Severity.HIGH: VulnerabilitySeverity.HIGH,
    Severity.MEDIUM: VulnerabilitySeverity.MEDIUM,
    Severity.LOW: VulnerabilitySeverity.LOW,
    Severity.INFORMATIONAL: VulnerabilitySeverity.INFO,
    Severity.UNDEFINED: VulnerabilitySeverity.UNKNOWN,
    Severity.UNTRIAGED: VulnerabilitySeverity.UNKNOWN,
}
_METHOD = {
    "2.0": VulnerabilityScoreSource.CVSS_V2,
    "3.0": VulnerabilityScoreSource.CVSS_V3,
    "3.1": VulnerabilityScoreSource.CVSS_V3_1,
    "4.0": VulnerabilityScoreSource.CVSS_V4,
}


def ratings(f: Finding) -> list[VulnerabilityRating]:
    """The feed's own rating (method `other`, source the feed), then every CVSS vector with
    its scorer; a finding with neither gets one UNKNOWN rating."""
    out: list[VulnerabilityRating] = []
    if f.vendor_severity:
        out.append(
            VulnerabilityRating(
                source=VulnerabilitySource(name=f.rated_by or None),
                severity=_SEVERITY[f.severity],
                method=VulnerabilityScoreSource.OTHER,
                justification=f"vendor severity {f.vendor_severity!r}",
            )
        )
    out.extend(
        VulnerabilityRating(
            source=VulnerabilitySource(name=c.source) if c.source else None,
            score=Decimal(str(c.score)) if c.score is not None else None,
            severity=_SEVERITY[score_severity(c.score)] if c.score is not None else None,
            method=_METHOD.get(c.version, VulnerabilityScoreSource.OTHER),
            vector=c.vector,
        )
        for c in f.cvss
    )
    return out or [VulnerabilityRating(severity=_SEVERITY[f.severity])]


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
                ratings=ratings(f),
                affects=[BomTarget(ref=ref)],
            )
        )
    return bom


def render_cyclonedx(report: ScanReport) -> str:
    return JsonV1Dot6(build_bom(report)).output_as_string(indent=2) + "\n"


def render_cyclonedx_1_4(report: ScanReport) -> str:
    """The same BOM in CycloneDX 1.4 (what Inspector's CYCLONEDX_1_4 SBOM exports are)."""
    return JsonV1Dot4(build_bom(report)).output_as_string(indent=2) + "\n"
