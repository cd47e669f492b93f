"""`tidegate keys` against the data directory of a running server: create, use, revoke."""

from __future__ import annotations

import argparse
import base64
import configparser
import io
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path

import httpx
import pytest

from tests.support.server import TidegateServer, refused_within
from tidegate.auth.authorize import CACHE_TTL_SECONDS
from tidegate.cli import keys, users
from tidegate.errors import NotFound

pytestmark = [pytest.mark.integration]


def run_keys(*argv: str) -> str:
    """Run `tidegate keys ...` (or `users ...`) through the real argument parser."""
    parser = argparse.ArgumentParser(prog="tidegate")
    subparsers = parser.add_subparsers(dest="command", required=True)
    keys.add_parser(subparsers)
    users.add_parser(subparsers)
    args = parser.parse_args(argv if argv[0] == "users" else ["keys", *argv])
    out = io.StringIO()
    with redirect_stdout(out):
        assert args.func(args) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    with TidegateServer(tmp_path_factory.mktemp("keys") / "data") as srv:
        yield srv


def test_create_use_list_revoke(server: TidegateServer) -> None:
    data = str(server.data_dir)
    parser = configparser.ConfigParser()
    with pytest.raises(NotFound, match="no user 'ci'"):
        run_keys("create", "--data-dir", data, "--user", "ci")
    run_keys("users", "create", "--data-dir", data, "ci")
    run_keys(
        "users", "attach-policy", "--data-dir", data, "ci", "AmazonEC2ContainerRegistryReadOnly"
    )
    parser.read_string(run_keys("create", "--data-dir", data, "--user", "ci"))
    key = parser["default"]["aws_access_key_id"]
    secret = parser["default"]["aws_secret_access_key"]
    ecr = server.ecr((key, secret))
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    password = base64.b64decode(token).decode().split(":")[1]
    assert httpx.get(server.url + "/v2/", auth=("AWS", password)).status_code == 200
    listing = run_keys("list", "--data-dir", data)
    assert key in listing
    assert "ci" in listing
    assert secret not in listing
    for stored in server.data_dir.glob("meta.db*"):  # the database and its WAL
        assert secret.encode() not in stored.read_bytes()
    assert run_keys("revoke", "--data-dir", data, key) == f"revoked {key}\n"
    # The running server caches keys for CACHE_TTL_SECONDS: refused within seconds.
    refused = refused_within(ecr.describe_repositories, CACHE_TTL_SECONDS + 3)
    assert refused == "UnrecognizedClientException"
    assert httpx.get(server.url + "/v2/", auth=("AWS", password)).status_code == 401
    assert httpx.get(server.url + "/v2/", auth=(key, secret)).status_code == 401
    with pytest.raises(NotFound):
        run_keys("revoke", "--data-dir", data, key)
    assert '"revoked_at": null' in run_keys("list", "--data-dir", data, "--json")


def test_revoked_key_refused_by_every_process(tmp_path: Path) -> None:
    """Two servers over one metadata DB each cache the key; a revoke reaches both in seconds."""
    data = tmp_path / "data"
    with (
        TidegateServer(data) as first,
        TidegateServer(data, args=["--no-workers"]) as second,
    ):
        run_keys("users", "create", "--data-dir", str(data), "pull")
        run_keys(
            "users", "attach-policy", "--data-dir", str(data), "pull",
            "AmazonEC2ContainerRegistryReadOnly",
        )  # fmt: skip
        parser = configparser.ConfigParser()
        parser.read_string(run_keys("create", "--data-dir", str(data), "--user", "pull"))
        key = (parser["default"]["aws_access_key_id"], parser["default"]["aws_secret_access_key"])
        clients = [first.ecr(key), second.ecr(key)]
        for client in clients:  # warm each process's key cache
            client.describe_repositories()
        run_keys("revoke", "--data-dir", str(data), key[0])
        deadline = time.monotonic() + CACHE_TTL_SECONDS + 3  # from the revoke, for both
        for client in clients:
            refused = refused_within(client.describe_repositories, deadline - time.monotonic())
            assert refused == "UnrecognizedClientException"
