"""NuGet ordering: order laws on generated versions; NuGet.Client vectors as the reference.

No NuGet implementation is installable from Debian, PyPI or npm, so the reference is the
NuGet.Versioning test suite's vectors (tests/corpora/versions/nuget.txt, replayed by the
unit tests) and the NuGet rules those tests state, checked here on generated versions.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.versions import compare
from tidegate.scanner.versions.nuget import NuGetVersionScheme

from . import strategies as s
from .laws import check_order_laws, curated

SETTINGS = settings(max_examples=300, deadline=None)
NUGET = NuGetVersionScheme()
REAL = curated("nuget")


@SETTINGS
@given(s.nuget_versions, s.nuget_versions, s.nuget_versions)
def test_total_order(a: str, b: str, c: str) -> None:
    """VersionComparer: "Compare versions" is a total order on NuGetVersion."""
    check_order_laws(NUGET, a, b, c)


@SETTINGS
@given(st.sampled_from(REAL), st.sampled_from(REAL), st.sampled_from(REAL))
def test_real_world_total_order(a: str, b: str, c: str) -> None:
    """The order laws hold on versions published on nuget.org."""
    check_order_laws(NUGET, a, b, c)


@SETTINGS
@given(s.nuget_versions)
def test_release_labels_ignore_case(v: str) -> None:
    """NuGet.Versioning tests: "ignore release label casing"."""
    assert compare(NUGET, v, v.upper()) == 0
    assert compare(NUGET, v, v.lower()) == 0


@SETTINGS
@given(s.numbers(1, 3))
def test_missing_parts_are_zero(nums: str) -> None:
    """NuGet.Versioning tests: "1.0" equals "1.0.0.0"."""
    parts = nums.split(".")
    padded = ".".join(parts + ["0"] * (4 - len(parts)))
    assert compare(NUGET, nums, padded) == 0


@SETTINGS
@given(s.nuget_versions, s.build)
def test_metadata_is_ignored(v: str, meta: str) -> None:
    """SemVer 2.0.0 section 10: build metadata MUST be ignored when determining precedence."""
    assert compare(NUGET, v.split("+")[0], v.split("+")[0] + "+" + meta) == 0
