"""No phantom packages: real installs scanned as images, against the package managers' view.

Each case is a real tree made by the real tool, put in a one-layer OCI layout and scanned by
`analyze_image` (the real walker and inventory builder):
* npm: `npm install express@4.17.1` (cached under .cache/lang-fixtures/); the oracle is
  `npm ls --all --parseable`. The package-lock.json beside node_modules adds nothing.
* Ruby: Debian bookworm with ruby-typeprof (debootstrap + apt-get, cached); the oracle is the
  chroot's own `gem list` and its specification files. typeprof's and rbs's own Gemfile.lock
  and typeprof's VS Code package-lock.json are development files, not installed packages.
* Go: two binaries built by Debian's go from Debian's golang.org/x/mod sources; the oracle is
  `go version -m` per binary: the shared module is reported once per binary.
* Java: Debian's log4j-core.jar bare, in a fat jar and in two wars of one ear; the oracle is
  a recursive listing of the archives: one package per location.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import debian_image, go_modules
from tests.support import lang_binaries as lb
from tests.support import oci_build as ob
from tests.support.cache import built_once
from tidegate.scanner.inventory import analyze_image
from tidegate.scanner.model import Inventory
from tidegate.scanner.sources.layout import OCILayoutSource

pytestmark = pytest.mark.slow

CACHE = Path(__file__).parents[2] / ".cache" / "lang-fixtures"
NODE_APP = "srv/app"
LOG4J = "org.apache.logging.log4j:log4j-core"


def _run(*argv: str, cwd: Path | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=600, cwd=cwd)
    assert done.returncode == 0, f"{argv} failed: {done.stderr[-2000:]}"
    return done.stdout


def _scan(rootfs: Path, tmp: Path) -> Inventory:
    layout = tmp / "layout"
    ob.build_oci_layout(layout, [ob.Layer(rootfs, compression="none")], tag="t")
    [image] = analyze_image(OCILayoutSource(layout, "t"), scratch_dir=tmp)
    return image.inventory


# --- npm --------------------------------------------------------------------------------


def _build_express(root: Path) -> None:
    _run(
        "npm", "install", "--prefix", str(root / NODE_APP), "--no-audit", "--no-fund",
        "--loglevel=error", "express@4.17.1",
    )  # fmt: skip


def test_npm_express_app_lists_each_installed_package_once(tmp_path: Path) -> None:
    rootfs = built_once(CACHE, "npm-express-v1", _build_express).resolve()
    app = rootfs / NODE_APP
    assert (app / "package-lock.json").is_file()  # the lockfile that used to double the list
    lines = _run("npm", "ls", "--all", "--parseable", "--prefix", str(app)).splitlines()
    installed = {Path(line).relative_to(rootfs).as_posix() for line in lines} - {NODE_APP}
    inventory = _scan(rootfs, tmp_path)
    npm = [p for p in inventory.packages if p.ecosystem == "npm"]
    assert sorted(p.path for p in npm) == sorted(f"{d}/package.json" for d in installed)
    assert len(npm) == len(installed) == 50
    assert ("express", "4.17.1") in {(p.name, p.version) for p in npm}


# --- Ruby -------------------------------------------------------------------------------


def _gem_list(root: Path) -> set[tuple[str, str]]:
    """(name, version) pairs of `gem list` run inside the rootfs."""
    out = _run("chroot", str(root), "gem", "list")
    pairs = set()
    for line in out.splitlines():
        match = re.fullmatch(r"(\S+) \((.*)\)", line.strip())
        assert match, line
        for version in match.group(2).split(","):
            pairs.add((match.group(1), version.strip().removeprefix("default: ")))
    return pairs


def test_debian_ruby_typeprof_lists_installed_gems_only(tmp_path: Path) -> None:
    root = debian_image.typeprof_rootfs()
    gem_dir = root / "usr/lib/ruby/gems/3.1.0/gems"
    own_files = [
        *gem_dir.glob("typeprof-*/Gemfile.lock"),
        *gem_dir.glob("rbs-*/steep/Gemfile.lock"),
        *gem_dir.glob("typeprof-*/vscode/package-lock.json"),
    ]
    assert len(own_files) == 3, own_files  # the development files really are in the image
    specs = {
        p.relative_to(root).as_posix()
        for p in root.rglob("*.gemspec")
        if p.parent.name == "specifications"
        or (p.parent.name == "default" and p.parent.parent.name == "specifications")
    }
    inventory = _scan(root, tmp_path)
    gems = [p for p in inventory.packages if p.ecosystem == "RubyGems"]
    assert {p.path for p in gems} == specs  # one entry per installed specification
    assert len(gems) == len(specs)
    assert {(p.name, p.version) for p in gems} == _gem_list(root)
    assert not [p for p in inventory.packages if p.ecosystem == "npm"]


# --- Go ---------------------------------------------------------------------------------


def _go_version_m(binary: Path) -> list[tuple[str, str]]:
    lines = _run("go", "version", "-m", str(binary)).splitlines()
    modules = [("stdlib", lines[0].split(": ", 1)[1].removeprefix("go"))]
    for line in lines[1:]:
        fields = line.strip("\t").split("\t")
        if fields[0] in ("mod", "dep"):
            modules.append((fields[1], fields[2]))
    return sorted(modules)


def _build_go(root: Path) -> None:
    with tempfile.TemporaryDirectory() as work:
        built = go_modules.build_binaries(Path(work), ("alpha", "beta"))
        for name, where in (("alpha", "usr/bin"), ("beta", "usr/local/bin")):
            (root / where).mkdir(parents=True, exist_ok=True)
            shutil.copy2(built[name], root / where / name)


def test_go_module_shared_by_two_binaries_is_listed_once_per_binary(tmp_path: Path) -> None:
    rootfs = built_once(CACHE, "go-shared-v1", _build_go)
    binaries = ("usr/bin/alpha", "usr/local/bin/beta")
    inventory = _scan(rootfs, tmp_path)
    for path in binaries:
        found = sorted((p.name, p.version) for p in inventory.packages if p.path == path)
        assert found == _go_version_m(rootfs / path)
    xmod = [p for p in inventory.packages if p.name == "golang.org/x/mod"]
    assert sorted(p.path for p in xmod) == sorted(binaries)
    assert {p.version for p in xmod} == {go_modules.XMOD_VERSION}


# --- Java -------------------------------------------------------------------------------


def _locations(data: bytes, digest: str, prefix: str) -> Iterator[str]:
    """Paths (`outer!/inner`) of every archive member, at any depth, whose bytes hash to digest."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.endswith((".jar", ".war", ".ear")):
                inner = zf.read(name)
                where = f"{prefix}!/{name}"
                if hashlib.sha256(inner).hexdigest() == digest:
                    yield where
                else:
                    yield from _locations(inner, digest, where)


