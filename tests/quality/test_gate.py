"""The labelled quality gate: every image scanned by the real `tidegate scan`, compared with
its committed labels (tests/quality/labels/, made by tests/quality/label.py from the raw feed
records with the ecosystems' own version comparators) against tests/quality/baseline.json.

Fails on any false negative or false positive the baseline does not list, on an F1 or a
severity agreement below the baseline's, and when the real tools now list other packages
than the labels were made for (the image changed: relabel). After an intended change:
`python -m tests.quality.label` when images changed, then
`python -m tests.quality.baseline --update`, and review the diff.
"""

from __future__ import annotations

import json

import pytest

from tests.quality import baseline, images
from tests.quality.compare import Result, compare, load_labels
from tests.quality.scanning import data_dir, scan

# the first run on a machine builds the vulnerability DB from the mirror (about two minutes)
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

EPSILON = 1e-4


@pytest.fixture(scope="module")
def results() -> dict[str, Result]:
    data = data_dir()
    out = {}
    for image in images.IMAGES:
        scanned = scan(image, data)
        labels = load_labels(baseline.LABELS, image.name)
        out[image.name] = compare(scanned.report, labels, scanned.seconds)
    baseline.RESULTS.parent.mkdir(parents=True, exist_ok=True)
    baseline.RESULTS.write_text(json.dumps([r.as_dict() for r in out.values()], indent=1) + "\n")
    return out


@pytest.mark.parametrize("image", [img.name for img in images.IMAGES])
def test_labels_describe_the_image_the_tools_see(image: str) -> None:
    drift = baseline.inventory_drift(images.BY_NAME[image])
    assert not drift, f"{image} changed since it was labelled; run python -m tests.quality.label"


@pytest.mark.parametrize("image", [img.name for img in images.IMAGES])
def test_no_new_false_negatives(image: str, results: dict[str, Result]) -> None:
    known = baseline.load()["images"].get(image, {}).get("false_negatives", {})
    new = {k: v for k, v in results[image].false_negatives.items() if k not in known}
    assert not new, f"new false negatives on {image}: {new}"


@pytest.mark.parametrize("image", [img.name for img in images.IMAGES])
def test_no_new_false_positives(image: str, results: dict[str, Result]) -> None:
    known = baseline.load()["images"].get(image, {}).get("false_positives", {})
    new = {k: v for k, v in results[image].false_positives.items() if k not in known}
    assert not new, f"new false positives on {image}: {new}"


@pytest.mark.parametrize("image", [img.name for img in images.IMAGES])
def test_f1_and_severity_agreement_hold(image: str, results: dict[str, Result]) -> None:
    entry = baseline.load()["images"].get(image)
    assert entry is not None, f"{image} is not in baseline.json"
    got = results[image].overall
    assert got.f1 >= entry["f1"] - EPSILON, f"F1 {got.f1:.4f} < baseline {entry['f1']}"
    assert got.severity_agreement >= entry["severity_agreement"] - EPSILON, (
        f"severity agreement {got.severity_agreement:.4f} < baseline "
        f"{entry['severity_agreement']}: {results[image].severity_mismatches}"
    )


def test_gate_catches_a_dropped_and_an_invented_finding(results: dict[str, Result]) -> None:
    """The comparison itself: removing a true positive is a new FN, inventing one a new FP."""
    image = images.BY_NAME["debian12-pypi"]
    labels = load_labels(baseline.LABELS, image.name)
    report = scan(image, data_dir()).report
    true_positive = next(
        f for f in report["findings"]
        if any(f["id"] in lab["ids"] for lab in labels["labels"])
    )  # fmt: skip
    invented = dict(true_positive, id="CVE-1999-0001")
    same = ("id", "package", "version")
    kept = [f for f in report["findings"] if any(f[k] != true_positive[k] for k in same)]
    report["findings"] = [*kept, invented]
    result = compare(report, labels)
    assert any(k.startswith(true_positive["id"]) for k in result.false_negatives)
    assert any(k.startswith("CVE-1999-0001") for k in result.false_positives)
    assert result.overall.f1 < results[image.name].overall.f1
