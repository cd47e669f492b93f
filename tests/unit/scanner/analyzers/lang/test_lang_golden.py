"""Golden inventories for small hand-made file trees, one directory per analyzer and case.

Each analyzer has `basic`, `empty`, `invalid` and `oversized` cases under
tests/golden/analyzers/lang/<analyzer>/<case>/rootfs; the expected result (packages and
warnings, sorted JSON) sits next to it as <case>.inventory.json. Binary inputs (jars, eggs,
ELF files) are generated here by `BINARY_FILES`, so the golden trees stay reviewable text.
Each tree is scanned as a one-layer image through the real walker and inventory builder
(`analyze_tree`), so what the golden files hold is what a scan reports.
Run `pytest --update-golden` to rewrite the expectations after an intended change.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import lang_binaries as lb
from tests.support.lang_rootfs import LANG_ANALYZERS, analyze_tree, result_json
from tidegate.scanner.analyzers.base import ANALYZERS

GOLDEN = Path(__file__).parents[4] / "golden" / "analyzers" / "lang"
CASES = ("basic", "empty", "invalid", "oversized")

GO_LINES = (
    "path\texample.com/app/cmd/app",
    "mod\texample.com/app\t(devel)\t",
    "dep\tgolang.org/x/text\tv0.3.7\th1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=",
    "dep\texample.com/old\tv1.0.0\t",
    "=>\texample.com/fork\tv1.0.1\th1:def=",
    "dep\texample.com/local\tv0.0.0\t",
    "=>\t../local\t\t",
    "build\t-compiler=gc",
)
CRATES = (
    {"name": "app", "version": "0.1.0", "source": "local", "root": True, "dependencies": [1]},
    {"name": "serde", "version": "1.0.130", "source": "crates.io"},
    {"name": "cc", "version": "1.0.72", "source": "crates.io", "kind": "build"},
    {"name": "forked", "version": "0.2.0", "source": "git"},
)
LOG4J = ("org.apache.logging.log4j", "log4j-core", "2.14.1")

BinaryFiles = dict[str, Callable[[], bytes]]
BINARY_FILES: dict[tuple[str, str], BinaryFiles] = {
    ("python", "basic"): {
        "usr/lib/python3/site-packages/simplejson-3.17.2-py3.9.egg": lambda: lb.zip_bytes(
            {"EGG-INFO/PKG-INFO": b"Metadata-Version: 1.1\nName: simplejson\nVersion: 3.17.2\n"}
        )
    },
    ("python", "invalid"): {
        "usr/lib/python3/site-packages/broken-1.0.egg": lambda: b"not a zip file at all",
        "usr/lib/python3/site-packages/noinfo-1.0.egg": lambda: lb.zip_bytes({"x.py": b""}),
    },
    ("java", "basic"): {
        "app/app.jar": lambda: lb.maven_jar(
            "com.example",
            "demo",
            "0.0.1-SNAPSHOT",
            {
                "BOOT-INF/lib/log4j-core-2.14.1.jar": lb.maven_jar(*LOG4J),
                "BOOT-INF/lib/commons-text-1.9.jar": lb.zip_bytes(
                    {"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\n\r\n"}
                ),
            },
        ),
        "opt/lib/noversion.jar": lambda: lb.zip_bytes(
            {"META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nBundle-Version: 3.1\r\n\r\n"}
        ),
        "opt/lib/nothing.jar": lambda: lb.zip_bytes({"a.class": b"\xca\xfe\xba\xbe"}),
        "srv/exploded/META-INF/maven/org.example/exploded/pom.properties": lambda: (
            lb.pom_properties("org.example", "exploded", "2.0")
        ),
    },
    ("java", "empty"): {"app/empty.jar": lambda: b""},
    ("java", "invalid"): {
        "app/garbage.jar": lambda: b"PK\x03\x04 this is not really a zip",
        "app/nested-bad.war": lambda: lb.zip_bytes({"WEB-INF/lib/bad.jar": b"garbage"}),
    },
    ("java", "oversized"): {"app/app.jar": lambda: lb.maven_jar(*LOG4J)},
    ("gobinary", "basic"): {
        "usr/bin/app-inline": lambda: lb.go_elf("go1.21.3", GO_LINES),
        "usr/bin/app-pointers": lambda: lb.go_elf("go1.16.15", GO_LINES, inline=False),
        "usr/bin/stdlib-only": lambda: lb.go_elf("go1.19.8", ("path\tcmd/tool",)),
        "usr/bin/not-go": lambda: lb.elf64([(".text", b"\x90" * 64)]),
        "usr/bin/script": lambda: b"#!/bin/sh\n" + b"#" * 5000 + b"\n",
    },
    ("gobinary", "empty"): {"usr/bin/zeros": lambda: b"\0" * 4096},
    ("gobinary", "invalid"): {
        "usr/bin/garbage-elf": lambda: b"\x7fELF\x02\x01\x01" + b"\xff" * 5000,
        "usr/bin/truncated-go": lambda: lb.go_elf("go1.21.3", GO_LINES)[:400].ljust(4096, b"\0"),
    },
    ("gobinary", "oversized"): {"usr/bin/app": lambda: lb.go_elf("go1.21.3", GO_LINES)},
    ("rust-binary", "basic"): {
        "usr/bin/app": lambda: lb.auditable_elf(CRATES),
        "usr/bin/plain": lambda: lb.elf64([(".text", b"\x90" * 64)]),
    },
    ("rust-binary", "empty"): {"usr/bin/app": lambda: lb.elf64([(".dep-v0", b"")])},
    ("rust-binary", "invalid"): {
        "usr/bin/corrupt-zlib": lambda: lb.elf64([(".dep-v0", b"x\x9c garbage")]),
        "usr/bin/not-json": lambda: lb.elf64([(".dep-v0", __import__("zlib").compress(b"{"))]),
    },
    ("rust-binary", "oversized"): {"usr/bin/app": lambda: lb.auditable_elf(CRATES)},
}
EXECUTABLE_ANALYZERS = {"gobinary", "rust-binary"}
# Oversized cases run the real analyzers with this lower limit, so the layer stays small
# (above the executables' minimum size, or the binary analyzers would not want the file).
OVERSIZED_LIMIT = 64 << 10


def _cases() -> list[tuple[str, str]]:
    analyzers = sorted(n.removeprefix("lang/") for n in ANALYZERS if n.startswith("lang/"))
    return [(a, c) for a in analyzers for c in CASES]


def _build_rootfs(analyzer: str, case: str, dest: Path) -> None:
    source = GOLDEN / analyzer / case / "rootfs"
    if source.is_dir():
        shutil.copytree(source, dest)
    for rel, make in BINARY_FILES.get((analyzer, case), {}).items():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(make())
        if analyzer in EXECUTABLE_ANALYZERS:
            target.chmod(0o755)
    if case == "oversized":
        for root, _dirs, files in os.walk(dest):
            for name in files:
                os.truncate(Path(root, name), OVERSIZED_LIMIT + 1)


def test_every_golden_case_has_an_expectation() -> None:
    expected = {GOLDEN / a / f"{c}.inventory.json" for a, c in _cases()}
    on_disk = set(GOLDEN.glob("*/*.inventory.json"))
    assert on_disk == expected


@pytest.mark.parametrize(("analyzer", "case"), _cases())
def test_golden(analyzer: str, case: str, tmp_path: Path, update_golden: bool) -> None:
    rootfs = tmp_path / "rootfs"
    _build_rootfs(analyzer, case, rootfs)
    rootfs.mkdir(exist_ok=True)
    limits = dict.fromkeys(LANG_ANALYZERS, OVERSIZED_LIMIT) if case == "oversized" else None
    actual = result_json(analyze_tree(rootfs, max_file_size=limits))
    expected_file = GOLDEN / analyzer / f"{case}.inventory.json"
    if update_golden:
        expected_file.parent.mkdir(parents=True, exist_ok=True)
        expected_file.write_text(actual)
    assert expected_file.exists(), f"missing {expected_file}; run pytest --update-golden"
    assert actual == expected_file.read_text()
