"""`ECR Scan Resource Change`: a registry configuration that moves repositories' frequencies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tidegate.db import create_engine, migrate
from tidegate.engine import notify
from tidegate.engine.policy import ScanningConfiguration, ScanRule
from tidegate.events import outbox
from tidegate.events.model import Origin
from tidegate.oci.reference import RepoName
from tidegate.registry import metadata
from tidegate.states import ScanFrequency, ScanType

ORIGIN = Origin("123456789012", "us-east-1")
BASIC = ScanningConfiguration()
ENHANCED = ScanningConfiguration(ScanType.ENHANCED)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    eng = create_engine(f"sqlite:///{tmp_path / 'meta.db'}")
    migrate(eng)
    with eng.begin() as conn:
        metadata.create_repo(conn, RepoName("prod/api"), 1.0, scan_on_push=True)
        metadata.create_repo(conn, RepoName("dev/tool"), 1.0)
    yield eng
    eng.dispose()


def _changes(
    db: Engine, before: ScanningConfiguration, after: ScanningConfiguration
) -> list[dict[str, Any]]:
    with db.begin() as conn:
        notify.scanning_changed(ORIGIN, conn, before, after)
        events = outbox.unlogged(conn, 10)
    return [json.loads(e.body)["detail"] for e in events]


def test_turning_enhanced_on_names_every_repository_it_moves(db: Engine) -> None:
    (detail,) = _changes(db, BASIC, ENHANCED)
    assert detail["action-type"] == "SCAN_FREQUENCY_CHANGE"
    assert detail["scan-type"] == "ENHANCED"
    moved = {r["repository-name"]: (r["previous-scan-frequency"], r["scan-frequency"])
             for r in detail["repositories"]}  # fmt: skip
    assert moved == {
        "dev/tool": ("MANUAL", "CONTINUOUS_SCAN"),
        "prod/api": ("SCAN_ON_PUSH", "CONTINUOUS_SCAN"),
    }


def test_only_repositories_whose_frequency_changes_appear(db: Engine) -> None:
    prod_on_push = ScanningConfiguration(
        ScanType.ENHANCED, (ScanRule(ScanFrequency.SCAN_ON_PUSH, ("prod",)),)
    )
    assert _changes(db, BASIC, prod_on_push) == []  # prod/api was on push already
    assert _changes(db, ENHANCED, ENHANCED) == []
    (detail,) = _changes(db, prod_on_push, ENHANCED)
    assert [r["repository-name"] for r in detail["repositories"]] == ["dev/tool", "prod/api"]


def test_basic_scanning_sends_none(db: Engine) -> None:
    assert _changes(db, ENHANCED, BASIC) == []
