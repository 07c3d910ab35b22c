"""Request rates (settings.API_THROTTLE_RATES), counted in the default cache: Redis when
REDIS_URL is set, so every web process shares the count. A request without valid credentials is
refused (401) before throttling: there is nobody to count it for, and a token's 256 random bits
leave nothing to guess."""

from __future__ import annotations

from django.conf import settings
from rest_framework import throttling

from accounts.models import ApiToken


class _Rate(throttling.SimpleRateThrottle):
    def get_rate(self) -> str:
        # Read at each request, not once at import, so settings can change (tests, reloads).
        return settings.API_THROTTLE_RATES[self.scope]

    def __init__(self):
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)


class TokenRateThrottle(_Rate):
    scope = "token"

    def get_cache_key(self, request, view) -> str | None:
        if not isinstance(request.auth, ApiToken):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}


class UserRateThrottle(_Rate):
    """Per user, however they came in: a user's tokens and session share one count."""

    scope = "user"

    def get_cache_key(self, request, view) -> str | None:
        if not request.user or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}
