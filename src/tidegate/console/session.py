"""The console session: a signed, timestamped cookie holding the access key ID, the CSRF
token and a one-shot notice. Nothing secret is stored in it; the signature (HMAC with a key
derived from the master key) and the age check make it unforgeable and expiring."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "tidegate_console"
PATH = "/console"


@dataclass(frozen=True, slots=True)
class Session:
    access_key_id: str
    csrf: str
    notice: str = ""

    def with_notice(self, notice: str) -> Session:
        return replace(self, notice=notice)


class SessionCodec:
    """Encodes sessions into cookie values and back; expired or tampered ones read as None."""

    def __init__(self, key: bytes, max_age: int) -> None:
        self.max_age = max_age
        self._serializer = URLSafeTimedSerializer(key, salt="tidegate-console-session")

    @staticmethod
    def new(access_key_id: str) -> Session:
        return Session(access_key_id, secrets.token_urlsafe(32))

    def dumps(self, session: Session) -> str:
        return self._serializer.dumps([session.access_key_id, session.csrf, session.notice])

    def loads(self, value: str | None) -> Session | None:
        if not value:
            return None
        try:
            data = self._serializer.loads(value, max_age=self.max_age)
        except BadSignature:  # SignatureExpired is a BadSignature
            return None
        if not (
            isinstance(data, list) and len(data) == 3 and all(isinstance(x, str) for x in data)
        ):
            return None
        return Session(data[0], data[1], data[2])
