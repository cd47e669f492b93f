"""Session-wide reference implementations: one process each for the whole test run."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from . import oracle
from .oracle import LineOracle


def _serve(make: Callable[[], LineOracle]) -> Iterator[LineOracle]:
    proc = make()
    yield proc
    proc.close()


@pytest.fixture(scope="session")
def rpm_ref() -> Iterator[LineOracle]:
    """rpm.labelCompare (Debian python3-rpm)."""
    yield from _serve(oracle.rpm_oracle)


@pytest.fixture(scope="session")
def npm_ref() -> Iterator[LineOracle]:
    """node-semver 7 under node."""
    yield from _serve(oracle.node_semver_oracle)


@pytest.fixture(scope="session")
def maven_ref() -> Iterator[LineOracle]:
    """Maven's ComparableVersion (Debian maven 3.8)."""
    yield from _serve(oracle.maven_oracle)


@pytest.fixture(scope="session")
def gem_ref() -> Iterator[LineOracle]:
    """Gem::Version (Debian ruby)."""
    yield from _serve(oracle.gem_oracle)


@pytest.fixture(scope="session")
def go_ref() -> Iterator[LineOracle]:
    """golang.org/x/mod/semver."""
    yield from _serve(oracle.go_oracle)


@pytest.fixture(scope="session")
def cargo_ref() -> Iterator[LineOracle]:
    """The Rust semver crate."""
    yield from _serve(oracle.cargo_oracle)


@pytest.fixture(scope="session")
def composer_ref() -> Iterator[LineOracle]:
    """Composer's own semver library under php."""
    yield from _serve(oracle.composer_oracle)
