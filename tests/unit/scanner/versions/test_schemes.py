"""The ecosystem table: every OSV ecosystem named in scanner/model.py has a scheme."""

from __future__ import annotations

import pytest

from tidegate.scanner.versions import UnknownEcosystem, compare, scheme_for


@pytest.mark.parametrize(
    ("ecosystem", "name"),
    [
        ("Debian:12", "deb"),
        ("Debian", "deb"),
        ("Ubuntu:22.04", "deb"),
        ("Alpine:v3.19", "apk"),
        ("Wolfi", "apk"),
        ("AlmaLinux:9", "rpm"),
        ("Amazon Linux:2023", "rpm"),
        ("Red Hat", "rpm"),
        ("Rocky Linux", "rpm"),
        ("SUSE", "rpm"),
        ("PyPI", "pep440"),
        ("npm", "npm"),
        ("Go", "golang"),
        ("Maven", "maven"),
        ("Maven:https://maven.google.com", "maven"),
        ("RubyGems", "gem"),
        ("NuGet", "nuget"),
        ("crates.io", "cargo"),
        ("Packagist", "composer"),
    ],
)
def test_scheme_for(ecosystem: str, name: str) -> None:
    assert scheme_for(ecosystem).name == name


@pytest.mark.parametrize("ecosystem", ["", "Hackage", "debian", "pypi:x"])
def test_unknown_ecosystem_is_a_key_error(ecosystem: str) -> None:
    with pytest.raises(UnknownEcosystem) as info:
        scheme_for(ecosystem)
    assert isinstance(info.value, KeyError)


def test_compare_helper() -> None:
    deb = scheme_for("Debian:12")
    assert compare(deb, "1.0", "1.0") == 0
    assert compare(deb, "1.0~rc1", "1.0") == -1
    assert compare(deb, "1:0.1", "9.9") == 1
