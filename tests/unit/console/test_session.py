"""The console session cookie: round trip, tampering, expiry and a different key."""

from __future__ import annotations

import time

from tidegate.console.session import SessionCodec


def test_round_trip_keeps_key_csrf_and_notice() -> None:
    codec = SessionCodec(b"k" * 32, max_age=60)
    session = codec.new("AKIAEXAMPLE").with_notice("Saved.")
    back = codec.loads(codec.dumps(session))
    assert back == session
    assert len(session.csrf) >= 32


def test_tampered_or_foreign_cookie_reads_as_no_session() -> None:
    codec = SessionCodec(b"k" * 32, max_age=60)
    value = codec.dumps(codec.new("AKIAEXAMPLE"))
    assert codec.loads(value[:-2] + ("AA" if not value.endswith("AA") else "BB")) is None
    assert SessionCodec(b"x" * 32, max_age=60).loads(value) is None
    assert codec.loads("") is None
    assert codec.loads("garbage") is None


def test_expired_cookie_reads_as_no_session() -> None:
    codec = SessionCodec(b"k" * 32, max_age=1)
    value = codec.dumps(codec.new("AKIAEXAMPLE"))
    time.sleep(2.1)
    assert codec.loads(value) is None
