"""Settings from a TOML file, `TIDEGATE_*` environment variables and flags (flags win).

Settings are a frozen value passed in explicitly; nothing reads the environment later.
Configuration is strict: an unknown TOML key, table key or `TIDEGATE_*` variable is an
error naming the nearest valid key, because a misspelt setting that is silently ignored
starts the server with the default the operator meant to change.

The tables, each parsed once here into a typed section:

    [[webhooks]]
    url = "https://hooks.example.com/tidegate"
    secret = "a long random string"
    detail_types = ["ECR Image Action", "ECR Image Scan"]   # optional; default: every event
    timeout_seconds = 10                                      # optional

    [events]
    retry_base_seconds = 1       # first retry after 0.5 to 1 s, doubling each time (jittered)
    retry_max_seconds = 900      # never wait longer than this between attempts
    max_attempts = 50            # then the delivery is `failed` (kept; `events redeliver`)
    max_age_seconds = 259200     # or when the event is this old (3 days)

    [usage]
    initial_scan_rate = 0.09     # USD per initial enhanced scan
    rescan_rate = 0.01           # USD per continuous re-scan

    [storage]
    driver = "s3"                # default "filesystem" (<data_dir>/blobs)
    endpoint_url = "http://seaweedfs:8333"   # empty: AWS S3 itself
    bucket = "tidegate"
    region = "us-east-1"
    prefix = "registry/"         # keys are <prefix>blobs/..., <prefix>uploads/...
    access_key_id = "..."        # both empty: the standard AWS environment / credential chain
    secret_access_key = "..."
    redirect = true              # blob GETs answered by 307 to a presigned URL

`TIDEGATE_WEBHOOKS` (a JSON list of webhook tables) replaces `[[webhooks]]`, and
`TIDEGATE_EVENTS` and `TIDEGATE_STORAGE` (JSON objects) override keys of `[events]` and
`[storage]`.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from tidegate.errors import InvalidParameter

ENV_PREFIX = "TIDEGATE_"
WEBHOOKS_ENV = "TIDEGATE_WEBHOOKS"
EVENTS_ENV = "TIDEGATE_EVENTS"
STORAGE_ENV = "TIDEGATE_STORAGE"
# The test harness's own variables (data mirrors, tool paths) are never settings.
_TEST_PREFIX = "TIDEGATE_TEST_"
# Variables of the client-side `tidegate scan` and of the CLI itself, not settings.
_OTHER_ENV = {
    ENV_PREFIX + "CONFIG",
    WEBHOOKS_ENV,
    EVENTS_ENV,
    STORAGE_ENV,
    ENV_PREFIX + "REGISTRY_USERNAME",
    ENV_PREFIX + "REGISTRY_PASSWORD",
}


class LogFormat(enum.StrEnum):
    JSON = "json"
    TEXT = "text"


class AnonymousAccess(enum.StrEnum):
    """What `/v2/` lets a caller without credentials do."""

    NONE = "none"
    PULL = "pull"
    PUSH = "push"


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    """One receiver: events (optionally only some detail-types) are POSTed to `url`."""

    url: str
    secret: str
    detail_types: frozenset[str] | None = None
    timeout_seconds: float = 10.0

    def wants(self, detail_type: str) -> bool:
        """True when this endpoint subscribes to events of `detail_type`."""
        return self.detail_types is None or detail_type in self.detail_types


@dataclass(frozen=True, slots=True)
class EventsSection:
    """The `[events]` table: how hard delivery tries."""

    retry_base_seconds: float = 1.0
    retry_max_seconds: float = 900.0
    max_attempts: int = 50
    max_age_seconds: float = 3 * 86400.0
    poll_interval_seconds: float = 2.0
    batch_size: int = 100
    # A claimed delivery whose sender died is retried after this long.
    lease_seconds: float = 120.0


@dataclass(frozen=True, slots=True)
class ConsoleSection:
    """The `[console]` table: how long a console sign-in lasts."""

    session_seconds: int = 8 * 3600


@dataclass(frozen=True, slots=True)
class UsageSection:
    """The `[usage]` table: the prices the usage report applies (ECR/Inspector list price)."""

    initial_scan_rate: float = 0.09
    rescan_rate: float = 0.01


class StorageDriver(enum.StrEnum):
    FILESYSTEM = "filesystem"
    S3 = "s3"


@dataclass(frozen=True, slots=True)
class StorageSection:
    """The `[storage]` table: where blob bytes live (metadata is always in the database)."""

    driver: StorageDriver = StorageDriver.FILESYSTEM
    endpoint_url: str = ""
    bucket: str = ""
    region: str = ""
    prefix: str = ""
    # Both empty: boto3's own chain (AWS_* environment, shared files, instance roles).
    access_key_id: str = ""
    secret_access_key: str = field(default="", repr=False)
    redirect: bool = True


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
    log_format: LogFormat = LogFormat.JSON
    log_level: str = "info"
    access_log: bool = True
    max_manifest_bytes: int = 4 * 1024 * 1024
    upload_expiry_seconds: int = 24 * 3600
    # Identity shown by the ECR API.
    registry_id: str = "000000000000"
    region: str = "us-east-1"
    # /v2/ without credentials: "none" (default), "pull" or "push".
    anonymous_access: AnonymousAccess = AnonymousAccess.NONE
    auth_enabled: bool = True
    # `/api/` (findings, usage, status) without credentials; separate from anonymous_access.
    api_anonymous_access: bool = False
    # `serve` processes sharing the listening port (0 = one per CPU core); scan workers,
    # schedules and the metrics listener run in the first of them only.
    server_workers: int = 0
    # Serve /metrics without authentication on this separate "host:port" as well (the
    # main port's /metrics always needs credentials); empty = no separate listener.
    metrics_bind: str = ""
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
    # Resource budgets of one scan: a scan that exceeds one ends FAILED naming the budget and
    # the layer. Uncompressed tar bytes of one layer and of the whole image, tar entries of
    # the whole image, and decompressed/compressed past the first ratio_after bytes of a layer
    # (gzip tops out near 1030:1, so only a ratio far below that stops bombs).
    max_layer_uncompressed_bytes: int = 16 << 30
    max_image_uncompressed_bytes: int = 64 << 30
    max_files_per_image: int = 2_000_000
    max_compression_ratio: int = 100
    compression_ratio_after_bytes: int = 1 << 30
    # What is read into memory: the image config, and any one file handed to an analyzer
    # (larger files are skipped with a warning).
    max_config_bytes: int = 4 << 20
    max_metadata_file_bytes: int = 1 << 30
    # Wall clock and CPU time of one image's analysis (0 = unbounded).
    scan_timeout_seconds: int = 900
    # Analysis scratch space; empty means <data_dir>/scratch.
    scratch_dir: str = ""
    # The filesystem blob store's directory; empty means <data_dir>/blobs. Replicas that
    # keep their own data directories share blobs by pointing this at one directory.
    blob_root: str = ""
    # Extra analyzer plugins (module paths) loaded by the analysis process; TOML list or
    # a comma-separated TIDEGATE_ANALYZER_PLUGINS.
    analyzer_plugins: tuple[str, ...] = ()
    webhooks: tuple[WebhookEndpoint, ...] = ()
    events: EventsSection = field(default_factory=EventsSection)
    usage: UsageSection = field(default_factory=UsageSection)
    console: ConsoleSection = field(default_factory=ConsoleSection)
    storage: StorageSection = field(default_factory=StorageSection)

    @property
    def sqlalchemy_url(self) -> str:
        """The metadata database URL, defaulting to SQLite inside the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'meta.db').resolve()}"

    @property
    def blob_dir(self) -> Path:
        return Path(self.blob_root).expanduser() if self.blob_root else self.data_dir / "blobs"

    @property
    def vulndb_dir(self) -> Path:
        return self.data_dir / "vulndb"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def scratch_root(self) -> Path:
        return (
            Path(self.scratch_dir).expanduser() if self.scratch_dir else self.data_dir / "scratch"
        )


