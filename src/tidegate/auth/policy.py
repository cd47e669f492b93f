"""IAM's policy language: grammar and validation, and evaluation as IAM documents it.

Pure: no database, no web. A document is parsed once into frozen values (`parse_policy`),
then `evaluate` decides a request against identity and resource policies: an explicit Deny
in any of them wins, else an Allow in any of them, else the implicit deny.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from tidegate.inputs import load_json

VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal",
     "NotPrincipal", "Condition"}
)  # fmt: skip
_ACTION_RE = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$")
_ACCOUNT_RE = re.compile(r"^[0-9]{12}$")


class PolicyError(ValueError):
    """A document IAM would refuse; the message names the fault and where it is."""


class Decision(enum.StrEnum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


@dataclass(frozen=True, slots=True)
class Condition:
    """One operator/key/values triple of a Condition block."""

    operator: str  # without the IfExists suffix
    key: str  # as written; looked up case-insensitively like IAM does
    values: tuple[str, ...]
    if_exists: bool = False


@dataclass(frozen=True, slots=True)
class Statement:
    effect: str  # "Allow" or "Deny"
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None  # None with not_resources None: the attached one
    not_resources: tuple[str, ...] | None = None
    principals: tuple[str, ...] | None = None  # "*", ARNs or account ids; None: identity policy
    not_principals: tuple[str, ...] | None = None
    conditions: tuple[Condition, ...] = ()
    sid: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    statements: tuple[Statement, ...]
    version: str = "2012-10-17"


@dataclass(frozen=True, slots=True)
class Request:
    """What is being decided: who, doing what, to which ARN, with which context keys."""

    principal_arn: str
    action: str  # "ecr:PutImage"
    resource: str  # an ARN, or "*" for actions without a resource (GetAuthorizationToken)
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)


# ---- grammar -------------------------------------------------------------------------------


def parse_policy(
    document: str | Mapping[str, Any],
    *,
    resource_policy: bool = False,
    known_actions: Mapping[str, frozenset[str]] | None = None,
) -> Policy:
    """Parse and validate an IAM policy document; PolicyError names what is wrong.

    `resource_policy` requires a Principal in each statement (and forbids it otherwise), as
    IAM does for the two kinds. `known_actions` maps a service prefix to its action names;
    an action of a listed service that names (or, with wildcards, matches) none is refused.
    """
    if isinstance(document, str):
        try:
            doc = load_json(document)
        except ValueError as exc:
            msg = f"the policy is not valid JSON ({exc})"
            raise PolicyError(msg) from None
    else:
        doc = document
    if not isinstance(doc, Mapping):
        msg = "the policy must be a JSON object"
        raise PolicyError(msg)
    unknown = set(doc) - {"Version", "Id", "Statement"}
    if unknown:
        msg = f"unknown top-level element {sorted(unknown)[0]!r}"
        raise PolicyError(msg)
    version = doc.get("Version", "2008-10-17")
    if version not in VERSIONS:
        msg = f"Version {version!r} is not one of {', '.join(VERSIONS)}"
        raise PolicyError(msg)
    raw = doc.get("Statement")
    if isinstance(raw, Mapping):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        msg = "Statement must be an object or a non-empty list of objects"
        raise PolicyError(msg)
    statements = tuple(
        _statement(s, f"Statement[{i}]", resource_policy, known_actions or {})
        for i, s in enumerate(raw)
    )
    return Policy(statements, version)


def _strings(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    msg = f"{where} must be a string or a non-empty list of strings"
    raise PolicyError(msg)


def _statement(
    raw: object, where: str, resource_policy: bool, known: Mapping[str, frozenset[str]]
) -> Statement:
    if not isinstance(raw, Mapping):
        msg = f"{where} must be an object"
        raise PolicyError(msg)
    unknown = set(raw) - _STATEMENT_KEYS
    if unknown:
        msg = f"{where} has an unknown element {sorted(unknown)[0]!r}"
        raise PolicyError(msg)
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        msg = f"{where}.Effect must be 'Allow' or 'Deny', not {effect!r}"
        raise PolicyError(msg)
    sid = raw.get("Sid", "")
    if not isinstance(sid, str) or not re.fullmatch(r"[A-Za-z0-9 ]*", sid):
        msg = f"{where}.Sid must contain only letters, digits and spaces"
        raise PolicyError(msg)
    if ("Action" in raw) == ("NotAction" in raw):
        msg = f"{where} needs exactly one of Action or NotAction"
        raise PolicyError(msg)
    action_key = "Action" if "Action" in raw else "NotAction"
    actions = _strings(raw[action_key], f"{where}.{action_key}")
    for action in actions:
        _check_action(action, f"{where}.{action_key}", known)
    if "Resource" in raw and "NotResource" in raw:
        msg = f"{where} cannot have both Resource and NotResource"
        raise PolicyError(msg)
    if not resource_policy and "Resource" not in raw and "NotResource" not in raw:
        msg = f"{where} needs a Resource or NotResource element"
        raise PolicyError(msg)
    resources = _strings(raw["Resource"], f"{where}.Resource") if "Resource" in raw else None
    not_resources = (
        _strings(raw["NotResource"], f"{where}.NotResource") if "NotResource" in raw else None
    )
    for arn in (*(resources or ()), *(not_resources or ())):
        if arn != "*" and not arn.startswith("arn:"):
            msg = f"{where}: resource {arn!r} is not '*' or an ARN"
            raise PolicyError(msg)
    has_principal = "Principal" in raw or "NotPrincipal" in raw
    if resource_policy and not has_principal:
        msg = f"{where} needs a Principal (a resource policy says whom it applies to)"
        raise PolicyError(msg)
    if not resource_policy and has_principal:
        msg = f"{where}: an identity policy cannot have a Principal element"
        raise PolicyError(msg)
    principals = _principals(raw["Principal"], f"{where}.Principal") if "Principal" in raw else None
    not_principals = (
        _principals(raw["NotPrincipal"], f"{where}.NotPrincipal") if "NotPrincipal" in raw else None
    )
    conditions = _conditions(raw.get("Condition"), f"{where}.Condition")
    return Statement(
        effect=effect,
        actions=actions if action_key == "Action" else (),
        not_actions=actions if action_key == "NotAction" else None,
        resources=resources,
        not_resources=not_resources,
        principals=principals,
        not_principals=not_principals,
        conditions=conditions,
        sid=sid,
    )


def _check_action(action: str, where: str, known: Mapping[str, frozenset[str]]) -> None:
    if action == "*":
        return
    if not _ACTION_RE.match(action):
        msg = f"{where}: {action!r} is not '*' or 'service:Action'"
        raise PolicyError(msg)
    service, _, name = action.partition(":")
    names = known.get(service.lower())
    if names is None:
        return
    pattern = _wildcard(name, ignore_case=True)
    if not any(pattern.fullmatch(n) for n in names):
        msg = f"{where}: unknown action {action!r} (no {service} action matches it)"
        raise PolicyError(msg)


def _principals(value: object, where: str) -> tuple[str, ...]:
    if value == "*":
        return ("*",)
    if not isinstance(value, Mapping) or set(value) - {"AWS"} or "AWS" not in value:
        msg = f"{where} must be '*' or {{\"AWS\": <ARN, account id or list>}}"
        raise PolicyError(msg)
    found = _strings(value["AWS"], f"{where}.AWS")
    for p in found:
        if p != "*" and not _ACCOUNT_RE.match(p) and not p.startswith("arn:aws:iam::"):
            msg = f"{where}: {p!r} is not '*', an account id or an IAM ARN"
            raise PolicyError(msg)
    return found


def _conditions(value: object, where: str) -> tuple[Condition, ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        msg = f"{where} must be an object of operators"
        raise PolicyError(msg)
    found: list[Condition] = []
    for op, block in value.items():
        base, if_exists = (op[: -len("IfExists")], True) if op.endswith("IfExists") else (op, False)
        if base not in OPERATORS:
            msg = f"{where}: unsupported condition operator {op!r}"
            raise PolicyError(msg)
        if not isinstance(block, Mapping) or not block:
            msg = f"{where}.{op} must be an object of condition keys"
            raise PolicyError(msg)
        for key, raw in block.items():
            values = _condition_values(raw, f"{where}.{op}.{key}")
            _check_values(base, values, f"{where}.{op}.{key}")
            found.append(Condition(base, key, values, if_exists))
    return tuple(found)


def _condition_values(raw: object, where: str) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        msg = f"{where} needs at least one value"
        raise PolicyError(msg)
    out: list[str] = []
    for item in items:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            out.append(str(item))
        else:
            msg = f"{where}: condition values are strings, numbers or booleans"
            raise PolicyError(msg)
    return tuple(out)


def _check_values(operator: str, values: tuple[str, ...], where: str) -> None:
    try:
        if operator in ("IpAddress", "NotIpAddress"):
            for v in values:
                ipaddress.ip_network(v, strict=False)
        elif operator.startswith("Date"):
            for v in values:
                _date(v)
        elif operator == "Bool" and any(v.lower() not in ("true", "false") for v in values):
            raise ValueError
    except ValueError:
        msg = f"{where}: {values!r} is not valid for {operator}"
        raise PolicyError(msg) from None


# ---- evaluation ----------------------------------------------------------------------------


def evaluate(
    request: Request,
    identity_policies: Iterable[Policy] = (),
    resource_policies: Iterable[Policy] = (),
) -> Decision:
    """IAM's decision for one account: explicit Deny, else any Allow, else implicit deny."""
    allowed = False
    for policy, is_resource in (
        *((p, False) for p in identity_policies),
        *((p, True) for p in resource_policies),
    ):
        for statement in policy.statements:
            if not _applies(statement, request, is_resource):
                continue
            if statement.effect == "Deny":
                return Decision.EXPLICIT_DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def _applies(statement: Statement, request: Request, is_resource: bool) -> bool:
    if statement.not_actions is not None:
        if any(_action_matches(a, request.action) for a in statement.not_actions):
            return False
    elif not any(_action_matches(a, request.action) for a in statement.actions):
        return False
    if statement.resources is not None:
        if not any(_resource_matches(r, request.resource) for r in statement.resources):
            return False
    elif statement.not_resources is not None and any(
        _resource_matches(r, request.resource) for r in statement.not_resources
    ):
        return False
    if is_resource:
        if statement.principals is not None and not any(
            _principal_matches(p, request.principal_arn) for p in statement.principals
        ):
            return False
        if statement.not_principals is not None and any(
            _principal_matches(p, request.principal_arn) for p in statement.not_principals
        ):
            return False
    return all(_condition_holds(c, request.context) for c in statement.conditions)


