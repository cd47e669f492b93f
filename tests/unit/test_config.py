"""Configuration is strict: misspelt keys and variables are errors that name the right key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidegate.config import AnonymousAccess, LogFormat, load_settings
from tidegate.errors import InvalidParameter


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tidegate.toml"
    path.write_text(text)
    return path


def test_a_misspelt_toml_key_names_the_nearest_valid_one(tmp_path: Path) -> None:
    path = write(tmp_path, 'anonymous_acess = "pull"\n')
    with pytest.raises(
        InvalidParameter, match=r"unknown setting.*'anonymous_acess'.*'anonymous_access'"
    ):
        load_settings(path, environ={})


def test_a_misspelt_environment_variable_is_an_error(tmp_path: Path) -> None:
    env = {"TIDEGATE_ANONYMOUS_ACESS": "pull"}
    with pytest.raises(InvalidParameter, match="'TIDEGATE_ANONYMOUS_ACCESS'"):
        load_settings(None, {"data_dir": tmp_path}, environ=env)


def test_client_variables_are_not_settings(tmp_path: Path) -> None:
    env = {"TIDEGATE_REGISTRY_USERNAME": "u", "TIDEGATE_REGISTRY_PASSWORD": "p", "HOME": "/x"}
    load_settings(None, {"data_dir": tmp_path}, environ=env)


def test_choices_are_enums(tmp_path: Path) -> None:
    path = write(tmp_path, 'anonymous_access = "PULL"\nlog_format = "text"\n')
    settings = load_settings(path, environ={})
    assert settings.anonymous_access is AnonymousAccess.PULL
    assert settings.log_format is LogFormat.TEXT
    with pytest.raises(InvalidParameter, match="anonymous_access must be one of none, pull, push"):
        load_settings(None, {"anonymous_access": "all"}, environ={})


def test_usage_table_is_parsed_once_and_checked(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, "[usage]\ninitial_scan_rate = 0.5\n"), environ={})
    assert (settings.usage.initial_scan_rate, settings.usage.rescan_rate) == (0.5, 0.01)
    with pytest.raises(InvalidParameter, match=r"\[usage\] initial_scan_rate must be a positive"):
        load_settings(write(tmp_path, '[usage]\ninitial_scan_rate = "cheap"\n'), environ={})
    with pytest.raises(InvalidParameter, match="'rescan_rate'"):
        load_settings(write(tmp_path, "[usage]\nrescan_rat = 1\n"), environ={})


def test_events_table_and_env_override(tmp_path: Path) -> None:
    path = write(tmp_path, "[events]\nmax_attempts = 7\n")
    settings = load_settings(path, environ={"TIDEGATE_EVENTS": '{"retry_max_seconds": 2}'})
    assert (settings.events.max_attempts, settings.events.retry_max_seconds) == (7, 2.0)
    with pytest.raises(InvalidParameter, match="'max_attempts'"):
        load_settings(write(tmp_path, "[events]\nmax_atempts = 7\n"), environ={})


def test_numbers_are_checked(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="'port'"):
        load_settings(None, {"data_dir": tmp_path}, environ={"TIDEGATE_PORT": "http"})


def test_blob_root_moves_the_filesystem_blobs_out_of_the_data_dir(tmp_path: Path) -> None:
    assert load_settings(None, {"data_dir": tmp_path}, environ={}).blob_dir == tmp_path / "blobs"
    env = {"TIDEGATE_BLOB_ROOT": str(tmp_path / "shared")}
    settings = load_settings(None, {"data_dir": tmp_path / "own"}, environ=env)
    assert settings.blob_dir == tmp_path / "shared"
    assert settings.vulndb_dir == tmp_path / "own" / "vulndb"
