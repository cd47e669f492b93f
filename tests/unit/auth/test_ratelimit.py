"""The sign-in limiter's counting, backoff and reset, on an explicit clock."""

from __future__ import annotations

from tidegate.auth.ratelimit import SignInLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock) -> SignInLimiter:
    return SignInLimiter(
        max_failures=3, max_failures_per_address=5, window=60, backoff=10, backoff_max=35,
        clock=clock,
    )  # fmt: skip


def test_key_backoff_doubles_up_to_the_cap_and_expires() -> None:
    clock = Clock()
    lim = limiter(clock)
    for _ in range(2):
        lim.failed("AKIA1", None)
    assert lim.retry_after("AKIA1", None) == 0
    lim.failed("AKIA1", None)
    assert lim.retry_after("AKIA1", None) == 10
    assert lim.retry_after("AKIA2", None) == 0  # another key is not affected
    lim.failed("AKIA1", None)
    assert lim.retry_after("AKIA1", None) == 20
    lim.failed("AKIA1", None)
    assert lim.retry_after("AKIA1", None) == 35  # capped
    clock.now += 35
    assert lim.retry_after("AKIA1", None) == 0


def test_failures_outside_the_window_do_not_count() -> None:
    clock = Clock()
    lim = limiter(clock)
    lim.failed("AKIA1", None)
    lim.failed("AKIA1", None)
    clock.now += 61
    lim.failed("AKIA1", None)
    assert lim.retry_after("AKIA1", None) == 0


def test_address_limit_and_success_clears_only_the_key() -> None:
    clock = Clock()
    lim = limiter(clock)
    for i in range(4):
        lim.failed(f"AKIA{i}", "10.0.0.1")
    lim.succeeded("AKIA9")
    lim.failed("AKIA8", "10.0.0.1")
    assert lim.retry_after("AKIA9", "10.0.0.1") == 10  # the address is held
    assert lim.retry_after("AKIA9", "10.0.0.2") == 0
    for _ in range(3):
        lim.failed("AKIA7", "10.0.0.3")
    lim.succeeded("AKIA7")
    assert lim.retry_after("AKIA7", None) == 0


def test_zero_disables() -> None:
    lim = SignInLimiter(max_failures=0, max_failures_per_address=0, window=60, backoff=10,
                        backoff_max=10)  # fmt: skip
    for _ in range(50):
        lim.failed("AKIA1", "10.0.0.1")
    assert lim.retry_after("AKIA1", "10.0.0.1") == 0
