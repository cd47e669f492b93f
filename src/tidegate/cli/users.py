"""`tidegate users create|list|delete|attach-policy|detach-policy`: IAM-style users."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tidegate.auth.managed import MANAGED
from tidegate.auth.users import UserStore
from tidegate.cli.common import add_data_options, settings_from_args
from tidegate.db import engine_for, migrate
from tidegate.errors import InvalidParameter


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register `users` and its actions."""
    parser = subparsers.add_parser(
        "users",
        help="manage users and their policies",
        description="Users own access keys; what a key may do is decided by its user's IAM "
        "policies (managed: " + ", ".join(sorted(MANAGED)) + "; or inline documents) and "
        "by repository/registry policies. Changes reach a running server within seconds.",
    )
    actions = parser.add_subparsers(dest="users_action", metavar="ACTION", required=True)
    for verb, help_text, func in (
        ("create", "create a user (with no permissions)", run_create),
        ("delete", "delete a user, its policies, and revoke its keys", run_delete),
    ):
        sub = actions.add_parser(verb, help=help_text)
        add_data_options(sub)
        sub.add_argument("name")
        sub.set_defaults(func=func)
    listing = actions.add_parser("list", help="list users and their policies")
    add_data_options(listing)
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(func=run_list)
    for verb, help_text, func in (
        ("attach-policy", "attach a managed policy NAME or file://policy.json", run_attach),
        ("detach-policy", "detach a policy by its name (inline: the file's stem)", run_detach),
    ):
        sub = actions.add_parser(verb, help=help_text)
        add_data_options(sub)
        sub.add_argument("name")
        sub.add_argument("policy")
        sub.set_defaults(func=func)


def _users(args: argparse.Namespace) -> UserStore:
    engine = engine_for(settings_from_args(args))
    migrate(engine)
    return UserStore(engine)


def run_create(args: argparse.Namespace) -> int:
    user = _users(args).create(args.name)
    print(f"created user {user.name}")
    return 0


def run_delete(args: argparse.Namespace) -> int:
    _users(args).delete(args.name)
    print(f"deleted user {args.name}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for user in _users(args).list():
        names = [p.name + ("" if p.managed else " (inline)") for p in user.policies]
        if args.json:
            print(json.dumps({"name": user.name, "policies": names}, sort_keys=True))
        else:
            print(f"{user.name}  {', '.join(names) or '-'}")
    return 0


def run_attach(args: argparse.Namespace) -> int:
    store = _users(args)
    if args.policy.startswith("file://"):
        path = Path(args.policy.removeprefix("file://"))
        try:
            document = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"cannot read {path}: {exc}"
            raise InvalidParameter(msg) from None
        attached = store.attach(args.name, path.stem, document)
    else:
        attached = store.attach(args.name, args.policy)
    print(f"attached {attached.name} to {args.name}")
    return 0


def run_detach(args: argparse.Namespace) -> int:
    store = _users(args)
    name = args.policy
    if name.startswith("file://"):
        name = Path(name.removeprefix("file://")).stem
    store.detach(args.name, name)
    print(f"detached {name} from {args.name}")
    return 0
