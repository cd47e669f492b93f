"""`tidegate events …` over a real data directory (the parser is built from the module)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from tests.unit.events.helpers import SECRET, emit_pushes
from tidegate.cli import events as events_cli
from tidegate.db import create_engine, migrate
from tidegate.errors import NotFound
from tidegate.events import deliveries
from tidegate.events.model import Origin

HOOK = "http://127.0.0.1:9/hook"


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tidegate")
    events_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("TIDEGATE_WEBHOOKS", json.dumps([{"url": HOOK, "secret": SECRET}]))
    return data


def test_list_deliveries_and_redeliver(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    engine = create_engine(f"sqlite:///{data_dir / 'meta.db'}")
    migrate(engine)
    ids = emit_pushes(engine, Origin("123456789012", "us-east-1"), 3)
    engine.dispose()

    assert run(["events", "list", "--data-dir", str(data_dir), "--limit", "2"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["id"] for e in listed] == [ids[2], ids[1]]
    assert run(["events", "list", "--data-dir", str(data_dir),
                "--detail-type", "ECR Image Scan"]) == 0  # fmt: skip
    assert capsys.readouterr().out == ""

    assert run(["events", "redeliver", "--data-dir", str(data_dir), ids[0]]) == 0
    assert capsys.readouterr().out.strip() == f"queued 1 deliveries of {ids[0]}"
    assert run(["events", "deliveries", "--data-dir", str(data_dir), "--json",
                "--state", "pending"]) == 0  # fmt: skip
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (row["event_id"], row["endpoint"], row["state"], row["attempts"]) == (
        ids[0], HOOK, "pending", 0
    )  # fmt: skip
    assert run(["events", "deliveries", "--data-dir", str(data_dir)]) == 0
    text = capsys.readouterr().out
    assert ids[0] in text
    assert "pending" in text
    assert run(["events", "deliveries", "--data-dir", str(data_dir), "--state", "failed"]) == 0
    assert capsys.readouterr().out == ""

    with pytest.raises(NotFound):
        run(["events", "redeliver", "--data-dir", str(data_dir), "no-such-event"])
    engine = create_engine(f"sqlite:///{data_dir / 'meta.db'}")
    with engine.connect() as conn:
        assert len(deliveries.list_deliveries(conn)) == 1
    engine.dispose()
