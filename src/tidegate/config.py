"""Settings from a TOML file, `TIDEGATE_*` environment variables and flags (flags win).

Settings are a frozen value passed in explicitly; nothing reads the environment later.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tidegate.errors import InvalidParameter

ENV_PREFIX = "TIDEGATE_"


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob Tidegate has. Field names are the TOML keys and, upper-cased, the env names."""

    data_dir: Path = Path("tidegate-data")
    host: str = "127.0.0.1"
    port: int = 5000
    # Empty means SQLite at <data_dir>/meta.db; a postgresql:// URL selects PostgreSQL.
    database_url: str = ""
    # Base URL clients use to reach this server (Location headers, repositoryUri); derived
    # from the request's Host header when empty.
    public_url: str = ""
    log_format: str = "json"  # json | text
    log_level: str = "info"
    access_log: bool = True
    max_manifest_bytes: int = 4 * 1024 * 1024
    upload_expiry_seconds: int = 24 * 3600
    # Identity shown by the ECR API.
    registry_id: str = "000000000000"
    region: str = "us-east-1"
    # /v2/ without credentials: "none" (default), "pull" or "push".
    anonymous_access: str = "none"
    auth_enabled: bool = True
    # `/api/` (findings, usage, status) without credentials; separate from anonymous_access.
    api_anonymous_access: bool = False
    workers: int = 2
    # A claimed scan job is another worker's to take over this long after its holder died.
    scan_lease_seconds: int = 300
    run_workers: bool = True
    # Vulnerability database: where `db update` fetches from (empty = the real upstream URLs).
    vulndb_source: str = ""
    vulndb_update_interval_seconds: int = 0  # 0 = the server never updates on its own
    vulndb_import_on_start: bool = True  # import when the data dir has no DB yet
    # Continuous scanning stops this many days after a push (0 = for the image's lifetime),
    # like Inspector's re-scan duration; such images show SCAN_ELIGIBILITY_EXPIRED.
    continuous_scan_duration_days: int = 0
    # How often each process with workers applies the repositories' lifecycle policies
    # (ECR applies them within 24 hours of a change; 0 = never).
    lifecycle_interval_seconds: int = 3600
    # Audit trail: events older than this many days are purged by the retention round.
    audit_retention_days: int = 90
    # Failed sign-ins: after this many failures of one key (or, with the higher limit,
    # from one address, which may be a NAT for many clients) within the window, that
    # key/address is refused for a backoff that doubles with each further failure, from
    # signin_backoff_seconds up to signin_backoff_max_seconds.
    signin_max_failures: int = 5
    signin_max_failures_per_address: int = 20
    signin_window_seconds: int = 300
    signin_backoff_seconds: int = 30
    signin_backoff_max_seconds: int = 900
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def sqlalchemy_url(self) -> str:
        """The metadata database URL, defaulting to SQLite inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'meta.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def vulndb_dir(self) -> Path:
        return self.data_dir / "vulndb"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"


_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name != "extra"}


def _coerce(name: str, raw: object) -> object:
    """Convert a TOML/env/flag value to the field's type, with a clear error on failure."""
    kind = _FIELDS[name].type
    try:
        if kind in ("bool", bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        if kind in ("int", int):
            return int(str(raw))
        if kind in ("Path", Path):
            return Path(str(raw)).expanduser()
    except ValueError as exc:
        msg = f"setting {name!r}: cannot read {raw!r} as {kind}"
        raise InvalidParameter(msg) from exc
    return str(raw)


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge defaults < TOML file < environment < explicit overrides (flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    extra: dict[str, Any] = {}
    path = config_file or (
        Path(env[ENV_PREFIX + "CONFIG"]) if ENV_PREFIX + "CONFIG" in env else None
    )
    if path is not None:
        try:
            with path.open("rb") as fh:
                data = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            msg = f"cannot read config file {path}: {exc}"
            raise InvalidParameter(msg) from exc
        for key, raw in data.items():
            if key in _FIELDS:
                values[key] = _coerce(key, raw)
            else:
                extra[key] = raw
    for name in _FIELDS:
        env_name = ENV_PREFIX + name.upper()
        if env_name in env:
            values[name] = _coerce(name, env[env_name])
    for name, raw in (overrides or {}).items():
        if raw is not None:
            values[name] = _coerce(name, raw)
    settings = Settings(**values, extra=extra)  # type: ignore[arg-type]
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    if settings.log_format not in ("json", "text"):
        msg = f"log_format must be json or text, not {settings.log_format!r}"
        raise InvalidParameter(msg)
    if settings.anonymous_access not in ("none", "pull", "push"):
        msg = f"anonymous_access must be none, pull or push, not {settings.anonymous_access!r}"
        raise InvalidParameter(msg)
    if not (len(settings.registry_id) == 12 and settings.registry_id.isdigit()):
        msg = f"registry_id must be 12 digits, not {settings.registry_id!r}"
        raise InvalidParameter(msg)
    if not 0 < settings.port < 65536:
        msg = f"port out of range: {settings.port}"
        raise InvalidParameter(msg)
