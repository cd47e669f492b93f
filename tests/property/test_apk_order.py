"""apk ordering: order laws on generated versions, apk-tools' own vectors as the reference.

No apk-tools package exists for Debian 12, so the reference is apk-tools' test data
(tests/corpora/versions/apk.txt, replayed by the unit tests) and the rules stated in its
version.c, checked here on generated versions.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tidegate.scanner.versions import compare
from tidegate.scanner.versions.apk import ApkVersionScheme

from . import strategies as s
from .laws import check_order_laws, curated

SETTINGS = settings(max_examples=300, deadline=None)
APK = ApkVersionScheme()
REAL = curated("apk")


@SETTINGS
@given(s.apk_versions, s.apk_versions, s.apk_versions)
def test_total_order(a: str, b: str, c: str) -> None:
    """apk-tools version.c: "Gentoo version: {digit}{.digit}...{letter}{_suf{#}}...{-r#}"."""
    check_order_laws(APK, a, b, c)


@SETTINGS
@given(st.sampled_from(REAL), st.sampled_from(REAL), st.sampled_from(REAL))
def test_real_world_total_order(a: str, b: str, c: str) -> None:
    """The order laws hold on versions Alpine ships."""
    check_order_laws(APK, a, b, c)


@SETTINGS
@given(s.apk_versions, st.sampled_from(["-r0", "-r1", "-r10"]))
def test_revision_is_a_tiebreak(v: str, rev: str) -> None:
    """apk-tools: "-r#" is the package revision, compared after everything else."""
    base = v.split("-r")[0]
    assert compare(APK, base, base + rev) <= 0
    assert compare(APK, base + "-r2", base + "-r10") == -1


@SETTINGS
@given(
    s.numbers(), st.sampled_from(["alpha", "beta", "pre", "rc"]), st.sampled_from(["", "1", "9"])
)
def test_prerelease_suffix_sorts_before_release(nums: str, suffix: str, n: str) -> None:
    """apk-tools version.c: "the non-terminating version is greater unless it's a suffix
    indicating pre-release"."""
    assert compare(APK, f"{nums}_{suffix}{n}", nums) == -1
    assert compare(APK, f"{nums}_{suffix}{n}-r5", f"{nums}-r0") == -1


@SETTINGS
@given(
    s.numbers(), st.sampled_from(["cvs", "svn", "git", "hg", "p"]), st.sampled_from(["", "1", "9"])
)
def test_post_suffix_sorts_after_release(nums: str, suffix: str, n: str) -> None:
    """apk-tools: post-release suffixes (cvs, svn, git, hg, p) sort after the release."""
    assert compare(APK, f"{nums}_{suffix}{n}", nums) == 1
    assert compare(APK, f"{nums}_{suffix}{n}-r0", f"{nums}-r5") == 1


@SETTINGS
@given(s.numbers(), st.sampled_from(["1", "01", "001", "10", "0", "00"]))
def test_leading_zero_components_compare_as_strings(base: str, part: str) -> None:
    """apk-tools version.c: "if either of the digits have a leading zero, use raw string
    comparison similar to Gentoo spec"."""
    expected = (
        (part > "1") - (part < "1") if part.startswith("0") else (int(part) > 1) - (int(part) < 1)
    )
    assert compare(APK, f"{base}.{part}", f"{base}.1") == expected
