"""AWS's managed policies Tidegate understands, with AWS's own documents.

The action lists are copied from the AWS Managed Policy Reference pages
(docs.aws.amazon.com/aws-managed-policy/latest/reference/<Name>.html): ReadOnly v3 and
PowerUser v3 (both edited 2019-12-10), FullAccess, and AmazonInspector2ReadOnlyAccess v8
(its organizations/codeguru actions kept: they are harmless here and keep the document AWS's).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from tidegate.auth.policy import Policy, parse_policy

_READ_ONLY_ACTIONS = [
    "ecr:GetAuthorizationToken",
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetRepositoryPolicy",
    "ecr:DescribeRepositories",
    "ecr:ListImages",
    "ecr:DescribeImages",
    "ecr:BatchGetImage",
    "ecr:GetLifecyclePolicy",
    "ecr:GetLifecyclePolicyPreview",
    "ecr:ListTagsForResource",
    "ecr:DescribeImageScanFindings",
]

DOCUMENTS: MappingProxyType[str, dict[str, Any]] = MappingProxyType(
    {
        "AmazonEC2ContainerRegistryReadOnly": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": _READ_ONLY_ACTIONS, "Resource": "*"}],
        },
        "AmazonEC2ContainerRegistryPowerUser": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        *_READ_ONLY_ACTIONS,
                        "ecr:InitiateLayerUpload",
                        "ecr:UploadLayerPart",
                        "ecr:CompleteLayerUpload",
                        "ecr:PutImage",
                    ],
                    "Resource": "*",
                }
            ],
        },
        "AmazonEC2ContainerRegistryFullAccess": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["ecr:*", "cloudtrail:LookupEvents"],
                    "Resource": "*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["iam:CreateServiceLinkedRole"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {"iam:AWSServiceName": ["replication.ecr.amazonaws.com"]}
                    },
                },
            ],
        },
        "AmazonInspector2ReadOnlyAccess": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": [
                        "organizations:ListDelegatedAdministrators",
                        "organizations:ListAWSServiceAccessForOrganization",
                        "organizations:DescribeOrganizationalUnit",
                        "organizations:DescribeAccount",
                        "organizations:DescribeOrganization",
                        "inspector2:BatchGet*",
                        "inspector2:List*",
                        "inspector2:Describe*",
                        "inspector2:Get*",
                        "inspector2:Search*",
                        "codeguru-security:BatchGetFindings",
                        "codeguru-security:GetAccountConfiguration",
                    ],
                    "Resource": "*",
                }
            ],
        },
        # Tidegate's own: what the first key (and keys from before users existed) can do.
        "AdministratorAccess": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
        },
    }
)

MANAGED: MappingProxyType[str, Policy] = MappingProxyType(
    {name: parse_policy(doc) for name, doc in DOCUMENTS.items()}
)


def managed_arn(name: str) -> str:
    """The ARN AWS gives a managed policy."""
    return f"arn:aws:iam::aws:policy/{name}"


def managed_name(name_or_arn: str) -> str | None:
    """The managed policy named by a bare name or its ARN, or None."""
    name = name_or_arn.removeprefix("arn:aws:iam::aws:policy/")
    return name if name in MANAGED else None