_TABLES = ("webhooks", "events", "usage", "console", "storage")
_FIELDS = {f.name: f for f in dataclasses.fields(Settings) if f.name not in _TABLES}
_CHOICES: dict[str, type[enum.StrEnum]] = {
    "log_format": LogFormat,
    "anonymous_access": AnonymousAccess,
}


def _unknown(what: str, key: str, known: Iterable[str]) -> InvalidParameter:
    names = sorted(known)
    near = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
    hint = f"; did you mean {near[0]!r}?" if near else f"; valid: {', '.join(names)}"
    return InvalidParameter(f"unknown {what} {key!r}{hint}")


def _coerce(name: str, raw: object) -> object:
    """Convert a TOML/env/flag value to the field's type, with a clear error on failure."""
    kind = _FIELDS[name].type
    if name in _CHOICES:
        choice = _CHOICES[name]
        try:
            return choice(str(raw).strip().lower())
        except ValueError:
            options = ", ".join(c.value for c in choice)
            msg = f"{name} must be one of {options}, not {raw!r}"
            raise InvalidParameter(msg) from None
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
            if isinstance(raw, bool):
                raise ValueError(raw)
            return int(str(raw))
        if kind in ("float", float):
            if isinstance(raw, bool):
                raise ValueError(raw)
            return float(str(raw))
        if kind in ("Path", Path):
            return Path(str(raw)).expanduser()
        if kind == "tuple[str, ...]":
            items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
            return tuple(str(item).strip() for item in items if str(item).strip())
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
    tables: dict[str, Any] = {}
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
            elif key in _TABLES:
                tables[key] = raw
            else:
                raise _unknown(f"setting in {path}", key, [*_FIELDS, *_TABLES])
    env_names = {ENV_PREFIX + name.upper(): name for name in _FIELDS}
    for env_name, raw_env in env.items():
        if not env_name.startswith(ENV_PREFIX) or env_name in _OTHER_ENV:
            continue
        if env_name.startswith(_TEST_PREFIX):
            continue
        if env_name not in env_names:
            raise _unknown("environment variable", env_name, [*env_names, *_OTHER_ENV])
        values[env_names[env_name]] = _coerce(env_names[env_name], raw_env)
    for name, raw in (overrides or {}).items():
        if raw is not None:
            values[name] = _coerce(name, raw)
    raw_hooks: Any = tables.get("webhooks", [])
    raw_events: Any = _mapping(tables.get("events", {}), "[events]")
    if WEBHOOKS_ENV in env:
        raw_hooks = _json(env[WEBHOOKS_ENV], WEBHOOKS_ENV)
    if EVENTS_ENV in env:
        raw_events = {**raw_events, **_mapping(_json(env[EVENTS_ENV], EVENTS_ENV), EVENTS_ENV)}
    raw_storage = dict(_mapping(tables.get("storage", {}), "[storage]"))
    if STORAGE_ENV in env:
        raw_storage.update(_mapping(_json(env[STORAGE_ENV], STORAGE_ENV), STORAGE_ENV))
    settings = Settings(
        **values,  # type: ignore[arg-type]
        webhooks=_webhooks(raw_hooks),
        events=_section(EventsSection, raw_events, "[events]"),
        usage=_section(UsageSection, _mapping(tables.get("usage", {}), "[usage]"), "[usage]"),
        console=_section(
            ConsoleSection, _mapping(tables.get("console", {}), "[console]"), "[console]"
        ),
        storage=_storage(raw_storage),
    )
    _validate(settings)
    return settings


