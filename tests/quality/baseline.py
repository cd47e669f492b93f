"""Run the gate's scans and compare; `--update` rewrites the committed baseline.

    python -m tests.quality.baseline            # scan every image, print the table
    python -m tests.quality.baseline --update   # ... and write tests/quality/baseline.json
                                                #     and the tables in docs/accuracy.md

The baseline lists today's known false negatives and false positives, each with a reason
(a reason edited by hand survives an update while the entry stays), plus each image's F1
and severity agreement. The gate fails on any FN or FP not listed and on a lower F1 or
severity agreement, so a regenerated baseline is a reviewed statement of what is accepted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tests.quality import images, scanning
from tests.quality.compare import Result, compare, load_labels, norm

HERE = Path(__file__).resolve().parent
BASELINE = HERE / "baseline.json"
LABELS = HERE / "labels"
RESULTS = images.CACHE / "results.json"


def run_all(names: list[str] | None = None) -> list[Result]:
    """Scan each image with the real CLI and compare with its labels."""
    data = scanning.data_dir()
    results = []
    for image in images.IMAGES:
        if names and image.name not in names:
            continue
        out = scanning.scan(image, data)
        results.append(compare(out.report, load_labels(LABELS, image.name), out.seconds))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps([r.as_dict() for r in results], indent=1) + "\n")
    return results


def inventory_drift(image: images.QualityImage) -> list[str]:
    """Packages the real tools list now that the labels were not made for (or the reverse)."""
    labelled = {norm(*row) for row in load_labels(LABELS, image.name)["inventory"]}
    now = {norm(*row) for row in image.truth()}
    return sorted(f"+{k}" for k in now - labelled) + sorted(f"-{k}" for k in labelled - now)


def load() -> dict[str, Any]:
    return dict(json.loads(BASELINE.read_text())) if BASELINE.exists() else {"images": {}}


def updated(results: list[Result], old: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "about": "Known false negatives/positives per gate image, each with a reason; "
        "regenerate with `python -m tests.quality.baseline --update`.",
        "images": {},
    }
    for r in results:
        before = old.get("images", {}).get(r.image, {})
        entry = {
            "f1": round(r.overall.f1, 4),
            "severity_agreement": round(r.overall.severity_agreement, 4),
            "false_negatives": {
                k: before.get("false_negatives", {}).get(k, why)
                for k, why in sorted(r.false_negatives.items())
            },
            "false_positives": {
                k: before.get("false_positives", {}).get(k, why)
                for k, why in sorted(r.false_positives.items())
            },
        }
        doc["images"][r.image] = entry
    return doc


def table(results: list[Result]) -> str:
    head = ("| image | ecosystem | inventory: truth / found / entries | findings: TP / FP / FN "
            "| precision | recall | F1 | severity agreement | fix agreement |\n"
            "|---|---|---|---|---|---|---|---|---|\n")  # fmt: skip
    rows = []
    for r in results:
        ecos = sorted(set(r.by_ecosystem) | set(r.inventory))
        for eco in ecos:
            inv = r.inventory.get(eco)
            t = r.by_ecosystem.get(eco)
            inv_txt = f"{inv.truth} / {inv.found} / {inv.entries}" if inv else "-"
            if inv and (inv.missing or inv.extra):
                inv_txt += f" ({len(inv.missing)} missing, {len(inv.extra)} extra)"
            if t is None:
                rows.append(f"| {r.image} | {eco} | {inv_txt} | 0 / 0 / 0 | - | - | - | - | - |")
                continue
            rows.append(
                f"| {r.image} | {eco} | {inv_txt} | {t.tp} / {t.fp} / {t.fn} | {t.precision:.3f} "
                f"| {t.recall:.3f} | {t.f1:.3f} | {t.severity_agreement:.3f} "
                f"| {t.fix_agreement:.3f} |"
            )
        o = r.overall
        rows.append(
            f"| **{r.image}** | all | | {o.tp} / {o.fp} / {o.fn} | {o.precision:.3f} "
            f"| {o.recall:.3f} | **{o.f1:.3f}** | {o.severity_agreement:.3f} "
            f"| {o.fix_agreement:.3f} |"
        )
    return head + "\n".join(rows) + "\n"


def write_docs(results: list[Result], doc: Path) -> None:
    """Replace the generated block of docs/accuracy.md with the current table."""
    start, end = "<!-- quality-table:start -->", "<!-- quality-table:end -->"
    text = doc.read_text() if doc.exists() else f"{start}\n{end}\n"
    before, _, rest = text.partition(start)
    _, _, after = rest.partition(end)
    doc.write_text(f"{before}{start}\n{table(results)}{end}{after}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.quality.baseline", description=__doc__)
    parser.add_argument("--update", action="store_true", help="rewrite baseline.json and docs")
    parser.add_argument("images", nargs="*")
    args = parser.parse_args(argv)
    results = run_all(args.images or None)
    sys.stdout.write(table(results))
    if args.update:
        old = load()
        doc = updated(results, old)
        if args.images:  # a partial update keeps the other images' entries
            doc["images"] = {**old.get("images", {}), **doc["images"]}
        BASELINE.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        write_docs(results, images.ROOT / "docs" / "accuracy.md")
        print(f"wrote {BASELINE.relative_to(images.ROOT)} and docs/accuracy.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
