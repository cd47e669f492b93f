"""Suppression rules over a real SQLite DB and real scan jobs (fakes of their inputs): what a
rule moves, when, the counts and events that follow, and the inputs it refuses."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support import engine_fakes as fx
from tests.support.postgres import fresh_database
from tidegate import schema as t
from tidegate.db import create_engine, migrate, reading
from tidegate.engine import finding_criteria, pipeline, suppression
from tidegate.engine.suppression import FilterSpec
from tidegate.errors import Conflict, NotFound
from tidegate.events.outbox import unpack
from tidegate.inspector import findings as inspector_findings
from tidegate.registry.storage.filesystem import FilesystemBlobStore
from tidegate.scanner.model import Inventory, Package, PackageManager
from tidegate.states import ScanType

MINIMIST = Package("minimist", "1.2.0", "npm", PackageManager.NPM, path="app/package-lock.json")
LODASH_VULN = fx.advisory("GHSA-aaaa-bbbb-0001", "lodash", "4.17.21")
MINIMIST_VULN = fx.advisory("GHSA-aaaa-bbbb-0002", "minimist", "1.2.6")
NOW = fx.NOW


def _eq(value: str) -> list[dict[str, str]]:
    return [{"comparison": "EQUALS", "value": value}]


class World:
    def __init__(
        self, tmp_path: Path, packages: tuple[Package, ...], db: sa.Engine | None = None
    ) -> None:
        self.db = db or fx.metadata_db(tmp_path)
        self.blobs = FilesystemBlobStore(tmp_path / "blobs")
        self.digest = fx.push_image(self.db, self.blobs)
        self.analyzer = fx.FakeAnalyzer(Inventory(None, packages))
        self.ctx = fx.context(
            self.db, self.blobs, self.analyzer, [fx.FakeVulnDb(7, [LODASH_VULN, MINIMIST_VULN])]
        )
        self.origin = self.ctx.origin

    def scan(self) -> None:
        job = fx.request(self.db, self.digest, ScanType.ENHANCED, "SCAN_ON_PUSH")
        outcome = pipeline.run_scan(self.ctx, job)
        with self.db.begin() as conn:
            outcome(conn)

    def statuses(self) -> list[tuple[str, str]]:
        return fx.finding_ids(self.db, self.digest)

    def counts(self) -> dict[str, int]:
        return dict(json.loads(fx.scan_row(self.db, self.digest)["severity_counts"]))

    def rule(self, name: str, criteria: dict[str, Any], **kw: Any) -> str:
        return suppression.create(
            self.db, self.origin, name, kw.pop("action", "SUPPRESS"),
            FilterSpec(criteria=criteria, reason="not reachable", **kw),
            author="arn:aws:iam::123456789012:user/alice", now=kw.pop("now", NOW),
        )  # fmt: skip

    def finding_events(self) -> list[dict[str, Any]]:
        o = t.events_outbox
        with self.db.connect() as conn:
            rows = conn.execute(
                sa.select(o.c.body_zstd).where(o.c.detail_type == "Inspector2 Finding")
            )
            return [json.loads(unpack(b))["detail"] for (b,) in rows]


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path, (fx.LODASH, MINIMIST))


def test_a_rule_suppresses_at_once_and_deleting_it_restores(world: World) -> None:
    world.scan()
    assert world.counts() == {"HIGH": 2}
    arn = world.rule("hide-0001", {"vulnerabilityId": _eq("CVE-2024-0001")})
    assert arn.startswith("arn:aws:inspector2:us-east-1:123456789012:owner/123456789012/filter/")
    assert world.statuses() == [("CVE-2024-0001", "SUPPRESSED"), ("CVE-2024-0002", "ACTIVE")]
    assert world.counts() == {"HIGH": 1}
    moved = world.finding_events()[-1]
    assert (moved["status"], moved["packageVulnerabilityDetails"]["vulnerabilityId"]) == (
        "SUPPRESSED", "CVE-2024-0001"
    )  # fmt: skip
    suppression.delete(world.db, world.origin, arn, NOW + 1)
    assert world.statuses() == [("CVE-2024-0001", "ACTIVE"), ("CVE-2024-0002", "ACTIVE")]
    assert world.counts() == {"HIGH": 2}
    assert world.finding_events()[-1]["status"] == "ACTIVE"


def test_a_scan_after_the_rule_stores_its_findings_suppressed(world: World) -> None:
    world.rule("hide-0002", {"vulnerabilityId": _eq("CVE-2024-0002")})
    world.scan()
    assert world.statuses() == [("CVE-2024-0001", "ACTIVE"), ("CVE-2024-0002", "SUPPRESSED")]
    assert world.counts() == {"HIGH": 1}
    new = {e["packageVulnerabilityDetails"]["vulnerabilityId"]: e["status"]
           for e in world.finding_events()}  # fmt: skip
    assert new == {"CVE-2024-0001": "ACTIVE", "CVE-2024-0002": "SUPPRESSED"}
    before = len(world.finding_events())
    world.scan()  # the same findings again: nothing moves, nothing is told
    assert world.statuses() == [("CVE-2024-0001", "ACTIVE"), ("CVE-2024-0002", "SUPPRESSED")]
    assert len(world.finding_events()) == before
    # The package is gone: the suppressed finding closes like any other.
    world.analyzer.inventory = Inventory(None, (fx.LODASH,))
    with world.db.begin() as conn:
        conn.execute(sa.delete(t.image_inventories))
    world.scan()
    assert world.statuses() == [("CVE-2024-0001", "ACTIVE"), ("CVE-2024-0002", "CLOSED")]
    assert world.counts() == {"HIGH": 1}


CRITERIA: list[dict[str, Any]] = [
    {"vulnerabilityId": [{"comparison": "PREFIX", "value": "CVE-2024-000"}]},
    {"vulnerabilityId": [{"comparison": "NOT_EQUALS", "value": "CVE-2024-0001"}]},
    {"vulnerablePackages": [{"name": _eq("minimist")[0]}]},
    {"inspectorScore": [{"lowerInclusive": 7.0, "upperInclusive": 8.0}]},
    {"inspectorScore": [{"lowerInclusive": 9.0}]},
    {"ecrImageRepositoryName": _eq("app"), "severity": _eq("HIGH")},
    {"ecrImageRepositoryName": _eq("other")},
    {"title": [{"comparison": "PREFIX", "value": "CVE-2024-0002 - "}]},
]


@pytest.mark.parametrize("criteria", CRITERIA)
def test_a_rule_suppresses_exactly_what_list_findings_returns(
    world: World, criteria: dict[str, Any]
) -> None:
    world.scan()
    with reading(world.db) as conn:
        page = inspector_findings.list_findings(
            conn, world.origin, criteria, None, offset=0, limit=100
        )
    listed = {f["findingArn"] for f in page.findings}
    world.rule("the-rule", criteria)
    with reading(world.db) as conn:
        page = inspector_findings.list_findings(
            conn, world.origin, {"findingStatus": _eq("SUPPRESSED")}, None, offset=0, limit=100
        )
    assert {f["findingArn"] for f in page.findings} == listed


def test_a_finding_arn_rule_hides_that_one_finding(world: World) -> None:
    world.scan()
    with reading(world.db) as conn:
        page = inspector_findings.list_findings(conn, world.origin, {}, None, offset=0, limit=10)
    arn = page.findings[0]["findingArn"]
    world.rule("one-finding", {"findingArn": _eq(arn)})
    assert [s for _v, s in world.statuses()].count("SUPPRESSED") == 1


def test_update_moves_findings_and_none_action_suppresses_nothing(world: World) -> None:
    world.scan()
    arn = world.rule("saved-view", {"vulnerabilityId": _eq("CVE-2024-0001")}, action="NONE")
    assert world.statuses() == [("CVE-2024-0001", "ACTIVE"), ("CVE-2024-0002", "ACTIVE")]
    suppression.update(world.db, world.origin, arn, FilterSpec(action="SUPPRESS"), NOW + 1)
    assert world.statuses() == [("CVE-2024-0001", "SUPPRESSED"), ("CVE-2024-0002", "ACTIVE")]
    spec = FilterSpec(criteria={"vulnerabilityId": _eq("CVE-2024-0002")})
    suppression.update(world.db, world.origin, arn, spec, NOW + 2)
    assert world.statuses() == [("CVE-2024-0001", "ACTIVE"), ("CVE-2024-0002", "SUPPRESSED")]


def test_an_expired_rule_lets_its_findings_back_once(world: World) -> None:
    world.scan()
    world.rule("until-soon", {"vulnerabilityId": _eq("CVE-2024-0001")},
               tags={suppression.EXPIRES_TAG: "2023-11-14T22:14:00Z"})  # fmt: skip
    assert world.statuses()[0] == ("CVE-2024-0001", "SUPPRESSED")
    assert suppression.lapse_due(world.db, world.origin, NOW) == 0
    assert suppression.lapse_due(world.db, world.origin, NOW + 3600) == 1
    assert world.statuses()[0] == ("CVE-2024-0001", "ACTIVE")
    assert world.counts() == {"HIGH": 2}
    assert suppression.lapse_due(world.db, world.origin, NOW + 7200) == 0
    # A later scan does not apply the expired rule either.
    world.ctx = dataclasses.replace(world.ctx, clock=lambda: NOW + 7200)
    world.scan()
    assert world.statuses()[0] == ("CVE-2024-0001", "ACTIVE")
    with reading(world.db) as conn:
        (report,) = suppression.report(conn, world.origin, NOW + 7200)
    assert report.expired
    assert report.matching == 1


def test_a_rule_that_matches_nothing_is_reported_stale(world: World) -> None:
    world.scan()
    world.rule("live", {"vulnerabilityId": _eq("CVE-2024-0001")})
    world.rule("gone", {"vulnerabilityId": _eq("CVE-1999-0001")})
    with reading(world.db) as conn:
        reports = {r.rule.name: r for r in suppression.report(conn, world.origin, NOW)}
    assert (reports["live"].stale, reports["gone"].stale) == (False, True)
    assert reports["live"].as_dict()["author"] == "arn:aws:iam::123456789012:user/alice"


BAD: list[tuple[dict[str, Any], dict[str, Any], str]] = [
    ({"inspectorScore": [{"lowerInclusive": 9.0, "upperInclusive": 1.0}]}, {}, "inspectorScore"),
    ({"firstObservedAt": [{"startInclusive": 20.0, "endInclusive": 10.0}]}, {}, "firstObserved"),
    ({"findingStatus": _eq("ACTIVE")}, {}, "findingStatus"),
    ({"ec2InstanceVpcId": _eq("vpc-1")}, {}, "does not scan"),
    ({}, {}, "at least one criterion"),
    ({"vulnerabilityId": _eq("CVE-1")}, {"tags": {suppression.EXPIRES_TAG: "soon"}}, "ISO 8601"),
    ({"vulnerabilityId": _eq("CVE-1")},
     {"tags": {suppression.EXPIRES_TAG: "2001-01-01"}}, "already passed"),
]  # fmt: skip


@pytest.mark.parametrize(("criteria", "extra", "message"), BAD)
def test_bad_rules_are_refused_and_change_nothing(
    world: World, criteria: dict[str, Any], extra: dict[str, Any], message: str
) -> None:
    world.scan()
    with pytest.raises(finding_criteria.CriteriaInvalid, match=message):
        world.rule("bad", criteria, **extra)
    with reading(world.db) as conn:
        assert suppression.list_filters(conn) == []
    assert world.statuses() == [("CVE-2024-0001", "ACTIVE"), ("CVE-2024-0002", "ACTIVE")]


def test_a_taken_name_and_unknown_arns_are_refused(world: World) -> None:
    world.scan()
    arn = world.rule("taken", {"vulnerabilityId": _eq("CVE-2024-0001")})
    with pytest.raises(Conflict, match="taken"):
        world.rule("taken", {"vulnerabilityId": _eq("CVE-2024-0002")})
    other = world.rule("other", {"vulnerabilityId": _eq("CVE-2024-0002")}, action="NONE")
    with pytest.raises(Conflict):
        suppression.update(world.db, world.origin, other, FilterSpec(name="taken"), NOW)
    bad = FilterSpec(criteria={"inspectorScore": [{"lowerInclusive": 5, "upperInclusive": 1}]})
    with pytest.raises(finding_criteria.CriteriaInvalid):
        suppression.update(world.db, world.origin, arn, bad, NOW)
    with pytest.raises(NotFound):
        suppression.delete(world.db, world.origin, arn + "0", NOW)
    with pytest.raises(NotFound):
        suppression.update(world.db, world.origin, arn + "0", FilterSpec(), NOW)
    with reading(world.db) as conn:
        rows = suppression.list_filters(conn)
    assert [(r.name, r.action) for r in rows] == [("taken", "SUPPRESS"), ("other", "NONE")]
    assert world.statuses() == [("CVE-2024-0001", "SUPPRESSED"), ("CVE-2024-0002", "ACTIVE")]


@pytest.mark.postgres
def test_rules_scans_and_finding_arns_on_postgresql(tmp_path: Path) -> None:
    with fresh_database() as url:
        db = create_engine(url)
        migrate(db)
        with db.begin() as conn:
            conn.execute(sa.insert(t.repositories).values(id=1, name="app", created_at=0))
        world = World(tmp_path, (fx.LODASH, MINIMIST), db)
        try:
            world.rule("hide-0002", {"vulnerabilityId": _eq("CVE-2024-0002")})
            world.scan()
            assert world.statuses() == [("CVE-2024-0001", "ACTIVE"),
                                        ("CVE-2024-0002", "SUPPRESSED")]  # fmt: skip
            assert world.counts() == {"HIGH": 1}
            with reading(db) as conn:
                page = inspector_findings.list_findings(
                    conn, world.origin, {"findingStatus": _eq("ACTIVE")}, None, offset=0, limit=9
                )
            arn = world.rule("one", {"findingArn": _eq(page.findings[0]["findingArn"])})
            assert [s for _v, s in world.statuses()] == ["SUPPRESSED", "SUPPRESSED"]
            suppression.delete(db, world.origin, arn, NOW + 1)
            assert world.counts() == {"HIGH": 1}
        finally:
            db.dispose()
