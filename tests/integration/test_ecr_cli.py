"""The AWS CLI (PyPI awscli) runs the ECR scanning guide's commands against a real server,
and skopeo pushes after `aws ecr get-login-password | skopeo login`.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import oci_build as ob
from tests.support.server import TidegateServer

pytestmark = [pytest.mark.integration]

AWS = str(Path(sys.executable).with_name("aws"))
RULES = (
    '[{"repositoryFilters" : [{"filter":"prod","filterType" : "WILDCARD"}],'
    '"scanFrequency" : "CONTINUOUS_SCAN"}]'
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TidegateServer]:
    with TidegateServer(tmp_path_factory.mktemp("cli") / "data") as srv:
        yield srv


def base_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_CONFIG_FILE"] = str(tmp / "no-aws-config")
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    return env


@pytest.fixture(scope="module")
def key_env(server: TidegateServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = base_env(tmp_path_factory.mktemp("awsenv"))
    env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = server.access_key()
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(server.data_dir.parent / "none")
    return env


def aws(
    server: TidegateServer, env: dict[str, str], command: str
) -> subprocess.CompletedProcess[str]:
    """Run `aws <command>` (a guide command line, verbatim) with our endpoint added."""
    argv = [AWS, *shlex.split(command.removeprefix("aws ")), "--endpoint-url", server.url]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)


def aws_json(server: TidegateServer, env: dict[str, str], command: str) -> Any:
    result = aws(server, env, command)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_scanning_guide_commands_and_skopeo(
    server: TidegateServer, key_env: dict[str, str], tmp_path: Path
) -> None:
    out = aws_json(
        server, key_env,
        "aws ecr create-repository --repository-name name "
        "--image-scanning-configuration scanOnPush=true --region us-east-2",
    )  # fmt: skip
    assert out["repository"]["repositoryUri"] == f"{server.host}/name"
    assert out["repository"]["imageScanningConfiguration"] == {"scanOnPush": True}
    out = aws_json(
        server, key_env,
        "aws ecr put-image-scanning-configuration --repository-name name "
        "--image-scanning-configuration scanOnPush=true --region us-east-2",
    )  # fmt: skip
    assert out == {
        "registryId": "000000000000",
        "repositoryName": "name",
        "imageScanningConfiguration": {"scanOnPush": True},
    }
    # Log in with the registry token, then push a real image with skopeo.
    password = aws(server, key_env, "aws ecr get-login-password --region us-east-2")
    assert password.returncode == 0, password.stderr
    authfile = tmp_path / "auth.json"
    login = subprocess.run(
        ["skopeo", "login", "--tls-verify=false", "--authfile", str(authfile),
         "--username", "AWS", "--password-stdin", server.host],
        input=password.stdout, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert login.returncode == 0, login.stderr
    img = ob.build_oci_layout(
        tmp_path / "layout",
        [ob.Layer([ob.file("etc/os-release", b"ID=alpine\n"), ob.file("app/run", b"x" * 5000)])],
        tag="v1",
    )
    before = time.time()
    copy = subprocess.run(
        ["skopeo", "copy", "--dest-tls-verify=false", "--authfile", str(authfile),
         f"oci:{tmp_path / 'layout'}:v1", f"docker://{server.host}/name:tag_name"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert copy.returncode == 0, copy.stderr
    manifest = json.loads(img.manifest)
    size = manifest["config"]["size"] + sum(layer["size"] for layer in manifest["layers"])
    out = aws_json(
        server, key_env,
        "aws ecr describe-images --repository-name name --image-ids imageTag=tag_name "
        "--region us-east-2",
    )  # fmt: skip
    (detail,) = out["imageDetails"]
    assert detail["imageDigest"] == img.manifest_digest
    assert detail["imageTags"] == ["tag_name"]
    assert detail["imageSizeInBytes"] == size
    assert before - 1 <= detail["imagePushedAt"] <= time.time() + 1
    # scanOnPush queued a scan with the push; this server has no vulnerability DB, so the
    # scan ends FAILED and says what to do. A failed scan does not use the 24 h quota.
    assert detail["imageScanStatus"]["status"] in ("PENDING", "IN_PROGRESS", "FAILED")
    deadline = time.monotonic() + 60
    while True:
        out = aws_json(
            server, key_env,
            "aws ecr describe-image-scan-findings --repository-name name "
            "--image-id imageTag=tag_name --region us-east-2",
        )  # fmt: skip
        if out["imageScanStatus"]["status"] not in ("PENDING", "IN_PROGRESS"):
            break
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert out["imageScanStatus"]["status"] == "FAILED"
    assert "vulnerability database" in out["imageScanStatus"]["description"]
    again = aws_json(
        server, key_env,
        "aws ecr start-image-scan --repository-name name --image-id imageTag=tag_name "
        "--region us-east-2",
    )  # fmt: skip
    assert again["imageScanStatus"]["status"] == "PENDING"
    out = aws_json(
        server, key_env,
        f"aws ecr put-registry-scanning-configuration --scan-type ENHANCED --rules '{RULES}'",
    )  # fmt: skip
    assert out["registryScanningConfiguration"]["rules"][0]["scanFrequency"] == "CONTINUOUS_SCAN"
    out = aws_json(server, key_env, "aws ecr list-images --repository-name name")
    assert out["imageIds"] == [{"imageDigest": img.manifest_digest, "imageTag": "tag_name"}]
    out = aws_json(
        server, key_env,
        "aws ecr batch-delete-image --repository-name name --image-ids imageTag=tag_name",
    )  # fmt: skip
    assert out == {
        "imageIds": [{"imageDigest": img.manifest_digest, "imageTag": "tag_name"}],
        "failures": [],
    }
    assert aws_json(server, key_env, "aws ecr list-images --repository-name name") == {
        "imageIds": []
    }


def test_shared_credentials_file_and_cli_errors(server: TidegateServer, tmp_path: Path) -> None:
    env = base_env(tmp_path)
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(server.data_dir / "credentials")
    out = aws_json(server, env, "aws ecr describe-registry")
    assert out["registryId"] == "000000000000"
    missing = aws(server, env, "aws ecr list-images --repository-name absent")
    assert "(RepositoryNotFoundException)" in missing.stderr
    bad = aws(server, env, "aws ecr create-repository --repository-name Bad")
    assert "(InvalidParameterException)" in bad.stderr
    env["AWS_SECRET_ACCESS_KEY"] = "x" * 40
    env["AWS_ACCESS_KEY_ID"] = "AKIANOSUCHKEY0000000"
    unknown = aws(server, env, "aws ecr describe-registry")
    assert "(UnrecognizedClientException)" in unknown.stderr
