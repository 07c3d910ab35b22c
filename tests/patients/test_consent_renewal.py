"""Consent that can be renewed (issue 15): a consent signed on an old form version, or withdrawn,
is replaced by a re-consent on the current version; the old one is kept, superseded, read-only,
and no longer blocks admission. The signing time is recorded as it happened. The case page shows
each consent's history."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from outreach.models import FollowUp, FollowUpStatus
from outreach.rules import run_rules
from patients import services
from patients.choices import ConsentStatus, SignedBy, Stage
from patients.models import Case, Consent
from tests.factories import CaseFactory

from .conftest import complete_evaluation, make_admittable

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
PER_REQUEST = 2  # session, user (see test_queries.py)
RECEIVED_DAYS_AGO = 10

SIGNATURE = {
    "explained": True,
    "teach_back_confirmed": True,
    "interpreter_used": False,
    "signed_by": SignedBy.PATIENT,
}


def _referred(nurse) -> Case:
    return CaseFactory(
        assigned_liaison=nurse, referral_received_at=timezone.now() - dt.timedelta(days=RECEIVED_DAYS_AGO)
    )


def _accepted(nurse) -> Case:
    case = _referred(nurse)
    services.start_evaluation(case=case, by=nurse)
    complete_evaluation(case, nurse)
    services.accept(case=case, by=nurse)
    return case


@pytest.fixture
def stale_case(nurse, consent_form):
    """An accepted case whose one required consent was signed on v2.0; the form is now v3.0."""
    case = _accepted(nurse)
    make_admittable(case, nurse, consent_form)
    consent_form.current_version = "3.0"
    consent_form.save()
    case.refresh_from_db()
    return case


def _only_consent(case) -> Consent:
    return Consent.objects.select_related("form").get(case=case)


def _admission_blockers(case) -> list[str]:
    return services.admission_blockers(Case.objects.get(pk=case.pk))


def _snapshot(consent: Consent) -> dict:
    consent = Consent.objects.get(pk=consent.pk)
    return {f.attname: getattr(consent, f.attname) for f in Consent._meta.concrete_fields}


# --- an old version blocks; a re-consent clears it ------------------------------------------------


def test_a_consent_signed_on_an_old_version_still_blocks_admission(stale_case, nurse):
    blockers = _admission_blockers(stale_case)
    assert blockers == ["consent 'Admission' was signed on an old form version (2.0): re-consent on v3.0"]
    with pytest.raises(ValidationError, match=r"signed on an old form version \(2.0\)"):
        services.admit(case=stale_case, by=nurse)


def test_reconsent_records_a_new_consent_on_the_current_version_and_supersedes_the_old(stale_case, nurse):
    old = _only_consent(stale_case)
    renewal = services.reconsent(
        consent=old, case=stale_case, by=nurse, **{**SIGNATURE, "interpreter_used": True}, witness_name="Sam, RN"
    )
    old.refresh_from_db()
    assert renewal.pk != old.pk
    assert (renewal.status, renewal.form_version, renewal.procedure, renewal.required) == (
        ConsentStatus.SIGNED,
        "3.0",
        "Admission",
        True,
    )
    assert renewal.explained_by == nurse and renewal.explained_at <= renewal.signed_at
    assert renewal.teach_back_confirmed and renewal.interpreter_used and renewal.witness_name == "Sam, RN"
    # The old one is kept as it was signed, now superseded by the new one.
    assert old.status == ConsentStatus.SUPERSEDED and old.form_version == "2.0"
    assert old.superseded_by == renewal and old.superseded_at == renewal.signed_at
    assert old.signed_at is not None and old.signed_at <= renewal.signed_at
    assert list(renewal.supersedes.all()) == [old]
    assert _admission_blockers(stale_case) == []
    services.admit(case=Case.objects.get(pk=stale_case.pk), by=nurse)
    assert Case.objects.get(pk=stale_case.pk).stage == Stage.ADMITTED


def test_a_representative_may_sign_the_reconsent_with_name_and_relationship(stale_case, nurse):
    old = _only_consent(stale_case)
    renewal = services.reconsent(
        consent=old,
        case=stale_case,
        by=nurse,
        **{**SIGNATURE, "signed_by": SignedBy.REPRESENTATIVE},
        representative_name=" Bea Lovelace ",
        representative_relationship="Daughter",
    )
    assert renewal.signed_by == SignedBy.REPRESENTATIVE
    assert (renewal.representative_name, renewal.representative_relationship) == ("Bea Lovelace", "Daughter")


def test_reconsent_has_every_safeguard_of_a_signature_and_writes_nothing_when_one_is_missing(stale_case, nurse):
    stale_case.patient.interpreter_needed = True
    stale_case.patient.save()
    old = _only_consent(stale_case)
    before, count = _snapshot(old), Consent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.reconsent(
            consent=old, case=stale_case, by=nurse, explained=False, teach_back_confirmed=False,
            interpreter_used=False, signed_by="",
        )  # fmt: skip
    assert set(exc.value.message_dict) == {"explained", "teach_back_confirmed", "interpreter_used", "signed_by"}
    with pytest.raises(ValidationError) as exc:
        services.reconsent(
            consent=old, case=stale_case, by=nurse, explained=True, teach_back_confirmed=True,
            interpreter_used=True, signed_by=SignedBy.REPRESENTATIVE,
        )  # fmt: skip
    assert set(exc.value.message_dict) == {"representative_name", "representative_relationship"}
    assert exc.value.message_dict["representative_name"] == ["Name the legal representative who signed."]
    assert Consent.objects.count() == count and _snapshot(old) == before


def test_a_superseded_consent_is_kept_read_only(stale_case, nurse):
    old = _only_consent(stale_case)
    services.reconsent(consent=old, case=stale_case, by=nurse, **SIGNATURE)
    old.refresh_from_db()
    before, count = _snapshot(old), Consent.objects.count()
    for status in (ConsentStatus.WITHDRAWN, ConsentStatus.SIGNED, ConsentStatus.REFUSED):
        with pytest.raises(ValidationError, match=r"was superseded by a re-consent on .*cannot be changed"):
            services.update_consent(consent=old, case=stale_case, by=nurse, **SIGNATURE, status=status)
    with pytest.raises(ValidationError, match="superseded"):
        services.reconsent(consent=old, case=stale_case, by=nurse, **SIGNATURE)
    assert Consent.objects.count() == count and _snapshot(old) == before


@pytest.mark.parametrize("status", [ConsentStatus.PENDING, ConsentStatus.REFUSED, "current"])
def test_only_a_consent_signed_on_an_old_version_or_withdrawn_is_renewed(status, accepted_case, nurse, consent_form):
    consent = services.add_consent(case=accepted_case, by=nurse, form=consent_form, procedure="Admission")
    if status == ConsentStatus.REFUSED:
        services.update_consent(consent=consent, case=accepted_case, by=nurse, **SIGNATURE, status=status)
    elif status == "current":
        services.update_consent(consent=consent, case=accepted_case, by=nurse, **SIGNATURE, status="signed")
    before, count = _snapshot(consent), Consent.objects.count()
    with pytest.raises(ValidationError, match=r"nothing to renew|record its signature with Update"):
        services.reconsent(consent=consent, case=accepted_case, by=nurse, **SIGNATURE)
    assert Consent.objects.count() == count and _snapshot(consent) == before


def test_the_signed_record_of_a_current_consent_cannot_be_edited(accepted_case, nurse, consent_form):
    consent = services.add_consent(case=accepted_case, by=nurse, form=consent_form, procedure="Admission")
    services.update_consent(consent=consent, case=accepted_case, by=nurse, **SIGNATURE, status="signed")
    before = _snapshot(consent)
    with pytest.raises(ValidationError) as exc:
        services.update_consent(
            consent=consent, case=accepted_case, by=nurse, **{**SIGNATURE, "teach_back_confirmed": False},
            status=ConsentStatus.SIGNED, witness_name="Someone else",
        )  # fmt: skip
    assert set(exc.value.message_dict) == {"teach_back_confirmed", "witness_name"}
    with pytest.raises(ValidationError, match="record its withdrawal"):
        services.update_consent(
            consent=consent, case=accepted_case, by=nurse, **SIGNATURE, status=ConsentStatus.REFUSED
        )
    assert _snapshot(consent) == before


# --- the three ways a nurse clears it (each failed before) -----------------------------------------


def test_re_signing_the_old_consent_records_a_reconsent_and_clears_the_blocker(stale_case, nurse):
    old = _only_consent(stale_case)
    renewal = services.update_consent(consent=old, case=stale_case, by=nurse, **SIGNATURE, status=ConsentStatus.SIGNED)
    old.refresh_from_db()
    assert renewal.pk != old.pk and renewal.form_version == "3.0"
    assert old.status == ConsentStatus.SUPERSEDED and old.form_version == "2.0" and old.superseded_by == renewal
    assert _admission_blockers(stale_case) == []


def test_adding_and_signing_a_new_consent_of_the_form_supersedes_the_old_one(stale_case, nurse, consent_form):
    old = _only_consent(stale_case)
    new = services.add_consent(case=stale_case, by=nurse, form=consent_form, procedure="Admission")
    assert set(_admission_blockers(stale_case)) == {
        "consent 'Admission' is pending",
        "consent 'Admission' was signed on an old form version (2.0): re-consent on v3.0",
    }
    services.update_consent(consent=new, case=stale_case, by=nurse, **SIGNATURE, status=ConsentStatus.SIGNED)
    old.refresh_from_db()
    assert old.status == ConsentStatus.SUPERSEDED and old.superseded_by_id == new.pk
    assert _admission_blockers(stale_case) == []
    services.admit(case=Case.objects.get(pk=stale_case.pk), by=nurse)


def test_withdrawing_the_old_consent_then_signing_a_new_one_clears_the_blocker(stale_case, nurse, consent_form):
    old = _only_consent(stale_case)
    services.update_consent(consent=old, case=stale_case, by=nurse, **SIGNATURE, status=ConsentStatus.WITHDRAWN)
    old.refresh_from_db()
    assert old.status == ConsentStatus.WITHDRAWN and old.withdrawn_at is not None
    assert _admission_blockers(stale_case) == ["consent 'Admission' is withdrawn"]
    new = services.add_consent(case=stale_case, by=nurse, form=consent_form, procedure="Admission")
    services.update_consent(consent=new, case=stale_case, by=nurse, **SIGNATURE, status=ConsentStatus.SIGNED)
    old.refresh_from_db()
    assert old.status == ConsentStatus.SUPERSEDED and old.superseded_by_id == new.pk
    assert old.withdrawn_at is not None  # the withdrawal stays on the record
    assert _admission_blockers(stale_case) == []


def test_a_withdrawn_consent_on_the_current_version_is_renewed_by_reconsent(accepted_case, nurse, consent_form):
    make_admittable(accepted_case, nurse, consent_form)
    consent = _only_consent(accepted_case)
    services.update_consent(consent=consent, case=accepted_case, by=nurse, **SIGNATURE, status=ConsentStatus.WITHDRAWN)
    assert _admission_blockers(accepted_case) == ["consent 'Admission' is withdrawn"]
    # Signing the withdrawn consent again does not rewrite it: it records a re-consent.
    renewal = services.update_consent(
        consent=consent, case=accepted_case, by=nurse, **SIGNATURE, status=ConsentStatus.SIGNED
    )
    consent.refresh_from_db()
    assert renewal.pk != consent.pk and consent.status == ConsentStatus.SUPERSEDED
    assert consent.withdrawn_at is not None and consent.superseded_at == renewal.signed_at
    assert _admission_blockers(accepted_case) == []


def test_signing_a_consent_for_another_procedure_supersedes_nothing(stale_case, nurse, consent_form):
    """The same form may cover several procedures: a signature for one is no renewal of another."""
    old = _only_consent(stale_case)
    other = services.add_consent(case=stale_case, by=nurse, form=consent_form, procedure="PICC line")
    services.update_consent(consent=other, case=stale_case, by=nurse, **SIGNATURE, status=ConsentStatus.SIGNED)
    old.refresh_from_db()
    assert old.status == ConsentStatus.SIGNED and old.superseded_by is None
    assert _admission_blockers(stale_case) == [
        "consent 'Admission' was signed on an old form version (2.0): re-consent on v3.0"
    ]


# --- the rules engine's "re-consent needed" follow-up ----------------------------------------------


def _reconsent_follow_up(case) -> FollowUp:
    assert run_rules(only=["consent_superseded"]) == {"consent_superseded": 1}
    follow_up = FollowUp.objects.get(rule="consent_superseded", case=case)
    assert follow_up.status == FollowUpStatus.OPEN
    return follow_up


@pytest.mark.parametrize("how", ["reconsent", "re-sign", "new consent"])
def test_the_reconsent_follow_up_closes_itself_and_is_not_reopened(how, stale_case, nurse, consent_form):
    old = _only_consent(stale_case)
    follow_up = _reconsent_follow_up(stale_case)
    assert follow_up.rule_key == f"{old.pk}:3.0"
    if how == "reconsent":
        services.reconsent(consent=old, case=stale_case, by=nurse, **SIGNATURE)
    elif how == "re-sign":
        services.update_consent(consent=old, case=stale_case, by=nurse, **SIGNATURE, status="signed")
    else:
        new = services.add_consent(case=stale_case, by=nurse, form=consent_form, procedure="Admission")
        services.update_consent(consent=new, case=stale_case, by=nurse, **SIGNATURE, status="signed")
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.DONE
    assert follow_up.completed_by == nurse and follow_up.completed_at is not None
    assert run_rules(only=["consent_superseded"]) == {"consent_superseded": 0}
    assert list(FollowUp.objects.filter(rule="consent_superseded").values_list("status", flat=True)) == ["done"]


def test_the_follow_up_closes_in_the_same_transaction_as_the_reconsent(stale_case, nurse, monkeypatch):
    import outreach.services

    old = _only_consent(stale_case)
    follow_up = _reconsent_follow_up(stale_case)
    before, count = _snapshot(old), Consent.objects.count()

    def broken(**kwargs):
        raise RuntimeError("the follow-up could not be completed")

    monkeypatch.setattr(outreach.services, "complete_follow_up", broken)
    with pytest.raises(RuntimeError):
        services.reconsent(consent=old, case=stale_case, by=nurse, **SIGNATURE)
    # Neither the new consent nor the superseding was kept without the follow-up's closing.
    assert Consent.objects.count() == count and _snapshot(old) == before
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUpStatus.OPEN


def test_another_cases_reconsent_follow_up_stays_open(stale_case, nurse, consent_form):
    other = _accepted(nurse)
    consent = services.add_consent(case=other, by=nurse, form=consent_form, procedure="Admission")
    services.update_consent(consent=consent, case=other, by=nurse, **SIGNATURE, status="signed")
    Consent.objects.filter(pk=consent.pk).update(form_version="1.0")
    assert run_rules(only=["consent_superseded"]) == {"consent_superseded": 2}
    services.reconsent(consent=_only_consent(stale_case), case=stale_case, by=nurse, **SIGNATURE)
    statuses = dict(FollowUp.objects.filter(rule="consent_superseded").values_list("case_id", "status"))
    assert statuses == {stale_case.pk: FollowUpStatus.DONE, other.pk: FollowUpStatus.OPEN}


# --- the signing time, as it happened ---------------------------------------------------------------


def test_the_signing_time_may_be_earlier_within_the_case_s_life(nurse, consent_form):
    case = _referred(nurse)
    consent = services.add_consent(case=case, by=nurse, form=consent_form, procedure="Admission")
    at = case.referral_received_at + dt.timedelta(days=2)
    services.update_consent(consent=consent, case=case, by=nurse, **SIGNATURE, status="signed", signed_at=at)
    consent.refresh_from_db()
    assert consent.signed_at == at
    # Explained in the same sitting: not after the signature it led to.
    assert consent.explained_at == at


def test_the_signing_time_defaults_to_now(nurse, consent_form):
    case = _referred(nurse)
    consent = services.add_consent(case=case, by=nurse, form=consent_form, procedure="Admission")
    before = timezone.now()
    services.update_consent(consent=consent, case=case, by=nurse, **SIGNATURE, status="signed")
    consent.refresh_from_db()
    assert before <= consent.signed_at <= timezone.now()


@pytest.mark.parametrize(
    ("offset", "message"),
    [
        (dt.timedelta(hours=1), "The signing time cannot be in the future."),
        (-dt.timedelta(days=RECEIVED_DAYS_AGO + 1), "The signing time cannot be before the referral was received"),
    ],
)
def test_a_signing_time_in_the_future_or_before_the_referral_is_refused(offset, message, nurse, consent_form):
    case = _referred(nurse)
    consent = services.add_consent(case=case, by=nurse, form=consent_form, procedure="Admission")
    before = _snapshot(consent)
    with pytest.raises(ValidationError) as exc:
        services.update_consent(
            consent=consent, case=case, by=nurse, **SIGNATURE, status="signed", signed_at=timezone.now() + offset
        )
    assert list(exc.value.message_dict) == ["signed_at"] and exc.value.message_dict["signed_at"][0].startswith(message)
    assert _snapshot(consent) == before


def test_a_few_minutes_of_clock_skew_are_allowed(nurse, consent_form):
    case = _referred(nurse)
    consent = services.add_consent(case=case, by=nurse, form=consent_form, procedure="Admission")
    at = timezone.now() + dt.timedelta(minutes=3)
    services.update_consent(consent=consent, case=case, by=nurse, **SIGNATURE, status="signed", signed_at=at)
    consent.refresh_from_db()
    assert consent.signed_at == at and consent.explained_at <= timezone.now()


def test_a_time_in_the_minute_of_the_referral_is_the_referral_itself(nurse, consent_form):
    """The form gives minutes: a consent signed as soon as the referral came (the form's 'now'
    rounded down to the minute) is not refused as before the referral."""
    case = _referred(nurse)
    Case.objects.filter(pk=case.pk).update(referral_received_at=case.referral_received_at.replace(second=37))
    case.refresh_from_db()
    consent = services.add_consent(case=case, by=nurse, form=consent_form, procedure="Admission")
    minute = case.referral_received_at.replace(second=0, microsecond=0)
    services.update_consent(consent=consent, case=case, by=nurse, **SIGNATURE, status="signed", signed_at=minute)
    consent.refresh_from_db()
    assert consent.signed_at == case.referral_received_at
    other = services.add_consent(case=case, by=nurse, form=consent_form, procedure="Imaging")
    with pytest.raises(ValidationError, match="before the referral was received"):
        services.update_consent(
            consent=other, case=case, by=nurse, **SIGNATURE, status="signed", signed_at=minute - dt.timedelta(seconds=1)
        )


def test_the_reconsent_signing_time_is_checked_too(stale_case, nurse):
    old = _only_consent(stale_case)
    count = Consent.objects.count()
    for at, message in [
        (timezone.now() + dt.timedelta(hours=1), "cannot be in the future"),
        (stale_case.referral_received_at - dt.timedelta(minutes=1), "before the referral was received"),
        (old.signed_at - dt.timedelta(hours=1), "before the consent it renews was signed"),
    ]:
        with pytest.raises(ValidationError) as exc:
            services.reconsent(consent=old, case=stale_case, by=nurse, **SIGNATURE, signed_at=at)
        assert message in exc.value.message_dict["signed_at"][0]
    assert Consent.objects.count() == count and _only_consent(stale_case).status == ConsentStatus.SIGNED
    at = timezone.now() - dt.timedelta(minutes=30)
    Consent.objects.filter(pk=old.pk).update(signed_at=at - dt.timedelta(days=1))
    renewal = services.reconsent(consent=old, case=stale_case, by=nurse, **SIGNATURE, signed_at=at)
    old.refresh_from_db()
    assert renewal.signed_at == at and renewal.explained_at == at and old.superseded_at == at


# --- the re-consent form on the case page ---------------------------------------------------------


def _url(case, consent) -> str:
    return reverse("patients:consent_reconsent", args=[case.pk, consent.pk])


def _post(consent, **fields) -> dict:
    data = {"explained": "on", "teach_back_confirmed": "on", "signed_by": "patient", **fields}
    return {f"reconsent{consent.pk}-{k}": v for k, v in data.items()}


def test_the_case_page_offers_reconsent_for_an_old_version(stale_case, nurse, client_for):
    old = _only_consent(stale_case)
    html = client_for(nurse).get(reverse("patients:case_detail", args=[stale_case.pk])).content.decode()
    assert "New form version 3.0: re-consent needed" in html
    assert f'hx-get="{_url(stale_case, old)}"' in html and ">Re-consent</button>" in html


def test_the_reconsent_form_loads_in_place_with_a_signing_time(stale_case, nurse, client_for):
    old = _only_consent(stale_case)
    response = client_for(nurse).get(_url(stale_case, old), **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert f'name="reconsent{old.pk}-signed_at"' in html and 'type="datetime-local"' in html
    assert f'name="reconsent{old.pk}-representative_name"' in html
    assert f'hx-post="{_url(stale_case, old)}"' in html and "Admission v3.0" in html


def test_the_reconsent_form_is_saved_and_the_list_shows_the_history(stale_case, nurse, client_for):
    old = _only_consent(stale_case)
    Consent.objects.filter(pk=old.pk).update(signed_at=timezone.now() - dt.timedelta(days=3))
    at = timezone.localtime() - dt.timedelta(hours=2)
    response = client_for(nurse).post(
        _url(stale_case, old), _post(old, signed_at=at.strftime("%Y-%m-%dT%H:%M"), witness_name="Sam, RN"), **HX
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#consents" and response["HX-Trigger"] == "case-changed"
    renewal = Consent.objects.get(case=stale_case, status=ConsentStatus.SIGNED)
    assert renewal.signed_at == at.replace(second=0, microsecond=0) and renewal.witness_name == "Sam, RN"
    html = response.content.decode()
    assert '<section id="consents"' in html and "History" in html
    assert f"superseded {timezone.localtime(renewal.signed_at):%Y-%m-%d %H:%M}" in html


def test_a_plain_post_of_the_reconsent_redirects_to_the_case(stale_case, nurse, client_for):
    old = _only_consent(stale_case)
    response = client_for(nurse).post(_url(stale_case, old), _post(old))
    assert response.status_code == 302 and response["Location"] == reverse("patients:case_detail", args=[stale_case.pk])
    assert Consent.objects.filter(case=stale_case).count() == 2


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"teach_back_confirmed": ""}, "teach_back_confirmed", "Confirm by teach-back"),
        ({"signed_by": "representative"}, "representative_name", "Name the legal representative"),
        ({"signed_at": "2999-01-01T10:00"}, "signed_at", "cannot be in the future"),
        ({"signed_at": "2000-01-01T10:00"}, "signed_at", "before the referral was received"),
        ({"signed_at": "not a time"}, "signed_at", "Enter a valid date/time."),
    ],
)
def test_bad_reconsent_input_is_a_field_error_and_writes_nothing(fields, field, message, stale_case, nurse, client_for):
    old = _only_consent(stale_case)
    before, count = _snapshot(old), Consent.objects.count()
    response = client_for(nurse).post(_url(stale_case, old), _post(old, **fields), **HX)
    assert response.status_code == 422
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert Consent.objects.count() == count and _snapshot(old) == before


def test_a_consent_that_needs_no_renewal_says_why_and_writes_nothing(accepted_case, nurse, consent_form, client_for):
    consent = services.add_consent(case=accepted_case, by=nurse, form=consent_form, procedure="Admission")
    client = client_for(nurse)
    html = client.get(_url(accepted_case, consent), **HX).content.decode()
    assert "record its signature with Update" in html and 'name="reconsent' not in html
    response = client.post(_url(accepted_case, consent), _post(consent), **HX)
    assert response.status_code == 422 and "record its signature with Update" in response.content.decode()
    assert Consent.objects.count() == 1 and _only_consent(accepted_case).status == ConsentStatus.PENDING


@pytest.mark.parametrize(("who", "status"), [("other_nurse", 404), ("other_manager", 404), ("msl", 403),
                                             ("nurse_teammate", 403)])  # fmt: skip
def test_outsiders_cannot_open_or_post_the_reconsent_form(who, status, stale_case, request, client_for):
    old = _only_consent(stale_case)
    client = client_for(request.getfixturevalue(who))
    before, count = _snapshot(old), Consent.objects.count()
    assert client.get(_url(stale_case, old), **HX).status_code == status
    assert client.post(_url(stale_case, old), _post(old), **HX).status_code == status
    assert Consent.objects.count() == count and _snapshot(old) == before


def test_a_consent_of_another_case_cannot_be_renewed_through_ones_own(stale_case, nurse, other_nurse, consent_form,
                                                                       client_for):  # fmt: skip
    foreign_case = _accepted(other_nurse)
    foreign = services.add_consent(case=foreign_case, by=other_nurse, form=consent_form, procedure="Admission")
    before = _snapshot(foreign)
    url = reverse("patients:consent_reconsent", args=[stale_case.pk, foreign.pk])
    client = client_for(nurse)
    assert client.get(url, **HX).status_code == 404
    assert client.post(url, _post(foreign), **HX).status_code == 404
    assert _snapshot(foreign) == before


def test_the_update_form_of_a_consent_takes_the_signing_time(nurse, consent_form, client_for):
    case = _referred(nurse)
    consent = services.add_consent(case=case, by=nurse, form=consent_form, procedure="Admission")
    url = reverse("patients:consent_edit", args=[case.pk, consent.pk])
    p = f"consent{consent.pk}-"
    client = client_for(nurse)
    assert f'name="{p}signed_at"' in client.get(url, **HX).content.decode()
    data = {p + "explained": "on", p + "teach_back_confirmed": "on", p + "status": "signed", p + "signed_by": "patient"}
    response = client.post(url, {**data, p + "signed_at": "2999-01-01T10:00"}, **HX)
    assert response.status_code == 422 and "cannot be in the future" in response.content.decode()
    assert Consent.objects.get(pk=consent.pk).status == ConsentStatus.PENDING
    at = timezone.localtime(case.referral_received_at + dt.timedelta(days=1)).replace(second=0, microsecond=0)
    response = client.post(url, {**data, p + "signed_at": at.strftime("%Y-%m-%dT%H:%M")}, **HX)
    assert response.status_code == 200
    assert Consent.objects.get(pk=consent.pk).signed_at == at


def test_the_update_form_offers_no_superseded_status(stale_case, nurse, client_for):
    old = _only_consent(stale_case)
    html = client_for(nurse).get(reverse("patients:consent_edit", args=[stale_case.pk, old.pk]), **HX).content.decode()
    assert 'value="superseded"' not in html and 'value="withdrawn"' in html


# --- the consent history on the case page -----------------------------------------------------------


def test_the_case_page_shows_each_consent_s_history(stale_case, nurse, consent_form, client_for):
    first = _only_consent(stale_case)
    second = services.reconsent(consent=first, case=stale_case, by=nurse, **SIGNATURE)
    services.update_consent(consent=second, case=stale_case, by=nurse, **SIGNATURE, status="withdrawn")
    third = services.reconsent(consent=second, case=stale_case, by=nurse, **SIGNATURE)
    first.refresh_from_db()
    second.refresh_from_db()
    html = client_for(nurse).get(reverse("patients:case_detail", args=[stale_case.pk])).content.decode()
    versions = [html.index(f'data-consent="{c.pk}"') for c in (third, second, first)]
    assert versions == sorted(versions)  # newest first
    local = timezone.localtime
    assert "v2.0</span> Superseded" in html and "v3.0</span> Superseded" in html and "v3.0</span> Signed" in html
    assert f"signed {local(first.signed_at):%Y-%m-%d %H:%M} by patient" in html
    assert f"withdrawn {local(second.withdrawn_at):%Y-%m-%d %H:%M}" in html
    assert f"superseded {local(first.superseded_at):%Y-%m-%d %H:%M}" in html
    assert f"superseded {local(second.superseded_at):%Y-%m-%d %H:%M}" in html
    assert f"explained by {nurse}, {local(third.explained_at):%Y-%m-%d %H:%M}" in html
    # One row for the consent as it stands, with Update and no Re-consent; the old ones only in its history.
    assert re.findall(r'id="consent-(\d+)"', html) == [str(third.pk)]
    assert f'hx-get="{reverse("patients:consent_edit", args=[stale_case.pk, third.pk])}"' in html
    assert ">Re-consent</button>" not in html


@pytest.mark.parametrize("chains", [1, 8])
def test_the_case_page_reads_consent_histories_in_a_fixed_number_of_queries(
    chains, nurse, consent_form, client_for, django_assert_max_num_queries
):
    case = _accepted(nurse)
    for i in range(chains):
        consent = services.add_consent(case=case, by=nurse, form=consent_form, procedure=f"Procedure {i}")
        services.update_consent(consent=consent, case=case, by=nurse, **SIGNATURE, status="signed")
    for _ in range(2):
        consent_form.current_version = f"{float(consent_form.current_version) + 1:.1f}"
        consent_form.save()
        for consent in Consent.objects.filter(case=case, status=ConsentStatus.SIGNED):
            services.reconsent(consent=consent, case=case, by=nurse, **SIGNATURE)
    assert Consent.objects.filter(case=case).count() == chains * 3
    client = client_for(nurse)
    url = reverse("patients:case_detail", args=[case.pk])
    client.get(url)
    # + case, evaluation, medications, coverages, consents (+form, explainer: the whole history
    #   in one), communications, transitions, the audit ACCESS insert, follow-ups, documents, the
    #   trial steps: as test_queries
    with django_assert_max_num_queries(PER_REQUEST + 11):
        response = client.get(url)
    assert response.content.decode().count('class="consent-version"') == chains * 3


def test_the_reconsent_form_costs_a_few_queries(stale_case, nurse, client_for, django_assert_max_num_queries):
    old = _only_consent(stale_case)
    client = client_for(nurse)
    client.get(_url(stale_case, old), **HX)
    # + the case (with its patient), the consent (with its form), the PHI access entry
    with django_assert_max_num_queries(PER_REQUEST + 3):
        assert client.get(_url(stale_case, old), **HX).status_code == 200
