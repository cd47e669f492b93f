"""Installed trees win over lockfiles, and every location is its own package.

Each tree is scanned as a one-layer image by the real walker and inventory builder
(`analyze_tree`), so these hold for what a scan reports, not for a helper's copy.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support import lang_binaries as lb
from tests.support.lang_rootfs import analyze_tree
from tidegate.scanner.model import Package, PackageManager

NPM_LOCK = json.dumps(
    {
        "lockfileVersion": 3,
        "packages": {"": {"name": "app"}, "node_modules/lodash": {"version": "4.17.15"}},
    }
)
GEMFILE_LOCK = (
    "GEM\n  remote: https://rubygems.org/\n  specs:\n    rake (13.0.6)\n    rspec (3.12.0)\n"
)
CARGO_LOCK = '[[package]]\nname = "serde"\nversion = "1.0.130"\nsource = "registry+x"\n'
COMPOSER = json.dumps({"packages": [{"name": "monolog/monolog", "version": "2.3.5"}]})
GO_LINES = (
    "path\texample.com/app",
    "mod\texample.com/app\t(devel)\t",
    "dep\tgolang.org/x/text\tv0.3.7\th1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=",
)


def _gemspec(name: str, version: str) -> str:
    body = f'  s.name = "{name}".freeze\n  s.version = "{version}"\n'
    return f"Gem::Specification.new do |s|\n{body}end\n"


def _tree(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    return root


def _found(root: Path) -> set[tuple[str, str, str]]:
    return {(p.package_manager.value, p.name, p.path) for p in analyze_tree(root).packages}


def _packages(root: Path) -> tuple[Package, ...]:
    return analyze_tree(root).packages


def test_npm_lockfile_beside_node_modules_adds_nothing(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "srv/app/package-lock.json": NPM_LOCK,
            "srv/app/node_modules/lodash/package.json": '{"name":"lodash","version":"4.17.15"}',
            "srv/other/package-lock.json": NPM_LOCK,  # nothing installed: the lock speaks
        },
    )
    assert _found(root) == {
        ("NODEPKG", "lodash", "srv/app/node_modules/lodash/package.json"),
        ("NPM", "lodash", "srv/other/package-lock.json"),
    }


def test_gemfile_lock_yields_to_installed_gems(tmp_path: Path) -> None:
    spec = "var/lib/gems/3.1.0/specifications/rake-13.0.6.gemspec"
    root = _tree(tmp_path, {"app/Gemfile.lock": GEMFILE_LOCK, spec: _gemspec("rake", "13.0.6")})
    assert _found(root) == {("GEMSPEC", "rake", spec)}


def test_gemfile_lock_alone_still_counts(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"app/Gemfile.lock": GEMFILE_LOCK})
    assert {m for m, _n, _p in _found(root)} == {"BUNDLER"}


def test_lockfiles_inside_an_installed_gem_are_its_development_files(tmp_path: Path) -> None:
    base = "usr/lib/ruby/gems/3.1.0"
    spec = f"{base}/specifications/typeprof-0.21.2.gemspec"
    default = f"{base}/specifications/default/json-2.6.1.gemspec"
    root = _tree(
        tmp_path,
        {
            spec: _gemspec("typeprof", "0.21.2"),
            default: _gemspec("json", "2.6.1"),
            f"{base}/gems/typeprof-0.21.2/Gemfile.lock": GEMFILE_LOCK,
            f"{base}/gems/typeprof-0.21.2/vscode/package-lock.json": NPM_LOCK,
            f"{base}/gems/json-2.6.1/ext/Cargo.lock": CARGO_LOCK,
        },
    )
    assert _found(root) == {("GEMSPEC", "typeprof", spec), ("GEMSPEC", "json", default)}


def test_lockfiles_inside_installed_python_and_npm_packages_are_ignored(tmp_path: Path) -> None:
    site = "usr/lib/python3/dist-packages"
    root = _tree(
        tmp_path,
        {
            f"{site}/jupyterlab/staging/yarn.lock": '"left-pad@^1.3.0":\n  version "1.3.0"\n',
            f"{site}/jupyterlab/staging/package-lock.json": NPM_LOCK,
            f"{site}/pyo3_thing/Cargo.lock": CARGO_LOCK,
            "srv/node_modules/x/Gemfile.lock": GEMFILE_LOCK,
            "srv/node_modules/x/package.json": '{"name":"x","version":"1.0.0"}',
        },
    )
    assert _found(root) == {("NODEPKG", "x", "srv/node_modules/x/package.json")}


def test_python_lock_files_beside_site_packages_add_nothing(tmp_path: Path) -> None:
    site = "usr/lib/python3.11/site-packages"
    root = _tree(
        tmp_path,
        {
            f"{site}/urllib3-1.26.4.dist-info/METADATA": "Name: urllib3\nVersion: 1.26.4\n",
            "app/requirements.txt": "urllib3==1.26.4\nrequests==2.25.0\n",
            "app/poetry.lock": '[[package]]\nname = "requests"\nversion = "2.25.0"\n',
            "app/Pipfile.lock": '{"default": {"requests": {"version": "==2.25.0"}}}',
        },
    )
    assert _found(root) == {("PYTHONPKG", "urllib3", f"{site}/urllib3-1.26.4.dist-info/METADATA")}


def test_composer_lock_beside_vendor_adds_nothing(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {"srv/composer.lock": COMPOSER, "srv/vendor/composer/installed.json": COMPOSER},
    )
    assert _found(root) == {("COMPOSER", "monolog/monolog", "srv/vendor/composer/installed.json")}


def test_same_go_module_in_two_binaries_is_one_package_each(tmp_path: Path) -> None:
    binary = lb.go_elf("go1.21.3", GO_LINES)
    root = _tree(tmp_path, {"usr/bin/a": binary, "opt/tool/b": binary})
    (root / "usr/bin/a").chmod(0o755)
    (root / "opt/tool/b").chmod(0o755)
    text = [p for p in _packages(root) if p.name == "golang.org/x/text"]
    assert sorted(p.path for p in text) == ["opt/tool/b", "usr/bin/a"]
    assert all(p.package_manager is PackageManager.GOBINARY for p in text)


def test_same_jar_nested_twice_in_one_archive_is_one_package_each(tmp_path: Path) -> None:
    jar = lb.maven_jar("org.apache.logging.log4j", "log4j-core", "2.14.1")
    war = lb.zip_bytes({"WEB-INF/lib/log4j-core.jar": jar}, stored=True)
    root = _tree(tmp_path, {"app/shop.ear": lb.zip_bytes({"a.war": war, "b.war": war})})
    log4j = [p for p in _packages(root) if p.name.endswith(":log4j-core")]
    assert sorted(p.path for p in log4j) == [
        "app/shop.ear!/a.war!/WEB-INF/lib/log4j-core.jar",
        "app/shop.ear!/b.war!/WEB-INF/lib/log4j-core.jar",
    ]
