"""The permission matrix: every URL pattern × every role × its methods, against an explicit table.

The URL patterns are walked from the resolver, so a new page cannot escape this test: a pattern
missing from EXPECTED fails `test_every_url_pattern_is_in_the_table`.

Roles: anonymous; msl / msl_other (two medical-affairs teams); nurse / nurse_other (two
clinical-liaison teams); manager (leads the teams of msl and nurse) / manager_other (leads the
others'); admin. Every record in the world belongs to the teams of msl, nurse and manager, so
for a detail page the "other" users are the outsiders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .world import World, build_world

ROLES = ["anonymous", "msl", "msl_other", "nurse", "nurse_other", "manager", "manager_other", "admin"]

LOGIN = "login"  # 302 to the login page
OK = 200
FORBIDDEN = 403
HIDDEN = 404
NOT_ALLOWED = 405
UNAUTHENTICATED = 401  # the API answers a request without credentials, it does not redirect
# A write endpoint that the role may use, hit with an empty body: the form re-renders with
# errors (200/422), or a service refuses it (400/409), or the action succeeds (a redirect, or the
# API's 200/201).
WRITE = "write"
WRITE_STATUSES = {200, 201, 302, 400, 409, 422}


def every(status, **overrides) -> dict[str, object]:
    table = dict.fromkeys(ROLES, status)
    table["anonymous"] = LOGIN
    table.update(overrides)
    return table


def api(table: dict[str, object]) -> dict[str, object]:
    """The same table for an API route: signed out is a 401 there."""
    return {**table, "anonymous": UNAUTHENTICATED}


@dataclass
class Row:
    """Expected statuses for one URL name; kwargs build the URL from the world."""

    get: dict[str, object] | None = None
    post: dict[str, object] | None = None
    kwargs: Callable[[World], dict] = field(default=lambda w: {})


MEDICAL_SIDE = every(OK, nurse=FORBIDDEN, nurse_other=FORBIDDEN)
PHI_SIDE = every(OK, msl=FORBIDDEN, msl_other=FORBIDDEN)
SIGNED_IN = every(OK)
# A page about one record of the first teams: outsiders (other team) get 404, MSLs 403.
CASE_PAGE = every(OK, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse_other=HIDDEN, manager_other=HIDDEN)
CASE_WRITE = every(WRITE, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse_other=HIDDEN, manager_other=HIDDEN)
MANAGERS_ONLY = every(OK, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN)
MEDICAL_WRITE = every(WRITE, nurse=FORBIDDEN, nurse_other=FORBIDDEN)
SIGNED_IN_WRITE = every(WRITE)
# A medical-affairs record of msl's team: the other team's MSL and manager get 404, liaisons 403.
MA_PAGE = every(OK, msl_other=HIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN, manager_other=HIDDEN)
MA_WRITE = every(WRITE, msl_other=HIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN, manager_other=HIDDEN)
# Only the MSL who wrote it edits an interaction or an insight.
AUTHOR_ONLY = every(FORBIDDEN, msl=OK, msl_other=HIDDEN, manager_other=HIDDEN)
AUTHOR_WRITE = every(FORBIDDEN, msl=WRITE, msl_other=HIDDEN, manager_other=HIDDEN)
# Recording a visit, an insight or an inquiry is an MSL's own act (about any physician).
MSL_ONLY = every(FORBIDDEN, msl=OK, msl_other=OK)
MSL_WRITE = every(FORBIDDEN, msl=WRITE, msl_other=WRITE)
# An import is seen by the user who uploaded it (and admins), nobody else.
OWN_IMPORT = every(HIDDEN, msl=OK, nurse=FORBIDDEN, nurse_other=FORBIDDEN, admin=OK)
# msl's own follow-up: msl, the managers of msl's team and admins act on it; everyone else 404.
MSL_FOLLOW_UP_WRITE = every(HIDDEN, msl=WRITE, manager=WRITE, admin=WRITE)
# nurse's follow-up about a case: never reachable by an MSL, whatever the team.
NURSE_FOLLOW_UP_WRITE = every(HIDDEN, nurse=WRITE, manager=WRITE, admin=WRITE)
# The form a row's menu loads (GET of the same action): the same people, the same 404s.
NURSE_FOLLOW_UP_FORM = every(HIDDEN, nurse=OK, manager=OK, admin=OK)
# nurse's outreach event (team CL North): nurse, the team's manager, admins.
EVENT_PAGE = every(HIDDEN, nurse=OK, manager=OK, admin=OK)
EVENT_WRITE = every(HIDDEN, nurse=WRITE, manager=WRITE, admin=WRITE)
GET_ONLY = every(NOT_ALLOWED)
# A PHI view of one method, asked with the other: MSLs are refused before the method is looked at.
PHI_GET_ONLY = every(NOT_ALLOWED, msl=FORBIDDEN, msl_other=FORBIDDEN)
# A case's document (its bytes, preview, thumbnail, "entered in error"): Document.visible_to finds
# none for an MSL or another team, so 404 for them all.
CASE_DOCUMENT = every(OK, msl=HIDDEN, msl_other=HIDDEN, nurse_other=HIDDEN, manager_other=HIDDEN)
CASE_DOCUMENT_WRITE = every(WRITE, msl=HIDDEN, msl_other=HIDDEN, nurse_other=HIDDEN, manager_other=HIDDEN)


MANAGERS_WRITE = every(WRITE, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN)
MANAGERS_GET_ONLY = every(NOT_ALLOWED, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN)
# A user of the first teams: their manager and administrators; the other manager 404.
TEAM_USER = every(OK, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN, manager_other=HIDDEN)
TEAM_USER_WRITE = {**TEAM_USER, "manager": WRITE, "admin": WRITE}
ADMINS_ONLY = every(FORBIDDEN, admin=OK)
ADMINS_GET_ONLY = every(FORBIDDEN, admin=NOT_ALLOWED)


# The API's tables (signed out, a 401; a role's refusal before the method is looked at).
MEDICAL_GET_ONLY = every(NOT_ALLOWED, nurse=FORBIDDEN, nurse_other=FORBIDDEN)
CASE_UPLOAD = {**CASE_WRITE, **dict.fromkeys(("nurse", "manager", "admin"), 415)}  # a file, not JSON


def api_case(name: str, get=PHI_GET_ONLY, post=CASE_WRITE, item: str | None = None) -> tuple[str, Row]:
    def kwargs(w: World) -> dict:
        return {"pk": w.case.pk, **({"item_pk": getattr(w, item).pk} if item else {})}

    return f"api:case-{name}", Row(get=api(get), post=api(post), kwargs=kwargs)


def api_medical(name: str, obj: str, get, post=MEDICAL_GET_ONLY) -> tuple[str, Row]:
    return f"api:{name}", Row(get=api(get), post=api(post), kwargs=lambda w: {"pk": getattr(w, obj).pk})


API_ROWS = dict(
    [
        *(api_case(action) for action in (
            "accept", "admit", "assign", "cancel", "checklist", "communications", "consents", "coverages",
            "decline", "discharge", "eligibility", "follow-ups", "medications", "start-evaluation", "treatment-plan",
        )),
        api_case("detail", get=CASE_PAGE, post=PHI_GET_ONLY),
        api_case("documents", get=CASE_PAGE, post=CASE_UPLOAD),
        api_case("patient", post=PHI_GET_ONLY),
        api_case("consent", post=PHI_GET_ONLY, item="consent"),
        api_case("reconsent", item="consent"),
        api_case("coverage", post=PHI_GET_ONLY, item="coverage"),
        api_case("medication", post=PHI_GET_ONLY, item="medication"),
        ("api:case-list", Row(get=api(PHI_SIDE), post=api(every(WRITE, msl=FORBIDDEN, msl_other=FORBIDDEN)))),
        ("api:patient-list", Row(get=api(PHI_SIDE), post=api(PHI_GET_ONLY))),
        ("api:patient-detail", Row(get=api(CASE_PAGE), post=api(PHI_GET_ONLY), kwargs=lambda w: {"pk": w.patient.pk})),
        *((f"api:{name}-list", Row(get=api(SIGNED_IN), post=api(MEDICAL_WRITE))) for name in (
            "physician", "institution", "trial", "site")),
        *(api_medical(f"{name}-detail", name, SIGNED_IN, every(NOT_ALLOWED)) for name in (
            "physician", "institution", "trial", "site")),
        ("api:product-list", Row(get=api(MEDICAL_SIDE), post=api(MEDICAL_WRITE))),
        api_medical("product-detail", "product", MEDICAL_SIDE),
        *((f"api:{name}-list", Row(get=api(MEDICAL_SIDE), post=api(MSL_WRITE))) for name in (
            "interaction", "insight", "inquiry")),
        ("api:training-list", Row(get=api(MEDICAL_SIDE), post=api(MSL_WRITE))),
        ("api:interaction-bulk", Row(get=api(MEDICAL_GET_ONLY), post=api(MSL_WRITE))),
        *(api_medical(f"{name}-detail", name, MA_PAGE) for name in ("interaction", "insight", "inquiry", "training")),
        api_medical("insight-transition", "insight", MEDICAL_GET_ONLY, every(
            WRITE, msl=FORBIDDEN, msl_other=HIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN, manager_other=HIDDEN)),
        api_medical("inquiry-answer", "inquiry", MEDICAL_GET_ONLY, MA_WRITE),
        api_medical("inquiry-close", "inquiry", MEDICAL_GET_ONLY, MA_WRITE),
        api_medical("site-advance", "site", every(NOT_ALLOWED), MEDICAL_WRITE),
    ]
)  # fmt: skip


def BAD_LINK(w: World) -> dict:
    return {"uidb64": "MQ", "token": "not-a-token"}


def SSO(w: World) -> dict:
    return {"provider_id": "sso"}


def colleague(w: World) -> dict:
    return {"pk": w.colleague.pk}


def participation(w: World) -> dict:
    return {"pk": w.participation.pk}


def case(w: World) -> dict:
    return {"pk": w.case.pk}


EXPECTED: dict[str, Row] = {
    "home": Row(get=every(302)),
    "healthz": Row(get=every(OK, anonymous=OK)),
    "login": Row(get=every(302, anonymous=OK), post=every(302, anonymous=OK)),
    "logout": Row(get=every(NOT_ALLOWED), post=every(302, anonymous=302)),
    "password_change": Row(get=SIGNED_IN, post=every(OK)),
    # Sign-in (issue 18). Password reset and invitations are for anyone, signed in or not; a bad
    # link shows its refusal (200). The names allauth's pages reverse are the same views.
    "account_login": Row(get=every(302, anonymous=OK), post=every(302, anonymous=OK)),
    "account_logout": Row(get=every(NOT_ALLOWED), post=every(302, anonymous=302)),
    "account_change_password": Row(get=SIGNED_IN, post=every(OK)),
    "account_reauthenticate": Row(get=SIGNED_IN, post=every(OK)),
    "password_reset": Row(get=every(OK, anonymous=OK), post=every(OK, anonymous=OK)),
    "account_reset_password": Row(get=every(OK, anonymous=OK), post=every(OK, anonymous=OK)),
    "password_reset_done": Row(get=every(OK, anonymous=OK)),
    "password_reset_confirm": Row(get=every(OK, anonymous=OK), post=every(OK, anonymous=OK), kwargs=BAD_LINK),
    "password_reset_complete": Row(get=every(OK, anonymous=OK)),
    "invitation_accept": Row(get=every(OK, anonymous=OK), post=every(OK, anonymous=OK), kwargs=BAD_LINK),
    # The second factor (django-allauth's mfa): one's own only. Nobody in the world has one yet,
    # so the pages about an existing one are 404s, and there is no pending sign-in to confirm.
    "mfa_index": Row(get=SIGNED_IN, post=GET_ONLY),
    "mfa_activate_totp": Row(get=SIGNED_IN, post=every(OK)),
    "mfa_deactivate_totp": Row(get=every(HIDDEN), post=every(HIDDEN)),
    "mfa_view_recovery_codes": Row(get=every(HIDDEN)),
    "mfa_download_recovery_codes": Row(get=every(HIDDEN)),
    "mfa_generate_recovery_codes": Row(get=SIGNED_IN, post=every(OK)),
    # Security keys: one's own (the world's key is the colleague's, so everyone else gets 404).
    "mfa_list_webauthn": Row(get=SIGNED_IN, post=GET_ONLY),
    "mfa_add_webauthn": Row(get=SIGNED_IN, post=every(OK)),
    "mfa_reauthenticate_webauthn": Row(get=every(302), post=every(302)),
    "mfa_edit_webauthn": Row(get=every(HIDDEN), post=every(HIDDEN), kwargs=lambda w: {"pk": w.colleague_key.pk}),
    "mfa_remove_webauthn": Row(get=every(HIDDEN), post=every(HIDDEN), kwargs=lambda w: {"pk": w.colleague_key.pk}),
    "mfa_authenticate": Row(get=every(302, anonymous=302), post=every(302, anonymous=302)),
    "mfa_reauthenticate": Row(get=every(302), post=every(302)),
    # Single sign-on: not configured in the world, so the provider's views are 404 for everyone.
    "openid_connect_login": Row(get=every(HIDDEN, anonymous=HIDDEN), kwargs=SSO),
    "openid_connect_callback": Row(get=every(HIDDEN, anonymous=HIDDEN), kwargs=SSO),
    "socialaccount_login_cancelled": Row(get=every(OK, anonymous=OK)),
    "socialaccount_login_error": Row(get=every(401)),
    "socialaccount_signup": Row(get=every(302, anonymous=302), post=every(302, anonymous=302)),
    "socialaccount_connections": Row(get=SIGNED_IN, post=every(OK)),
    "usersessions_list": Row(get=SIGNED_IN, post=GET_ONLY),
    "api_tokens": Row(get=SIGNED_IN, post=SIGNED_IN_WRITE),
    "api_token_revoke": Row(
        get=every(NOT_ALLOWED), post=every(HIDDEN), kwargs=lambda w: {"pk": w.objects["colleague_token"].pk}
    ),
    # The API: its root, schema and documentation (the resources are further down).
    "api:api-root": Row(get=api(SIGNED_IN), post=api(every(NOT_ALLOWED))),
    "api:schema": Row(get=api(SIGNED_IN), post=api(every(NOT_ALLOWED))),
    "api:docs": Row(get=SIGNED_IN, post=every(NOT_ALLOWED)),
    # The API's outreach and reports (the same people as the pages; signed out, a 401).
    "api:follow-up-list": Row(get=api(SIGNED_IN), post=api(every(NOT_ALLOWED))),
    "api:follow-up-detail": Row(
        get=api(NURSE_FOLLOW_UP_FORM), post=api(every(NOT_ALLOWED)), kwargs=lambda w: {"pk": w.nurse_follow_up.pk}
    ),
    "api:follow-up-complete": Row(
        get=api(every(NOT_ALLOWED)), post=api(MSL_FOLLOW_UP_WRITE), kwargs=lambda w: {"pk": w.msl_follow_up.pk}
    ),
    "api:follow-up-snooze": Row(
        get=api(every(NOT_ALLOWED)), post=api(NURSE_FOLLOW_UP_WRITE), kwargs=lambda w: {"pk": w.nurse_follow_up.pk}
    ),
    "api:follow-up-reassign": Row(
        get=api(every(NOT_ALLOWED)), post=api(NURSE_FOLLOW_UP_WRITE), kwargs=lambda w: {"pk": w.nurse_follow_up.pk}
    ),
    "api:notification-list": Row(get=api(SIGNED_IN), post=api(every(NOT_ALLOWED))),
    "api:notification-detail": Row(
        get=api(every(HIDDEN, msl=OK)), post=api(every(NOT_ALLOWED)), kwargs=lambda w: {"pk": w.notification.pk}
    ),
    "api:notification-read": Row(
        get=api(every(NOT_ALLOWED)), post=api(every(HIDDEN, msl=WRITE)), kwargs=lambda w: {"pk": w.notification.pk}
    ),
    "api:notification-read-all": Row(get=api(every(NOT_ALLOWED)), post=api(every(WRITE))),
    "api:reports": Row(get=api(SIGNED_IN), post=api(every(NOT_ALLOWED))),
    "api:report": Row(get=api(PHI_SIDE), post=api(every(NOT_ALLOWED)), kwargs=lambda w: {"widget": "referral_funnel"}),
    "api:not-found": Row(get=every(HIDDEN, anonymous=HIDDEN), kwargs=lambda w: {"rest": "nothing/here/"}),
    "session_end": Row(get=every(NOT_ALLOWED), post=every(302), kwargs=lambda w: {"pk": 0}),
    # User administration: administrators, and managers for the field staff of their teams.
    "users": Row(get=MANAGERS_ONLY, post=MANAGERS_GET_ONLY),
    "user_invite": Row(get=MANAGERS_ONLY, post=MANAGERS_WRITE),
    "user_detail": Row(get=TEAM_USER, post=TEAM_USER_WRITE, kwargs=colleague),
    "user_action": Row(
        get=MANAGERS_GET_ONLY,
        post=every(
            302, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN, manager_other=HIDDEN
        ),
        kwargs=lambda w: {"pk": w.colleague.pk, "action": "end_sessions"},
    ),
    "security_log": Row(get=ADMINS_ONLY, post=ADMINS_GET_ONLY),
    "security_log_export": Row(get=ADMINS_ONLY, post=ADMINS_GET_ONLY),
    # One's own settings only: no user in the URL or the form.
    "notification_settings": Row(get=SIGNED_IN, post=SIGNED_IN_WRITE),
    # Type-ahead pickers: each answers those it is for (its queryset scopes the matches).
    "lookup_msls": Row(get=MEDICAL_SIDE, post=every(NOT_ALLOWED)),
    "lookup_all_msls": Row(get=SIGNED_IN, post=every(NOT_ALLOWED)),
    "lookup_liaisons": Row(get=PHI_SIDE, post=every(NOT_ALLOWED)),
    "physicians:lookup_physicians": Row(get=SIGNED_IN, post=every(NOT_ALLOWED)),
    "physicians:lookup_institutions": Row(get=SIGNED_IN, post=every(NOT_ALLOWED)),
    "physicians:lookup_products": Row(get=MEDICAL_SIDE, post=every(NOT_ALLOWED)),
    "physicians:lookup_sites": Row(get=MEDICAL_SIDE, post=every(NOT_ALLOWED)),
    # Physicians and institutions are referral sources: liaisons read them (issue 3), but what
    # is said to physicians (interactions, insights, inquiries), trials and products is not theirs.
    "physicians:list": Row(get=SIGNED_IN),
    "physicians:export": Row(get=SIGNED_IN),
    "physicians:create": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE),
    "physicians:detail": Row(get=SIGNED_IN, kwargs=lambda w: {"pk": w.physician.pk}),
    "physicians:edit": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE, kwargs=lambda w: {"pk": w.physician.pk}),
    "physicians:consent": Row(
        get=every(NOT_ALLOWED, nurse=FORBIDDEN, nurse_other=FORBIDDEN),
        post=MEDICAL_WRITE,
        kwargs=lambda w: {"pk": w.physician.pk},
    ),
    "physicians:interaction_log": Row(get=MSL_ONLY, post=MSL_WRITE, kwargs=lambda w: {"pk": w.physician.pk}),
    "physicians:insight_capture": Row(get=MSL_ONLY, post=MSL_WRITE, kwargs=lambda w: {"pk": w.physician.pk}),
    "physicians:inquiry_create": Row(get=MSL_ONLY, post=MSL_WRITE, kwargs=lambda w: {"pk": w.physician.pk}),
    "physicians:interactions": Row(get=MEDICAL_SIDE),
    "physicians:interaction_export": Row(get=MEDICAL_SIDE),
    "physicians:interaction_detail": Row(get=MA_PAGE, kwargs=lambda w: {"pk": w.interaction.pk}),
    "physicians:interaction_edit": Row(get=AUTHOR_ONLY, post=AUTHOR_WRITE, kwargs=lambda w: {"pk": w.interaction.pk}),
    "physicians:insights": Row(get=MEDICAL_SIDE),
    "physicians:insight_review": Row(get=MANAGERS_ONLY),
    "physicians:insight_detail": Row(get=MA_PAGE, kwargs=lambda w: {"pk": w.insight.pk}),
    "physicians:insight_edit": Row(get=AUTHOR_ONLY, post=AUTHOR_WRITE, kwargs=lambda w: {"pk": w.insight.pk}),
    "physicians:insight_transition": Row(
        # GET: a review card's note field, loaded when it opens.
        get=every(OK, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN, manager_other=HIDDEN),
        post=every(
            WRITE, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN, manager_other=HIDDEN
        ),
        kwargs=lambda w: {"pk": w.insight.pk},
    ),
    "physicians:inquiries": Row(get=MEDICAL_SIDE),
    "physicians:inquiry_detail": Row(get=MA_PAGE, kwargs=lambda w: {"pk": w.inquiry.pk}),
    "physicians:inquiry_edit": Row(get=MA_PAGE, post=MA_WRITE, kwargs=lambda w: {"pk": w.inquiry.pk}),
    "physicians:inquiry_answer": Row(post=MA_WRITE, kwargs=lambda w: {"pk": w.inquiry.pk}),
    "physicians:inquiry_close": Row(post=MA_WRITE, kwargs=lambda w: {"pk": w.inquiry.pk}),
    "physicians:inquiry_follow_up": Row(post=MA_WRITE, kwargs=lambda w: {"pk": w.inquiry.pk}),
    "physicians:trainings": Row(get=MEDICAL_SIDE),
    # The trainer records a session: only MSLs create one; the trainer or a manager edits it.
    "physicians:training_create": Row(
        get=every(FORBIDDEN, msl=OK, msl_other=OK), post=every(FORBIDDEN, msl=WRITE, msl_other=WRITE)
    ),
    "physicians:training_detail": Row(get=MA_PAGE, kwargs=lambda w: {"pk": w.training.pk}),
    "physicians:training_edit": Row(get=MA_PAGE, post=MA_WRITE, kwargs=lambda w: {"pk": w.training.pk}),
    "physicians:trials": Row(get=SIGNED_IN),  # the clinical side screens for trials too
    "physicians:trial_create": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE),
    "physicians:trial_detail": Row(get=SIGNED_IN, kwargs=lambda w: {"pk": w.trial.pk}),
    "physicians:trial_edit": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE, kwargs=lambda w: {"pk": w.trial.pk}),
    "physicians:sites": Row(get=SIGNED_IN),  # the clinical side screens for trials too
    "physicians:site_create": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE),
    "physicians:site_detail": Row(get=SIGNED_IN, kwargs=lambda w: {"pk": w.site.pk}),
    "physicians:site_edit": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE, kwargs=lambda w: {"pk": w.site.pk}),
    "physicians:site_advance": Row(post=MEDICAL_WRITE, kwargs=lambda w: {"pk": w.site.pk}),
    "physicians:institutions": Row(get=SIGNED_IN),
    "physicians:institution_create": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE),
    "physicians:institution_detail": Row(get=SIGNED_IN, kwargs=lambda w: {"pk": w.institution.pk}),
    "physicians:institution_edit": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE, kwargs=lambda w: {"pk": w.institution.pk}),
    "physicians:products": Row(get=MEDICAL_SIDE),
    "physicians:product_create": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE),
    "physicians:product_detail": Row(get=MEDICAL_SIDE, kwargs=lambda w: {"pk": w.product.pk}),
    "physicians:product_edit": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE, kwargs=lambda w: {"pk": w.product.pk}),
    "physicians:import": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE),
    "physicians:import_detail": Row(get=OWN_IMPORT, kwargs=lambda w: {"pk": w.physician_import.pk}),
    "physicians:import_progress": Row(get=OWN_IMPORT, kwargs=lambda w: {"pk": w.physician_import.pk}),
    "physicians:import_confirm": Row(
        post=every(HIDDEN, msl=WRITE, nurse=FORBIDDEN, nurse_other=FORBIDDEN, admin=WRITE),
        kwargs=lambda w: {"pk": w.physician_import.pk},
    ),
    "patients:worklist": Row(get=PHI_SIDE, post=every(NOT_ALLOWED, msl=FORBIDDEN, msl_other=FORBIDDEN)),
    "patients:worklist_export": Row(get=PHI_SIDE, post=every(NOT_ALLOWED, msl=FORBIDDEN, msl_other=FORBIDDEN)),
    "patients:referral_new": Row(get=PHI_SIDE, post=every(WRITE, msl=FORBIDDEN, msl_other=FORBIDDEN)),
    "patients:audit": Row(get=MANAGERS_ONLY),
    "patients:lookup_audit_people": Row(get=MANAGERS_ONLY, post=every(NOT_ALLOWED)),
    "patients:patient_detail": Row(get=CASE_PAGE, kwargs=lambda w: {"pk": w.patient.pk}),
    "patients:case_detail": Row(get=CASE_PAGE, kwargs=case),
    "patients:case_print": Row(get=CASE_PAGE, kwargs=case),
    "patients:stage_bar": Row(get=CASE_PAGE, kwargs=case),
    "patients:case_edit": Row(get=CASE_PAGE, post=CASE_WRITE, kwargs=case),
    "patients:case_assign": Row(
        post=every(
            WRITE, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse=FORBIDDEN, nurse_other=FORBIDDEN, manager_other=HIDDEN
        ),
        kwargs=case,
    ),
    "patients:patient_edit": Row(get=CASE_PAGE, post=CASE_WRITE, kwargs=case),
    "patients:case_transition": Row(post=CASE_WRITE, kwargs=lambda w: {"pk": w.case.pk, "action": "decline"}),
    # The case page's add forms, loaded when opened: for those who may change the case.
    "patients:case_form": Row(
        get=CASE_PAGE,
        post=every(NOT_ALLOWED, msl=FORBIDDEN, msl_other=FORBIDDEN),
        kwargs=lambda w: {"pk": w.case.pk, "kind": "medication"},
    ),
    "patients:eligibility": Row(post=CASE_WRITE, kwargs=case),
    "patients:checklist_item": Row(post=CASE_WRITE, kwargs=lambda w: {"pk": w.case.pk, "item": "records_reviewed"}),
    "patients:medication_add": Row(post=CASE_WRITE, kwargs=case),
    "patients:medication_edit": Row(
        get=CASE_PAGE, post=CASE_WRITE, kwargs=lambda w: {"pk": w.case.pk, "item_pk": w.medication.pk}
    ),
    "patients:coverage_add": Row(post=CASE_WRITE, kwargs=case),
    "patients:coverage_edit": Row(
        get=CASE_PAGE, post=CASE_WRITE, kwargs=lambda w: {"pk": w.case.pk, "item_pk": w.coverage.pk}
    ),
    "patients:consent_add": Row(post=CASE_WRITE, kwargs=case),
    "patients:consent_edit": Row(
        get=CASE_PAGE, post=CASE_WRITE, kwargs=lambda w: {"pk": w.case.pk, "item_pk": w.consent.pk}
    ),
    # Re-consent in place of a consent's row: the form (or why it cannot be renewed), and its save.
    "patients:consent_reconsent": Row(
        get=CASE_PAGE, post=CASE_WRITE, kwargs=lambda w: {"pk": w.case.pk, "item_pk": w.consent.pk}
    ),
    "patients:communication_add": Row(post=CASE_WRITE, kwargs=case),
    "patients:follow_up_add": Row(post=CASE_WRITE, kwargs=case),
    "patients:treatment_plan_add": Row(post=CASE_WRITE, kwargs=case),
    "outreach:follow_ups": Row(get=SIGNED_IN),
    "outreach:follow_up_create": Row(get=GET_ONLY, post=SIGNED_IN_WRITE),
    # Where reminder and escalation emails link: the same people as the row's own actions.
    "outreach:follow_up_detail": Row(
        get=NURSE_FOLLOW_UP_FORM, post=GET_ONLY, kwargs=lambda w: {"pk": w.nurse_follow_up.pk}
    ),
    "outreach:follow_up_complete": Row(
        get=GET_ONLY, post=MSL_FOLLOW_UP_WRITE, kwargs=lambda w: {"pk": w.msl_follow_up.pk}
    ),
    "outreach:follow_up_snooze": Row(
        get=NURSE_FOLLOW_UP_FORM, post=NURSE_FOLLOW_UP_WRITE, kwargs=lambda w: {"pk": w.nurse_follow_up.pk}
    ),
    "outreach:follow_up_reassign": Row(
        get=NURSE_FOLLOW_UP_FORM, post=NURSE_FOLLOW_UP_WRITE, kwargs=lambda w: {"pk": w.nurse_follow_up.pk}
    ),
    # Whom a follow-up can be handed to: everyone signed in has their own team (scoped by the queryset).
    "outreach:lookup_assignees": Row(get=SIGNED_IN, post=every(NOT_ALLOWED)),
    "outreach:notifications": Row(get=SIGNED_IN),
    "outreach:bell": Row(get=SIGNED_IN, post=GET_ONLY),
    # Notifications are personal: nobody else, not even an admin, reads or marks them.
    "outreach:notification_read": Row(
        get=GET_ONLY, post=every(HIDDEN, msl=302), kwargs=lambda w: {"pk": w.notification.pk}
    ),
    "outreach:notifications_read_all": Row(get=GET_ONLY, post=every(302)),
    "outreach:calendar": Row(get=SIGNED_IN),
    # The feed is reached by calendar programs without a session: its secret token is the key.
    # (Before regenerate/revoke below, which change msl's token.)
    "outreach:calendar_feed": Row(get=every(OK, anonymous=OK), kwargs=lambda w: {"token": w.calendar.token}),
    "outreach:calendar_regenerate": Row(get=GET_ONLY, post=every(302)),
    "outreach:calendar_revoke": Row(get=GET_ONLY, post=every(302)),
    "outreach:events": Row(get=SIGNED_IN),
    "outreach:event_create": Row(get=SIGNED_IN, post=SIGNED_IN_WRITE),
    "outreach:event_detail": Row(get=EVENT_PAGE, kwargs=lambda w: {"pk": w.event.pk}),
    "outreach:event_edit": Row(get=EVENT_PAGE, post=EVENT_WRITE, kwargs=lambda w: {"pk": w.event.pk}),
    # MSLs and liaisons are sent to the personal dashboard of their own side.
    "reporting:dashboard": Row(get=every(OK, msl=302, msl_other=302, nurse=302, nurse_other=302)),
    "reporting:msl": Row(get=MEDICAL_SIDE),
    "reporting:clinical": Row(get=PHI_SIDE),
    "reporting:trials": Row(get=MANAGERS_ONLY),
    "reporting:export": Row(get=PHI_SIDE, kwargs=lambda w: {"key": "referral_funnel"}),
    "reporting:widget_table": Row(get=PHI_SIDE, post=every(NOT_ALLOWED), kwargs=lambda w: {"key": "referral_funnel"}),
    # The dashboards' person filter: managers and admins (the queryset keeps their own teams).
    "reporting:lookup_people": Row(get=MANAGERS_ONLY, post=every(NOT_ALLOWED)),
    # Documents (issue 16). The case page's Documents section (htmx; without it, back to the case page).
    "documents:case_documents": Row(
        get=every(302, msl=FORBIDDEN, msl_other=FORBIDDEN, nurse_other=HIDDEN, manager_other=HIDDEN),
        post=every(NOT_ALLOWED, msl=FORBIDDEN, msl_other=FORBIDDEN),
        kwargs=case,
    ),
    "documents:upload": Row(get=CASE_PAGE, post=CASE_WRITE, kwargs=case),
    "documents:inquiry_upload": Row(get=MA_PAGE, post=MA_WRITE, kwargs=lambda w: {"pk": w.inquiry.pk}),
    "documents:download": Row(get=CASE_DOCUMENT, post=GET_ONLY, kwargs=lambda w: {"pk": w.document.pk}),
    "documents:preview": Row(get=CASE_DOCUMENT, post=GET_ONLY, kwargs=lambda w: {"pk": w.document.pk}),
    "documents:thumbnail": Row(get=CASE_DOCUMENT, post=GET_ONLY, kwargs=lambda w: {"pk": w.document.pk}),
    "documents:entered_in_error": Row(
        get=CASE_DOCUMENT, post=CASE_DOCUMENT_WRITE, kwargs=lambda w: {"pk": w.document.pk}
    ),
    # Trial participation (issue 17): PHI, the case's team only; the protocol, medical affairs'.
    "research:start_screening": Row(get=CASE_PAGE, post=CASE_WRITE, kwargs=lambda w: {"case_pk": w.case.pk}),
    "research:participation": Row(get=CASE_PAGE, post=PHI_GET_ONLY, kwargs=participation),
    **{
        f"research:{name}": Row(get=PHI_GET_ONLY, post=CASE_WRITE, kwargs=participation)
        for name in ("answers", "conclude", "add_consent", "consented", "enrol", "complete", "withdraw")
    },
    "research:criteria": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE, kwargs=lambda w: {"pk": w.trial.pk}),
    "research:irb_approval": Row(get=MEDICAL_SIDE, post=MEDICAL_WRITE, kwargs=lambda w: {"pk": w.trial.pk}),
    "research:lookup_open_sites": Row(get=PHI_SIDE, post=every(NOT_ALLOWED)),
}
EXPECTED.update(API_ROWS)


@pytest.mark.django_db
def test_an_inquirys_documents_are_for_its_medical_affairs_team_only():
    """The matrix's document rows are a case's; an inquiry's response letter is the other way round."""
    world = build_world()
    url = reverse("documents:download", kwargs={"pk": world.inquiry_document.pk})
    expected = every(OK, msl_other=HIDDEN, nurse=HIDDEN, nurse_other=HIDDEN, manager_other=HIDDEN)
    failures = []
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(world.users[role])
        response = client.get(url)
        if not _status_matches(expected[role], response):
            failures.append(f"GET {url} as {role}: expected {expected[role]}, got {response.status_code}")
    assert not failures, "\n".join(failures)


