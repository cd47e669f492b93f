"""npm ordering against the npm `semver` package (v7) run under node."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.versions import compare
from tidegate.scanner.versions.npm import NpmVersionScheme

from . import strategies as s
from .laws import check_order_laws, check_sorted_neighbours, curated, installed_npm_versions, parses
from .oracle import LineOracle

SETTINGS = settings(max_examples=300, deadline=None)
NPM = NpmVersionScheme()
REAL = curated("npm") + installed_npm_versions()
_PREFIX = re.compile(r"^[v=\s]+")


@SETTINGS
@given(s.npm_versions, s.npm_versions, s.npm_versions)
def test_total_order(a: str, b: str, c: str) -> None:
    """SemVer 2.0.0 section 11: precedence is a total order on versions."""
    check_order_laws(NPM, a, b, c)


@SETTINGS
@given(s.npm_versions, s.npm_versions)
def test_agrees_with_node_semver(npm_ref: LineOracle, a: str, b: str) -> None:
    """SemVer 2.0.0 section 11: "Precedence for two pre-release versions with the same
    major, minor, and patch version MUST be determined by comparing each dot separated
    identifier from left to right"; build metadata does not figure in precedence."""
    assert str(compare(NPM, a, b)) == npm_ref.ask("C", a, b)


@SETTINGS
@given(st.one_of(s.semver_chars, s.npm_versions))
def test_accepts_what_node_semver_accepts(npm_ref: LineOracle, text: str) -> None:
    """node-semver: strict SemVer after an optional run of "v", "=" and spaces."""
    strict_body = npm_ref.ask("V", _PREFIX.sub("", text.strip()))[0] == "1"
    loose_whole = npm_ref.ask("V", text)[1] == "1"
    assert parses(NPM, text) == strict_body
    if parses(NPM, text):
        assert loose_whole


@SETTINGS
@given(st.sampled_from(REAL), st.sampled_from(REAL))
def test_real_world_pairs_agree(npm_ref: LineOracle, a: str, b: str) -> None:
    """The same precedence holds for versions published on npm."""
    assert str(compare(NPM, a, b)) == npm_ref.ask("C", a, b)


def test_real_world_sorted_order_agrees(npm_ref: LineOracle) -> None:
    """npm's own bundled packages, sorted by our key, are in node-semver's order."""
    assert check_sorted_neighbours(NPM, REAL, lambda a, b: int(npm_ref.ask("C", a, b))) > 50
