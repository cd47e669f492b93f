"""The real `tidegate` CLI against a running server's data directory: users and keys."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys

from tests.support.server import TidegateServer


def tidegate(server: TidegateServer, *argv: str) -> str:
    """The real CLI in a subprocess, against the running server's data directory."""
    result = subprocess.run(
        [sys.executable, "-m", "tidegate", *argv, "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, timeout=60, env={**os.environ},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def new_user(server: TidegateServer, name: str, *policies: str) -> tuple[str, str]:
    """A user with `policies` attached and one access key: (key id, secret)."""
    tidegate(server, "users", "create", name)
    for policy in policies:
        tidegate(server, "users", "attach-policy", name, policy)
    creds = configparser.ConfigParser()
    creds.read_string(tidegate(server, "keys", "create", "--user", name, "--profile", name))
    return creds[name]["aws_access_key_id"], creds[name]["aws_secret_access_key"]
