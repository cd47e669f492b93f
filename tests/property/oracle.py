"""Reference implementations driven as long-lived line-oriented subprocesses.

Each oracle is built or installed once into /work/main/.cache (gitignored) and then
answers one comparison per line, so hundreds of comparisons cost one process. A missing
tool raises, which fails the test: these tests never skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
SOURCES = Path(__file__).resolve().parent / "oracles"
MAVEN_JAR = Path("/usr/share/maven/lib/maven-artifact-3.x.jar")
SEMVER_NPM = "semver@7"


class LineOracle:
    """One subprocess that reads a request line and writes exactly one answer line."""

    def __init__(self, argv: list[str], *, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
            env=env,
        )

    def ask(self, *fields: str) -> str:
        """Send tab-separated fields, return the stripped answer line."""
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        for f in fields:
            if "\t" in f or "\n" in f:
                raise ValueError(f"cannot send {f!r}")
        self.proc.stdin.write("\t".join(fields) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError(f"oracle {self.proc.args!r} died")
        return answer.strip()

    def close(self) -> None:
        """Close stdin and wait for the process to exit."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def _run(argv: list[str], **kwargs: object) -> None:
    subprocess.run(argv, check=True, capture_output=True, **kwargs)  # type: ignore[call-overload]


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(f"{tool} is required for this test and is not installed")
    return path


def rpm_oracle() -> LineOracle:
    """rpm.labelCompare from Debian python3-rpm, importable only by /usr/bin/python3."""
    if not Path("/usr/lib/python3/dist-packages/rpm").is_dir():
        raise RuntimeError("Debian package python3-rpm is not installed")
    return LineOracle(["/usr/bin/python3", str(SOURCES / "rpm_oracle.py")])


def node_semver_oracle() -> LineOracle:
    """The npm semver package under node; installed into .cache/node-oracle on first use."""
    prefix = CACHE / "node-oracle"
    module = prefix / "node_modules" / "semver"
    if not (module / "package.json").exists():
        prefix.mkdir(parents=True, exist_ok=True)
        _run(
            [
                _require("npm"),
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(prefix),
                SEMVER_NPM,
            ]
        )
    return LineOracle([_require("node"), str(SOURCES / "semver_oracle.js"), str(module)])


def maven_oracle() -> LineOracle:
    """Maven's own ComparableVersion, via a small class compiled into .cache/maven-oracle."""
    if not MAVEN_JAR.exists():
        raise RuntimeError(f"{MAVEN_JAR} missing: install the Debian package maven")
    out = CACHE / "maven-oracle"
    if not (out / "MavenOracle.class").exists():
        out.mkdir(parents=True, exist_ok=True)
        src = SOURCES / "MavenOracle.java"
        _run([_require("javac"), "-cp", str(MAVEN_JAR), "-d", str(out), str(src)])
    classpath = f"{out}{os.pathsep}{MAVEN_JAR}"
    return LineOracle([_require("java"), "-cp", classpath, "MavenOracle"])


def gem_oracle() -> LineOracle:
    """Gem::Version from Debian's ruby."""
    return LineOracle([_require("ruby"), str(SOURCES / "gem_oracle.rb")])


def go_oracle() -> LineOracle:
    """golang.org/x/mod/semver (Debian golang-golang-x-mod-dev) built in GOPATH mode."""
    out = CACHE / "go-oracle"
    binary = out / "go_oracle"
    if not binary.exists():
        out.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode")
        env["GOCACHE"] = str(out / "gocache")
        src = SOURCES / "go_oracle.go"
        _run([_require("go"), "build", "-o", str(binary), str(src)], env=env)
    return LineOracle([str(binary)])


def cargo_oracle() -> LineOracle:
    """The Rust semver crate (Debian librust-semver-dev), built offline with cargo."""
    out = CACHE / "cargo-oracle"
    binary = out / "target" / "release" / "cargo_oracle"
    if not binary.exists():
        shutil.copytree(SOURCES / "cargo_oracle", out / "src-tree", dirs_exist_ok=True)
        home = out / "cargo-home"
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.toml").write_text(
            '[source.crates-io]\nreplace-with = "debian"\n'
            '[source.debian]\ndirectory = "/usr/share/cargo/registry"\n'
            "[net]\noffline = true\n"
        )
        env = dict(os.environ, CARGO_HOME=str(home))
        manifest = out / "src-tree" / "Cargo.toml"
        _run(
            [
                _require("cargo"),
                "build",
                "--offline",
                "--release",
                "--manifest-path",
                str(manifest),
                "--target-dir",
                str(out / "target"),
            ],
            env=env,
        )
    return LineOracle([str(binary)])


def composer_oracle() -> LineOracle:
    """composer/semver's VersionParser and Comparator (Debian php-composer-semver, php-cli)."""
    if not Path("/usr/share/php/Composer/Semver/autoload.php").exists():
        raise RuntimeError("Debian packages composer / php-composer-semver are not installed")
    return LineOracle([_require("php"), str(SOURCES / "composer_oracle.php")])


def dpkg_compare(a: str, b: str) -> int:
    """`dpkg --compare-versions`: -1, 0 or 1 (two calls at most)."""
    dpkg = _require("dpkg")
    for op, result in (("lt", -1), ("eq", 0)):
        rc = subprocess.run(
            [dpkg, "--compare-versions", a, op, b], check=False, capture_output=True
        ).returncode
        if rc == 0:
            return result
        if rc != 1:
            raise RuntimeError(f"dpkg rejected {a!r} or {b!r}")
    return 1
