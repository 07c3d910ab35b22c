"""Personal API tokens on the REST API: `Authorization: Bearer <token>`."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from .models import ApiToken
from .services import TOKEN_PREFIX, tokens_allowed

# last_used_at is written at most this often: an UPDATE on every API request would be a write
# per read for a script that polls.
TOUCH_EVERY = timedelta(minutes=1)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """A live token of an active user, with the user's role still allowed tokens. Anything else
    is a 401 with the same answer, so a caller learns nothing about other people's tokens."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("The Authorization header takes one token: Bearer <token>.")
        try:
            secret = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        now = timezone.now()
        token = (
            ApiToken.objects.live(now)
            .select_related("user", "user__team")
            .filter(digest=ApiToken.digest_of(secret))
            .first()
            if secret.startswith(TOKEN_PREFIX)
            else None
        )
        if token is None or not token.user.is_active or not tokens_allowed(token.user):
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = ApiTokenAuthentication
    name = "personalToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token, made on /accounts/api-tokens/ (shown once).",
        }
