"""A Redis cache that degrades to "no cache" while Redis is down.

The cache only makes pages faster; it must never make them fail. Django's RedisCache raises on
a refused connection, so this backend answers as an empty cache instead, and stops trying for a
few seconds after a failure so a dead Redis costs nothing per request.
"""

from __future__ import annotations

import logging
import time
from functools import wraps

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5.0


def _tolerant(fallback):
    def decorator(method):
        @wraps(method)
        def wrapper(self, *args, **kwargs):
            if time.monotonic() < self._down_until:
                return fallback() if callable(fallback) else fallback
            try:
                return method(self, *args, **kwargs)
            except (RedisError, OSError) as exc:
                self._down_until = time.monotonic() + RETRY_AFTER_SECONDS
                logger.warning("Cache unavailable, serving without it: %s", exc)
                return fallback() if callable(fallback) else fallback

        return wrapper

    return decorator


class ResilientRedisCache(RedisCache):
    _down_until = 0.0

    @_tolerant(False)
    def add(self, *args, **kwargs):
        return super().add(*args, **kwargs)

    def get(self, key, default=None, version=None):
        return self._get(key, default, version) if time.monotonic() >= self._down_until else default

    @_tolerant(None)
    def _get(self, key, default, version):
        return super().get(key, default, version)

    @_tolerant(None)
    def set(self, *args, **kwargs):
        return super().set(*args, **kwargs)

    @_tolerant(False)
    def touch(self, *args, **kwargs):
        return super().touch(*args, **kwargs)

    @_tolerant(False)
    def delete(self, *args, **kwargs):
        return super().delete(*args, **kwargs)

    @_tolerant(dict)
    def get_many(self, *args, **kwargs):
        return super().get_many(*args, **kwargs)

    @_tolerant(False)
    def has_key(self, *args, **kwargs):
        return super().has_key(*args, **kwargs)

    @_tolerant(list)
    def set_many(self, *args, **kwargs):
        return super().set_many(*args, **kwargs)

    @_tolerant(None)
    def delete_many(self, *args, **kwargs):
        return super().delete_many(*args, **kwargs)

    @_tolerant(None)
    def clear(self):
        return super().clear()
