"""The distributions table: every row resolves, and detection reads it."""

from __future__ import annotations

import pytest

from tidegate.scanner import distributions
from tidegate.scanner.analyzers.os.release import ECOSYSTEMS
from tidegate.scanner.model import Distro
from tidegate.scanner.versions import UnknownEcosystem, scheme_for
from tidegate.scanner.vulndb.updaters import alpine, amazon, ubuntu
from tidegate.scanner.vulndb.updaters.feeds import SOURCES, precedence


def test_every_row_is_known_to_detection() -> None:
    assert set(ECOSYSTEMS) == set(distributions.TABLE)


def test_feeds_name_real_updaters() -> None:
    names = {s.name for s in SOURCES}
    for row in distributions.TABLE.values():
        assert set(row.feeds) <= names, row
        assert (row.feed_namespace is None) == (row.release is None) == (not row.feeds), row


def test_namespaces() -> None:
    cases = {
        ("debian", "12"): "Debian:12",
        ("ubuntu", "22.04"): "Ubuntu:22.04",
        ("alpine", "3.19.1"): "Alpine:v3.19",
        ("rocky", "9.3"): "AlmaLinux:9",
        ("amzn", "2023"): "Amazon Linux:2023",
        ("amzn", "2018.03"): "Amazon Linux:1",
        ("sles", "15.5"): None,
        ("wolfi", "20230201"): None,
    }
    for (os_id, vid), expected in cases.items():
        assert distributions.advisory_namespace(Distro(os_id, vid)) == expected, os_id


def test_unchecked_reason_names_the_release() -> None:
    def has(namespace: str) -> bool:
        return namespace in ("Debian:12", "Debian:")

    assert distributions.unchecked_reason(Distro("debian", "12"), has) is None
    old = distributions.unchecked_reason(Distro("debian", "7"), has)
    assert old is not None
    assert "Debian 7" in old
    leap = distributions.unchecked_reason(Distro("opensuse-leap", "15.5"), has)
    assert leap is not None
    assert "no vulnerability data exists for openSUSE Leap 15.5" in leap
    # A DB built without the family's feed at all is the operator's choice, not unsupported.
    assert distributions.unchecked_reason(Distro("ubuntu", "22.04"), has) is None
    # A distribution Tidegate does not know is not claimed as checked or unchecked here.
    assert distributions.unchecked_reason(Distro("arch", "", recognised=False), has) is None


def test_version_schemes_and_feed_namespaces_read_the_table() -> None:
    for row in distributions.TABLE.values():
        assert scheme_for(row.ecosystem).name == row.scheme, row
        if row.feed_namespace is not None:
            assert scheme_for(f"{row.feed_namespace}:1").name == row.scheme, row
            for feed in row.feeds:
                assert distributions.feed_namespace(feed) == row.feed_namespace
    # the updaters write the namespaces matching looks up
    assert (alpine.NAMESPACE, amazon.NAMESPACE, ubuntu.NAMESPACE) == (
        "Alpine",
        "Amazon Linux",
        "Ubuntu",
    )
    with pytest.raises(KeyError):
        distributions.feed_namespace("pypa-osv")  # a language feed names no distribution
    with pytest.raises(UnknownEcosystem):
        scheme_for("Mageia:9")  # not in the table: no scheme row of its own either


def test_a_distributions_own_feed_wins_on_its_namespace() -> None:
    assert precedence("alpine-secdb", "Alpine:v3.19") > precedence("debian-osv", "Alpine:v3.19")
    assert precedence("debian-osv", "Debian:12") > precedence("ghsa-pip", "Debian:12")
    assert precedence("almalinux-osv", "AlmaLinux:9") == precedence("amazon-alas", "Amazon Linux:2")
    assert precedence("ghsa-pip", "PyPI") > precedence("pypa-osv", "PyPI")  # the specs' order
