"""Registry passwords issued by GetAuthorizationToken: `<key id>.<expiry>.<mac>`, 12 hours.

The password is self-describing and signed with a key derived from the master key, so any
replica can verify it without a lookup table; it names the access key so revoking the key
revokes its tokens. It never contains ':' (the AWS CLI splits `AWS:<password>` on it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass

from tidegate.errors import Unauthorized

TOKEN_LIFETIME_SECONDS = 12 * 3600
_PREFIX = "tg1"


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A registry password and when it stops working (epoch seconds)."""

    password: str
    expires_at: float


class TokenIssuer:
    """Issues and verifies registry passwords bound to an access key."""

    def __init__(self, signing_key: bytes, clock: Callable[[], float] = time.time) -> None:
        self._key = signing_key
        self.clock = clock

    def issue(self, access_key_id: str, lifetime: float = TOKEN_LIFETIME_SECONDS) -> IssuedToken:
        """A password valid for `lifetime` seconds from now."""
        expires = int(self.clock() + lifetime)
        body = f"{_PREFIX}.{access_key_id}.{expires}"
        return IssuedToken(f"{body}.{self._mac(body)}", float(expires))

    def verify(self, password: str) -> str:
        """The access key ID the password was issued to; Unauthorized when bad or expired."""
        parts = password.split(".")
        if len(parts) != 4 or parts[0] != _PREFIX or not parts[2].isdigit():
            msg = "the registry password is not a Tidegate authorization token"
            raise Unauthorized(msg)
        body = ".".join(parts[:3])
        if not hmac.compare_digest(self._mac(body).encode(), parts[3].encode()):
            msg = "the authorization token's signature does not verify"
            raise Unauthorized(msg)
        if int(parts[2]) <= self.clock():
            msg = "the authorization token has expired; run `aws ecr get-login-password` again"
            raise Unauthorized(msg)
        return parts[1]

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
