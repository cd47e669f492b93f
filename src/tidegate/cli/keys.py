"""`tidegate keys create|list|revoke`: manage the access keys of the ECR API and `/v2/`."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from tidegate.auth.bootstrap import credentials_text
from tidegate.auth.keys import AccessKey
from tidegate.auth.service import AuthService
from tidegate.cli.common import add_data_options, settings_from_args
from tidegate.db import engine_for, migrate
from tidegate.errors import NotFound


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `keys` and its three actions."""
    parser = subparsers.add_parser(
        "keys",
        help="manage access keys",
        description="Access keys sign ECR API requests (SigV4) and log in to /v2/ (Basic). "
        "Secrets are stored encrypted with <data-dir>/master.key and shown only at creation.",
    )
    actions = parser.add_subparsers(dest="keys_action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a key and print it once")
    add_data_options(create)
    create.add_argument(
        "--user",
        "--principal",
        dest="user",
        default="admin",
        help="the user the key belongs to (see `tidegate users`); default admin",
    )
    create.add_argument("--description", default="", help="free text shown by `keys list`")
    create.add_argument("--profile", default="default", help="profile name in the output")
    create.set_defaults(func=run_create)
    listing = actions.add_parser("list", help="list keys (never their secrets)")
    add_data_options(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(func=run_list)
    revoke = actions.add_parser("revoke", help="revoke a key and the registry tokens it made")
    add_data_options(revoke)
    revoke.add_argument("access_key_id")
    revoke.set_defaults(func=run_revoke)


def _auth(args: argparse.Namespace) -> AuthService:
    settings = settings_from_args(args)
    engine = engine_for(settings)
    migrate(engine)
    return AuthService(
        engine, settings.data_dir, region=settings.region, registry_id=settings.registry_id
    )


def _stamp(value: float | None) -> str:
    return (
        "-" if value is None else datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")
    )


def run_create(args: argparse.Namespace) -> int:
    """Print the new key in the AWS shared-credentials format (the only time it is shown)."""
    auth = _auth(args)
    if not auth.users.exists(args.user):
        msg = f"no user {args.user!r}; create it with `tidegate users create {args.user}`"
        raise NotFound(msg)
    new = auth.keys.create(args.user, args.description)
    print(credentials_text(new, args.profile), end="")
    return 0


def _as_dict(key: AccessKey) -> dict[str, object]:
    return {
        "access_key_id": key.access_key_id,
        "principal": key.principal,
        "description": key.description,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
    }


def run_list(args: argparse.Namespace) -> int:
    """Print every key with its state."""
    for key in _auth(args).keys.list():
        if args.json:
            print(json.dumps(_as_dict(key), sort_keys=True))
        else:
            state = "active" if key.active else f"revoked {_stamp(key.revoked_at)}"
            print(
                f"{key.access_key_id}  {key.principal}  created {_stamp(key.created_at)}  "
                f"{state}  {key.description}"
            )
    return 0


def run_revoke(args: argparse.Namespace) -> int:
    """Revoke one key; NotFound (exit 2) when it is unknown or already revoked."""
    key = _auth(args).keys.revoke(args.access_key_id)
    print(f"revoked {key.access_key_id}")
    return 0
