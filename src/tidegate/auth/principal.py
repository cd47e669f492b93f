"""Who an authenticated request acts as; the one value every entry point and the audit read.

Set on `request.state.principal` by the ECR dispatcher and the `/v2/` and `/api/`
authorizer (None when anonymous or authentication is off), and on `EcrContext.principal`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """An IAM user acting through one of its access keys."""

    user_name: str
    access_key_id: str
    account_id: str

    @property
    def arn(self) -> str:
        return user_arn(self.account_id, self.user_name)


def user_arn(account_id: str, user_name: str) -> str:
    """`arn:aws:iam::<account>:user/<name>`, as IAM names users."""
    return f"arn:aws:iam::{account_id}:user/{user_name}"