def walk(patterns, prefix: str = "", namespace: str | None = None) -> Iterator[tuple[str, str]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            ns = ":".join(filter(None, [namespace, pattern.namespace])) or None
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield prefix + str(pattern.pattern), name


def project_patterns() -> list[tuple[str, str]]:
    """Every URL pattern of the project except the Django admin (tested in test_admin_access)."""
    return [(route, name) for route, name in walk(get_resolver().url_patterns) if not route.startswith("admin/")]


def test_every_url_pattern_is_in_the_table():
    routes = project_patterns()
    unnamed = [route for route, name in routes if not name]
    assert not unnamed, f"URL patterns without a name cannot be checked: {unnamed}"
    missing = sorted({name for _, name in routes} - set(EXPECTED))
    assert not missing, f"URL patterns missing from the permission matrix: {missing}"
    stale = sorted(set(EXPECTED) - {name for _, name in routes})
    assert not stale, f"The permission matrix names URLs that no longer exist: {stale}"


def _status_matches(expected, response) -> bool:
    if expected == LOGIN:
        return response.status_code == 302 and response["Location"].startswith(reverse("login"))
    if expected == WRITE:
        return response.status_code in WRITE_STATUSES
    return response.status_code == expected


@pytest.mark.django_db
def test_permission_matrix():
    world = build_world()
    clients: dict[str, Client] = {}
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(world.users[role])
        clients[role] = client

    failures: list[str] = []
    for name, row in EXPECTED.items():
        url = reverse(name, kwargs=row.kwargs(world))
        for method, table in (("GET", row.get), ("POST", row.post)):
            if table is None:
                continue
            for role in ROLES:
                client = clients[role]
                if method == "GET":
                    response = client.get(url)
                elif url.startswith("/api/"):  # the API reads JSON
                    response = client.post(url, {}, content_type="application/json")
                else:
                    response = client.post(url, {})
                if not _status_matches(table[role], response):
                    failures.append(f"{method} {url} as {role}: expected {table[role]}, got {response.status_code}")
                if name in ("logout", "account_logout") and method == "POST" and role != "anonymous":
                    client.force_login(world.users[role])  # logging out must not end the matrix
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_admin_is_reachable_only_by_admins():
    world = build_world()
    for role in ROLES:
        client = Client()
        if role != "anonymous":
            client.force_login(world.users[role])
        response = client.get("/admin/")
        if role == "admin":
            assert response.status_code == 200
        else:
            assert response.status_code == 302 and "/admin/login/" in response["Location"], role


@pytest.mark.django_db
def test_every_state_change_requires_a_csrf_token():
    world = build_world()
    failures = []
    for name, row in EXPECTED.items():
        if row.post is None:
            continue
        url = reverse(name, kwargs=row.kwargs(world))
        # The most privileged role that may post here, so a 403 can only come from CSRF.
        role = next(
            r for r in ("admin", "manager", "nurse", "msl", "anonymous") if row.post[r] not in (FORBIDDEN, HIDDEN)
        )
        client = Client(enforce_csrf_checks=True)
        if role != "anonymous":
            client.force_login(world.users[role])
        response = client.post(url, {})
        if response.status_code != 403 or b"CSRF" not in response.content:
            failures.append(f"POST {url} as {role} without a CSRF token: {response.status_code}")
    assert not failures, "\n".join(failures)
