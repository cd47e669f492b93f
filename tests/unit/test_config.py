"""Configuration is strict: misspelt keys and variables are errors that name the right key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tidegate.config import AnonymousAccess, LogFormat, StorageDriver, load_settings
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


def test_storage_defaults_to_the_filesystem(tmp_path: Path) -> None:
    storage = load_settings(None, {"data_dir": tmp_path}, environ={}).storage
    assert storage.driver is StorageDriver.FILESYSTEM
    assert storage.redirect is True


def test_storage_table_and_env_override(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[storage]\ndriver = "S3"\nbucket = "blobs"\nprefix = "/team/registry/"\n'
        'endpoint_url = "http://127.0.0.1:8333"\n',
    )
    env = {"TIDEGATE_STORAGE": '{"redirect": false, "region": "eu-west-1"}'}
    storage = load_settings(path, environ=env).storage
    assert storage.driver is StorageDriver.S3
    assert (storage.bucket, storage.prefix, storage.region) == (
        "blobs",
        "team/registry/",
        "eu-west-1",
    )
    assert storage.redirect is False
    assert storage.access_key_id == ""  # the AWS credential chain


@pytest.mark.parametrize(
    ("table", "error"),
    [
        ('drivr = "s3"', r"unknown \[storage\] setting 'drivr'; did you mean 'driver'"),
        ('driver = "s3"\nbuckt = "b"', "did you mean 'bucket'"),
        ('driver = "gcs"', "driver must be one of filesystem, s3"),
        ('driver = "s3"', "needs a bucket"),
        ('bucket = "b"', 'apply only to driver = "s3"'),
        ('driver = "s3"\nbucket = "b"\nredirect = "yes"', "redirect must be true or false"),
        ('driver = "s3"\nbucket = "b"\naccess_key_id = "AKIA"', "go together"),
        ('driver = "s3"\nbucket = "b"\nendpoint_url = "seaweed:8333"', "http"),
        ('driver = "s3"\nbucket = 7', "bucket must be a string"),
    ],
)
def test_storage_mistakes_are_errors(tmp_path: Path, table: str, error: str) -> None:
    path = write(tmp_path, f"[storage]\n{table}\n")
    with pytest.raises(InvalidParameter, match=error):
        load_settings(path, environ={})


def test_the_secret_key_stays_out_of_reprs(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[storage]\ndriver = "s3"\nbucket = "b"\naccess_key_id = "AKIA"\n'
        'secret_access_key = "very-secret"\n',
    )
    assert "very-secret" not in repr(load_settings(path, environ={}))


def test_blob_root_moves_the_filesystem_blobs_out_of_the_data_dir(tmp_path: Path) -> None:
    assert load_settings(None, {"data_dir": tmp_path}, environ={}).blob_dir == tmp_path / "blobs"
    env = {"TIDEGATE_BLOB_ROOT": str(tmp_path / "shared")}
    settings = load_settings(None, {"data_dir": tmp_path / "own"}, environ=env)
    assert settings.blob_dir == tmp_path / "shared"
    assert settings.vulndb_dir == tmp_path / "own" / "vulndb"
