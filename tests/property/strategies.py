"""Hypothesis strategies: realistic version strings per scheme, plus edge-heavy alphabets."""

from __future__ import annotations

from hypothesis import strategies as st

SMALL = st.integers(min_value=0, max_value=12)
NUMBER = st.one_of(SMALL, st.integers(min_value=0, max_value=10**12))


def _join(parts: list[str], sep: str = ".") -> str:
    return sep.join(parts)


def numbers(min_size: int = 1, max_size: int = 4) -> st.SearchStrategy[str]:
    """Dotted numbers such as 1.2.10."""
    return st.lists(SMALL.map(str), min_size=min_size, max_size=max_size).map(_join)


# --- dpkg ---------------------------------------------------------------------------
_DEB_TAILS = st.sampled_from(
    [
        "",
        "~rc1",
        "~beta2",
        "+dfsg",
        "+dfsg1",
        "+ds",
        "+really1.0",
        "a",
        "b",
        "~",
        "~~",
        "+git20230101",
    ]
)
_DEB_REVS = st.sampled_from(
    [
        "",
        "1",
        "2",
        "1ubuntu1",
        "1ubuntu0.22.04.1",
        "5+deb12u1",
        "9+deb12u4",
        "0.1~bpo11+1",
        "1~exp1",
        "27",
        "3build1",
        "1.1",
        "0",
        "0+b1",
    ]
)
deb_realistic = st.builds(
    lambda epoch, nums, tail, rev: f"{epoch}{nums}{tail}" + (f"-{rev}" if rev else ""),
    st.sampled_from(["", "", "", "1:", "2:", "0:"]),
    numbers(),
    _DEB_TAILS,
    _DEB_REVS,
)
deb_chars = st.builds(
    lambda epoch, d, up, rev: f"{epoch}{d}{up}" + (f"-{rev}" if rev else ""),
    st.sampled_from(["", "1:", "0:"]),
    st.sampled_from("0123456789"),
    st.text(alphabet="019az.+~", max_size=6),
    st.text(alphabet="019az.+~", max_size=4),
)
deb_versions = st.one_of(deb_realistic, deb_chars)

# --- rpm ----------------------------------------------------------------------------
_RPM_ALPHABET = "0129aZz._+~^"
rpm_realistic = st.builds(
    lambda epoch, nums, tail, rel: f"{epoch}{nums}{tail}-{rel}",
    st.sampled_from(["", "", "1:", "2:"]),
    numbers(),
    st.sampled_from(["", "~rc1", "^20230101git1", "a", "_1", "+git", "~", "^"]),
    st.sampled_from(
        [
            "1",
            "27.el9",
            "1.el9_2.1",
            "3.fc39",
            "150400.3.2",
            "1.amzn2023.0.1",
            "0.rc1.el8",
            "2.el9~1",
            "5^post",
        ]
    ),
)
rpm_chars = st.builds(
    lambda epoch, ver, rel: f"{epoch}{ver}" + (f"-{rel}" if rel else ""),
    st.sampled_from(["", "1:"]),
    st.text(alphabet=_RPM_ALPHABET, min_size=1, max_size=7),
    st.text(alphabet=_RPM_ALPHABET, max_size=5),
)
rpm_versions = st.one_of(rpm_realistic, rpm_chars)

# --- apk ----------------------------------------------------------------------------
apk_versions = st.builds(
    lambda nums, letter, suffixes, commit, rev: f"{nums}{letter}{suffixes}{commit}{rev}",
    st.one_of(numbers(), st.sampled_from(["1.01", "1.001", "0.0", "1.0.0", "2.02.06", "8.2.0015"])),
    st.sampled_from(["", "", "", "a", "b", "z"]),
    st.lists(
        st.builds(
            lambda s, n: f"_{s}{n}",
            st.sampled_from(["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"]),
            st.sampled_from(["", "1", "2", "20230717"]),
        ),
        max_size=2,
    ).map("".join),
    st.sampled_from(["", "", "", "~1234abcd", "~0a", "~ff"]),
    st.sampled_from(["", "-r0", "-r1", "-r4", "-r10"]),
)

