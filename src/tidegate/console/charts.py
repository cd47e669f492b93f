"""Server-rendered SVG charts (no script, no library): severity bars and a line per severity
over the daily snapshots. Each chart has a title and a text alternative for screen readers."""

from __future__ import annotations

from markupsafe import Markup, escape

from tidegate.scanner.severity import Severity

COLORS: dict[str, str] = {
    Severity.CRITICAL: "#7d0d12",
    Severity.HIGH: "#c2410c",
    Severity.MEDIUM: "#a16207",
    Severity.LOW: "#1d4ed8",
    Severity.INFORMATIONAL: "#475569",
    Severity.UNTRIAGED: "#64748b",
    Severity.UNDEFINED: "#94a3b8",
}


def bars(counts: dict[str, int], title: str) -> Markup:
    """Horizontal bars, one per severity present."""
    items = [(k, v) for k, v in counts.items() if v]
    height = 28 * max(len(items), 1) + 10
    top = max((v for _k, v in items), default=1)
    parts = [
        f'<svg class="chart" viewBox="0 0 480 {height}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (name, value) in enumerate(items):
        y = 6 + i * 28
        width = max(2, int(300 * value / top))
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="12">{escape(name)}</text>'
            f'<rect x="110" y="{y}" width="{width}" height="20" fill="{COLORS.get(name, "#333")}"/>'
            f'<text x="{116 + width}" y="{y + 15}" font-size="12">{value}</text>'
        )
    if not items:
        parts.append('<text x="0" y="22" font-size="13">No open findings</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated value is escaped or numeric)


def lines(history: dict[str, dict[str, int]], severities: tuple[str, ...], title: str) -> Markup:
    """One polyline per severity across the snapshot days (oldest left)."""
    days = list(history)
    w, h, left, bottom = 640, 240, 50, 30
    top = max((history[d].get(s, 0) for d in days for s in severities), default=0) or 1
    parts = [
        f'<svg class="chart" viewBox="0 0 {w} {h + 40}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{h - bottom}" x2="{w - 10}" y2="{h - bottom}" stroke="#999"/>',
        f'<text x="0" y="14" font-size="11">{top}</text>',
        f'<text x="0" y="{h - bottom}" font-size="11">0</text>',
    ]
    span = max(len(days) - 1, 1)

    def x(i: int) -> float:
        return left + (w - 10 - left) * (i / span if len(days) > 1 else 0.5)

    def y(v: int) -> float:
        return (h - bottom) - (h - bottom - 10) * v / top

    for s in severities:
        points = " ".join(f"{x(i):.1f},{y(history[d].get(s, 0)):.1f}" for i, d in enumerate(days))
        if points:
            parts.append(
                f'<polyline fill="none" stroke="{COLORS[s]}" stroke-width="2" points="{points}"/>'
            )
            for i, d in enumerate(days):
                parts.append(
                    f'<circle cx="{x(i):.1f}" cy="{y(history[d].get(s, 0)):.1f}" r="3" '
                    f'fill="{COLORS[s]}"/>'
                )
    if days:
        parts.append(f'<text x="{left}" y="{h - 10}" font-size="11">{escape(days[0])}</text>')
        if len(days) > 1:
            parts.append(
                f'<text x="{w - 80}" y="{h - 10}" font-size="11">{escape(days[-1])}</text>'
            )
    for i, s in enumerate(severities):
        parts.append(
            f'<rect x="{left + i * 110}" y="{h + 12}" width="12" height="12" '
            f'fill="{COLORS[s]}"/><text x="{left + 16 + i * 110}" y="{h + 23}" '
            f'font-size="11">{escape(s)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated value is escaped or numeric)
