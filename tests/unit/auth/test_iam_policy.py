"""The policy language against IAM's documented evaluation rules and examples.

Rows follow the IAM User Guide's "Policy evaluation logic" and "Condition operators" pages:
explicit deny wins, an allow in an identity OR a resource policy suffices in one account,
NotAction/NotResource are complements, a missing context key fails a positive operator and
satisfies a negated one, ...IfExists passes when the key is absent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tidegate.auth.actions import known_actions
from tidegate.auth.managed import DOCUMENTS, MANAGED, managed_name
from tidegate.auth.policy import Decision, PolicyError, Request, evaluate, parse_policy

ACCOUNT = "000000000000"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
REPO = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/app"
OTHER = f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/other"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def grant(principal: Any, effect: str, action: Any, **extra: Any) -> dict[str, Any]:
    return {"Effect": effect, "Principal": principal, "Action": action, **extra}


CTX = {"aws:SourceIp": "10.1.2.3", "aws:CurrentTime": "2026-06-01T00:00:00Z",
       "aws:PrincipalArn": ALICE, "aws:SecureTransport": "false",
       "ecr:ResourceTag/team": "payments"}  # fmt: skip

# (why, identity statements, resource statements, principal, action, resource, decision)
CASES: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]], str, str, str, Decision]] = [
    ("no policy at all: implicit deny", [], [], ALICE, "ecr:BatchGetImage", REPO,
     Decision.IMPLICIT_DENY),
    ("identity allow", [allow("ecr:BatchGetImage")], [], ALICE, "ecr:BatchGetImage", REPO,
     Decision.ALLOW),
    ("action wildcard ecr:Describe*", [allow("ecr:Describe*")], [], ALICE,
     "ecr:DescribeImages", REPO, Decision.ALLOW),
    ("action names are case-insensitive", [allow("ECR:batchgetimage")], [], ALICE,
     "ecr:BatchGetImage", REPO, Decision.ALLOW),
    ("wildcard does not cover another action", [allow("ecr:Describe*")], [], ALICE,
     "ecr:PutImage", REPO, Decision.IMPLICIT_DENY),
    ("explicit deny beats identity allow", [allow("ecr:*"), deny("ecr:PutImage")], [], ALICE,
     "ecr:PutImage", REPO, Decision.EXPLICIT_DENY),
    ("resource ARN wildcard", [allow("ecr:*", "arn:aws:ecr:*:*:repository/ap?")], [], ALICE,
     "ecr:PutImage", REPO, Decision.ALLOW),
    ("resource ARNs are case-sensitive", [allow("ecr:*", REPO.replace("app", "APP"))], [], ALICE,
     "ecr:PutImage", REPO, Decision.IMPLICIT_DENY),
    ("NotAction allows everything else", [{"Effect": "Allow", "NotAction": "ecr:Delete*",
     "Resource": "*"}], [], ALICE, "ecr:PutImage", REPO, Decision.ALLOW),
    ("NotAction excludes what it names", [{"Effect": "Allow", "NotAction": "ecr:Delete*",
     "Resource": "*"}], [], ALICE, "ecr:DeleteRepository", REPO, Decision.IMPLICIT_DENY),
    ("Deny with NotResource spares the named resource",
     [allow("ecr:*"), {"Effect": "Deny", "Action": "ecr:*", "NotResource": REPO}], [], ALICE,
     "ecr:PutImage", REPO, Decision.ALLOW),
    ("Deny with NotResource hits the others",
     [allow("ecr:*"), {"Effect": "Deny", "Action": "ecr:*", "NotResource": REPO}], [], ALICE,
     "ecr:PutImage", OTHER, Decision.EXPLICIT_DENY),
    ("same account: a resource policy allow alone suffices", [],
     [grant({"AWS": BOB}, "Allow", "ecr:BatchGetImage")], BOB, "ecr:BatchGetImage", REPO,
     Decision.ALLOW),
    ("resource policy for another principal grants nothing", [],
     [grant({"AWS": BOB}, "Allow", "ecr:BatchGetImage")], ALICE, "ecr:BatchGetImage", REPO,
     Decision.IMPLICIT_DENY),
    ("resource policy deny beats identity allow", [allow("ecr:*")],
     [grant("*", "Deny", "ecr:PutImage")], ALICE, "ecr:PutImage", REPO, Decision.EXPLICIT_DENY),
    ("identity deny beats resource policy allow", [deny("ecr:BatchGetImage")],
     [grant({"AWS": ALICE}, "Allow", "ecr:*")], ALICE, "ecr:BatchGetImage", REPO,
     Decision.EXPLICIT_DENY),
    ("an account id names every principal in it", [],
     [grant({"AWS": ACCOUNT}, "Allow", "ecr:BatchGetImage")], BOB, "ecr:BatchGetImage", REPO,
     Decision.ALLOW),
    ("the account's :root ARN does too", [],
     [grant({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Allow", "ecr:ListImages")], BOB,
     "ecr:ListImages", REPO, Decision.ALLOW),
    ("IpAddress inside the range", [allow("ecr:*", Condition={"IpAddress":
     {"aws:SourceIp": "10.0.0.0/8"}})], [], ALICE, "ecr:PutImage", REPO, Decision.ALLOW),
    ("IpAddress outside the range", [allow("ecr:*", Condition={"IpAddress":
     {"aws:SourceIp": "192.168.0.0/16"}})], [], ALICE, "ecr:PutImage", REPO,
     Decision.IMPLICIT_DENY),
    ("Deny NotIpAddress blocks other networks", [allow("ecr:*"), deny("ecr:*", Condition=
     {"NotIpAddress": {"aws:SourceIp": ["192.168.0.0/16", "172.16.0.0/12"]}})], [], ALICE,
     "ecr:PutImage", REPO, Decision.EXPLICIT_DENY),
    ("DateLessThan before the date", [allow("ecr:*", Condition={"DateLessThan":
     {"aws:CurrentTime": "2026-12-31T00:00:00Z"}})], [], ALICE, "ecr:PutImage", REPO,
     Decision.ALLOW),
    ("DateLessThan after the date", [allow("ecr:*", Condition={"DateLessThan":
     {"aws:CurrentTime": "2026-01-01T00:00:00Z"}})], [], ALICE, "ecr:PutImage", REPO,
     Decision.IMPLICIT_DENY),
    ("Bool on aws:SecureTransport", [deny("ecr:*", Condition={"Bool":
     {"aws:SecureTransport": "false"}}), allow("ecr:*")], [], ALICE, "ecr:PutImage", REPO,
     Decision.EXPLICIT_DENY),
    ("StringEquals on a resource tag", [allow("ecr:*", Condition={"StringEquals":
     {"ecr:ResourceTag/team": "payments"}})], [], ALICE, "ecr:PutImage", REPO, Decision.ALLOW),
    ("condition keys are case-insensitive", [allow("ecr:*", Condition={"StringEquals":
     {"ECR:resourcetag/team": "payments"}})], [], ALICE, "ecr:PutImage", REPO, Decision.ALLOW),
    ("StringLike wildcard, values ORed", [allow("ecr:*", Condition={"StringLike":
     {"ecr:ResourceTag/team": ["web*", "pay*"]}})], [], ALICE, "ecr:PutImage", REPO,
     Decision.ALLOW),
    ("keys ANDed: one fails", [allow("ecr:*", Condition={"StringEquals":
     {"ecr:ResourceTag/team": "payments", "aws:PrincipalArn": BOB}})], [], ALICE,
     "ecr:PutImage", REPO, Decision.IMPLICIT_DENY),
    ("ArnLike on aws:PrincipalArn", [allow("ecr:*", Condition={"ArnLike":
     {"aws:PrincipalArn": "arn:aws:iam::*:user/al*"}})], [], ALICE, "ecr:PutImage", REPO,
     Decision.ALLOW),
    ("missing key fails a positive operator", [allow("ecr:*", Condition={"StringEquals":
     {"ecr:ResourceTag/owner": "alice"}})], [], ALICE, "ecr:PutImage", REPO,
     Decision.IMPLICIT_DENY),
    ("missing key satisfies a negated operator", [allow("ecr:*", Condition={"StringNotEquals":
     {"ecr:ResourceTag/owner": "mallory"}})], [], ALICE, "ecr:PutImage", REPO, Decision.ALLOW),
    ("...IfExists passes when the key is missing", [allow("ecr:*", Condition=
     {"StringEqualsIfExists": {"ecr:ResourceTag/owner": "bob"}})], [], ALICE, "ecr:PutImage",
     REPO, Decision.ALLOW),
]  # fmt: skip


@pytest.mark.parametrize(
    ("identity", "resource", "principal", "action", "arn", "expected"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_iam_evaluation(
    identity: list[dict[str, Any]],
    resource: list[dict[str, Any]],
    principal: str,
    action: str,
    arn: str,
    expected: Decision,
) -> None:
    identity_policies = [parse_policy(doc(*identity))] if identity else []
    resource_policies = [parse_policy(doc(*resource), resource_policy=True)] if resource else []
    request = Request(principal, action, arn, CTX)
    assert evaluate(request, identity_policies, resource_policies) is expected


BAD: list[tuple[Any, bool, str]] = [
    ("{not json", False, "not valid JSON"),
    ([], False, "JSON object"),
    ({"Version": "2020-01-01", "Statement": [allow("ecr:*")]}, False, "Version"),
    (doc(), False, "Statement"),
    (doc({"Effect": "Maybe", "Action": "ecr:*", "Resource": "*"}), False, "Effect"),
    (doc({"Effect": "Allow", "Resource": "*"}), False, "Action or NotAction"),
    (doc({"Effect": "Allow", "Action": "ecr:*"}), False, "Resource"),
    (doc(allow("ecr:LaunchRockets")), False, "unknown action 'ecr:LaunchRockets'"),
    (doc(allow("ecr:Launch*")), False, "unknown action"),
    (doc(allow("not an action")), False, "service:Action"),
    (doc(allow("ecr:*", "repository/app")), False, "ARN"),
    (doc(allow("ecr:*", Principal="*")), False, "identity policy cannot have a Principal"),
    (doc({"Effect": "Allow", "Action": "ecr:*"}), True, "needs a Principal"),
    (doc(grant({"AWS": "bob"}, "Allow", "ecr:*")), True, "account id or an IAM ARN"),
    (doc(allow("ecr:*", Condition={"StringSorta": {"a": "b"}})), False, "StringSorta"),
    (doc(allow("ecr:*", Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/99"}})), False,
     "not valid for IpAddress"),
    (doc(allow("ecr:*", Colour="red")), False, "unknown element 'Colour'"),
]  # fmt: skip


@pytest.mark.parametrize(("document", "resource_policy", "fault"), BAD)
def test_bad_documents_name_their_fault(document: Any, resource_policy: bool, fault: str) -> None:

    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(PolicyError, match=fault.replace("(", r"\(").replace("*", r"\*")):
        parse_policy(text, resource_policy=resource_policy, known_actions=known_actions())


def test_managed_policies_do_what_aws_says() -> None:
    def decide(policy: str, action: str) -> Decision:
        return evaluate(Request(ALICE, action, REPO), [MANAGED[policy]])

    read, power, full = (
        "AmazonEC2ContainerRegistryReadOnly",
        "AmazonEC2ContainerRegistryPowerUser",
        "AmazonEC2ContainerRegistryFullAccess",
    )
    assert decide(read, "ecr:BatchGetImage") is Decision.ALLOW
    assert decide(read, "ecr:PutImage") is Decision.IMPLICIT_DENY
    assert decide(power, "ecr:PutImage") is Decision.ALLOW
    for action in ("ecr:DeleteRepository", "ecr:SetRepositoryPolicy", "ecr:BatchDeleteImage"):
        assert decide(power, action) is Decision.IMPLICIT_DENY
    assert decide(full, "ecr:DeleteRepository") is Decision.ALLOW
    inspector = "AmazonInspector2ReadOnlyAccess"
    assert decide(inspector, "inspector2:ListFindings") is Decision.ALLOW
    assert decide(inspector, "inspector2:CreateFilter") is Decision.IMPLICIT_DENY
    assert managed_name("arn:aws:iam::aws:policy/" + read) == read
    assert managed_name("NoSuchPolicy") is None
    # Every managed document validates against the real action names.
    for document in DOCUMENTS.values():
        parse_policy(document, known_actions=known_actions())
