"""The Go and Rust binary analyzers share one parse of each executable's ELF headers."""

from __future__ import annotations

import io
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import pytest

from tests.support import lang_binaries as lb
from tests.support import oci_build as ob
from tidegate.scanner.analyzers.base import AnalyzerError, AnalyzerInput, FileInfo
from tidegate.scanner.analyzers.lang import elf
from tidegate.scanner.analyzers.lang.gobinary import GoBinaryAnalyzer
from tidegate.scanner.analyzers.lang.rust import RustBinaryAnalyzer
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.sources.layout import OCILayoutSource

CRATES = ({"name": "serde", "version": "1.0.130", "source": "crates.io"},)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts ELF header parses (one entry per call)."""
    calls: list[int] = []
    real = elf.read_headers

    def counting(stream: BinaryIO) -> elf.ElfHeaders:
        calls.append(1)
        return real(stream)

    monkeypatch.setattr(elf, "read_headers", counting)
    return calls


def _input(data: bytes) -> AnalyzerInput:
    return AnalyzerInput(
        PurePosixPath("usr/bin/app"),
        FileInfo(len(data), 0o755),
        lambda: io.BytesIO(data),
        lambda: Path("/nonexistent"),
    )


def test_derived_is_computed_once_per_input() -> None:
    item = _input(b"x")
    seen: list[AnalyzerInput] = []

    def compute(file: AnalyzerInput) -> int:
        seen.append(file)
        return len(seen)

    assert item.derived(compute) == 1
    assert item.derived(compute) == 1
    assert seen == [item]
    assert _input(b"x").derived(compute) == 2  # another file, another value


def test_derived_does_not_cache_failures() -> None:
    item = _input(b"x")
    attempts: list[int] = []

    def failing(file: AnalyzerInput) -> int:
        attempts.append(1)
        raise AnalyzerError("bad")

    for _ in range(2):
        with pytest.raises(AnalyzerError, match="bad"):
            item.derived(failing)
    assert len(attempts) == 2


def test_both_analyzers_on_one_input_parse_once(parses: list[int]) -> None:
    item = _input(lb.auditable_elf(CRATES))
    assert list(GoBinaryAnalyzer().analyze(item)) == []
    rust = list(RustBinaryAnalyzer().analyze(item))
    assert [(p.name, p.version) for p in rust] == [("serde", "1.0.130")]
    assert len(parses) == 1


def test_corrupt_elf_is_reported_by_both_analyzers() -> None:
    item = _input(b"\x7fELF\x02\x01\x01" + b"\xff" * 5000)
    for analyzer in (GoBinaryAnalyzer(), RustBinaryAnalyzer()):
        with pytest.raises(AnalyzerError):
            list(analyzer.analyze(item))


def test_image_scan_parses_each_executable_once(parses: list[int], tmp_path: Path) -> None:
    members = [
        ob.file("usr/bin/go-app", lb.go_elf("go1.21.3", ("path\tcmd/tool",)), 0o755),
        ob.file("usr/bin/rust-app", lb.auditable_elf(CRATES), 0o755),
        ob.file("usr/bin/plain", lb.elf64([(".text", b"\x90" * 64)]), 0o755),
    ]
    ob.build_oci_layout(tmp_path / "img", [ob.Layer(members)])
    [img] = analyze_image(
        OCILayoutSource(tmp_path / "img"),
        analyzers=[GoBinaryAnalyzer(), RustBinaryAnalyzer()],
    )
    found = {(p.name, p.version, p.path) for p in img.inventory.packages}
    assert found == {
        ("stdlib", "1.21.3", "usr/bin/go-app"),
        ("serde", "1.0.130", "usr/bin/rust-app"),
    }
    assert len(parses) == 3
