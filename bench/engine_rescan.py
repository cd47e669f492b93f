"""Continuous re-scan: 10,000 stored images re-evaluated after a DB change of ~100 package keys.

    .venv/bin/python bench/engine_rescan.py [--images 10000] [--keys 100]

Real data: the Debian OSV records of the shared mirror. Version 1 of the DB lacks one CVE
record for each of `--keys` Debian source packages; version 2 is the full feed, so its
change set names those packages. Images have realistic inventories: the packages of a real
debootstrap'd bookworm (tests.support.debian_image) plus 30 others drawn from the feed.
Every image is CONTINUOUS_SCAN and ACTIVE; they are first evaluated against version 1
(untimed), then the re-scan for version 2 is timed. Target: <= 2 s.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import json
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import sqlalchemy as sa  # noqa: E402

from tests.support import debian_image  # noqa: E402
from tests.support import scan_fixtures as fixtures  # noqa: E402
from tests.support.paths import VULNDATA  # noqa: E402
from tidegate import schema as t  # noqa: E402
from tidegate.app import build_registry  # noqa: E402
from tidegate.checkpoints import WalCheckpointer  # noqa: E402
from tidegate.config import load_settings  # noqa: E402
from tidegate.engine import inventories, jobs, rescan  # noqa: E402
from tidegate.engine.runtime import ScanEngine  # noqa: E402
from tidegate.scanner.model import Distro, Inventory, Package, PackageManager  # noqa: E402

ARCHIVE = VULNDATA / "debian-osv" / "debian-osv.tar.xz"


def choose_dropped(keys: int, wanted: set[str]) -> tuple[set[str], set[str]]:
    """CVE records (member names) each affecting exactly one bookworm package we care about."""
    chosen: dict[str, str] = {}
    with tarfile.open(ARCHIVE, "r:xz") as tar:
        for member in tar:
            if len(chosen) >= keys or not member.isfile() or "/CVE/" not in member.name:
                continue
            doc = json.load(tar.extractfile(member))  # type: ignore[arg-type]
            names = {
                a["package"]["name"]
                for a in doc.get("affected", [])
                if a.get("package", {}).get("ecosystem") == "Debian:12"
            }
            if len(names) == 1 and (name := names.pop()) in wanted and name not in chosen:
                chosen[name] = member.name
    return set(chosen.values()), set(chosen)


def write_mirror(root: Path, dropped: set[str]) -> Path:
    """A mirror whose debian-osv archive (uncompressed tar) lacks the dropped records."""
    target = root / "debian-osv" / "debian-osv.tar.xz"  # tarfile reads it whatever its name
    target.parent.mkdir(parents=True)
    with tarfile.open(ARCHIVE, "r:xz") as src, tarfile.open(target, "w") as out:
        for member in src:
            if member.name not in dropped:
                out.addfile(member, src.extractfile(member) if member.isfile() else None)
    return root


def db_update(data: Path, mirror: Path) -> None:
    fixtures.db_update(data, mirror, only="debian-osv", timeout=None)


def base_packages() -> list[Package]:
    root = debian_image.base_rootfs()
    out = subprocess.run(
        [
            "dpkg-query",
            "-W",
            f"--admindir={root / 'var/lib/dpkg'}",
            "-f=${Package}\t${Version}\t${source:Package}\t${source:Version}\n",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [
        Package(
            n,
            v,
            "Debian",
            PackageManager.OS,
            source_name=sn,
            source_version=sv,
            path="var/lib/dpkg/status",
            layer="sha256:" + "a" * 64,
        )
        for n, v, sn, sv in (line.split("\t") for line in out.splitlines())
    ]


def current_versions(data: Path, names: list[str]) -> dict[str, str]:
    """For each Debian source package: its newest fixed version in the DB (an up-to-date
    bookworm package, so only unfixed advisories and later fixes apply to it)."""
    from tidegate.scanner.versions import scheme_for
    from tidegate.scanner.vulndb.store import VulnStore

    deb = scheme_for("Debian:12")
    store = VulnStore(data / "vulndb")
    out = {}
    for name in names:
        fixed = [
            p.fixed_version
            for adv in store.lookup("Debian:12", name)
            for p in adv.affected
            if p.fixed_version
        ]
        try:
            out[name] = max(fixed, key=deb.key) if fixed else "1.0-1"
        except ValueError:
            out[name] = "1.0-1"
    store.close()
    return out


def seed_images(
    rt: ScanEngine, count: int, base: list[Package], pool: list[str], versions: dict[str, str]
) -> None:
    """Rows as a scan on push leaves them, written in bulk (the seeding is not measured)."""
    rng = random.Random(7)
    now = time.time()
    key = rt.analyzer.key
    with rt.registry.engine.begin() as conn:
        repo_ids = []
        for r in range(max(1, count // 100)):
            result = conn.execute(
                sa.insert(t.repositories).values(name=f"team{r}/app", created_at=now)
            )
            repo_ids.append(int(result.inserted_primary_key[0]))  # type: ignore[index]
        for start in range(0, count, 1000):
            manifests, scans, stored, index = [], [], [], []
            for i in range(start, min(count, start + 1000)):
                digest = "sha256:" + hashlib.sha256(f"image-{i}".encode()).hexdigest()
                repo_id = repo_ids[i % len(repo_ids)]
                manifests.append(
                    {"repository_id": repo_id, "digest": digest, "size": 1000,
                     "media_type": "application/vnd.oci.image.manifest.v1+json",
                     "image_size": 50_000_000, "pushed_at": now}
                )  # fmt: skip
                scans.append(
                    {"repository_id": repo_id, "digest": digest, "scan_type": "ENHANCED",
                     "status": "ACTIVE", "description": "", "requested_at": now,
                     "frequency": "CONTINUOUS_SCAN"}
                )  # fmt: skip
                extra = [
                    Package(
                        name, versions[name], "Debian", PackageManager.OS, source_name=name,
                        source_version=versions[name], path="var/lib/dpkg/status",
                        layer="sha256:" + "b" * 64,
                    )
                    for name in rng.sample(pool, 20)
                ]  # fmt: skip
                inv = Inventory(Distro("debian", "12", "bookworm"), tuple(base + extra))
                stored.append(
                    {"digest": digest, "inventory": inventories.encode_inventory(inv),
                     "analyzer_key": key, "analyzed_at": now}
                )  # fmt: skip
                index.append((digest, inv))
            conn.execute(sa.insert(t.manifests), manifests)
            conn.execute(sa.insert(t.image_scans), scans)
            conn.execute(sa.insert(t.image_inventories), stored)
            inventories.index_inventories(conn, index)


def run_job(
    rt: ScanEngine, since: int, version: int, profile: Path | None = None
) -> tuple[float, rescan.RescanReport]:
    with rt.registry.engine.begin() as conn:
        jobs.enqueue(
            conn,
            kind="rescan",
            repository_id=None,
            digest=f"bench-{version}",
            scan_type="ENHANCED",
            reason="rescan",
            now=time.time(),
            payload={"since": since, "version": version},
        )
    job = rt.queue.claim("bench", 3600)
    assert job is not None
    profiler = cProfile.Profile() if profile else None
    gc_time = [0.0, 0.0]  # seconds in the cyclic garbage collector, start of the current run

    def gc_timer(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            gc_time[1] = time.perf_counter()
        else:
            gc_time[0] += time.perf_counter() - gc_time[1]

    gc.callbacks.append(gc_timer)
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    report = rescan.run_rescan(rt, job)
    seconds = time.perf_counter() - started
    gc.callbacks.remove(gc_timer)
    print(f"  ({gc_time[0]:.2f}s of it in the garbage collector)")
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    return seconds, report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the re-scan here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tidegate-rescan-") as tmp:
        root = Path(tmp)
        data = root / "data"
        base = base_packages()
        print(f"base image: {len(base)} packages from a real bookworm minbase")
        # Packages the change touches: the base's sources plus others the images carry.
        full = root / "full"
        (full / "debian-osv").mkdir(parents=True)
        (full / "debian-osv" / "debian-osv.tar.xz").symlink_to(ARCHIVE)
        db_update(root / "probe", full)
        probe = next((root / "probe" / "vulndb").glob("v*.sqlite"))
        with sa.create_engine(f"sqlite:///{probe}").connect() as c:
            pool = sorted(
                r[0]
                for r in c.execute(
                    sa.text("SELECT name FROM packages WHERE namespace = 'Debian:12'")
                )
            )
        wanted = {p.source_name for p in base} | set(pool[: args.keys * 3])
        dropped, keys = choose_dropped(args.keys, wanted)
        print(f"v1 lacks {len(dropped)} CVE records of {len(keys)} packages")
        db_update(data, write_mirror(root / "v1", dropped))
        settings = load_settings(None, {"data_dir": data, "workers": 1})
        rt = ScanEngine(build_registry(settings), settings)
        # As `tidegate serve` and `tidegate worker` run: WAL checkpoints in the background.
        checkpoints = WalCheckpointer(rt.registry.engine)
        checkpoints.start()
        images_pool = sorted({p for p in pool if p in wanted} | set(pool[::50]))
        versions = current_versions(data, images_pool)
        started = time.perf_counter()
        seed_images(rt, args.images, base, images_pool, versions)
        print(f"seeded {args.images} images in {time.perf_counter() - started:.1f}s")
        # Seeding state, not the measured path: in production these findings come from each
        # image's own scan on push, whose events are long delivered. Skip their events here.
        emit_findings = rescan.notify.finding_events_many
        rescan.notify.finding_events_many = lambda *_args, **_kw: 0  # type: ignore[assignment]
        seconds, report = run_job(rt, 0, 1)
        rescan.notify.finding_events_many = emit_findings  # type: ignore[assignment]
        print(f"initial evaluation (untimed target): {seconds:.1f}s, {report.images} images")
        db_update(data, full)
        seconds, report = run_job(rt, 1, 2, args.profile)
        print(
            f"re-scan after a change of {report.changed_keys} package keys: {report.images} "
            f"images re-evaluated, {report.images_changed} changed, {report.events} finding "
            f"events, in {seconds:.2f}s (target <= 2 s: {seconds / 2:.2f}x of budget)"
        )
        checkpoints.stop()
        rt.analyzer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
