"""Options shared by every subcommand that touches the data directory."""

from __future__ import annotations

import argparse
from pathlib import Path

from tidegate.config import Settings, load_settings


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """Add `--data-dir` and `--config`, which every data-touching subcommand accepts."""
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="directory holding metadata, blobs and the vulnerability DB "
        "(default: ./tidegate-data, or TIDEGATE_DATA_DIR)",
    )
    parser.add_argument("--config", type=Path, help="TOML configuration file (or TIDEGATE_CONFIG)")


def settings_from_args(args: argparse.Namespace, **overrides: object) -> Settings:
    """Settings from the config file and environment, with flag values winning."""
    merged: dict[str, object] = {"data_dir": getattr(args, "data_dir", None)}
    merged.update(overrides)
    return load_settings(getattr(args, "config", None), merged)
