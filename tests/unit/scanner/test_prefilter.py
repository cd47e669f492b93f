"""Every pre-filter accepts a superset of its `required`, so the walk never loses a file.

The walk asks `required` only about files the union index of the pre-filters lets through;
a pre-filter narrower than `required` would silently drop packages. Checked on generated
paths (built from the names analyzers look for, random case and random text), on every path
of the golden trees and the golden results, and on real-world paths.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.analyzers.base import FileInfo, Prefilter
from tidegate.scanner.image.layer import selectors_for
from tidegate.scanner.image.selection import Selector, SelectorIndex
from tidegate.scanner.inventory import default_analyzers

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
SELECTORS = tuple(selectors_for(default_analyzers()))
INDEX = SelectorIndex(SELECTORS)
MODES = (0o644, 0o755, 0o600, 0o100644, 0o100755, 0o120777, 0o040755, 0o4711, 0)
SIZES = (0, 1, 4095, 4096, 1 << 20, 600 << 20)

# Names and directories the analyzers care about, to steer generated paths at the edges.
_WORDS = (
    "var/lib/dpkg/status.d",
    "lib/apk/db",
    "var/lib/rpm",
    "usr/lib/sysimage/rpm",
    "META-INF/maven/org.x/y",
    "vendor/composer",
    "node_modules/@scope",
    "specifications/default",
    "status",
    "status.d",
    "var",
    "lib",
    "dpkg",
    "apk",
    "db",
    "installed",
    "rpm",
    "usr",
    "sysimage",
    "rpmdb.sqlite",
    "Packages",
    "Packages.db",
    "etc",
    "os-release",
    "alpine-release",
    "debian_version",
    "redhat-release",
    "system-release",
    "node_modules",
    "@scope",
    "@types",
    ".bin",
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "vendor",
    "composer",
    "installed.json",
    "composer.lock",
    "specifications",
    "default",
    "rake-13.0.gemspec",
    "Gemfile.lock",
    "gems.locked",
    "Cargo.lock",
    "app.deps.json",
    "METADATA",
    "PKG-INFO",
    "EGG-INFO",
    "x-1.0.dist-info",
    "x-1.0.egg-info",
    "x-1.0.egg",
    "META-INF",
    "maven",
    "pom.properties",
    "app.jar",
    "app.war",
    "lib.ear",
    "x.par",
    "x.sar",
    "tool.exe",
    "README",
    "a.md5sums",
)
_SEPARATORS = ("", ".", "-", "_")


def _vary_case(word: str, flips: list[bool]) -> str:
    flipped = "".join(c.swapcase() if f else c for c, f in zip(word, flips, strict=False))
    return flipped + word[len(flipped) :]


@st.composite
def _segment(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 4))
    if kind == 0:
        alphabet = st.characters(exclude_characters="/\0", exclude_categories=["Cs"])
        text = draw(st.text(alphabet, min_size=1, max_size=12))
    else:
        word = draw(st.sampled_from(_WORDS))
        if kind == 1:
            word = _vary_case(word, draw(st.lists(st.booleans(), max_size=len(word))))
        elif kind == 2:
            prefix = draw(st.sampled_from(("", "x", "a.b", "\u017f", "\u212a")))
            word = prefix + draw(st.sampled_from(_SEPARATORS)) + word
        elif kind == 3:
            word += draw(st.sampled_from(("\n", " ", ".bak", "~", "\u017f", "\u212a")))
        text = word
    # Normalised member paths never hold empty, "." or ".." components.
    return text if text not in (".", "..") else text + "x"


_paths = st.lists(_segment(), min_size=1, max_size=7).map("/".join)


def _violations(path: str, mode: int, size: int, index: SelectorIndex) -> list[str]:
    info = FileInfo(size=size, mode=mode)
    candidates = {s.name for s in index.candidates(path, mode)}
    return [
        s.name
        for s in index.selectors
        if s.required(PurePosixPath(path), info) and s.name not in candidates
    ]


@settings(max_examples=2000, deadline=None)
@given(_paths, st.sampled_from(MODES), st.sampled_from(SIZES))
def test_union_index_accepts_every_required_file(path: str, mode: int, size: int) -> None:
    assert _violations(path, mode, size, INDEX) == []


@pytest.mark.parametrize("selector", SELECTORS, ids=lambda s: s.name)
@settings(max_examples=200, deadline=None)
@given(path=_paths, mode=st.sampled_from(MODES), size=st.sampled_from(SIZES))
def test_each_prefilter_alone_is_a_superset(
    selector: Selector, path: str, mode: int, size: int
) -> None:
    assert _violations(path, mode, size, SelectorIndex([selector])) == []


def _golden_paths() -> Iterator[tuple[str, int]]:
    """Every file of the golden trees (relative to its root) and every path a golden names."""
    for file in sorted(GOLDEN.rglob("*")):
        if not file.is_file():
            continue
        parts = file.relative_to(GOLDEN).parts
        if len(parts) == 4:  # analyzers/<lang|os>/<analyzer>/<case>[.inventory].json
            doc = json.loads(file.read_text())
            named = [p["path"] for p in doc.get("packages", [])]
            # lang goldens store warnings as objects, os goldens as [path, analyzer, reason]
            named += [w["path"] if isinstance(w, dict) else w[0] for w in doc.get("warnings", [])]
            for path in named:
                outer = str(path).split("!/", 1)[0]
                yield from ((outer, mode) for mode in (0o644, 0o755))
            continue
        # analyzers/lang/<analyzer>/<case>/rootfs/... and analyzers/os/<group>/<case>/...
        rel = parts[5:] if parts[1] == "lang" else parts[4:]
        yield "/".join(rel), stat.S_IMODE(file.stat().st_mode)


REAL_WORLD = (
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/libc6",
    "var/lib/dpkg/status.d/libc6.md5sums",
    "lib/apk/db/installed",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
    "etc/os-release",
    "usr/lib/os-release",
    "usr/local/lib/python3.12/site-packages/requests-2.31.0.dist-info/METADATA",
    "usr/lib/python3/dist-packages/six-1.16.0.egg-info",
    "usr/lib/python3/dist-packages/x-1.0.egg-info/PKG-INFO",
    "opt/venv/lib/python3.11/site-packages/foo-1.0-py3.11.egg",
    "app/node_modules/express/package.json",
    "app/node_modules/@babel/core/package.json",
    "app/node_modules/a/node_modules/b/package.json",
    "app/package-lock.json",
    "app/yarn.lock",
    "app/pnpm-lock.yaml",
    "srv/app/vendor/composer/installed.json",
    "srv/app/composer.lock",
    "usr/lib/ruby/gems/3.1.0/specifications/rake-13.0.6.gemspec",
    "usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec",
    "app/Gemfile.lock",
    "src/Cargo.lock",
    "app/MyApp.deps.json",
    "opt/app/lib/log4j-core-2.14.1.jar",
    "opt/app/APP.WAR",
    "srv/webapp/WEB-INF/classes/META-INF/maven/org.x/y/pom.properties",
    "usr/bin/kubectl",
    "app/tool.EXE",
)


def test_known_paths_are_never_filtered_out() -> None:
    known = [*_golden_paths(), *((p, 0o755) for p in REAL_WORLD)]
    missed = [
        (path, mode, size, _violations(path, mode, size, INDEX))
        for path, mode in known
        for size in SIZES
    ]
    assert [m for m in missed if m[3]] == []


def test_golden_and_real_paths_exercise_every_selector() -> None:
    """The known paths above must reach each analyzer's `required`, or they prove nothing."""
    paths = [*_golden_paths(), *((p, 0o755) for p in REAL_WORLD)]
    reached = {
        s.name
        for path, mode in paths
        for s in SELECTORS
        if s.required(PurePosixPath(path), FileInfo(size=1 << 20, mode=mode))
    }
    assert reached == {s.name for s in SELECTORS}


