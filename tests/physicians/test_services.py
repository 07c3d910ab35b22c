"""Services: the rules of the medical-affairs side and their guards."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone

from outreach.models import FollowUp, Notification, ServiceLevelRule
from physicians import services
from physicians.choices import (
    Channel,
    ConsentChannel,
    ConsentStatus,
    DeliveryMethod,
    InquiryPriority,
    InquiryStatus,
    InsightStatus,
    SiteStatus,
    Theme,
)
from physicians.models import Insight, Interaction, MedicalInquiry, Physician
from tests.factories import MedicalInquiryFactory, PhysicianFactory, ProductFactory
from tests.physicians.factories import InsightFactory, InteractionFactory, TrialSiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def physician(msl):
    return PhysicianFactory(owner=msl)


# --- log_interaction --------------------------------------------------------------------------


def test_log_interaction_saves_visit_insights_and_follow_up_in_one_go(physician, msl):
    product = ProductFactory(name="Cardiolex")
    interaction = services.log_interaction(
        physician=physician,
        msl=msl,
        channel=Channel.IN_PERSON,
        products=[product],
        topics="Phase III",
        insights=[
            {"theme": Theme.SAFETY, "text": "Worried about bleeding.", "product": product, "sentiment": "negative"}
        ],
        follow_up_days=7,
    )
    assert interaction.team == msl.team
    assert list(interaction.products.all()) == [product]
    insight = interaction.insights.get()
    assert (insight.theme, insight.status, insight.captured_by, insight.team) == (Theme.SAFETY, "new", msl, msl.team)
    follow_up = FollowUp.objects.get(interaction=interaction)
    assert follow_up.owner == msl and follow_up.team == msl.team
    assert abs(follow_up.due_at - (timezone.now() + dt.timedelta(days=7))) < dt.timedelta(minutes=1)
    physician.refresh_from_db()
    assert physician.last_interaction_at == interaction.occurred_at


def test_no_follow_up_when_days_is_blank(physician, msl):
    interaction = services.log_interaction(physician=physician, msl=msl, channel=Channel.PHONE, follow_up_days=None)
    assert not FollowUp.objects.filter(interaction=interaction).exists()


def test_last_interaction_keeps_the_latest_even_when_an_older_visit_is_logged(physician, msl):
    recent = timezone.now() - dt.timedelta(days=1)
    services.log_interaction(physician=physician, msl=msl, channel=Channel.PHONE, occurred_at=recent)
    services.log_interaction(
        physician=physician, msl=msl, channel=Channel.PHONE, occurred_at=recent - dt.timedelta(days=30)
    )
    physician.refresh_from_db()
    assert physician.last_interaction_at == recent


def test_withdrawn_consent_refuses_the_channel_with_a_clear_message(physician, msl):
    services.set_consent(physician=physician, channel=ConsentChannel.EMAIL, status=ConsentStatus.WITHDRAWN)
    with pytest.raises(ValidationError) as exc:
        services.log_interaction(physician=physician, msl=msl, channel=Channel.EMAIL)
    assert "withdrew consent" in str(exc.value)
    assert not Interaction.objects.exists()
    # Another channel is still fine, and congresses follow the in-person consent.
    services.log_interaction(physician=physician, msl=msl, channel=Channel.CONGRESS)


def test_congress_is_refused_when_in_person_consent_is_withdrawn(physician, msl):
    services.set_consent(physician=physician, channel=ConsentChannel.IN_PERSON, status=ConsentStatus.WITHDRAWN)
    with pytest.raises(ValidationError):
        services.log_interaction(physician=physician, msl=msl, channel=Channel.CONGRESS)


def test_granted_again_allows_the_channel(physician, msl):
    services.set_consent(physician=physician, channel=ConsentChannel.PHONE, status=ConsentStatus.WITHDRAWN)
    services.set_consent(physician=physician, channel=ConsentChannel.PHONE, status=ConsentStatus.GRANTED)
    services.log_interaction(physician=physician, msl=msl, channel=Channel.PHONE)
    assert physician.consents.count() == 1


def test_a_bad_insight_rolls_back_the_whole_visit(physician, msl):
    with pytest.raises(ValidationError):
        services.log_interaction(
            physician=physician,
            msl=msl,
            channel=Channel.IN_PERSON,
            insights=[{"theme": Theme.SAFETY, "text": "ok"}, {"theme": "not-a-theme", "text": "bad"}],
            follow_up_days=3,
        )
    assert not Interaction.objects.exists()
    assert not Insight.objects.exists()
    assert not FollowUp.objects.exists()
    physician.refresh_from_db()
    assert physician.last_interaction_at is None


def test_off_label_requires_an_unsolicited_request(physician, msl):
    with pytest.raises(ValidationError) as exc:
        services.log_interaction(physician=physician, msl=msl, channel=Channel.IN_PERSON, off_label_discussed=True)
    assert "unsolicited" in str(exc.value)
    services.log_interaction(
        physician=physician, msl=msl, channel=Channel.IN_PERSON, off_label_discussed=True, unsolicited_request=True
    )


def test_only_msls_on_a_team_log_interactions(physician, nurse, manager):
    for user in (nurse, manager):
        with pytest.raises(ValidationError):
            services.log_interaction(physician=physician, msl=user, channel=Channel.IN_PERSON)


def test_a_future_visit_is_refused(physician, msl):
    with pytest.raises(ValidationError):
        services.log_interaction(
            physician=physician, msl=msl, channel=Channel.PHONE, occurred_at=timezone.now() + dt.timedelta(days=2)
        )


def test_update_interaction_recomputes_last_contact_and_checks_consent(physician, msl, msl_teammate):
    first = services.log_interaction(physician=physician, msl=msl, channel=Channel.PHONE)
    earlier = timezone.now() - dt.timedelta(days=10)
    services.update_interaction(interaction=first, by=msl, occurred_at=earlier)
    physician.refresh_from_db()
    assert physician.last_interaction_at == earlier
    services.set_consent(physician=physician, channel=ConsentChannel.VIRTUAL, status=ConsentStatus.WITHDRAWN)
    with pytest.raises(ValidationError):
        services.update_interaction(interaction=first, by=msl, channel=Channel.VIRTUAL)
    with pytest.raises(ValidationError):
        services.update_interaction(interaction=first, by=msl_teammate, topics="x")


# --- insights ---------------------------------------------------------------------------------


def test_insight_review_moves_through_its_states_and_tells_the_msl(msl, manager):
    insight = InsightFactory(captured_by=msl)
    insight = services.transition_insight(insight=insight, to=InsightStatus.UNDER_REVIEW, reviewer=manager)
    assert insight.status == "under_review" and insight.reviewer == manager
    assert insight.review_started_at and insight.status_changed_at
    insight = services.transition_insight(
        insight=insight, to=InsightStatus.ACTIONED, reviewer=manager, note="Sent to the trial design team."
    )
    assert insight.actioned_at and insight.review_note == "Sent to the trial design team."
    insight = services.transition_insight(insight=insight, to=InsightStatus.CLOSED, reviewer=manager)
    assert insight.closed_at and insight.status == "closed"
    notes = Notification.objects.filter(user=msl, kind="insight_status")
    assert notes.count() == 3
    assert f"/physicians/insights/{insight.pk}/" in notes.first().url


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ("new", "actioned"),
        ("new", "closed"),
        ("under_review", "new"),
        ("actioned", "under_review"),
        ("closed", "actioned"),
        ("new", "bogus"),
    ],
)
def test_invalid_insight_transitions_are_refused(start, to, msl, manager):
    insight = InsightFactory(captured_by=msl, status=start, review_note="note")
    with pytest.raises(ValidationError) as exc:
        services.transition_insight(insight=insight, to=to, reviewer=manager, note="x")
    assert "cannot be moved" in str(exc.value)
    insight.refresh_from_db()
    assert insight.status == start
    assert not Notification.objects.exists()


def test_actioning_needs_a_review_note(msl, manager):
    insight = InsightFactory(captured_by=msl, status="under_review")
    with pytest.raises(ValidationError) as exc:
        services.transition_insight(insight=insight, to=InsightStatus.ACTIONED, reviewer=manager)
    assert "review note" in str(exc.value)


def test_only_a_manager_of_the_team_reviews(msl, msl_teammate, other_manager):
    insight = InsightFactory(captured_by=msl)
    for user in (msl_teammate, other_manager):
        with pytest.raises(ValidationError):
            services.transition_insight(insight=insight, to=InsightStatus.UNDER_REVIEW, reviewer=user)


def test_capture_insight_standalone_and_edit_only_while_new(physician, msl, manager):
    insight = services.capture_insight(physician=physician, captured_by=msl, theme=Theme.ACCESS, text="PA takes weeks")
    assert insight.interaction is None and insight.team == msl.team
    services.update_insight(insight=insight, by=msl, text="PA takes three weeks")
    services.transition_insight(insight=insight, to=InsightStatus.UNDER_REVIEW, reviewer=manager)
    insight.refresh_from_db()
    with pytest.raises(ValidationError):
        services.update_insight(insight=insight, by=msl, text="changed")


def test_capture_insight_refuses_empty_text(physician, msl):
    with pytest.raises(ValidationError):
        services.capture_insight(physician=physician, captured_by=msl, theme=Theme.ACCESS, text="  ")
    assert not Insight.objects.exists()


# --- inquiries --------------------------------------------------------------------------------


@time_machine.travel("2026-03-02 09:00:00+00:00", tick=False)
@pytest.mark.parametrize(("priority", "days"), [(InquiryPriority.URGENT, 2), (InquiryPriority.STANDARD, 10)])
def test_inquiry_due_date_follows_the_service_level(priority, days, physician, msl):
    inquiry = services.record_inquiry(physician=physician, owner=msl, question="Dose?", priority=priority)
    assert inquiry.due_at == timezone.now() + dt.timedelta(days=days)
    assert inquiry.team == msl.team


def test_service_levels_come_from_the_rule_the_admin_edits(physician, msl):
    ServiceLevelRule.objects.update_or_create(key="inquiry_due_soon", defaults={"parameters": {"urgent_days": 1}})
    inquiry = services.record_inquiry(physician=physician, owner=msl, question="Dose?", priority="urgent")
    assert inquiry.due_at - inquiry.received_at == dt.timedelta(days=1)


def test_inquiry_becomes_overdue_after_its_due_date(physician, msl):
    with time_machine.travel("2026-03-02 09:00:00+00:00", tick=False):
        inquiry = services.record_inquiry(physician=physician, owner=msl, question="Dose?", priority="urgent")
        assert not inquiry.is_overdue
    with time_machine.travel("2026-03-05 09:00:00+00:00", tick=False):
        inquiry.refresh_from_db()
        assert inquiry.is_overdue
        assert list(MedicalInquiry.objects.overdue()) == [inquiry]


def test_changing_priority_recomputes_the_due_date(physician, msl):
    inquiry = services.record_inquiry(physician=physician, owner=msl, question="Dose?", priority="standard")
    services.update_inquiry(inquiry=inquiry, by=msl, priority="urgent")
    assert inquiry.due_at - inquiry.received_at == dt.timedelta(days=2)


def test_answer_then_close_an_inquiry_with_guards(msl):
    inquiry = MedicalInquiryFactory(owner=msl)
    with pytest.raises(ValidationError):
        services.close_inquiry(inquiry=inquiry, by=msl)
    with pytest.raises(ValidationError) as exc:
        services.answer_inquiry(inquiry=inquiry, by=msl, answer=" ", delivery_method=DeliveryMethod.EMAIL)
    assert "answer" in exc.value.message_dict
    inquiry = services.answer_inquiry(
        inquiry=inquiry, by=msl, answer="See the label, section 8.", delivery_method=DeliveryMethod.EMAIL
    )
    assert inquiry.status == InquiryStatus.ANSWERED and inquiry.answered_at and inquiry.delivered_at
    with pytest.raises(ValidationError) as exc:
        services.answer_inquiry(inquiry=inquiry, by=msl, answer="again", delivery_method=DeliveryMethod.EMAIL)
    assert "already answered" in str(exc.value)
    inquiry = services.close_inquiry(inquiry=inquiry, by=msl)
    assert inquiry.status == InquiryStatus.CLOSED and inquiry.closed_at
    with pytest.raises(ValidationError):
        services.update_inquiry(inquiry=inquiry, by=msl, question="changed")


def test_delivery_before_receipt_is_refused(msl):
    inquiry = MedicalInquiryFactory(owner=msl)
    with pytest.raises(ValidationError):
        services.answer_inquiry(
            inquiry=inquiry,
            by=msl,
            answer="x",
            delivery_method=DeliveryMethod.EMAIL,
            delivered_at=inquiry.received_at - dt.timedelta(days=1),
        )
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.OPEN


def test_inquiry_follow_up_concerns_the_inquiry(msl):
    inquiry = MedicalInquiryFactory(owner=msl)
    follow_up = services.inquiry_follow_up(inquiry=inquiry, owner=msl, days=3)
    assert follow_up.inquiry == inquiry and follow_up.owner == msl


# --- trial sites ------------------------------------------------------------------------------


def test_site_status_moves_one_step_at_a_time(msl):
    site = TrialSiteFactory(principal_investigator=PhysicianFactory())
    for status in (SiteStatus.SELECTED, SiteStatus.ACTIVATED, SiteStatus.ENROLLING, SiteStatus.CLOSED):
        site = services.advance_site_status(site=site, to=status, by=msl)
        assert site.status == status
    assert site.activated_on == timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        services.advance_site_status(site=site, to=SiteStatus.ENROLLING, by=msl)
    assert "closed" in str(exc.value)


def test_site_cannot_skip_a_step(msl):
    site = TrialSiteFactory()
    with pytest.raises(ValidationError) as exc:
        services.advance_site_status(site=site, to=SiteStatus.ENROLLING, by=msl)
    assert "selected next" in str(exc.value)
    site.refresh_from_db()
    assert site.status == SiteStatus.IDENTIFIED


def test_site_needs_a_principal_investigator_to_enrol(msl):
    site = TrialSiteFactory(status=SiteStatus.ACTIVATED)
    with pytest.raises(ValidationError) as exc:
        services.advance_site_status(site=site, to=SiteStatus.ENROLLING, by=msl)
    assert "principal investigator" in str(exc.value)


# --- models -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("npi", "ok"), [("1234567893", True), ("1234567890", False), ("123456789", False), ("12345678a3", False)]
)
def test_npi_check_digit(npi, ok):
    physician = Physician(first_name="A", last_name="B", npi=npi)
    if ok:
        physician.full_clean()
    else:
        with pytest.raises(ValidationError) as exc:
            physician.full_clean()
        assert "npi" in exc.value.message_dict


def test_make_npi_produces_valid_numbers():
    from physicians.npi import is_valid_npi, make_npi

    assert all(is_valid_npi(make_npi(n)) for n in range(100000000, 100000500))


def test_interaction_model_constraint_forbids_off_label_without_request(msl):
    interaction = InteractionFactory.build(
        msl=msl, physician=PhysicianFactory(), team=msl.team, off_label_discussed=True
    )
    with pytest.raises(ValidationError):
        interaction.full_clean()
