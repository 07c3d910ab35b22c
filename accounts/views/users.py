"""User administration: administrators for everyone, managers for the MSLs and clinical liaisons
of the teams they lead. A user outside that scope is a 404; every change goes through
accounts.services and into the security log."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.db.models import Exists, OuterRef
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from liaison_crm.pagination import paginate

from .. import services
from ..filters import UserFilter
from ..forms import EditUserForm, InviteUserForm
from ..models import SecurityEvent
from ..roles import manager_required
from ..security import SECOND_FACTOR_TYPES
from .profile import session_rows

ACTIONS = {
    "deactivate": "deactivated",
    "reactivate": "reactivated",
    "reset_second_factor": "second factor reset",
    "end_sessions": "signed out everywhere",
    "resend_invitation": "invitation sent again",
}


def _with_second_factor(qs):
    second_factors = Authenticator.objects.filter(user=OuterRef("pk"), type__in=SECOND_FACTOR_TYPES)
    return qs.annotate(has_second_factor=Exists(second_factors))


@manager_required
@require_http_methods(["GET"])
def users(request: HttpRequest) -> HttpResponse:
    actor = request.user
    base = services.administered_users(actor).select_related("team")
    user_filter = UserFilter(request.GET, queryset=base, teams=services.assignable_teams(actor))
    qs = user_filter.qs if user_filter.is_valid() else base.none()
    page = paginate(_with_second_factor(qs).order_by("last_name", "first_name", "username"), request.GET.get("page"))
    return render(request, "accounts/users.html", {"title": "Users", "filter": user_filter, "page_obj": page})


@manager_required
@require_http_methods(["GET", "POST"])
def user_invite(request: HttpRequest) -> HttpResponse:
    form = InviteUserForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        user = services.invite_user(request=request, by=request.user, **form.cleaned_data)
        messages.success(
            request, f"{user.get_full_name() or user.username} was invited: an email with a link is on its way."
        )
        return redirect("user_detail", pk=user.pk)
    status = 422 if form.errors else 200
    return render(request, "accounts/user_invite.html", {"title": "Invite a user", "form": form}, status=status)


@manager_required
@require_http_methods(["GET", "POST"])
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = request.user
    user = get_object_or_404(_with_second_factor(services.administered_users(actor).select_related("team")), pk=pk)
    form = EditUserForm(request.POST or None, instance=user, actor=actor)
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in EditUserForm.Meta.fields}
        changes = services.change_user(request=request, by=actor, user=user, **fields)
        messages.success(request, "Saved: " + "; ".join(changes) if changes else "Nothing changed.")
        return redirect("user_detail", pk=user.pk)
    events = SecurityEvent.objects.filter(user=user).select_related("actor")[:10]
    context = {
        "title": user.get_full_name() or user.username,
        "subject": user,
        "form": form,
        "sessions": session_rows(user),
        "events": events,
    }
    return render(request, "accounts/user_detail.html", context, status=422 if form.errors else 200)


@manager_required
@require_POST
def user_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    actor = request.user
    user = get_object_or_404(services.administered_users(actor), pk=pk)
    if action == "deactivate":
        services.set_active(request=request, by=actor, user=user, active=False)
    elif action == "reactivate":
        services.set_active(request=request, by=actor, user=user, active=True)
    elif action == "reset_second_factor":
        services.reset_second_factor(request=request, by=actor, user=user)
    elif action == "end_sessions":
        services.end_user_sessions(request=request, by=actor, user=user)
    elif action == "resend_invitation" and not user.has_usable_password():
        services.send_invitation(request=request, user=user, by=actor)
    else:
        messages.error(request, "That action does not apply to this user.")
        return redirect("user_detail", pk=user.pk)
    messages.success(request, f"{user.get_full_name() or user.username}: {ACTIONS[action]}.")
    return redirect("user_detail", pk=user.pk)
