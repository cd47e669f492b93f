"""Every source Tidegate reads: its updater, upstream URL, mirror path and precedence.

Default locations are the real upstream feeds. `--source DIR|URL` points at a mirror laid
out like the project's shared feed snapshot (`vulndata/`); each source then reads the mirror
path below, relative to that root:

| source             | upstream (default)                                               | mirror path                          |
|--------------------|------------------------------------------------------------------|--------------------------------------|
| debian-osv         | osv.dev `Debian/all.zip`                                         | debian-osv/debian-osv.tar.xz         |
| almalinux-osv      | osv.dev `AlmaLinux/all.zip`                                      | almalinux-osv/almalinux-osv.tar.xz   |
| pypa-osv           | github.com/pypa/advisory-database main.zip (YAML)               | pypa-osv/pypa-advisory-database.tar.xz |
| go-vulndb          | osv.dev `Go/all.zip`                                             | go-vulndb-osv/go-vulndb-osv.tar.xz   |
| rustsec            | osv.dev `crates.io/all.zip`                                      | rustsec-osv/rustsec-osv.tar.xz       |
| ghsa-<eco>         | osv.dev `<Eco>/all.zip`, GHSA-* records only                     | ghsa/ghsa-<eco>.tar.xz               |
| alpine-secdb       | secdb.alpinelinux.org `v3.X/{main,community}.json`               | alpine-secdb/ (3.X/{main,community}.json) |
| ubuntu-cve-tracker | vulsio/vuls-data-raw-ubuntu-cve-tracker archive (JSON of UCT)    | ubuntu-cve-tracker/ubuntu-cve-tracker.tar.xz |
| amazon-alas        | vulsio/vuls-data-raw-amazon archive (JSON of ALAS updateinfo)    | amazon-linux-alas/amazon-linux-alas.tar.xz |
| cisa-kev           | cisa.gov known_exploited_vulnerabilities.json                    | cisa-kev/cisa-kev.tar.xz             |

Precedence decides which source's ranges describe one vulnerability on one package when
several sources know it: a distribution's own feed (its `feeds` in scanner/distributions.py)
wins for its packages; the numbers below order the rest and the headers.
"""  # noqa: E501 - the table is the documentation

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tidegate.errors import InvalidParameter
from tidegate.scanner import distributions
from tidegate.scanner.vulndb.fetch import join
from tidegate.scanner.vulndb.updaters.alpine import AlpineSecdbUpdater
from tidegate.scanner.vulndb.updaters.amazon import AmazonAlasUpdater
from tidegate.scanner.vulndb.updaters.base import Updater
from tidegate.scanner.vulndb.updaters.kev import KevUpdater
from tidegate.scanner.vulndb.updaters.osv import OsvUpdater
from tidegate.scanner.vulndb.updaters.ubuntu import UbuntuTrackerUpdater

OSV_EXPORTS = "https://osv-vulnerabilities.storage.googleapis.com"
GITHUB = "https://github.com"

