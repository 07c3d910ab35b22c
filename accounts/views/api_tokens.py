"""A user's own personal API tokens: made, named and revoked here; the secret is shown once."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from .. import services
from ..forms import ApiTokenForm
from ..models import ApiToken


@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    user = request.user
    allowed = services.tokens_allowed(user)
    form = ApiTokenForm(request.POST or None)
    secret = None
    status = 200
    if request.method == "POST":
        if not allowed:
            raise PermissionDenied("API tokens are turned off for your role.")
        status = 422
        if form.is_valid():
            try:
                _, secret = services.create_api_token(request=request, user=user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field, errors)
            else:
                status = 201
                form = ApiTokenForm()
    context = {
        "title": "API tokens",
        "form": form,
        "tokens": ApiToken.objects.filter(user=user),
        "secret": secret,
        "allowed": allowed,
        "max_days": settings.API_TOKEN_MAX_DAYS,
    }
    return render(request, "accounts/api_tokens.html", context, status=status)


@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)  # another user's token is a 404
    services.revoke_api_token(request=request, token=token, by=request.user)
    messages.success(request, f"The token “{token.name}” was revoked: it no longer works.")
    return redirect("api_tokens")
