"""Authentication use cases shared by the ECR API and `/v2/`: who is calling, and may they."""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import Engine
from starlette.requests import Request

from tidegate.auth import sigv4
from tidegate.auth.authorize import CACHE_TTL_SECONDS, Authorizer, TtlCache
from tidegate.auth.keys import AccessKey, KeyStore
from tidegate.auth.principal import Principal
from tidegate.auth.resource_policies import ResourcePolicyStore
from tidegate.auth.secrets_box import KEY_FILE, SecretBox, load_or_create_master_key
from tidegate.auth.sigv4 import SignatureProblem
from tidegate.auth.tokens import TokenIssuer
from tidegate.auth.users import UserStore
from tidegate.errors import StorageError, Unauthorized

SIGNING_SERVICE = "ecr"
TOKEN_KEY_PURPOSE = "tidegate registry token v1"  # noqa: S105 (a label, not a secret)
SESSION_KEY_PURPOSE = "tidegate console session v1"
# /v2/ actions an anonymous caller may take under each `anonymous_access` setting.
ANONYMOUS_ACTIONS = {
    "none": frozenset[str](),
    "pull": frozenset({"base", "pull", "catalog"}),
    "push": frozenset({"base", "pull", "catalog", "push", "delete"}),
}


# Kept under its old name for callers that build one.
SignedRequest = sigv4.Received


def signed_request(request: Request, body: bytes) -> SignedRequest:
    """What SigV4 verification needs of an HTTP request whose body has been read."""
    # The path as sent: the client signed its percent-encoding (an ARN in an Inspector2
    # URI label arrives as `arn%3Aaws%3A...%2F...`), which the decoded path has lost.
    raw: bytes | None = request.scope.get("raw_path")
    return SignedRequest(
        method=request.method,
        path=raw.decode("latin-1") if raw else request.url.path,
        query=request.url.query,
        headers={k.lower(): v for k, v in request.headers.items()},
        body=body,
    )


class AuthService:
    """Access keys, registry tokens and the checks both APIs run."""

    def __init__(
        self,
        engine: Engine,
        data_dir: Path,
        clock: Callable[[], float] = time.time,
        *,
        region: str = "us-east-1",
        registry_id: str = "000000000000",
        cache_ttl: float = CACHE_TTL_SECONDS,
    ) -> None:
        box = SecretBox(load_or_create_master_key(data_dir))
        self.keys = KeyStore(engine, box, clock)
        if not self.keys.sealed_with_this_key():
            # Otherwise every signed request would fail later, as a 500, one by one.
            raise StorageError(
                f"{data_dir / KEY_FILE} is not the master key this database's access keys "
                "were sealed with: every process sharing one database must have the same "
                "master.key (copy it from the first replica's data directory; docs/deploy.md)"
            )
        self.tokens = TokenIssuer(box.derive(TOKEN_KEY_PURPOSE), clock)
        # Signs console session cookies; derived from the master key, so every replica
        # sharing the data dir accepts the same sessions and a restart keeps them.
        self.session_key = box.derive(SESSION_KEY_PURPOSE)
        self.users = UserStore(engine, clock)
        self.resource_policies = ResourcePolicyStore(engine, clock)
        self.authorizer = Authorizer(
            self.users, self.resource_policies, region, registry_id, cache_ttl
        )
        self.registry_id = registry_id
        self.clock = clock
        # Key lookups are cached briefly: no DB round trip per request, and a revocation
        # reaches every process within `cache_ttl` seconds.
        self._key_cache = TtlCache(cache_ttl)

    def principal_of(self, key: AccessKey) -> Principal:
        """The user a key acts as."""
        return Principal(key.principal, key.access_key_id, self.registry_id)

    def _active_secret(self, access_key_id: str) -> tuple[AccessKey, str] | None:
        return self._key_cache.get(access_key_id, lambda: self.keys.active_secret(access_key_id))

    def verify_sigv4(self, request: SignedRequest, service: str = SIGNING_SERVICE) -> AccessKey:
        """The access key that signed `request` for `service` (the SigV4 scope: `ecr`,
        `inspector2`); SignatureProblem names the AWS error."""
        auth = sigv4.parse_authorization(request.headers.get("authorization"))
        if auth.service != service:
            raise SignatureProblem(
                "InvalidSignatureException",
                f"Credential should be scoped to correct service: '{service}'.",
            )
        for needed in ("host", "x-amz-date"):
            if needed not in auth.signed_headers:
                raise SignatureProblem(
                    "InvalidSignatureException", f"'{needed}' must be a signed header."
                )
        amz_date = request.headers.get("x-amz-date")
        sigv4.check_time(amz_date, auth.date, self.clock())
        found = self._active_secret(auth.access_key_id)
        if found is None:
            raise SignatureProblem(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        key, secret = found
        sigv4.verify_signature(secret, auth, amz_date or "", request)
        return key

    def verify_basic(self, header: str) -> AccessKey:
        """`Basic AWS:<token>` or `Basic <key id>:<secret>`; Unauthorized otherwise."""
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            msg = "only Basic authentication is accepted"
            raise Unauthorized(msg)
        try:
            user, sep, password = (
                base64.b64decode(value.strip(), validate=True).decode().partition(":")
            )
        except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII header text
            user, sep, password = "", "", ""
        if not sep:
            msg = "malformed Basic credentials"
            raise Unauthorized(msg)
        if user == "AWS":
            key_id = self.tokens.verify(password)
            found = self._active_secret(key_id)
            if found is None:
                msg = "the access key behind this authorization token was revoked"
                raise Unauthorized(msg)
            return found[0]
        return self.verify_secret(user, password)

    def verify_secret(self, access_key_id: str, secret: str) -> AccessKey:
        """The active key whose secret is `secret` (the console's sign-in); Unauthorized else."""
        found = self._active_secret(access_key_id)
        if found is None or not hmac.compare_digest(found[1].encode(), secret.encode()):
            msg = "unknown access key or wrong secret"
            raise Unauthorized(msg)
        return found[0]


def anonymous_allowed(setting: str, action: str) -> bool:
    """Whether `anonymous_access` = `setting` lets a caller without credentials do `action`."""
    return action in ANONYMOUS_ACTIONS.get(setting, frozenset())