# --- PEP 440 --------------------------------------------------------------------------
pep440_realistic = st.builds(
    lambda v, epoch, rel, pre, post, dev, local: f"{v}{epoch}{rel}{pre}{post}{dev}{local}",
    st.sampled_from(["", "", "v"]),
    st.sampled_from(["", "", "", "1!", "0!"]),
    numbers(),
    st.sampled_from(
        ["", "", "a1", "b2", "rc1", "c1", "alpha", "-beta.3", "pre2", "preview1", ".RC0"]
    ),
    st.sampled_from(["", "", ".post1", "-1", "post", ".rev2", "-r3", "_post4"]),
    st.sampled_from(["", "", ".dev0", "dev", "-dev3"]),
    st.sampled_from(["", "", "+local", "+1", "+abc.5", "+ubuntu-1", "+A.b_c"]),
)
pep440_chars = st.text(alphabet="0123.abcdeilmnoprstv+-_!", min_size=1, max_size=10)

# --- SemVer family -----------------------------------------------------------------------
_PRE_IDS = st.sampled_from(
    ["alpha", "beta", "rc", "0", "1", "2", "10", "x-y", "a1", "RC", "-", "99"]
)
prerelease = st.lists(_PRE_IDS, min_size=1, max_size=3).map(_join)
build = st.lists(st.sampled_from(["build", "001", "sha", "5", "x-y"]), min_size=1, max_size=2).map(
    _join
)
semver_core = st.builds(
    lambda nums, pre, b: nums + (f"-{pre}" if pre else "") + (f"+{b}" if b else ""),
    st.lists(NUMBER.map(str), min_size=3, max_size=3).map(_join),
    st.one_of(st.just(""), prerelease),
    st.one_of(st.just(""), st.just(""), build),
)
semver_chars = st.text(alphabet="0123.-+vabxyz=", min_size=1, max_size=12)
npm_versions = st.builds(
    lambda prefix, core: prefix + core, st.sampled_from(["", "", "", "v", "=", "v="]), semver_core
)
go_pseudo = st.builds(
    lambda base, ts, rev: f"{base}{ts}-{rev}",
    st.sampled_from(["v0.0.0-", "v1.2.4-0.", "v1.2.4-pre.0.", "v2.0.0-"]),
    st.sampled_from(["20210101000000", "20191109021931", "20231231235959"]),
    st.sampled_from(["abcdef123456", "000000000000", "e4a0d8c9d2f1"]),
)
go_versions = st.one_of(
    semver_core.map(lambda v: "v" + v),
    go_pseudo,
    numbers(1, 2).map(lambda v: f"v{v}"),
    semver_core.map(lambda v: "v" + v.split("+")[0] + "+incompatible"),
)
nuget_versions = st.builds(
    lambda nums, pre, b: nums + (f"-{pre}" if pre else "") + (f"+{b}" if b else ""),
    numbers(1, 4),
    st.one_of(
        st.just(""), prerelease, st.sampled_from(["Alpha", "ALPHA.1", "Beta-2", "preview.1.23"])
    ),
    st.one_of(st.just(""), build),
)

# --- Maven ----------------------------------------------------------------------------
_MAVEN_TOKENS = st.sampled_from(
    [
        "0",
        "1",
        "2",
        "10",
        "00",
        "alpha",
        "a",
        "beta",
        "b",
        "milestone",
        "m",
        "rc",
        "cr",
        "snapshot",
        "ga",
        "final",
        "release",
        "sp",
        "foo",
        "x",
        "",
        "RC",
        "Final",
    ]
)
maven_versions = st.builds(
    lambda first, rest: first + "".join(rest),
    st.sampled_from(["1", "2", "0", "1.0", "10"]),
    st.lists(st.tuples(st.sampled_from([".", "-", ""]), _MAVEN_TOKENS).map("".join), max_size=4),
)

# --- RubyGems ---------------------------------------------------------------------------
gem_versions = st.builds(
    lambda nums, segs, pre: nums + "".join(segs) + pre,
    numbers(1, 3),
    st.lists(
        st.sampled_from([".0", ".1", ".a", ".b", ".pre", ".rc1", ".beta2", ".10", ".A"]), max_size=3
    ),
    st.sampled_from(["", "", "-beta", "-rc.1", "-1"]),
)
