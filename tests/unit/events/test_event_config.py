"""Webhooks and retry settings come from TOML tables or, overriding them, env JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tidegate.config import load_settings
from tidegate.errors import InvalidParameter
from tidegate.events.config import WebhookEndpoint, load_events_config

TOML = """
data_dir = "{data}"

[[webhooks]]
url = "https://hooks.example.com/a"
secret = "one"

[[webhooks]]
url = "http://127.0.0.1:8080/b"
secret = "two"
detail_types = ["ECR Image Scan"]
timeout_seconds = 3

[events]
retry_base_seconds = 0.5
max_attempts = 7
"""


def test_toml_tables(tmp_path: Path) -> None:
    path = tmp_path / "tidegate.toml"
    path.write_text(TOML.format(data=tmp_path / "data"))
    config = load_events_config(load_settings(path, environ={}))
    assert config.webhooks == (
        WebhookEndpoint("https://hooks.example.com/a", "one"),
        WebhookEndpoint("http://127.0.0.1:8080/b", "two", frozenset({"ECR Image Scan"}), 3.0),
    )
    assert config.webhooks[1].wants("ECR Image Scan")
    assert not config.webhooks[1].wants("ECR Image Action")
    assert (config.retry_base_seconds, config.max_attempts) == (0.5, 7)
    assert config.log_path == tmp_path / "data" / "events" / "events.jsonl"


def test_env_json_overrides_toml(tmp_path: Path) -> None:
    path = tmp_path / "tidegate.toml"
    path.write_text(TOML.format(data=tmp_path / "data"))
    env = {
        "TIDEGATE_WEBHOOKS": json.dumps([{"url": "http://127.0.0.1:1/x", "secret": "k"}]),
        "TIDEGATE_EVENTS": json.dumps({"retry_max_seconds": 2}),
    }
    config = load_events_config(load_settings(path, environ=env))
    assert [hook.url for hook in config.webhooks] == ["http://127.0.0.1:1/x"]
    assert (config.retry_base_seconds, config.retry_max_seconds) == (0.5, 2.0)


def test_no_configuration_means_log_only(tmp_path: Path) -> None:
    config = load_events_config(load_settings(None, {"data_dir": tmp_path}, environ={}))
    assert config.webhooks == ()


@pytest.mark.parametrize(
    ("hooks", "events", "message"),
    [
        ([{"url": "ftp://x", "secret": "k"}], {}, "http"),
        ([{"url": "http://x"}], {}, "secret is required"),
        ([{"url": "http://x", "secret": "k", "detail_types": ["Nope"]}], {}, "detail_types"),
        ([{"url": "http://x", "secret": "k", "colour": "red"}], {}, "unknown webhooks"),
        ([{"url": "http://x", "secret": "k"}] * 2, {}, "only once"),
        ([], {"max_attempts": 0}, "positive"),
        ([], {"retry_forever": True}, "unknown"),
        ({"url": "http://x"}, {}, "list"),
    ],
)
def test_bad_configuration_is_refused(
    tmp_path: Path, hooks: object, events: object, message: str
) -> None:
    env = {"TIDEGATE_WEBHOOKS": json.dumps(hooks), "TIDEGATE_EVENTS": json.dumps(events)}
    with pytest.raises(InvalidParameter, match=message):
        load_events_config(load_settings(None, {"data_dir": tmp_path}, environ=env))


def test_invalid_json_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="TIDEGATE_WEBHOOKS is not valid JSON"):
        load_settings(None, {"data_dir": tmp_path}, environ={"TIDEGATE_WEBHOOKS": "[{"})
