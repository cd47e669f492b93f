"""Access control as several principals against a real server: boto3, the AWS CLI, skopeo.

Users, policies and keys are made with the real `tidegate` CLI while the server runs.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.support import oci_build as ob
from tests.support.cli_users import new_user, tidegate
from tests.support.server import TidegateServer, refused_within
from tidegate.auth.authorize import CACHE_TTL_SECONDS

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ACCOUNT = "000000000000"
AWS = str(Path(sys.executable).with_name("aws"))


def arn(name: str) -> str:
    return f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/{name}"


def user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def skopeo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, timeout=120)


def push(server: TidegateServer, layout: Path, ref: str, key: tuple[str, str]) -> Any:
    return skopeo(
        "copy", "--dest-tls-verify=false", f"--dest-creds={key[0]}:{key[1]}",
        f"oci:{layout}:v1", f"docker://{server.host}/{ref}",
    )  # fmt: skip


def pull(server: TidegateServer, ref: str, key: tuple[str, str], dest: Path) -> Any:
    return skopeo(
        "copy", "--src-tls-verify=false", f"--src-creds={key[0]}:{key[1]}",
        f"docker://{server.host}/{ref}", f"dir:{dest}",
    )  # fmt: skip


def code(info: pytest.ExceptionInfo[ClientError]) -> str:
    return str(info.value.response["Error"]["Code"])


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("image") / "oci"
    ob.build_oci_layout(dest, [ob.Layer([ob.file("srv/hello.txt", b"hello\n")])], tag="v1")
    return dest


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, layout: Path) -> Iterator[TidegateServer]:
    with TidegateServer(tmp_path_factory.mktemp("acl") / "data") as srv:
        admin = srv.ecr()
        for name in ("app", "other"):
            admin.create_repository(repositoryName=name)
            result = push(srv, layout, f"{name}:v1", srv.access_key())
            assert result.returncode == 0, result.stderr
        yield srv


def test_read_only_key_pulls_and_cannot_change_anything(
    server: TidegateServer, layout: Path, tmp_path: Path
) -> None:
    key = new_user(server, "reader", "AmazonEC2ContainerRegistryReadOnly")
    ecr = server.ecr(key)
    assert ecr.describe_images(repositoryName="app")["imageDetails"]
    assert pull(server, "app:v1", key, tmp_path / "pulled").returncode == 0
    result = push(server, layout, "app:v2", key)
    assert result.returncode != 0
    assert "denied" in result.stderr.lower()
    with pytest.raises(ClientError) as info:
        ecr.delete_repository(repositoryName="app", force=True)
    assert code(info) == "AccessDeniedException"
    assert info.value.response["Error"]["Message"].startswith(
        f"User: {user_arn('reader')} is not authorized to perform: ecr:DeleteRepository "
        f"on resource: {arn('app')}"
    )
    with pytest.raises(ClientError) as info:
        ecr.batch_delete_image(repositoryName="app", imageIds=[{"imageTag": "v1"}])
    assert code(info) == "AccessDeniedException"
    with pytest.raises(ClientError) as info:
        ecr.put_image_scanning_configuration(
            repositoryName="app", imageScanningConfiguration={"scanOnPush": True}
        )
    assert code(info) == "AccessDeniedException"
    # A registry password from GetAuthorizationToken acts as its user too: DELETE is refused.
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    digest = server.ecr().describe_images(repositoryName="app")["imageDetails"][0]["imageDigest"]
    password = base64.b64decode(token).decode().split(":", 1)[1]
    r = httpx.delete(f"{server.url}/v2/app/manifests/{digest}", auth=("AWS", password))
    assert r.status_code == 403
    assert r.json()["errors"][0]["code"] == "DENIED"
    assert server.ecr().describe_images(repositoryName="app")["imageDetails"]


def test_power_user_pushes_but_cannot_delete_or_set_policies(
    server: TidegateServer, layout: Path
) -> None:
    key = new_user(server, "pusher", "AmazonEC2ContainerRegistryPowerUser")
    result = push(server, layout, "app:pushed", key)
    assert result.returncode == 0, result.stderr
    ecr = server.ecr(key)
    tags = {t for i in ecr.describe_images(repositoryName="app")["imageDetails"]
            for t in i.get("imageTags", [])}  # fmt: skip
    assert "pushed" in tags
    calls: list[Callable[[], object]] = [
        lambda: ecr.delete_repository(repositoryName="app"),
        lambda: ecr.set_repository_policy(repositoryName="app", policyText="{}"),
        lambda: ecr.put_registry_policy(policyText="{}"),
    ]
    for call in calls:
        with pytest.raises(ClientError) as info:
            call()
        assert code(info) == "AccessDeniedException"


def test_repository_policy_grants_one_repository_and_deny_wins(
    server: TidegateServer, tmp_path: Path
) -> None:
    key = new_user(server, "bob")  # no identity policy at all
    admin = server.ecr()
    grant: dict[str, Any] = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "BobPulls", "Effect": "Allow", "Principal": {"AWS": user_arn("bob")},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer",
                       "ecr:DescribeRepositories", "ecr:ListImages"],
        }],
    }  # fmt: skip
    admin.set_repository_policy(repositoryName="app", policyText=json.dumps(grant))
    got = admin.get_repository_policy(repositoryName="app")
    assert json.loads(got["policyText"]) == grant
    assert pull(server, "app:v1", key, tmp_path / "app").returncode == 0
    refused = pull(server, "other:v1", key, tmp_path / "other")
    assert refused.returncode != 0
    assert "denied" in refused.stderr.lower()
    # _catalog lists only what bob may describe.
    r = httpx.get(f"{server.url}/v2/_catalog", auth=key)
    assert r.json()["repositories"] == ["app"]
    r = httpx.get(f"{server.url}/v2/_catalog", auth=server.access_key())
    assert r.json()["repositories"] == ["app", "other"]
    # An explicit Deny in the policy beats the Allow next to it.
    grant["Statement"].append(
        {"Sid": "NoBob", "Effect": "Deny", "Principal": {"AWS": user_arn("bob")},
         "Action": "ecr:BatchGetImage"}
    )  # fmt: skip
    admin.set_repository_policy(repositoryName="app", policyText=json.dumps(grant))
    deadline = time.monotonic() + CACHE_TTL_SECONDS + 5
    while pull(server, "app:v1", key, tmp_path / "again").returncode == 0:
        assert time.monotonic() < deadline, "the Deny never took effect"
        time.sleep(0.5)
    admin.delete_repository_policy(repositoryName="app")
    with pytest.raises(ClientError) as info:
        admin.get_repository_policy(repositoryName="app")
    assert code(info) == "RepositoryPolicyNotFoundException"


def test_bad_policies_get_ecr_exceptions_and_change_nothing(server: TidegateServer) -> None:
    admin = server.ecr()
    good = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:ListImages"}],
    })  # fmt: skip
    admin.set_repository_policy(repositoryName="other", policyText=good)
    bad = {
        "malformed": "{not json",
        "unknown action": good.replace("ecr:ListImages", "ecr:LaunchRockets"),
        "no principal": json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "ecr:ListImages"}]}),
        "over the size limit": good[:-2] + ', "Sid": "' + "x" * 10300 + '"}]}',
    }  # fmt: skip
    for why, text in bad.items():
        with pytest.raises(ClientError) as info:
            admin.set_repository_policy(repositoryName="other", policyText=text)
        assert code(info) == "InvalidParameterException", why
        assert admin.get_repository_policy(repositoryName="other")["policyText"] == good
    message = ""
    with pytest.raises(ClientError) as info:
        admin.set_repository_policy(repositoryName="other", policyText=bad["unknown action"])
    message = info.value.response["Error"]["Message"]
    assert "ecr:LaunchRockets" in message
    with pytest.raises(ClientError) as info:
        admin.set_repository_policy(repositoryName="nope", policyText=good)
    assert code(info) == "RepositoryNotFoundException"
    admin.delete_repository_policy(repositoryName="other")
    # Registry policy: Put/Get/Delete and its not-found exception.
    with pytest.raises(ClientError) as info:
        admin.get_registry_policy()
    assert code(info) == "RegistryPolicyNotFoundException"
    with pytest.raises(ClientError) as info:
        admin.put_registry_policy(policyText=bad["unknown action"])
    assert code(info) == "InvalidParameterException"
    with pytest.raises(ClientError) as info:
        admin.get_registry_policy()
    assert code(info) == "RegistryPolicyNotFoundException"
    admin.put_registry_policy(policyText=good)
    assert admin.get_registry_policy()["policyText"] == good
    assert admin.delete_registry_policy()["policyText"] == good
    with pytest.raises(ClientError) as info:
        admin.delete_registry_policy()
    assert code(info) == "RegistryPolicyNotFoundException"


def test_force_is_needed_to_lock_yourself_out(server: TidegateServer) -> None:
    admin = server.ecr()
    lockout = json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "ecr:SetRepositoryPolicy"}],
    })  # fmt: skip
    with pytest.raises(ClientError) as info:
        admin.set_repository_policy(repositoryName="other", policyText=lockout)
    assert code(info) == "InvalidParameterException"
    assert "force" in info.value.response["Error"]["Message"]
    admin.set_repository_policy(repositoryName="other", policyText=lockout, force=True)
    time.sleep(CACHE_TTL_SECONDS + 0.5)
    with pytest.raises(ClientError) as info:
        admin.set_repository_policy(repositoryName="other", policyText=lockout, force=True)
    assert code(info) == "AccessDeniedException"
    assert "explicit deny" in info.value.response["Error"]["Message"]
    admin.delete_repository_policy(repositoryName="other")


def test_aws_cli_as_two_principals(server: TidegateServer, tmp_path: Path) -> None:
    key = new_user(server, "cli-reader", "AmazonEC2ContainerRegistryReadOnly")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": key[0], "AWS_SECRET_ACCESS_KEY": key[1],
    })  # fmt: skip

    def aws(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [AWS, "ecr", *argv, "--endpoint-url", server.url],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    listed = aws("describe-repositories")
    assert listed.returncode == 0, listed.stderr
    refused = aws("delete-repository", "--repository-name", "other", "--force")
    assert refused.returncode != 0
    assert "AccessDeniedException" in refused.stderr
    assert f"User: {user_arn('cli-reader')} is not authorized" in refused.stderr
    assert server.ecr().describe_repositories(repositoryNames=["other"])["repositories"]


def test_deleted_user_is_refused_within_seconds(server: TidegateServer) -> None:
    key = new_user(server, "temp", "AmazonEC2ContainerRegistryReadOnly")
    ecr = server.ecr(key)
    ecr.describe_repositories()
    tidegate(server, "users", "delete", "temp")
    refused = refused_within(ecr.describe_repositories, CACHE_TTL_SECONDS + 3)
    assert refused == "UnrecognizedClientException"
    assert "temp" not in tidegate(server, "users", "list")


def test_resource_tag_condition(server: TidegateServer) -> None:
    """An inline identity policy allowing only repositories tagged team=payments."""
    admin = server.ecr()
    admin.tag_resource(resourceArn=arn("other"), tags=[{"Key": "team", "Value": "payments"}])
    policy = server.data_dir.parent / "payments.json"
    policy.write_text(json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ecr:ListImages", "Resource": "*",
                       "Condition": {"StringEquals": {"ecr:ResourceTag/team": "payments"}}}],
    }))  # fmt: skip
    key = new_user(server, "payments-team", f"file://{policy}")
    assert "payments (inline)" in tidegate(server, "users", "list")
    ecr = server.ecr(key)
    assert ecr.list_images(repositoryName="other")["imageIds"]
    with pytest.raises(ClientError) as info:
        ecr.list_images(repositoryName="app")
    assert code(info) == "AccessDeniedException"
    bad = server.data_dir.parent / "bad.json"
    bad.write_text('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow"}]}')
    result = subprocess.run(
        [sys.executable, "-m", "tidegate", "users", "attach-policy", "payments-team",
         f"file://{bad}", "--data-dir", str(server.data_dir)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Action or NotAction" in result.stderr
    assert "bad" not in tidegate(server, "users", "list")
