"""Language analyzers against the real package managers' own view of what is installed.

Fixtures are built once and cached under .cache/lang-fixtures/ (gitignored):
* PyPI: `pip install --target` of pinned releases with known advisories (Django 3.2.0,
  urllib3 1.26.4, PyYAML 5.3.1 built from its sdist, which has no Linux wheel); the oracle is
  `pip list --path <site-packages> --format json`.
* npm: `npm install --prefix` of lodash 4.17.15, minimist 1.2.0, express 4.17.1 and their
  transitive dependencies; the oracles are `npm query '*'` (every node with its location) and
  `npm ls --all --json` (the dependency tree).
Building them downloads from PyPI and the npm registry, once; the tests themselves stay on the
machine. The Go oracle is `go version -m` (Debian's golang-go) on Debian's /usr/bin/skopeo and
on hand-made ELF files; the Java oracle is the Debian liblog4j2-java package (dpkg-query and
its maven-repo tree) plus jars laid out exactly like log4j-core 2.14.1's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from tests.support import lang_binaries as lb
from tests.support import oci_build as ob
from tests.support.cache import built_once
from tests.support.lang_rootfs import analyze_tree
from tidegate.scanner.analyzers.base import AnalyzerInput, FileInfo
from tidegate.scanner.analyzers.lang.gobinary import GoBinaryAnalyzer
from tidegate.scanner.analyzers.lang.npm_lock import NpmLockAnalyzer
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.model import Package, PackageManager
from tidegate.scanner.sources.layout import OCILayoutSource

pytestmark = pytest.mark.slow

CACHE = Path(__file__).parents[2] / ".cache" / "lang-fixtures"
PIP_PINS = (
    "Django==3.2.0",
    "urllib3==1.26.4",
    "PyYAML==5.3.1",
    "asgiref==3.3.4",
    "pytz==2021.1",
    "sqlparse==0.4.1",
)
NPM_PINS = ("lodash@4.17.15", "minimist@1.2.0", "express@4.17.1")
SITE = "usr/lib/python3.11/site-packages"
NODE_APP = "srv/app"
# the running interpreter's pip: a worktree has no .venv of its own
PIP = (sys.executable, "-m", "pip")


def _run(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, f"{argv} failed: {done.stderr[-2000:]}"
    return done.stdout


def _build_pip(root: Path) -> None:
    _run(
        *PIP, "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--target", str(root / SITE),
        "--only-binary", "Django,urllib3,asgiref,pytz,sqlparse", *PIP_PINS,
    )  # fmt: skip


def _build_npm(root: Path) -> None:
    _run(
        "npm", "install", "--prefix", str(root / NODE_APP), "--no-audit", "--no-fund",
        "--loglevel=error", *NPM_PINS,
    )  # fmt: skip


@pytest.fixture(scope="session")
def pip_root() -> Path:
    return built_once(CACHE, "pip-v1", _build_pip)


@pytest.fixture(scope="session")
def npm_root() -> Path:
    return built_once(CACHE, "npm-v1", _build_npm)


def _lang(packages: tuple[Package, ...], manager: PackageManager) -> list[Package]:
    return [p for p in packages if p.package_manager is manager]


# --- PyPI -------------------------------------------------------------------------------


def test_python_inventory_equals_pip_list(pip_root: Path) -> None:
    oracle = json.loads(_run(*PIP, "list", "--path", str(pip_root / SITE), "--format", "json"))
    expected = sorted((d["name"], d["version"]) for d in oracle)
    found = _lang(analyze_tree(pip_root).packages, PackageManager.PYTHONPKG)
    assert sorted((p.name, p.version) for p in found) == expected
    assert ("PyYAML", "5.3.1") in expected  # the advisory-bearing pins really are there
    assert ("urllib3", "1.26.4") in expected
    django = next(p for p in found if p.name == "Django")
    assert django.purl == f"pkg:pypi/django@{django.version}"


# --- npm --------------------------------------------------------------------------------


def _npm_ls_pairs(node: dict[str, object]) -> Iterator[tuple[str, str]]:
    deps = node.get("dependencies")
    if not isinstance(deps, dict):
        return
    for name, child in deps.items():
        assert isinstance(child, dict)
        yield name, str(child["version"])
        yield from _npm_ls_pairs(child)


def test_npm_inventory_equals_npm_query_locations(npm_root: Path) -> None:
    """Exact: one package per node npm knows, at the same location, no more, no fewer."""
    app = npm_root / NODE_APP
    nodes = json.loads(_run("npm", "query", "*", "--prefix", str(app)))
    expected = sorted(
        (f"{NODE_APP}/{n['location']}/package.json", n["name"], n["version"])
        for n in nodes
        if n["location"]  # "" is the project itself, not a dependency
    )
    found = _lang(analyze_tree(npm_root).packages, PackageManager.NODEPKG)
    assert sorted((p.path, p.name, p.version) for p in found) == expected
    assert len(expected) > 40  # express really brought its transitive dependencies


def test_npm_inventory_equals_npm_ls_tree(npm_root: Path) -> None:
    """The (name, version) set of `npm ls --all --json`; deduped nodes repeat in the tree."""
    app = npm_root / NODE_APP
    tree = json.loads(_run("npm", "ls", "--all", "--json", "--prefix", str(app)))
    expected = set(_npm_ls_pairs(tree))
    result = analyze_tree(npm_root)
    assert {(p.name, p.version) for p in result.packages} == expected
    assert {("lodash", "4.17.15"), ("minimist", "1.2.0"), ("express", "4.17.1")} <= expected
    # the package-lock.json next to node_modules is shadowed by the installed tree
    assert not _lang(result.packages, PackageManager.NPM)


def test_npm_lockfile_alone_equals_npm_ls(npm_root: Path) -> None:
    app = npm_root / NODE_APP
    tree = json.loads(_run("npm", "ls", "--all", "--json", "--prefix", str(app)))
    lock = app / "package-lock.json"
    item = AnalyzerInput(
        PurePosixPath(f"{NODE_APP}/package-lock.json"),
        FileInfo(lock.stat().st_size),
        lambda: lock.open("rb"),
        lambda: lock,
    )
    found = NpmLockAnalyzer().analyze(item)
    assert {(p.name, p.version) for p in found} == set(_npm_ls_pairs(tree))


def test_end_to_end_image_attributes_layers(pip_root: Path, npm_root: Path, tmp_path: Path) -> None:
    """Through a real OCI layout and the inventory builder: right packages, right layers."""
    img = ob.build_oci_layout(
        tmp_path / "layout", [ob.Layer(pip_root), ob.Layer(npm_root)], tag="t"
    )
    [scanned] = analyze_image(OCILayoutSource(tmp_path / "layout", "t"))
    by_layer = {
        (p.package_manager, p.layer) for p in scanned.inventory.packages if p.ecosystem != "Go"
    }
    assert (PackageManager.PYTHONPKG, img.layer_digests[0]) in by_layer
    assert (PackageManager.NODEPKG, img.layer_digests[1]) in by_layer
    python = _lang(scanned.inventory.packages, PackageManager.PYTHONPKG)
    assert {(p.name, p.version) for p in python} == {
        (p.name, p.version)
        for p in _lang(analyze_tree(pip_root).packages, PackageManager.PYTHONPKG)
    }


# --- Go ---------------------------------------------------------------------------------


def _go_version_m(binary: Path) -> tuple[str, list[tuple[str, str]]]:
    """(toolchain, [(path, version)] with `=>` replacements applied) from `go version -m`."""
    lines = _run("go", "version", "-m", str(binary)).splitlines()
    go_version = lines[0].split(": ", 1)[1]
    modules: list[tuple[str, str]] = []
    for line in lines[1:]:
        fields = line.strip("\t").split("\t")
        if fields[0] in ("mod", "dep"):
            modules.append((fields[1], fields[2]))
        elif fields[0] == "=>":
            version = fields[2] if len(fields) > 2 else ""
            original = modules.pop()
            modules.append((fields[1], version) if version else (original[0], ""))
    return go_version, modules


def _analyze_binary(binary: Path) -> list[Package]:
    st = binary.stat()
    item = AnalyzerInput(
        PurePosixPath(str(binary).lstrip("/")),
        FileInfo(st.st_size, st.st_mode),
        lambda: binary.open("rb"),
        lambda: binary,
    )
    analyzer = GoBinaryAnalyzer()
    assert analyzer.required(item.path, item.info)
    return list(analyzer.analyze(item))


def _expected_go(binary: Path) -> list[tuple[str, str]]:
    go_version, modules = _go_version_m(binary)
    return sorted([("stdlib", go_version.removeprefix("go")), *modules])


def test_go_binary_from_debian_equals_go_version_m() -> None:
    skopeo = Path("/usr/bin/skopeo")
    assert skopeo.is_file(), "apt-get install skopeo"
    found = _analyze_binary(skopeo)
    assert sorted((p.name, p.version) for p in found) == _expected_go(skopeo)
    assert any(p.name == "stdlib" for p in found)


@pytest.mark.parametrize("inline", [True, False], ids=["go1.18+inline", "pre-1.18-pointers"])
def test_handmade_go_elf_equals_go_version_m(inline: bool, tmp_path: Path) -> None:
    lines = (
        "path\texample.com/app/cmd/app",
        "mod\texample.com/app\tv1.2.3\th1:abc=",
        "dep\tgolang.org/x/net\tv0.0.0-20210226172049-e18ecbb05110\th1:def=",
        "dep\texample.com/old\tv1.0.0\t",
        "=>\texample.com/fork\tv1.0.1\th1:ghi=",
        "dep\texample.com/local\tv0.0.0\t",
        "=>\t../local\t\t",
    )
    binary = tmp_path / "app"
    binary.write_bytes(lb.go_elf("go1.17.13", lines, inline=inline))
    binary.chmod(0o755)
    found = _analyze_binary(binary)
    assert sorted((p.name, p.version) for p in found) == _expected_go(binary)


# --- Java -------------------------------------------------------------------------------

LOG4J_POM = (
    b"#Created by Apache Maven 3.6.3\nversion=2.14.1\ngroupId=org.apache.logging.log4j\n"
    b"artifactId=log4j-core\n"
)
LOG4J_MANIFEST = (
    b"Manifest-Version: 1.0\r\nBundle-SymbolicName: org.apache.logging.log4j.core\r\n"
    b"Implementation-Title: Apache Log4j Core\r\nImplementation-Version: 2.14.1\r\n"
    b"Implementation-Vendor-Id: org.apache.logging.log4j\r\nBundle-Version: 2.14.1\r\n\r\n"
)
LOG4J = "org.apache.logging.log4j:log4j-core"


def _log4j_jar() -> bytes:
    base = "META-INF/maven/org.apache.logging.log4j/log4j-core/"
    return lb.zip_bytes(
        {
            "META-INF/MANIFEST.MF": LOG4J_MANIFEST,
            base + "pom.properties": LOG4J_POM,
            base + "pom.xml": b"<project/>\n",
            "org/apache/logging/log4j/core/lookup/JndiLookup.class": b"\xca\xfe\xba\xbe",
        }
    )


def test_log4j_found_bare_in_fat_jar_in_war_and_in_ear(tmp_path: Path) -> None:
    root = tmp_path / "rootfs"
    (root / "app").mkdir(parents=True)
    jar = _log4j_jar()
    (root / "app/log4j-core-2.14.1.jar").write_bytes(jar)
    boot = lb.maven_jar("com.example", "demo", "1.0", {"BOOT-INF/lib/log4j-core-2.14.1.jar": jar})
    (root / "app/demo.jar").write_bytes(boot)
    war = lb.zip_bytes({"WEB-INF/lib/log4j-core-2.14.1.jar": jar}, stored=True)
    (root / "app/shop.ear").write_bytes(lb.zip_bytes({"shop.war": war}))
    found = {(p.name, p.version, p.path) for p in analyze_tree(root).packages}
    assert found == {
        (LOG4J, "2.14.1", "app/log4j-core-2.14.1.jar"),
        ("com.example:demo", "1.0", "app/demo.jar"),
        (LOG4J, "2.14.1", "app/demo.jar!/BOOT-INF/lib/log4j-core-2.14.1.jar"),
        (LOG4J, "2.14.1", "app/shop.ear!/shop.war!/WEB-INF/lib/log4j-core-2.14.1.jar"),
    }


def test_debian_log4j_jar_matches_dpkg_and_maven_repo(tmp_path: Path) -> None:
    jar = Path("/usr/share/java/log4j-core.jar")
    assert jar.is_file(), "apt-get install liblog4j2-java"
    dpkg_version = _run("dpkg-query", "-W", "-f", "${Version}", "liblog4j2-java")
    upstream = dpkg_version.split(":")[-1].rsplit("-", 1)[0]
    repo = Path("/usr/share/maven-repo/org/apache/logging/log4j/log4j-core") / upstream
    assert repo.is_dir(), f"Debian's maven-repo has no {repo}"
    root = tmp_path / "rootfs"
    (root / "usr/share/java").mkdir(parents=True)
    shutil.copyfile(jar, root / "usr/share/java/log4j-core.jar")
    result = analyze_tree(root)
    assert not result.warnings
    assert {(p.name, p.version) for p in result.packages} == {(LOG4J, upstream)}
