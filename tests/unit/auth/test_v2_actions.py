"""Which ECR action each `/v2/` request needs (ECR's documented push/pull permissions)."""

from __future__ import annotations

import threading

import pytest

from tidegate.auth.authorize import TtlCache
from tidegate.auth.v2 import v2_action

CASES = [
    ("GET", "/v2/", "base", None),
    ("GET", "/v2/_catalog", "catalog", "ecr:DescribeRepositories"),
    ("GET", "/v2/a/manifests/v1", "pull", "ecr:BatchGetImage"),
    ("HEAD", "/v2/a/manifests/sha256:00", "pull", "ecr:BatchGetImage"),
    ("GET", "/v2/a/referrers/sha256:00", "pull", "ecr:BatchGetImage"),
    ("GET", "/v2/a/tags/list", "pull", "ecr:ListImages"),
    ("GET", "/v2/a/blobs/sha256:00", "pull", "ecr:GetDownloadUrlForLayer"),
    ("HEAD", "/v2/a/blobs/sha256:00", "pull", "ecr:BatchCheckLayerAvailability"),
    ("POST", "/v2/a/blobs/uploads/", "push", "ecr:InitiateLayerUpload"),
    ("PATCH", "/v2/a/blobs/uploads/u1", "push", "ecr:UploadLayerPart"),
    ("PUT", "/v2/a/blobs/uploads/u1", "push", "ecr:CompleteLayerUpload"),
    ("PUT", "/v2/a/manifests/v1", "push", "ecr:PutImage"),
    ("DELETE", "/v2/a/manifests/sha256:00", "delete", "ecr:BatchDeleteImage"),
    ("DELETE", "/v2/a/blobs/sha256:00", "delete", "ecr:BatchDeleteImage"),
]


@pytest.mark.parametrize(("method", "path", "verb", "action"), CASES)
def test_v2_action(method: str, path: str, verb: str, action: str | None) -> None:
    name = path.split("/")[2] if verb not in ("base", "catalog") else None
    assert v2_action(method, path, verb, name) == action


def test_route_is_read_after_the_repository_name() -> None:
    """Repositories named like route segments map by the route, not their name."""
    name = "team/manifests/x"
    path = f"/v2/{name}/blobs/uploads/"
    assert v2_action("POST", path, "push", name) == "ecr:InitiateLayerUpload"
    assert v2_action("GET", f"/v2/{name}/blobs/sha256:00", "pull", name) == (
        "ecr:GetDownloadUrlForLayer"
    )


def test_ttl_cache_reloads_after_ttl_and_on_forget() -> None:
    now = [0.0]
    cache = TtlCache(2.0, clock=lambda: now[0])
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert cache.get("k", load) == 1
    now[0] = 1.9
    assert cache.get("k", load) == 1
    now[0] = 2.1
    assert cache.get("k", load) == 2
    cache.forget("k")
    assert cache.get("k", load) == 3


def test_ttl_cache_has_one_reloader_and_the_others_keep_the_old_value() -> None:
    now = [0.0]
    cache = TtlCache(2.0, clock=lambda: now[0])
    assert cache.get("k", lambda: "old") == "old"
    now[0] = 3.0
    started, release = threading.Event(), threading.Event()

    def slow_load() -> str:
        started.set()
        release.wait(10)
        return "new"

    reloader = threading.Thread(target=lambda: cache.get("k", slow_load))
    reloader.start()
    assert started.wait(10)
    # While one caller reloads, another gets the previous value and loads nothing.
    assert cache.get("k", lambda: "second loader") == "old"
    release.set()
    reloader.join(10)
    assert cache.get("k", lambda: "third loader") == "new"
