"""The quality gate's images, built from real packages and cached under .cache/quality/.

Each image has a root filesystem (one or more layers), an OCI layout built from it, and an
inventory ground truth taken from the real package tools: `dpkg-query --admindir`,
`rpm -qa --dbpath`, `npm query`, `gem list` (in a chroot), `go version -m`, `pip list
--path`, and for the fat jar the Maven repository coordinates of every jar put into it.
Building downloads from deb.debian.org, PyPI and the npm registry once (the only network use,
as for the other fixtures); delete .cache/quality/<image> to rebuild one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support import debian_image, rpm_db
from tests.support import oci_build as ob
from tests.support.cache import built_once

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "quality"
LANG_CACHE = ROOT / ".cache" / "lang-fixtures"
PIP = (sys.executable, "-m", "pip")
MAVEN_REPO = Path("/usr/share/maven-repo")
DEBIAN_MIRROR = "http://deb.debian.org/debian"

# (ecosystem, name, version): the unit inventories and labels are compared in
Pkg = tuple[str, str, str]

PIP_PINS = (
    "Django==3.2.0",
    "urllib3==1.26.4",
    "requests==2.25.1",
    "Jinja2==2.11.2",
    "asgiref==3.3.4",
    "pytz==2021.1",
    "sqlparse==0.4.1",
    "idna==2.10",
    "certifi==2020.12.5",
    "chardet==4.0.0",
)
NPM_PINS = ("express@4.17.1", "lodash@4.17.15", "minimist@1.2.0")
NPM_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "npm-express"
# Jars from Debian's Maven repository (liblog4j2-java, libcommons-io-java, libguava-java, ...)
JARS = (
    "org/apache/logging/log4j/log4j-core/2.19.0/log4j-core-2.19.0.jar",
    "org/apache/logging/log4j/log4j-api/2.19.0/log4j-api-2.19.0.jar",
    "commons-io/commons-io/2.11.0/commons-io-2.11.0.jar",
    "com/google/guava/guava/31.1-jre/guava-31.1-jre.jar",
    "org/apache/httpcomponents/httpclient/4.5.14/httpclient-4.5.14.jar",
    "commons-codec/commons-codec/1.15/commons-codec-1.15.jar",
    "org/codehaus/plexus/plexus-utils/3.4.2/plexus-utils-3.4.2.jar",
    "org/apache/maven/maven-core/3.8.7/maven-core-3.8.7.jar",
    "org/slf4j/slf4j-api/1.7.32/slf4j-api-1.7.32.jar",
    "com/google/code/gson/gson/2.10/gson-2.10.jar",
)
GO_BINARIES = ("/usr/bin/skopeo", "/usr/bin/docker-registry")
GO_BUILT = ("/usr/local/bin/semvercheck", "/opt/tools/semvercheck")
GO_MOD_SRC = Path("/usr/share/gocode/src/golang.org/x/mod")
DISTROLESS = (
    "base-files",
    "libc6",
    "libgcc-s1",
    "gcc-12-base",
    "zlib1g",
    "libzstd1",
    "libgnutls30",
    "tzdata",
)
# AlmaLinux 9 package names at old releases; built as empty rpms, installed with --justdb
RPMS = (
    ("openssl-libs", 1, "3.0.1", "41.el9_0", "x86_64"),
    ("curl", None, "7.76.1", "14.el9", "x86_64"),
    ("libcurl", None, "7.76.1", "14.el9", "x86_64"),
    ("sudo", None, "1.9.5p2", "7.el9", "x86_64"),
    ("xz-libs", None, "5.2.5", "7.el9", "x86_64"),
    ("glibc", None, "2.34", "28.el9_0", "x86_64"),
    ("expat", None, "2.2.10", "12.el9_0", "x86_64"),
    ("zlib", None, "1.2.11", "31.el9", "x86_64"),
)
ALMA_OS_RELEASE = (
    'NAME="AlmaLinux"\nVERSION="9.0 (Emerald Puma)"\nID="almalinux"\nID_LIKE="rhel centos fedora"\n'
    'VERSION_ID="9.0"\nPLATFORM_ID="platform:el9"\nPRETTY_NAME="AlmaLinux 9.0 (Emerald Puma)"\n'
)


def run(*argv: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        argv, capture_output=True, text=True, check=False, timeout=900, cwd=cwd, env=env
    )
    if done.returncode != 0:
        raise RuntimeError(f"{argv} failed: {done.stderr[-2000:]}")
    return done.stdout


@dataclass(frozen=True, slots=True)
class QualityImage:
    """One gate image: how to build its layers and how the real tools list its packages."""

    name: str
    description: str
    layers: Callable[[], list[ob.Layer]]
    truth: Callable[[], set[Pkg]]

    def layout(self) -> Path:
        """The OCI layout (tag `q`), built once from the layers."""

        def build(dest: Path) -> None:
            ob.build_oci_layout(dest, self.layers(), tag="q")

        return built_once(CACHE / "layouts", self.name, build)

    def reference(self) -> str:
        return f"oci:{self.layout()}:q"


# --- root filesystems -------------------------------------------------------------------


def bookworm() -> Path:
    return debian_image.base_rootfs()


def _debootstrap(suite: str) -> Callable[[Path], None]:
    def build(dest: Path) -> None:
        run("debootstrap", "--variant=minbase", suite, str(dest), DEBIAN_MIRROR)

    return build


def bullseye() -> Path:
    return built_once(CACHE, "bullseye-minbase", _debootstrap("bullseye"))


def _ruby_rootfs(dest: Path) -> None:
    run("cp", "-a", str(bookworm()), str(dest))
    run("chroot", str(dest), "apt-get", "update", "-q")
    run(
        "chroot", str(dest), "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install",
        "-y", "-q", "--no-install-recommends", "ruby", "ruby-rack", "ruby-nokogiri",
    )  # fmt: skip
    run("chroot", str(dest), "apt-get", "clean")
    shutil.rmtree(dest / "var/lib/apt/lists", ignore_errors=True)
    (dest / "var/lib/apt/lists").mkdir()


def ruby_rootfs() -> Path:
    return built_once(CACHE, "bookworm-ruby", _ruby_rootfs)


def _pip_tree(dest: Path) -> None:
    run(
        *PIP, "install", "--quiet", "--disable-pip-version-check", "--no-compile",
        "--no-deps", "--target",
        str(dest / "usr/local/lib/python3.11/site-packages"), *PIP_PINS,
    )  # fmt: skip


def pip_tree() -> Path:
    return built_once(CACHE, "pip-tree", _pip_tree)


def _npm_tree(dest: Path) -> None:
    """`npm ci` from the committed lockfile (made by `npm install` of NPM_PINS), so every
    machine gets the same transitive versions the labels were made for."""
    app = dest / "srv/app"
    app.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(NPM_FIXTURE / name, app / name)
    # the real path: npm ci refuses a prefix reached through a symlink (a worktree's .cache)
    run("npm", "ci", "--prefix", str(app.resolve()), "--no-audit", "--no-fund",
        "--loglevel=error")  # fmt: skip


def npm_tree() -> Path:
    return built_once(CACHE, "npm-tree", _npm_tree)


def _fat_jar(dest: Path) -> None:
    """A Spring Boot style executable jar: BOOT-INF/lib/ holds the nested jars, stored."""
    dest.mkdir(parents=True)
    jar = dest / "app.jar"
    with zipfile.ZipFile(jar, "w") as zf:
        zf.writestr("META-INF/MANIFEST.MF", (
            "Manifest-Version: 1.0\r\nMain-Class: org.springframework.boot.loader.JarLauncher\r\n"
            "Start-Class: com.example.demo.DemoApplication\r\n"
            "Spring-Boot-Lib: BOOT-INF/lib/\r\n\r\n"
        ))  # fmt: skip
        zf.writestr(
            "META-INF/maven/com.example/demo/pom.properties",
            "version=1.0.0\ngroupId=com.example\nartifactId=demo\n",
        )
        zf.writestr("BOOT-INF/classes/com/example/demo/DemoApplication.class", b"\xca\xfe\xba\xbe")
        for rel in JARS:
            zf.write(MAVEN_REPO / rel, f"BOOT-INF/lib/{Path(rel).name}", zipfile.ZIP_STORED)


def fat_jar() -> Path:
    return built_once(CACHE, "fat-jar", _fat_jar)


def _go_module_binary(out: Path) -> None:
    """A module-mode build against Debian's golang-golang-x-mod-dev sources, vendored.

    Debian builds its own Go programs in GOPATH mode, so their build info names no modules;
    this one carries `dep golang.org/x/mod v0.7.0` the way upstream builds do."""
    work = out.parent / "gowork"
    (work / "vendor/golang.org/x").mkdir(parents=True)
    shutil.copytree(GO_MOD_SRC, work / "vendor/golang.org/x/mod")
    (work / "go.mod").write_text(
        "module example.com/qgate/semvercheck\n\ngo 1.19\n\nrequire golang.org/x/mod v0.7.0\n"
    )
    (work / "vendor/modules.txt").write_text(
        "# golang.org/x/mod v0.7.0\n## explicit; go 1.17\ngolang.org/x/mod/semver\n"
    )
    (work / "main.go").write_text(
        'package main\n\nimport (\n\t"fmt"\n\t"os"\n\n\t"golang.org/x/mod/semver"\n)\n\n'
        "func main() { fmt.Println(semver.IsValid(os.Args[len(os.Args)-1])) }\n"
    )
    env = dict(os.environ, GOFLAGS="-mod=vendor", GOPROXY="off", GO111MODULE="on",
               GOCACHE=str(work / "gocache"), GOPATH=str(work / "gopath"))  # fmt: skip
    run("go", "build", "-trimpath", "-o", str(out), ".", cwd=work, env=env)
    shutil.rmtree(work)


def _go_tree(dest: Path) -> None:
    for binary in GO_BINARIES:
        target = dest / binary.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(binary, target)
    # the same program at two locations: one module, two places a finding must name
    _go_module_binary(dest / GO_BUILT[0].lstrip("/"))
    (dest / GO_BUILT[1].lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(dest / GO_BUILT[0].lstrip("/"), dest / GO_BUILT[1].lstrip("/"))


def go_tree() -> Path:
    return built_once(CACHE, "go-tree", _go_tree)


def _paragraphs(status: Path) -> dict[str, str]:
    out = {}
    for para in status.read_text().split("\n\n"):
        for line in para.splitlines():
            if line.startswith("Package: "):
                out[line.removeprefix("Package: ")] = para.strip() + "\n"
    return out


def _distroless(dest: Path) -> None:
    """Like gcr.io/distroless/base: one status file per package under status.d/, no dpkg."""
    paras = _paragraphs(bookworm() / "var/lib/dpkg/status")
    statusd = dest / "var/lib/dpkg/status.d"
    statusd.mkdir(parents=True)
    for name in DISTROLESS:
        (statusd / name).write_text(paras[name])
    (dest / "etc").mkdir()
    shutil.copy(bookworm() / "usr/lib/os-release", dest / "etc/os-release")


def distroless_tree() -> Path:
    return built_once(CACHE, "distroless", _distroless)


def _rpm_tree(dest: Path) -> None:
    work = dest.parent / "rpmwork"
    (work / "top").mkdir(parents=True)
    for pkg in RPMS:
        spec = work / f"{pkg[0]}.spec"
        spec.write_text(rpm_db._spec(*pkg))
        run("rpmbuild", "-bb", "--define", f"_topdir {work / 'top'}", str(spec))
    dbpath = dest / "var/lib/rpm"
    dbpath.mkdir(parents=True)
    run("rpm", "--initdb", "--dbpath", str(dbpath))
    rpms = sorted(str(p) for p in (work / "top" / "RPMS").rglob("*.rpm"))
    run("rpm", "-i", "--justdb", "--nodeps", "--ignorearch", "--dbpath", str(dbpath), *rpms)
    (dest / "etc").mkdir()
    (dest / "etc/os-release").write_text(ALMA_OS_RELEASE)
    shutil.rmtree(work)


def rpm_tree() -> Path:
    return built_once(CACHE, "rpm-alma9", _rpm_tree)


# --- ground truth from the real tools ---------------------------------------------------


def dpkg_truth(admindir: Path) -> set[Pkg]:
    """`dpkg-query -W --admindir`: every package whose status is installed."""
    out = run(
        "dpkg-query", "-W", f"--admindir={admindir}",
        "-f=${Package}\t${Version}\t${db:Status-Status}\n",
    )  # fmt: skip
    rows = (line.split("\t") for line in out.splitlines())
    return {("Debian", n, v) for n, v, s in rows if s == "installed"}


def distroless_truth() -> set[Pkg]:
    """dpkg-query over an admin dir whose status file is the status.d files joined."""
    statusd = distroless_tree() / "var/lib/dpkg/status.d"
    with tempfile.TemporaryDirectory() as tmp:
        admin = Path(tmp, "var/lib/dpkg")
        (admin / "info").mkdir(parents=True)
        (admin / "status").write_text("\n".join(p.read_text() for p in sorted(statusd.iterdir())))
        return dpkg_truth(admin)


def pip_truth() -> set[Pkg]:
    site = pip_tree() / "usr/local/lib/python3.11/site-packages"
    rows = json.loads(run(*PIP, "list", "--path", str(site), "--format", "json"))
    return {("PyPI", r["name"], r["version"]) for r in rows}


def npm_truth() -> set[Pkg]:
    nodes = json.loads(run("npm", "query", "*", "--prefix", str(npm_tree() / "srv/app")))
    return {("npm", n["name"], n["version"]) for n in nodes if n["location"]}


def gem_truth(root: Path) -> set[Pkg]:
    """`gem list --local` inside the image: `name (default: 1.0, 2.0)` lines."""
    out = run("chroot", str(root), "gem", "list", "--local")
    found = set()
    for line in out.splitlines():
        name, _, rest = line.partition(" (")
        for version in rest.rstrip(")").split(", "):
            found.add(("RubyGems", name, version.removeprefix("default: ")))
    return found


def go_truth() -> set[Pkg]:
    """`go version -m` of each binary: the toolchain as `stdlib` plus every module."""
    found = set()
    for binary in GO_BINARIES + GO_BUILT:
        lines = run("go", "version", "-m", str(go_tree() / binary.lstrip("/"))).splitlines()
        found.add(("Go", "stdlib", lines[0].split(": ", 1)[1].removeprefix("go")))
        modules: list[tuple[str, str]] = []
        for line in lines[1:]:
            fields = line.strip("\t").split("\t")
            if fields[0] in ("mod", "dep"):
                modules.append((fields[1], fields[2]))
            elif fields[0] == "=>":
                modules[-1] = (fields[1], fields[2]) if len(fields) > 2 else modules[-1]
        found |= {("Go", p, v) for p, v in modules if v and v != "(devel)"}
    return found


def jar_truth() -> set[Pkg]:
    """Coordinates from the Maven repository path of every nested jar, plus the app's own."""
    found = {("Maven", "com.example:demo", "1.0.0")}
    for rel in JARS:
        *group, artifact, version, _file = rel.split("/")
        found.add(("Maven", f"{'.'.join(group)}:{artifact}", version))
    return found


