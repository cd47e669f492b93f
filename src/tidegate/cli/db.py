"""`tidegate db update|status|show|export|import`: manage the vulnerability database."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from tidegate.cli.common import add_data_options, settings_from_args
from tidegate.config import Settings
from tidegate.scanner.vulndb import layout
from tidegate.scanner.vulndb.manager import update
from tidegate.scanner.vulndb.model import Advisory
from tidegate.scanner.vulndb.store import VulnStore
from tidegate.scanner.vulndb.transfer import export_db, import_db
from tidegate.scanner.vulndb.updaters.feeds import BY_NAME


def add_parser(subparsers: Any) -> None:
    """Register `db` and its subcommands."""
    parser = subparsers.add_parser("db", help="manage the vulnerability database")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)

    up = sub.add_parser("update", help="fetch the sources and publish a new DB version")
    up.add_argument(
        "--source",
        help="mirror root (directory or URL) laid out like the shared snapshot; "
        "default: the real upstream feeds",
    )
    up.add_argument(
        "--only", nargs="+", metavar="NAME", choices=sorted(BY_NAME),
        help="update only these sources (others are carried over)",
    )  # fmt: skip
    up.set_defaults(func=_update)

    st = sub.add_parser("status", help="versions, sources, record counts, age, failures")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.set_defaults(func=_status)

    show = sub.add_parser("show", help="one vulnerability with its aliases and affected ranges")
    show.add_argument("id", help="CVE, GHSA, PYSEC, GO, RUSTSEC, DSA, ALSA, ALAS ... id")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=_show)

    ex = sub.add_parser("export", help="write the current DB to a file (.tar, .tar.gz, .tar.xz)")
    ex.add_argument("file", type=Path)
    ex.set_defaults(func=_export)

    im = sub.add_parser("import", help="verify an exported DB and make it current")
    im.add_argument("file", type=Path)
    im.set_defaults(func=_import)

    for p in (up, st, show, ex, im):
        add_data_options(p)


def _update(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    mirror = args.source or settings.vulndb_source or None
    result = _shared(
        settings,
        lambda: update(
            settings.vulndb_dir,
            mirror=mirror,
            only=args.only,
            download_dir=settings.cache_dir / "vulndb-downloads",
        ),
    )
    for src in result.sources:
        line = f"{src.name:20} {src.status:10} records={src.records} skipped={src.skipped}"
        line += f" fallbacks={src.fallbacks}"
        print(line + (f" error={src.error}" if src.error else ""))
    if result.published:
        print(f"published version {result.version}: {result.changed_keys} package keys changed "
              f"in {result.seconds:.1f}s")  # fmt: skip
    else:
        print(f"nothing changed; version {result.version} stays current")
    return 1 if any(s.status == "failed" for s in result.sources) else 0


T = TypeVar("T")


def _shared(settings: Settings, run: Callable[[], T]) -> T:
    """Run an update of the DB directory; over PostgreSQL, as the one update anywhere, and
    shared with every process of the deployment when it publishes a version."""
    if not settings.database_url.startswith("postgresql"):
        return run()  # SQLite: no metadata DB is needed (or created) to update the files
    from tidegate.db import engine_for, migrate
    from tidegate.engine import vulndb_share

    engine = engine_for(settings)
    try:
        migrate(engine)
        return vulndb_share.run_update(engine, settings.vulndb_dir, run)
    finally:
        engine.dispose()


def _status(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    store = VulnStore(settings.vulndb_dir)
    try:
        info = store.version_info()
        counts = store.counts()
    finally:
        store.close()
    doc = {
        "version": info.version,
        "previous": info.previous,
        "built_at": info.built_at,
        "age_seconds": _age(info.built_at),
        "kept_versions": layout.existing_versions(settings.vulndb_dir),
        "counts": counts,
        "sources": [
            {"name": s.name, "status": s.status, "records": s.records, "skipped": s.skipped,
             "fallbacks": s.fallbacks, "error": s.error, "fetched_at": s.fetched_at,
             "data_version": s.data_version}
            for s in info.sources
        ],
    }  # fmt: skip
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"version {info.version} (previous {info.previous}), built {info.built_at}, "
          f"age {_human(doc['age_seconds'])}")  # fmt: skip
    print(f"kept versions: {doc['kept_versions']}")
    print("counts: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    for s in info.sources:
        line = f"  {s.name:20} {s.status:10} records={s.records} skipped={s.skipped} "
        line += f"fallbacks={s.fallbacks} "
        line += f"data from v{s.data_version} fetched {s.fetched_at}"
        print(line + (f"\n    error: {s.error}" if s.error else ""))
    return 0


def _age(built_at: str) -> int | None:
    try:
        return int((datetime.now(UTC) - datetime.fromisoformat(built_at)).total_seconds())
    except ValueError:
        return None


def _human(seconds: object) -> str:
    if not isinstance(seconds, int):
        return "unknown"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _show(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    store = VulnStore(settings.vulndb_dir)
    try:
        adv = store.get(args.id)
    finally:
        store.close()
    if adv is None:
        print(f"tidegate: {args.id} is not in the vulnerability DB", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(_as_json(adv), indent=2))
        return 0
    _print_advisory(adv)
    return 0


def _as_json(adv: Advisory) -> dict[str, Any]:
    return {
        "id": adv.id, "aliases": list(adv.aliases), "related": list(adv.related),
        "summary": adv.summary, "details": adv.details, "published": adv.published,
        "modified": adv.modified, "severity": adv.severity.value, "score": adv.score,
        "known_exploited": adv.known_exploited, "sources": list(adv.sources),
        "cvss": [{"type": s.type, "version": s.version, "vector": s.vector, "score": s.score,
                  "source": s.source} for s in adv.severities],
        "references": list(adv.references),
        "affected": [
            {"namespace": p.namespace, "name": p.name, "fix": p.fix.value,
             "vendor_severity": p.rating.raw if p.rating else None,
             "fixed_version": p.fixed_version, "versions": list(p.versions),
             "ranges": [{"type": r.type, "events": [
                 {k: v for k in ("introduced", "fixed", "last_affected", "limit")
                  if (v := getattr(e, k)) is not None} for e in r.events]} for r in p.ranges]}
            for p in adv.affected
        ],
    }  # fmt: skip


def _print_advisory(adv: Advisory) -> None:
    print(f"{adv.id}  severity {adv.severity.value}"
          + (f" (CVSS {adv.score})" if adv.score is not None else "")
          + ("  KNOWN EXPLOITED" if adv.known_exploited else ""))  # fmt: skip
    if adv.aliases:
        print("aliases: " + ", ".join(adv.aliases))
    print("sources: " + ", ".join(adv.sources))
    if adv.summary:
        print(adv.summary)
    for s in adv.severities:
        score = f" = {s.score}" if s.score is not None else ""
        print(f"CVSS {s.version} ({s.source or '?'}): {s.vector}{score}")
    print(f"affected packages: {len(adv.affected)}")
    for p in adv.affected:
        ranges = "; ".join(
            " ".join(f"{k}={v}" for e in r.events
                     for k in ("introduced", "fixed", "last_affected", "limit")
                     if (v := getattr(e, k)) is not None)
            for r in p.ranges
        )  # fmt: skip
        extra = f" versions={','.join(p.versions[:5])}" if p.versions else ""
        rated = f" rated {p.rating.raw!r}" if p.rating else ""
        print(f"  {p.namespace} {p.name}: {p.fix.value}{rated} [{ranges}]{extra}")


def _export(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    manifest = export_db(settings.vulndb_dir, args.file)
    print(f"exported version {manifest['version']} to {args.file} (sha256 {manifest['sha256']})")
    return 0


def _import(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    result = _shared(settings, lambda: import_db(settings.vulndb_dir, args.file))
    print(f"imported {args.file} (exported version {result.source_version}) as version "
          f"{result.version}: {result.changed_keys} package keys changed")  # fmt: skip
    return 0
