"""`tidegate` command line: argument parsing only; each subcommand lives in its own module.

A subcommand module exposes `add_parser(subparsers)`, which registers its parser and sets
`func(args) -> int` as the default handler.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tidegate import __version__
from tidegate.errors import TidegateError

# One entry per subcommand module under tidegate.cli; the order is the order in --help.
COMMAND_MODULES = (
    "serve",
    "worker",
    "db",
    "scan",
    "sbom",
    "keys",
    "users",
    "findings",
    "usage",
    "events",
    "gc",
    "audit",
)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole command line, or just `only`'s subcommand when it names one.

    Registering a subcommand imports its module and everything it runs; building all twelve
    costs ~0.8 s of imports, which a `tidegate scan` in CI pays on every image. `--help`,
    `--version` and mistakes still get the full parser, so they list every command.
    """
    parser = argparse.ArgumentParser(
        prog="tidegate",
        description=(
            "Tidegate: a self-hosted OCI registry with built-in vulnerability scanning "
            "and an Amazon ECR-compatible management API."
        ),
    )
    parser.add_argument("--version", action="version", version=f"tidegate {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in (only,) if only in COMMAND_MODULES else COMMAND_MODULES:
        importlib.import_module(f"tidegate.cli.{name}").add_parser(subparsers)
    return parser


def _command_word(argv: Sequence[str]) -> str | None:
    """The subcommand, when it is the first word (the top level takes no option values)."""
    return argv[0] if argv and not argv[0].startswith("-") else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_word(argv))
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except TidegateError as exc:
        print(f"tidegate: error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result