def _json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        msg = f"{name} is not valid JSON: {exc}"
        raise InvalidParameter(msg) from exc


def _mapping(value: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        msg = f"{what} must be a table / JSON object"
        raise InvalidParameter(msg)
    return value


def _positive(value: Any, kind: type[int] | type[float], what: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        msg = f"{what} must be a positive number, not {value!r}"
        raise InvalidParameter(msg)
    return kind(value)


S = TypeVar("S")


def _section(cls: type[S], table: Mapping[str, Any], what: str) -> S:
    """A section dataclass of positive numbers from its table; unknown keys are errors."""
    kinds = {f.name: f.type for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    numbers: dict[str, Any] = {}
    for key, value in table.items():
        if key not in kinds:
            raise _unknown(f"{what} setting", key, kinds)
        kind = int if kinds[key] in ("int", int) else float
        numbers[key] = _positive(value, kind, f"{what} {key}")
    return cls(**numbers)


_S3_ONLY = ("endpoint_url", "bucket", "region", "prefix", "access_key_id", "secret_access_key")


def _storage(table: Mapping[str, Any]) -> StorageSection:
    """The `[storage]` table: strings and one bool, checked against the chosen driver."""
    kinds = {f.name for f in dataclasses.fields(StorageSection)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in kinds:
            raise _unknown("[storage] setting", key, kinds)
        if key == "redirect":
            if not isinstance(value, bool):
                raise InvalidParameter(f"[storage] redirect must be true or false, not {value!r}")
        elif not isinstance(value, str):
            raise InvalidParameter(f"[storage] {key} must be a string, not {value!r}")
        values[key] = value
    raw_driver = str(values.pop("driver", StorageDriver.FILESYSTEM)).strip().lower()
    try:
        driver = StorageDriver(raw_driver)
    except ValueError:
        options = ", ".join(d.value for d in StorageDriver)
        msg = f"[storage] driver must be one of {options}, not {raw_driver!r}"
        raise InvalidParameter(msg) from None
    if driver is StorageDriver.FILESYSTEM:
        stray = sorted(k for k in values if k in _S3_ONLY and values[k])
        if stray:
            msg = f'[storage] {", ".join(stray)} apply only to driver = "s3"'
            raise InvalidParameter(msg)
    elif not values.get("bucket"):
        raise InvalidParameter('[storage] driver = "s3" needs a bucket')
    if bool(values.get("access_key_id")) != bool(values.get("secret_access_key")):
        msg = "[storage] access_key_id and secret_access_key go together (or both empty)"
        raise InvalidParameter(msg)
    url = values.get("endpoint_url", "")
    if url and not url.startswith(("http://", "https://")):
        raise InvalidParameter(f"[storage] endpoint_url must be an http(s) URL, not {url!r}")
    prefix = values.get("prefix", "").strip("/")
    values["prefix"] = f"{prefix}/" if prefix else ""
    return StorageSection(driver=driver, **values)


def _webhooks(raw: Any) -> tuple[WebhookEndpoint, ...]:
    if not isinstance(raw, list):
        msg = "webhooks must be a list of tables ([[webhooks]] in TOML)"
        raise InvalidParameter(msg)
    hooks = tuple(_endpoint(item, n) for n, item in enumerate(raw))
    urls = [hook.url for hook in hooks]
    if len(set(urls)) != len(urls):
        msg = "each webhook url may be configured only once"
        raise InvalidParameter(msg)
    return hooks


_WEBHOOK_KEYS = ("url", "secret", "detail_types", "timeout_seconds")


def _endpoint(item: Any, index: int) -> WebhookEndpoint:
    where = f"webhooks[{index}]"
    table = _mapping(item, where)
    for key in table:
        if key not in _WEBHOOK_KEYS:
            raise _unknown(f"{where} key", key, _WEBHOOK_KEYS)
    url = table.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        msg = f"{where}: url must be an http:// or https:// URL"
        raise InvalidParameter(msg)
    secret = table.get("secret")
    if not isinstance(secret, str) or not secret:
        # An unsigned webhook could be forged by anyone who can reach the receiver.
        msg = f"{where}: secret is required (it signs every delivery)"
        raise InvalidParameter(msg)
    types = table.get("detail_types")
    detail_types: frozenset[str] | None = None
    if types is not None:
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            msg = f"{where}: detail_types must be a non-empty list of event detail-types"
            raise InvalidParameter(msg)
        detail_types = frozenset(types)
    timeout = _positive(table.get("timeout_seconds", 10.0), float, f"{where} timeout_seconds")
    return WebhookEndpoint(url, secret, detail_types, float(timeout))


def _validate(settings: Settings) -> None:
    if not (len(settings.registry_id) == 12 and settings.registry_id.isdigit()):
        msg = f"registry_id must be 12 digits, not {settings.registry_id!r}"
        raise InvalidParameter(msg)
    budgets = (
        "max_layer_uncompressed_bytes", "max_image_uncompressed_bytes", "max_files_per_image",
        "max_compression_ratio", "max_config_bytes", "max_metadata_file_bytes",
    )  # fmt: skip
    for name in budgets:
        if getattr(settings, name) <= 0:
            msg = f"{name} must be positive, not {getattr(settings, name)}"
            raise InvalidParameter(msg)
    if settings.scan_timeout_seconds < 0 or settings.compression_ratio_after_bytes < 0:
        msg = "scan_timeout_seconds and compression_ratio_after_bytes must not be negative"
        raise InvalidParameter(msg)
    if not 0 < settings.port < 65536:
        msg = f"port out of range: {settings.port}"
        raise InvalidParameter(msg)
