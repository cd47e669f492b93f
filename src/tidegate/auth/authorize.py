"""The one authorization decision: `authorize(principal, action, resource, context)`.

The ECR API, `/v2/`, `/api/` (and later the console and the Inspector API) all ask here.
Identity policies come from the principal's user, resource policies from the repository
(and the registry policy, which covers every resource of the registry). Lookups are cached
for `ttl` seconds per process, so a policy change or revocation takes effect on every
process within that time without a database round trip per request.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TypeVar

from tidegate.auth.policy import Decision, Policy, PolicyError, Request, evaluate, parse_policy
from tidegate.auth.principal import Principal
from tidegate.auth.resource_policies import ResourcePolicyStore
from tidegate.auth.users import UserStore
from tidegate.errors import Denied

CACHE_TTL_SECONDS = 2.0
_T = TypeVar("_T")
_CACHE_ONLY: ContextVar[bool] = ContextVar("tidegate_auth_cache_only", default=False)


class CacheMiss(Exception):
    """A lookup made under `cache_only` needed the database."""


@contextlib.contextmanager
def cache_only() -> Iterator[None]:
    """Within this block a cache lookup that would load raises CacheMiss instead.

    Lets the event loop decide a request from warm caches without a thread hop (which
    costs more than the decision) and hop only when a lookup must reach the database.
    """
    token = _CACHE_ONLY.set(True)
    try:
        yield
    finally:
        _CACHE_ONLY.reset(token)


class TtlCache:
    """A small thread-safe cache whose entries expire after `ttl` seconds.

    One caller reloads an expired entry; callers arriving meanwhile get the previous value
    instead of a database round trip each (32 requests hitting one expired key would
    otherwise all load it at once).
    """

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._items: dict[object, tuple[float, object]] = {}
        self._loading: set[object] = set()

    def forget(self, key: object) -> None:
        with self._lock:
            self._items.pop(key, None)

    def get(self, key: object, load: Callable[[], _T]) -> _T:
        now = self.clock()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and (hit[0] > now or key in self._loading):
                return hit[1]  # type: ignore[return-value]  # stored by the same key's loader
            if _CACHE_ONLY.get():
                raise CacheMiss(key)
            self._loading.add(key)
        try:
            value = load()
        finally:
            with self._lock:
                self._loading.discard(key)
        with self._lock:
            if len(self._items) > 10_000:
                self._items.clear()
            self._items[key] = (now + self.ttl, value)
        return value


def _parse_stored(text: str | None) -> Policy | None:
    if text is None:
        return None
    try:
        return parse_policy(json.loads(text), resource_policy=True)
    except (PolicyError, ValueError):
        # Validated when set; a document that no longer parses grants nothing.
        return None


class Authorizer:
    """Decides requests; `require` raises Denied with AWS's wording."""

    def __init__(
        self,
        users: UserStore,
        resource_policies: ResourcePolicyStore,
        region: str,
        registry_id: str,
        ttl: float = CACHE_TTL_SECONDS,
    ) -> None:
        self.users = users
        self.resource_policies = resource_policies
        self.region = region
        self.registry_id = registry_id
        self._cache = TtlCache(ttl)

    def repository_arn(self, name: str) -> str:
        return f"arn:aws:ecr:{self.region}:{self.registry_id}:repository/{name}"

    def repository_of(self, arn: str) -> str | None:
        prefix = f"arn:aws:ecr:{self.region}:{self.registry_id}:repository/"
        return arn[len(prefix) :] if arn.startswith(prefix) else None

    def forget_resource_policy(self, repository: str | None) -> None:
        """Drop this process's cached copy after a change (others follow within the TTL)."""
        self._cache.forget(("registry",) if repository is None else ("repository", repository))

    def forget_repository(self, repository: str) -> None:
        """Drop this process's cached policy and resource tags of a repository after a change:
        the process that changed them decides on the new state at once."""
        self._cache.forget(("repository", repository))
        self._cache.forget(("tags", repository))

    def identity_policies(self, user_name: str) -> tuple[Policy, ...]:
        return self._cache.get(("user", user_name), lambda: self.users.identity_policies(user_name))

    def resource_policies_for(self, resource: str) -> tuple[Policy, ...]:
        found: list[Policy] = []
        registry = self._cache.get(
            ("registry",),
            lambda: _parse_stored(self.resource_policies.registry_policy(self.registry_id)),
        )
        if registry is not None:
            found.append(registry)
        name = self.repository_of(resource)
        if name is not None and "*" not in name:
            repo = self._cache.get(
                ("repository", name),
                lambda: _parse_stored(self.resource_policies.repository_policy_or_none(name)),
            )
            if repo is not None:
                found.append(repo)
        return tuple(found)

    def context(self, principal: Principal, source_ip: str | None, secure: bool) -> dict[str, str]:
        """The global condition keys of a request."""
        ctx = {
            "aws:PrincipalArn": principal.arn,
            "aws:username": principal.user_name,
            "aws:CurrentTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "aws:EpochTime": str(int(time.time())),
            "aws:SecureTransport": "true" if secure else "false",
            "aws:PrincipalAccount": principal.account_id,
        }
        if source_ip:
            ctx["aws:SourceIp"] = source_ip
        return ctx

    def authorize(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, str | Sequence[str]] | None = None,
        extra_resource_policies: Sequence[Policy] | None = None,
    ) -> Decision:
        """IAM's decision for `principal` doing `action` on `resource`."""
        request = Request(principal.arn, action, resource, self._with_tags(resource, context))
        resource_policies = (
            self.resource_policies_for(resource)
            if extra_resource_policies is None
            else tuple(extra_resource_policies)
        )
        return evaluate(request, self.identity_policies(principal.user_name), resource_policies)

    def _with_tags(
        self, resource: str, context: Mapping[str, str | Sequence[str]] | None
    ) -> dict[str, str | Sequence[str]]:
        """The context plus `ecr:ResourceTag/<key>` for a repository's resource tags."""
        found: dict[str, str | Sequence[str]] = dict(context or {})
        name = self.repository_of(resource)
        if name is not None and "*" not in name:
            tags = self._cache.get(
                ("tags", name), lambda: self.resource_policies.repository_tags(name)
            )
            for key, value in tags.items():
                found.setdefault(f"ecr:ResourceTag/{key}", value)
        return found

    def require(
        self,
        principal: Principal,
        action: str,
        resource: str,
        context: Mapping[str, str | Sequence[str]] | None = None,
    ) -> None:
        """Raise Denied unless allowed, worded as AWS words it."""
        decision = self.authorize(principal, action, resource, context)
        if decision is Decision.ALLOW:
            return
        how = (
            "with an explicit deny"
            if decision is Decision.EXPLICIT_DENY
            else f"because no identity-based or resource-based policy allows the {action} action"
        )
        msg = (
            f"User: {principal.arn} is not authorized to perform: {action} on resource: "
            f"{resource} {how}"
        )
        raise Denied(msg, detail={"action": action, "resource": resource})
