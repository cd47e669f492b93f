"""Registry-wide operations: GetAuthorizationToken, DescribeRegistry, Get/PutAccountSetting."""

from __future__ import annotations

import base64
import json
from typing import Any

from tidegate.ecr.context import EcrContext
from tidegate.ecr.errors import EcrError
from tidegate.registry.repositories import read_setting, write_setting

# Account settings ECR knows, with their allowed values and Tidegate's defaults.
ACCOUNT_SETTINGS: dict[str, tuple[tuple[str, ...], str]] = {
    "BASIC_SCAN_TYPE_VERSION": (("AWS_NATIVE", "CLAIR"), "AWS_NATIVE"),
    "REGISTRY_POLICY_SCOPE": (("V1", "V2"), "V2"),
    "BLOB_MOUNTING": (("ENABLED", "DISABLED"), "ENABLED"),
}
_ACCOUNT_DOC = "account_settings"


def get_authorization_token(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """A 12-hour registry password for the caller, as base64("AWS:<password>")."""
    for given in p.get("registryIds") or []:
        ctx.check_registry_id({"registryId": given})
    if ctx.caller is None:
        msg = "authentication is disabled; the registry needs no token"
        raise EcrError("InvalidParameterException", msg)
    issued = ctx.auth.tokens.issue(ctx.caller.access_key_id)
    token = base64.b64encode(f"AWS:{issued.password}".encode()).decode()
    data = {
        "authorizationToken": token,
        "expiresAt": issued.expires_at,
        "proxyEndpoint": ctx.base_url,
    }
    return {"authorizationData": [data]}


def describe_registry(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """DescribeRegistry: identity; Tidegate does not replicate."""
    return {"registryId": ctx.registry_id, "replicationConfiguration": {"rules": []}}


def _setting_name(p: dict[str, Any]) -> str:
    name = str(p["name"])
    if name not in ACCOUNT_SETTINGS:
        msg = f"Unsupported account setting name '{name}'; supported: {', '.join(ACCOUNT_SETTINGS)}"
        raise EcrError("ValidationException", msg)
    return name


def get_account_setting(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """GetAccountSetting (stored value or the default)."""
    name = _setting_name(p)
    with ctx.registry.engine.connect() as conn:
        stored = json.loads(read_setting(conn, _ACCOUNT_DOC) or "{}")
    return {"name": name, "value": stored.get(name, ACCOUNT_SETTINGS[name][1])}


def put_account_setting(ctx: EcrContext, p: dict[str, Any]) -> dict[str, Any]:
    """PutAccountSetting with the value checked against the setting's allowed values."""
    name = _setting_name(p)
    value = str(p["value"])
    allowed = ACCOUNT_SETTINGS[name][0]
    if value not in allowed:
        msg = f"Invalid value '{value}' for {name}; allowed: {', '.join(allowed)}"
        raise EcrError("ValidationException", msg)
    with ctx.registry.engine.begin() as conn:
        stored = json.loads(read_setting(conn, _ACCOUNT_DOC) or "{}")
        stored[name] = value
        write_setting(conn, _ACCOUNT_DOC, json.dumps(stored, sort_keys=True), ctx.registry.clock())
    return {"name": name, "value": value}


OPERATIONS = {
    "GetAuthorizationToken": get_authorization_token,
    "DescribeRegistry": describe_registry,
    "GetAccountSetting": get_account_setting,
    "PutAccountSetting": put_account_setting,
}
