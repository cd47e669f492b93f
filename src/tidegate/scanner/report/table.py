"""Human-readable table for terminals."""

from __future__ import annotations

from tidegate.scanner.report.model import ScanReport


def _short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


def _rows(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    ]


def render_table(report: ScanReport) -> str:
    out: list[str] = []
    for img in report.images:
        inv = img.inventory
        distro = inv.distro
        os_name = "none found" if distro is None else (distro.pretty_name or distro.id)
        if distro is not None and not distro.recognised:
            os_name += " (not recognised)"
        out.append(f"{img.reference}  {img.manifest_digest}  {inv.platform or '-'}")
        out.append(f"OS: {os_name}; {len(inv.packages)} packages; {len(inv.warnings)} warnings")
        rows = [
            [p.name, p.version, p.ecosystem, p.package_manager.value, _short(p.layer)]
            for p in inv.packages
        ]
        out.extend(_rows(["NAME", "VERSION", "ECOSYSTEM", "TYPE", "LAYER"], rows))
        out.extend(f"warning: {w.path}: {w.reason}" for w in inv.warnings)
        out.append("")
    if report.findings:
        rows = [
            [
                f.vulnerability_id,
                f.severity.value,
                f.package.name,
                f.package.version,
                f.fix_state.value,
                f.fixed_version,
            ]
            for f in report.findings
        ]
        header = ["VULNERABILITY", "SEVERITY", "PACKAGE", "VERSION", "FIX STATE", "FIXED IN"]
        out.extend(_rows(header, rows))
    elif report.vulndb_version is None:
        out.append("Findings: not matched (no vulnerability DB; run `tidegate db update`)")
    else:
        out.append(f"Findings: none (vulnerability DB version {report.vulndb_version})")
    return "\n".join(out) + "\n"