def rpm_truth() -> set[Pkg]:
    return {
        ("AlmaLinux", line.split("|")[0], line.split("|")[1])
        for line in rpm_db.rpm_qa(rpm_tree() / "var/lib/rpm")
    }


# --- the images ---------------------------------------------------------------------------


IMAGES: tuple[QualityImage, ...] = (
    QualityImage(
        "debian12-pypi",
        "Debian 12 minbase (debootstrap) + old PyPI wheels (pip install --target)",
        lambda: [ob.Layer(bookworm()), ob.Layer(pip_tree(), compression="zstd")],
        lambda: dpkg_truth(bookworm() / "var/lib/dpkg") | pip_truth(),
    ),
    QualityImage(
        "debian11",
        "Debian 11 minbase (debootstrap bullseye)",
        lambda: [ob.Layer(bullseye())],
        lambda: dpkg_truth(bullseye() / "var/lib/dpkg"),
    ),
    QualityImage(
        "npm-express",
        "real `npm install express@4.17.1 lodash@4.17.15 minimist@1.2.0`",
        lambda: [ob.Layer(npm_tree())],
        npm_truth,
    ),
    QualityImage(
        "springboot-jar",
        "Spring Boot style fat jar, nested jars from Debian's /usr/share/maven-repo",
        lambda: [ob.Layer(fat_jar())],
        jar_truth,
    ),
    QualityImage(
        "debian12-ruby",
        "Debian 12 + apt-get install ruby ruby-rack ruby-nokogiri (gems from Debian)",
        lambda: [
            ob.Layer(bookworm()),
            ob.Layer(debian_image.diff_layer(bookworm(), ruby_rootfs(), CACHE / "scratch")),
        ],
        lambda: dpkg_truth(ruby_rootfs() / "var/lib/dpkg") | gem_truth(ruby_rootfs()),
    ),
    QualityImage(
        "go-binaries",
        "Debian's skopeo and docker-registry (GOPATH builds) + a module build, at two paths",
        lambda: [ob.Layer(go_tree())],
        go_truth,
    ),
    QualityImage(
        "distroless",
        "distroless-style: only var/lib/dpkg/status.d/ (7 Debian 12 packages)",
        lambda: [ob.Layer(distroless_tree())],
        distroless_truth,
    ),
    QualityImage(
        "rpm-alma9",
        "AlmaLinux 9 rpm database (sqlite) written by Debian's rpm",
        lambda: [ob.Layer(rpm_tree())],
        rpm_truth,
    ),
)
BY_NAME = {img.name: img for img in IMAGES}