# (location, download dir, is_upstream) -> updater
Factory = Callable[[str, Path, bool], Updater]


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One source: how to build its updater and where it lives."""

    name: str
    upstream: str
    mirror_path: str
    precedence: int
    factory: Factory


def _osv(
    name: str, *, prefix: str = "", fan_out: bool = False, rating: bool = False, cvss: str = ""
) -> Factory:
    def make(location: str, dl: Path, _upstream: bool) -> Updater:
        return OsvUpdater(
            name, location, dl, prefix, fan_out=fan_out, summary_rating=rating, cvss_source=cvss
        )

    return make


def _ghsa(eco: str, slug: str) -> SourceSpec:
    name = f"ghsa-{slug}"
    return SourceSpec(
        name,
        f"{OSV_EXPORTS}/{eco}/all.zip",
        f"ghsa/{name}.tar.xz",
        50,
        _osv(name, prefix="GHSA-", cvss="GITHUB"),
    )


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        "debian-osv", f"{OSV_EXPORTS}/Debian/all.zip", "debian-osv/debian-osv.tar.xz", 90,
        _osv("debian-osv", fan_out=True, cvss="NVD"),  # osv.dev copies NVD's vectors
    ),
    SourceSpec(
        "almalinux-osv", f"{OSV_EXPORTS}/AlmaLinux/all.zip",
        "almalinux-osv/almalinux-osv.tar.xz", 90,
        _osv("almalinux-osv", fan_out=True, rating=True),
    ),
    SourceSpec(
        "pypa-osv", f"{GITHUB}/pypa/advisory-database/archive/refs/heads/main.zip",
        "pypa-osv/pypa-advisory-database.tar.xz", 40, _osv("pypa-osv"),
    ),
    SourceSpec(
        "go-vulndb", f"{OSV_EXPORTS}/Go/all.zip", "go-vulndb-osv/go-vulndb-osv.tar.xz", 40,
        _osv("go-vulndb"),
    ),
    SourceSpec(
        "rustsec", f"{OSV_EXPORTS}/crates.io/all.zip", "rustsec-osv/rustsec-osv.tar.xz", 40,
        _osv("rustsec"),
    ),
    _ghsa("Maven", "maven"),
    _ghsa("npm", "npm"),
    _ghsa("PyPI", "pip"),
    _ghsa("NuGet", "nuget"),
    _ghsa("RubyGems", "rubygems"),
    SourceSpec(
        "alpine-secdb", "https://secdb.alpinelinux.org", "alpine-secdb", 100,
        lambda loc, dl, up: AlpineSecdbUpdater("alpine-secdb", loc, dl, upstream=up),
    ),
    SourceSpec(
        "ubuntu-cve-tracker",
        f"{GITHUB}/vulsio/vuls-data-raw-ubuntu-cve-tracker/archive/refs/heads/main.tar.gz",
        "ubuntu-cve-tracker/ubuntu-cve-tracker.tar.xz", 100,
        lambda loc, dl, _up: UbuntuTrackerUpdater("ubuntu-cve-tracker", loc, dl),
    ),
    SourceSpec(
        "amazon-alas", f"{GITHUB}/vulsio/vuls-data-raw-amazon/archive/refs/heads/main.tar.gz",
        "amazon-linux-alas/amazon-linux-alas.tar.xz", 100,
        lambda loc, dl, _up: AmazonAlasUpdater("amazon-alas", loc, dl),
    ),
    SourceSpec(
        "cisa-kev",
        "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
        "cisa-kev/cisa-kev.tar.xz", 0,
        lambda loc, dl, _up: KevUpdater("cisa-kev", loc, dl),
    ),
)  # fmt: skip

BY_NAME = {spec.name: spec for spec in SOURCES}


OWN_FEED = 1000  # above every spec: a distribution's own feed, on that distribution's keys
_OWN_FEEDS: dict[str, set[str]] = {}
for _row in distributions.TABLE.values():
    if _row.feed_namespace is not None:
        _OWN_FEEDS.setdefault(_row.feed_namespace, set()).update(_row.feeds)


def precedence(source: str, namespace: str = "") -> int:
    """How strongly a source's ranges win over another's for the same vulnerability.

    On a distribution's namespace (`Alpine:v3.19`) the feeds the distributions table names
    for it win over every other source (debian-osv's CVE records carry Alpine entries too);
    elsewhere, and without a namespace (header and score order), the spec's number decides.
    """
    if namespace and source in _OWN_FEEDS.get(namespace.split(":", 1)[0], ()):
        return OWN_FEED
    spec = BY_NAME.get(source)
    return spec.precedence if spec else 0


def select(only: Sequence[str] | None) -> list[SourceSpec]:
    """The specs named in `only` (all when empty); unknown names are an error."""
    if not only:
        return list(SOURCES)
    unknown = sorted(set(only) - set(BY_NAME))
    if unknown:
        msg = f"unknown source(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}"
        raise InvalidParameter(msg)
    return [s for s in SOURCES if s.name in set(only)]


def make_updater(spec: SourceSpec, mirror: str | None, download_dir: Path) -> Updater:
    """The spec's updater reading from `mirror` (a root like the snapshot) or upstream."""
    if mirror:
        return spec.factory(join(mirror, spec.mirror_path), download_dir, False)
    return spec.factory(spec.upstream, download_dir, True)