def test_debian_log4j_jar_nested_in_several_places_is_one_package_each(tmp_path: Path) -> None:
    debian_jar = Path("/usr/share/java/log4j-core.jar")
    assert debian_jar.is_file(), "apt-get install liblog4j2-java"
    jar = debian_jar.read_bytes()
    digest = hashlib.sha256(jar).hexdigest()
    root = tmp_path / "rootfs"
    (root / "opt/app").mkdir(parents=True)
    (root / "opt/app/log4j-core.jar").write_bytes(jar)
    fat = lb.maven_jar("com.example", "demo", "1.0", {"BOOT-INF/lib/log4j-core.jar": jar})
    (root / "opt/app/demo.jar").write_bytes(fat)
    war = lb.zip_bytes({"WEB-INF/lib/log4j-core.jar": jar}, stored=True)
    (root / "opt/app/shop.ear").write_bytes(lb.zip_bytes({"a.war": war, "b.war": war}))
    expected = {"opt/app/log4j-core.jar"}
    for outer in ("opt/app/demo.jar", "opt/app/shop.ear"):
        expected |= set(_locations((root / outer).read_bytes(), digest, outer))
    assert len(expected) == 4
    inventory = _scan(root, tmp_path)
    log4j = [p for p in inventory.packages if p.name == LOG4J]
    assert sorted(p.path for p in log4j) == sorted(expected)
    assert len({p.version for p in log4j}) == 1
