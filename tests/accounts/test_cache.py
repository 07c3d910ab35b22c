"""The cache is an accelerator: with Redis unreachable it behaves as an empty cache."""

from __future__ import annotations

import time

from liaison_crm.cache import ResilientRedisCache


def make(location: str) -> ResilientRedisCache:
    return ResilientRedisCache(location, {"OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}})


def test_dead_redis_reads_as_empty_and_writes_are_dropped():
    cache = make("redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert cache.set("k", "v") is None
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["k"]) == {}
    assert cache.add("k", "v") is False
    cache.delete("k")
    started = time.monotonic()
    for _ in range(100):  # while marked down, no connection is even attempted
        cache.get("k")
    assert time.monotonic() - started < 0.5


def test_live_redis_still_caches():
    import os

    url = os.environ.get("REDIS_URL")
    if not url:
        import pytest

        pytest.skip("REDIS_URL not set: the live half of this test runs in CI")
    cache = make(url)
    cache.set("liaison-test-key", {"a": 1}, 30)
    assert cache.get("liaison-test-key") == {"a": 1}
    cache.delete("liaison-test-key")