def test_unwanted_files_are_rejected_without_asking_required() -> None:
    for path in (
        "usr/share/doc/bash/copyright",
        "usr/share/locale/de/LC_MESSAGES/coreutils.mo",
        "usr/lib/python3/dist-packages/six.py",
        "usr/share/man/man1/ls.1.gz",
    ):
        assert INDEX.candidates(path, 0o644) == ()


def test_candidates_keep_selector_order_and_merge_buckets() -> None:
    def always(path: PurePosixPath, info: FileInfo) -> bool:
        return True

    a = Selector("a", always, 1, Prefilter(suffixes=(".lock",)))
    b = Selector("b", always, 1, Prefilter(names=frozenset({"x.lock"}), executable=True))
    c = Selector("c", always, 1, Prefilter(parents=frozenset({"d"}), paths=frozenset({"d/x"})))
    index = SelectorIndex([a, b, c])
    assert index.candidates("d/x.lock", 0o755) == (a, b, c)
    assert index.candidates("d/x", 0o644) == (c,)
    assert index.candidates("e/y", 0o700) == (b,)
    assert index.candidates("e/Y.LOCK", 0o644) == (a,)
    assert index.candidates("e/y", 0o644) == ()


def test_names_outside_printable_ascii_reach_every_selector() -> None:
    # `re.I` folds the long s (U+017F) to "s" and `$` accepts a trailing newline; the
    # index leaves such names to `required`.
    for path in ("opt/app.\u017far", "opt/app.jar\n", "opt/caf\u00e9"):
        assert INDEX.candidates(path, 0o644) == SELECTORS