@lru_cache(maxsize=4096)
def _wildcard(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM's wildcards: `*` any run of characters, `?` any one character."""
    body = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _action_matches(pattern: str, action: str) -> bool:
    # Action names are case-insensitive in IAM; resource ARNs are not.
    return _wildcard(pattern, ignore_case=True).fullmatch(action) is not None


def _resource_matches(pattern: str, arn: str) -> bool:
    return _wildcard(pattern, ignore_case=False).fullmatch(arn) is not None


def _principal_matches(pattern: str, principal_arn: str) -> bool:
    if pattern == "*" or pattern == principal_arn:
        return True
    # An account id (or its :root ARN) names every principal of that account.
    account = pattern if _ACCOUNT_RE.match(pattern) else None
    if account is None and pattern.startswith("arn:aws:iam::") and pattern.endswith(":root"):
        account = pattern[len("arn:aws:iam::") : -len(":root")]
    return account is not None and principal_arn.startswith(f"arn:aws:iam::{account}:")


def _context_values(context: Mapping[str, str | Sequence[str]], key: str) -> tuple[str, ...] | None:
    wanted = key.lower()
    for name, value in context.items():
        if name.lower() == wanted:
            return (value,) if isinstance(value, str) else tuple(value)
    return None


def _condition_holds(condition: Condition, context: Mapping[str, str | Sequence[str]]) -> bool:
    present = _context_values(context, condition.key)
    negated = condition.operator in NEGATED
    if present is None:
        # IAM: a missing key never matches; a negated operator is then true, and
        # ...IfExists makes any operator true.
        return condition.if_exists or negated
    match = OPERATORS[condition.operator]
    hits = any(match(have, want) for have in present for want in condition.values)
    if negated:
        # The Not operators are the complement of their positive form.
        return not hits
    return hits


def _date(text: str) -> datetime:
    if re.fullmatch(r"[0-9]+", text):
        return datetime.fromtimestamp(int(text), UTC)
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _ip_in(have: str, want: str) -> bool:
    try:
        return ipaddress.ip_address(have) in ipaddress.ip_network(want, strict=False)
    except ValueError:
        return False


def _date_cmp(compare: Callable[[datetime, datetime], bool]) -> Callable[[str, str], bool]:
    def check(have: str, want: str) -> bool:
        try:
            return compare(_date(have), _date(want))
        except ValueError:
            return False

    return check


# Each operator as "does the request value `have` match the policy value `want`"; the Not
# forms use their positive matcher and are complemented in _condition_holds.
OPERATORS: dict[str, Callable[[str, str], bool]] = {
    "StringEquals": lambda have, want: have == want,
    "StringNotEquals": lambda have, want: have == want,
    "StringEqualsIgnoreCase": lambda have, want: have.lower() == want.lower(),
    "StringNotEqualsIgnoreCase": lambda have, want: have.lower() == want.lower(),
    "StringLike": lambda have, want: _resource_matches(want, have),
    "StringNotLike": lambda have, want: _resource_matches(want, have),
    "ArnEquals": lambda have, want: have == want,
    "ArnNotEquals": lambda have, want: have == want,
    "ArnLike": lambda have, want: _resource_matches(want, have),
    "ArnNotLike": lambda have, want: _resource_matches(want, have),
    "Bool": lambda have, want: have.lower() == want.lower(),
    "IpAddress": _ip_in,
    "NotIpAddress": _ip_in,
    "DateEquals": _date_cmp(lambda a, b: a == b),
    "DateNotEquals": _date_cmp(lambda a, b: a == b),
    "DateLessThan": _date_cmp(lambda a, b: a < b),
    "DateLessThanEquals": _date_cmp(lambda a, b: a <= b),
    "DateGreaterThan": _date_cmp(lambda a, b: a > b),
    "DateGreaterThanEquals": _date_cmp(lambda a, b: a >= b),
}
NEGATED = frozenset(
    {"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals",
     "ArnNotLike", "NotIpAddress", "DateNotEquals"}
)  # fmt: skip
