"""Real Go binaries that share a module, built offline from Debian's Go sources.

`go build` needs a module proxy; a `file://` proxy is made from golang-golang-x-mod-dev's
sources (/usr/share/gocode/src/golang.org/x/mod, v0.7.0), so two tiny programs importing
golang.org/x/mod build with module information embedded and `go version -m` has something to
say. No network is used.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

XMOD_SRC = Path("/usr/share/gocode/src/golang.org/x/mod")
XMOD_VERSION = "v0.7.0"
# Debian's go.mod names golang.org/x/tools for x/mod's own tests; nothing built here needs it.
_XMOD_GOMOD = "module golang.org/x/mod\n\ngo 1.17\n"
_MAIN = """package main

import (
\t"fmt"

\t"golang.org/x/mod/module"
\t"golang.org/x/mod/semver"
)

func main() {
\tfmt.Println("%s", semver.Canonical("v1.2"), module.CheckPath("example.com/%s"))
}
"""


def _file_proxy(dest: Path) -> Path:
    assert XMOD_SRC.is_dir(), "apt-get install golang-golang-x-mod-dev"
    versions = dest / "golang.org/x/mod/@v"
    versions.mkdir(parents=True)
    (versions / "list").write_text(XMOD_VERSION + "\n")
    (versions / f"{XMOD_VERSION}.info").write_text(f'{{"Version":"{XMOD_VERSION}"}}\n')
    (versions / f"{XMOD_VERSION}.mod").write_text(_XMOD_GOMOD)
    prefix = f"golang.org/x/mod@{XMOD_VERSION}"
    with zipfile.ZipFile(versions / f"{XMOD_VERSION}.zip", "w") as zf:
        zf.writestr(f"{prefix}/go.mod", _XMOD_GOMOD)
        for file in sorted(XMOD_SRC.rglob("*")):
            rel = file.relative_to(XMOD_SRC).as_posix()
            if file.is_file() and rel not in ("go.mod", "go.sum"):
                zf.write(file, f"{prefix}/{rel}")
    return dest


def build_binaries(work: Path, names: tuple[str, ...]) -> dict[str, Path]:
    """One binary per name, each a module `example.com/<name>` depending on x/mod."""
    proxy = _file_proxy(work / "proxy")
    env = dict(
        os.environ,
        GOPROXY=f"file://{proxy}",
        GOSUMDB="off",
        GOFLAGS="-mod=mod -modcacherw",
        GOPATH=str(work / "gopath"),
        GOCACHE=str(work / "gocache"),
        GO111MODULE="on",
    )
    out = {}
    for name in names:
        src = work / "src" / name
        src.mkdir(parents=True)
        (src / "main.go").write_text(_MAIN % (name, name))
        (src / "go.mod").write_text(
            f"module example.com/{name}\n\ngo 1.19\n\nrequire golang.org/x/mod {XMOD_VERSION}\n"
        )
        binary = work / "bin" / name
        subprocess.run(
            ["go", "build", "-trimpath", "-o", str(binary), "."],
            cwd=src, env=env, check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        out[name] = binary
    return out
