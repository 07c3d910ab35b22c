"""Pages: what each role sees and what the forms do (and refuse)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from outreach.models import FollowUp
from physicians import services
from physicians.choices import Channel, ConsentChannel, ConsentStatus
from physicians.models import (
    ClinicalTrial,
    Insight,
    Institution,
    Interaction,
    MedicalInquiry,
    Physician,
    TrainingSession,
    TrialSite,
)
from tests.factories import FollowUpFactory, InstitutionFactory, MedicalInquiryFactory, PhysicianFactory, ProductFactory
from tests.physicians.factories import InsightFactory, InteractionFactory, TrialSiteFactory

pytestmark = pytest.mark.django_db


def names(response) -> str:
    return response.content.decode()


# --- physician list ---------------------------------------------------------------------------


def test_msl_sees_own_physicians_by_default_and_the_team_on_request(msl, msl_teammate, other_msl, client_for):
    PhysicianFactory(last_name="Mineone", owner=msl)
    PhysicianFactory(last_name="Teamtwo", owner=msl_teammate)
    PhysicianFactory(last_name="Otherthree", owner=other_msl)
    client = client_for(msl)
    html = names(client.get("/physicians/"))
    assert "Mineone" in html and "Teamtwo" not in html and "Otherthree" not in html
    html = names(client.get("/physicians/?scope=team"))
    assert "Mineone" in html and "Teamtwo" in html and "Otherthree" not in html
    html = names(client.get("/physicians/?scope=all"))
    assert "Otherthree" in html


def test_search_by_name_npi_and_institution(msl, client_for):
    inst = InstitutionFactory(name="Mayo Clinic", city="Rochester")
    a = PhysicianFactory(first_name="Jane", last_name="Austen", owner=msl)
    PhysicianFactory(first_name="Emily", last_name="Bronte", owner=msl, institution=inst)
    client = client_for(msl)
    assert "Austen" in names(client.get("/physicians/?q=aus"))
    assert "Bronte" not in names(client.get("/physicians/?q=aus"))
    assert "Austen" in names(client.get("/physicians/?q=Jane Aus"))
    assert "Austen" in names(client.get(f"/physicians/?q={a.npi}"))
    html = names(client.get("/physicians/?q=mayo"))
    assert "Bronte" in html and "Austen" not in html


def test_filters_tier_specialty_area_owner_institution(msl, msl_teammate, client_for):
    from physicians.models import TherapeuticArea

    onc = TherapeuticArea.objects.create(name="Oncology")
    inst = InstitutionFactory()
    p1 = PhysicianFactory(last_name="Tierone", kol_tier=1, specialty="Oncology", owner=msl, institution=inst)
    p1.therapeutic_areas.add(onc)
    PhysicianFactory(last_name="Tiertwo", kol_tier=2, specialty="Cardiology", owner=msl_teammate)
    client = client_for(msl)
    for query in ("tier=1", "specialty=oncology", f"area={onc.pk}", f"owner={msl.pk}", f"institution={inst.pk}"):
        html = names(client.get(f"/physicians/?scope=all&{query}"))
        assert "Tierone" in html and "Tiertwo" not in html, query


def test_not_contacted_in_n_days_and_sort_by_last_contact(msl, client_for):
    now = timezone.now()
    PhysicianFactory(last_name="Recent", owner=msl, last_interaction_at=now - dt.timedelta(days=2))
    PhysicianFactory(last_name="Stale", owner=msl, last_interaction_at=now - dt.timedelta(days=100))
    PhysicianFactory(last_name="Never", owner=msl)
    client = client_for(msl)
    html = names(client.get("/physicians/?not_contacted_days=30"))
    assert "Stale" in html and "Never" in html and "Recent" not in html
    html = names(client.get("/physicians/?sort=-last_interaction_at&q=Re"))
    assert "Recent" in html
    html = names(client.get("/physicians/?sort=last_interaction_at&not_contacted_days=30"))
    assert html.index("Stale") < html.index("Never") or html.index("Never") < html.index("Stale")
    html = names(client.get("/physicians/?sort=-last_interaction_at&not_contacted_days=1"))
    assert html.index("Stale") > 0


def test_pagination_does_not_count(msl, client_for, settings):
    settings.PAGE_SIZE = 2
    for k in range(5):
        PhysicianFactory(last_name=f"Page{k}", owner=msl)
    client = client_for(msl)
    first = client.get("/physicians/")
    assert first.context["page_obj"].has_next() and "Page0" in names(first) and "Page2" not in names(first)
    third = client.get("/physicians/?page=3")
    assert not third.context["page_obj"].has_next() and "Page4" in names(third)


def test_bad_filter_values_do_not_error(msl, client_for):
    response = client_for(msl).get("/physicians/?tier=9&owner=abc&sort=password&page=x&not_contacted_days=-1")
    assert response.status_code == 200


# --- profile ----------------------------------------------------------------------------------


def test_profile_shows_the_relationship_and_a_timeline_newest_first(msl, client_for):
    physician = PhysicianFactory(owner=msl, kol_tier=1)
    now = timezone.now()
    InteractionFactory(physician=physician, msl=msl, occurred_at=now - dt.timedelta(days=3), topics="Old visit")
    InsightFactory(physician=physician, captured_by=msl, captured_at=now - dt.timedelta(days=1), text="Fresh insight")
    MedicalInquiryFactory(
        physician=physician, owner=msl, received_at=now - dt.timedelta(days=2), question="Middle question"
    )
    services.set_consent(physician=physician, channel=ConsentChannel.EMAIL, status=ConsentStatus.WITHDRAWN)
    FollowUpFactory(owner=msl, physician=physician, title="Later", due_at=now + dt.timedelta(days=9))
    FollowUpFactory(owner=msl, physician=physician, title="Sooner call", due_at=now + dt.timedelta(days=2))
    response = client_for(msl).get(f"/physicians/{physician.pk}/")
    html = names(response)
    assert html.index("Fresh insight") < html.index("Middle question") < html.index("Old visit")
    assert "Withdrawn" in html and "Tier 1" in html
    assert response.context["next_contact"].title == "Sooner call"
    assert "1 interaction" in html and "1 insight" in html and "1 inquiry" in html
    assert "Log interaction" in html


def test_next_contact_includes_follow_ups_about_its_visits_and_inquiries(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    inquiry = MedicalInquiryFactory(physician=physician, owner=msl)
    FollowUpFactory(owner=msl, inquiry=inquiry, title="Chase answer", due_at=timezone.now() + dt.timedelta(hours=1))
    response = client_for(msl).get(f"/physicians/{physician.pk}/")
    assert response.context["next_contact"].title == "Chase answer"


def test_profile_counts_only_what_the_user_may_see(msl, other_msl, client_for):
    physician = PhysicianFactory()
    InteractionFactory(physician=physician, msl=msl)
    InteractionFactory(physician=physician, msl=other_msl)
    response = client_for(other_msl).get(f"/physicians/{physician.pk}/")
    assert response.context["physician"].n_interactions == 1
    assert len(response.context["timeline"]) == 1


# --- logging an interaction -------------------------------------------------------------------


def _log_data(**extra):
    data = {
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "channel": Channel.IN_PERSON,
        "duration_minutes": 30,
        "topics": "Phase III data",
        "summary": "Good discussion",
        "follow_up_days": "14",
        "insights-TOTAL_FORMS": "2",
        "insights-INITIAL_FORMS": "0",
        "insights-MIN_NUM_FORMS": "0",
        "insights-MAX_NUM_FORMS": "10",
        "insights-0-theme": "",
        "insights-0-sentiment": "neutral",
        "insights-0-text": "",
        "insights-1-theme": "",
        "insights-1-sentiment": "neutral",
        "insights-1-text": "",
    }
    data.update(extra)
    return data


def test_the_log_form_has_sensible_defaults(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    response = client_for(msl).get(f"/physicians/{physician.pk}/log/")
    form = response.context["form"]
    assert form["channel"].value() == Channel.IN_PERSON
    assert form["follow_up_days"].value() == 14
    shown = form.fields["occurred_at"].prepare_value(form["occurred_at"].value())
    assert abs(shown - timezone.localtime().replace(tzinfo=None)) < dt.timedelta(minutes=2)
    assert "autofocus" in names(response)


def test_logging_an_interaction_with_an_insight(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    product = ProductFactory(name="Cardiolex")
    data = _log_data(**{"products": [product.pk], "insights-0-theme": "safety", "insights-0-text": "Bleeding worry"})
    response = client_for(msl).post(f"/physicians/{physician.pk}/log/", data)
    assert response.status_code == 302, names(response)
    interaction = Interaction.objects.get()
    assert interaction.msl == msl and interaction.team == msl.team
    assert Insight.objects.get().interaction == interaction
    assert FollowUp.objects.get().interaction == interaction


def test_withdrawn_consent_shows_a_field_error_and_writes_nothing(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    services.set_consent(physician=physician, channel=ConsentChannel.PHONE, status=ConsentStatus.WITHDRAWN)
    data = _log_data(channel=Channel.PHONE, **{"insights-0-theme": "safety", "insights-0-text": "x"})
    response = client_for(msl).post(f"/physicians/{physician.pk}/log/", data)
    assert response.status_code == 422
    assert "withdrew consent" in names(response)
    assert not Interaction.objects.exists() and not Insight.objects.exists() and not FollowUp.objects.exists()


def test_an_insight_without_text_is_a_field_error(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    response = client_for(msl).post(f"/physicians/{physician.pk}/log/", _log_data(**{"insights-0-theme": "safety"}))
    assert response.status_code == 422
    assert response.context["insights"].forms[0].errors["text"]
    assert not Interaction.objects.exists()


def test_editing_an_interaction(msl, client_for):
    interaction = InteractionFactory(msl=msl)
    data = {
        "occurred_at": timezone.localtime(interaction.occurred_at).strftime("%Y-%m-%dT%H:%M"),
        "channel": Channel.VIRTUAL,
        "duration_minutes": 45,
        "topics": "Edited",
        "summary": "",
    }
    response = client_for(msl).post(f"/physicians/interactions/{interaction.pk}/edit/", data)
    assert response.status_code == 302, names(response)
    interaction.refresh_from_db()
    assert (interaction.channel, interaction.topics) == (Channel.VIRTUAL, "Edited")


# --- insights, inquiries ----------------------------------------------------------------------


def test_capture_a_standalone_insight(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    response = client_for(msl).post(
        f"/physicians/{physician.pk}/insights/new/", {"theme": "access", "sentiment": "negative", "text": "PA slow"}
    )
    assert response.status_code == 302
    assert Insight.objects.get().captured_by == msl


def test_manager_reviews_in_place_with_htmx(msl, manager, client_for):
    insight = InsightFactory(captured_by=msl)
    client = client_for(manager)
    response = client.post(
        f"/physicians/insights/{insight.pk}/transition/", {"to": "under_review"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "Under review" in names(response)
    response = client.post(f"/physicians/insights/{insight.pk}/transition/", {"to": "actioned"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422 and "review note" in names(response)
    insight.refresh_from_db()
    assert insight.status == "under_review"


def test_an_msl_cannot_review(msl, client_for):
    insight = InsightFactory(captured_by=msl)
    assert (
        client_for(msl).post(f"/physicians/insights/{insight.pk}/transition/", {"to": "under_review"}).status_code
        == 403
    )


def test_msl_sees_the_status_of_her_insight(msl, manager, client_for):
    insight = InsightFactory(captured_by=msl)
    services.transition_insight(insight=insight, to="under_review", reviewer=manager)
    html = names(client_for(msl).get(f"/physicians/insights/{insight.pk}/"))
    assert "Under review" in html and manager.get_full_name() in html


def test_record_an_inquiry_sets_the_due_date(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    response = client_for(msl).post(
        f"/physicians/{physician.pk}/inquiries/new/",
        {
            "question": "Dose in CKD?",
            "priority": "urgent",
            "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    inquiry = MedicalInquiry.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/physicians/inquiries/{inquiry.pk}/"
    assert inquiry.due_at - inquiry.received_at == dt.timedelta(days=2)


def test_inquiry_list_puts_open_first_and_flags_overdue(msl, client_for):
    now = timezone.now()
    MedicalInquiryFactory(owner=msl, question="Closed one", status="closed", received_at=now)
    MedicalInquiryFactory(
        owner=msl, question="Late one", received_at=now - dt.timedelta(days=20), due_at=now - dt.timedelta(days=10)
    )
    client = client_for(msl)
    html = names(client.get("/physicians/inquiries/"))
    assert html.index("Late one") < html.index("Closed one")
    assert "row-overdue" in html and "badge-overdue" in html
    html = names(client.get("/physicians/inquiries/?overdue=true"))
    assert "Late one" in html and "Closed one" not in html


def test_answer_close_and_follow_up_from_the_inquiry_page(msl, client_for):
    inquiry = MedicalInquiryFactory(owner=msl)
    client = client_for(msl)
    bad = client.post(f"/physicians/inquiries/{inquiry.pk}/answer/", {"answer": "", "delivery_method": "email"})
    assert bad.status_code == 422
    inquiry.refresh_from_db()
    assert inquiry.status == "open"
    client.post(f"/physicians/inquiries/{inquiry.pk}/answer/", {"answer": "Label 8.6", "delivery_method": "email"})
    inquiry.refresh_from_db()
    assert inquiry.status == "answered"
    client.post(f"/physicians/inquiries/{inquiry.pk}/close/")
    inquiry.refresh_from_db()
    assert inquiry.status == "closed"
    response = client.post(f"/physicians/inquiries/{inquiry.pk}/follow-up/", {"days": "3", "title": ""})
    assert response.status_code == 302
    assert FollowUp.objects.get().inquiry == inquiry
    assert client.post(f"/physicians/inquiries/{inquiry.pk}/follow-up/", {"days": "-1"}).status_code == 422


# --- consent, sites, trainings, reference data ------------------------------------------------


def test_consent_is_recorded_in_place(msl, client_for):
    physician = PhysicianFactory()
    response = client_for(msl).post(
        f"/physicians/{physician.pk}/consent/",
        {"channel": "email", "status": "withdrawn", "recorded_on": timezone.localdate().isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "Withdrawn" in names(response)
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = client_for(msl).post(
        f"/physicians/{physician.pk}/consent/",
        {"channel": "phone", "status": "withdrawn", "recorded_on": future},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 422
    assert physician.consents.count() == 1


def test_site_status_advances_from_its_page_and_refuses_a_skip(msl, client_for):
    site = TrialSiteFactory()
    client = client_for(msl)
    client.post(f"/physicians/sites/{site.pk}/status/", {"to": "selected"})
    site.refresh_from_db()
    assert site.status == "selected"
    response = client.post(f"/physicians/sites/{site.pk}/status/", {"to": "closed"}, follow=True)
    assert "moves to activated next" in names(response)
    site.refresh_from_db()
    assert site.status == "selected"


def test_training_with_attendees(msl, client_for):
    data = {
        "title": "Cardiolex launch",
        "held_on": timezone.localdate().isoformat(),
        "topics": "MoA",
        "materials_note": "",
        "attendees-TOTAL_FORMS": "3",
        "attendees-INITIAL_FORMS": "0",
        "attendees-MIN_NUM_FORMS": "0",
        "attendees-MAX_NUM_FORMS": "1000",
        "attendees-0-name": "Rep One",
        "attendees-0-attended": "on",
        "attendees-0-score_before": "50",
        "attendees-0-score_after": "80",
        "attendees-1-name": "Rep Two",
        "attendees-1-score_before": "",
        "attendees-2-name": "",
        "attendees-2-attended": "on",  # the browser sends the default-checked box of an empty row
    }
    response = client_for(msl).post("/physicians/trainings/new/", data)
    assert response.status_code == 302, names(response)
    session = TrainingSession.objects.get()
    assert session.trainer == msl and session.team == msl.team
    assert session.attendees.count() == 2
    html = names(client_for(msl).get(f"/physicians/trainings/{session.pk}/"))
    assert "30.0 points" in html and "1 of 2" in html
    data["attendees-0-score_after"] = "101"
    assert client_for(msl).post("/physicians/trainings/new/", data).status_code == 422
    assert TrainingSession.objects.count() == 1


def test_reference_data_forms(msl, client_for):
    client = client_for(msl)
    product = ProductFactory()
    assert (
        client.post(
            "/physicians/institutions/new/", {"name": "X", "kind": "academic", "city": "Y", "country": "US"}
        ).status_code
        == 302
    )
    duplicate = client.post(
        "/physicians/institutions/new/", {"name": "X", "kind": "academic", "city": "Y", "country": "US"}
    )
    assert duplicate.status_code == 422 and Institution.objects.count() == 1
    assert client.post("/physicians/products/new/", {"name": "Newdrug", "status": "marketed"}).status_code == 302
    r = client.post(
        "/physicians/trials/new/",
        {"protocol_number": "T-1", "title": "T", "phase": "2", "product": product.pk, "sponsor_type": "company"},
    )
    assert r.status_code == 422 and "This field is required" in r.content.decode()  # the NCT number
    assert not ClinicalTrial.objects.exists()
    r = client.post(
        "/physicians/trials/new/",
        {
            "protocol_number": "T-1",
            "nct_number": "nct01234567",
            "title": "T",
            "phase": "2",
            "status": "recruiting",
            "product": product.pk,
            "sponsor_type": "company",
        },
    )
    assert r.status_code == 302
    trial = ClinicalTrial.objects.get()
    inst = Institution.objects.get()
    r = client.post(
        "/physicians/sites/new/",
        {"trial": trial.pk, "institution": inst.pk, "enrolment_target": 10},
    )
    assert r.status_code == 302 and TrialSite.objects.count() == 1
    r = client.post("/physicians/new/", {"first_name": "A", "last_name": "B", "npi": "1234567890", "kol_tier": 0})
    assert r.status_code == 422 and "check digit" in names(r)
    r = client.post(
        "/physicians/new/", {"first_name": "A", "last_name": "B", "npi": "1234567893", "kol_tier": 0, "is_active": "on"}
    )
    assert r.status_code == 302 and Physician.objects.get().npi == "1234567893"


def test_a_liaison_cannot_create_reference_data(nurse, client_for):
    client = client_for(nurse)
    assert (
        client.post("/physicians/institutions/new/", {"name": "X", "kind": "academic", "city": "Y"}).status_code == 403
    )
    assert not Institution.objects.exists()


def test_institutions_list_is_searchable(nurse, client_for):
    InstitutionFactory(name="Alpha Hospital", city="Austin")
    InstitutionFactory(name="Beta Clinic", city="Boston")
    html = names(client_for(nurse).get("/physicians/institutions/?q=alp"))
    assert "Alpha Hospital" in html and "Beta Clinic" not in html


def test_lists_filter_by_the_contract_parameters(msl, client_for):
    physician = PhysicianFactory(owner=msl)
    other = PhysicianFactory(owner=msl)
    product = ProductFactory()
    i = InteractionFactory(physician=physician, msl=msl, channel=Channel.PHONE, topics="Mine")
    i.products.add(product)
    InteractionFactory(physician=other, msl=msl, topics="Theirs", occurred_at=timezone.now() - dt.timedelta(days=40))
    client = client_for(msl)
    day = timezone.localdate()
    for query in (
        f"physician={physician.pk}",
        "channel=phone",
        f"product={product.pk}",
        f"date_from={(day - dt.timedelta(days=5)).isoformat()}",
        f"msl={msl.pk}&team={msl.team_id}&q=Min",
    ):
        html = names(client.get(f"/physicians/interactions/?{query}"))
        assert f"/physicians/interactions/{i.pk}/" in html, query
        if "msl=" not in query:
            assert "Theirs" not in html, query


def test_filter_selects_start_empty(msl, client_for):
    form = client_for(msl).get("/physicians/").context["filter"].form
    assert form["tier"].value() is None
    assert next(iter(form.fields["tier"].choices))[0] == ""


def test_a_liaison_reads_a_physician_as_a_referral_source_without_msl_records(client_for, nurse, msl):
    from tests.factories import PhysicianFactory

    physician = PhysicianFactory(owner=msl)
    body = client_for(nurse).get(f"/physicians/{physician.pk}/").content.decode()
    assert f"/patients/?referral_physician={physician.pk}&amp;stage=all&amp;scope=team" in body
    assert "Log interaction" not in body and "Timeline" not in body


def test_interaction_export_streams_the_filtered_list_of_the_users_team(
    client_for, msl, msl_teammate, other_msl, nurse
):
    import csv
    import io

    from tests.factories import PhysicianFactory

    physician = PhysicianFactory(first_name="=cmd", last_name="Ada")
    for days, who in ((1, msl), (2, msl_teammate), (3, msl)):
        services.log_interaction(
            physician=physician, msl=who, channel=Channel.PHONE, summary=f"call {days}",
            occurred_at=timezone.now() - dt.timedelta(days=days),
        )  # fmt: skip
    services.log_interaction(physician=physician, msl=other_msl, channel=Channel.PHONE, summary="other team")
    client = client_for(msl)
    response = client.get("/physicians/interactions/export.csv", {"msl": msl.pk})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["Date and time", "Physician", "NPI"]
    assert [r[-1] for r in rows[1:]] == ["call 1", "call 3"]  # the filter, newest first
    assert rows[1][1] == "'=cmd Ada"  # a formula is text
    everything = b"".join(client.get("/physicians/interactions/export.csv").streaming_content).decode()
    assert "call 2" in everything and "other team" not in everything  # the team's, never another's
    assert client_for(nurse).get("/physicians/interactions/export.csv").status_code == 403


def test_interaction_export_query_count_does_not_grow(client_for, msl):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import PhysicianFactory

    client = client_for(msl)
    client.get("/")  # the session's activity stamp, written on the first request
    counts = []
    for n in (2, 20):
        physician = PhysicianFactory()
        for _ in range(n):
            services.log_interaction(physician=physician, msl=msl, channel=Channel.PHONE)
        with CaptureQueriesContext(connection) as ctx:
            body = b"".join(client.get("/physicians/interactions/export.csv").streaming_content)
        counts.append(len(ctx.captured_queries))
        assert body.count(b"\n") >= n + 1
    assert counts[0] == counts[1]


def _csv_rows(response) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_exports_write_labels_names_and_flags_computed_by_the_database(client_for, msl):
    from physicians.choices import KolTier

    msl.first_name, msl.last_name = "Mia", "Sol"
    msl.save()
    physician = PhysicianFactory(first_name="Ada", last_name="Byron", kol_tier=KolTier.TIER_1, owner=msl)
    when = timezone.now() - dt.timedelta(days=1)
    services.log_interaction(
        physician=physician, msl=msl, channel=Channel.PHONE, summary="-x", occurred_at=when,
        unsolicited_request=True, duration_minutes=15,
    )  # fmt: skip
    client = client_for(msl)
    header, row = _csv_rows(client.get("/physicians/interactions/export.csv"))
    values = dict(zip(header, row, strict=True))
    assert values["Date and time"] == timezone.localtime(when).isoformat(timespec="minutes")
    assert (values["Physician"], values["MSL"], values["Channel"]) == ("Ada Byron", "Mia Sol", "Phone")
    assert (values["Unsolicited request"], values["Off-label discussed"]) == ("yes", "no")
    assert (values["Duration (min)"], values["Summary"]) == ("15", "'-x")

    rows = _csv_rows(client.get("/physicians/export.csv", {"scope": "all", "q": "Byron"}))
    values = dict(zip(rows[0], rows[1], strict=True))
    assert (values["KOL tier"], values["Owning MSL"]) == ("Tier 1", "Mia Sol")
    physician.owner = None
    physician.kol_tier = KolTier.UNRANKED
    physician.save()
    rows = _csv_rows(client.get("/physicians/export.csv", {"scope": "all", "q": "Byron"}))
    values = dict(zip(rows[0], rows[1], strict=True))
    assert (values["KOL tier"], values["Owning MSL"]) == (KolTier.UNRANKED.label, "")


def test_sorting_by_last_interaction_puts_the_never_contacted_at_the_old_end(client_for, msl):
    now = timezone.now()
    # Contacts by msl's team (the factory writes the team's last contact): what msl's list shows.
    recent = PhysicianFactory(last_name="Recent", owner=msl, last_interaction_at=now - dt.timedelta(days=1))
    older = PhysicianFactory(last_name="Older", owner=msl, last_interaction_at=now - dt.timedelta(days=30))
    never = PhysicianFactory(last_name="Never", owner=msl, last_interaction_at=None)
    client = client_for(msl)

    def order(sort: str) -> list[int]:
        response = client.get("/physicians/", {"scope": "all", "sort": sort})
        return [p.pk for p in response.context["page_obj"].object_list]

    assert order("-last_interaction_at") == [recent.pk, older.pk, never.pk]  # newest first, never last
    assert order("last_interaction_at") == [never.pk, older.pk, recent.pk]  # the longest without first


def test_the_last_contact_order_has_its_index_on_each_database():
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'physician_contact_order_idx'")
            assert "last_interaction_at NULLS FIRST, id" in cur.fetchone()[0]
        else:  # SQLite sorts NULL first in ascending order without being told
            cur.execute("SELECT sql FROM sqlite_master WHERE name = 'physician_contact_order_idx'")
            assert "NULLS" not in cur.fetchone()[0]


def test_reference_lists_search_their_own_columns(msl, client_for):
    from tests.physicians.factories import ClinicalTrialFactory, TrainingSessionFactory

    ClinicalTrialFactory(protocol_number="ONC-7", title="Adjuvant therapy")
    ClinicalTrialFactory(protocol_number="CAR-1", title="Heart failure in ONC patients")
    TrainingSessionFactory(trainer=msl, title="Zetavir launch", topics="Mechanism")
    TrainingSessionFactory(trainer=msl, title="Renal dosing", topics="Zetavir in CKD")
    ProductFactory(name="Zetavir", generic_name="zetamab")
    ProductFactory(name="Ypsilon", generic_name="ypsimab")
    client = client_for(msl)

    def found(url: str, q: str) -> list[str]:
        return [getattr(o, "title", None) or str(o) for o in client.get(url, {"q": q}).context["page_obj"]]

    # Trials: the protocol number's beginning, or words of the title.
    assert found("/physicians/trials/", "onc") == ["Heart failure in ONC patients", "Adjuvant therapy"]
    assert found("/physicians/trials/", "adjuvant") == ["Adjuvant therapy"]
    assert found("/physicians/trials/", "-7") == []  # not inside the protocol number
    # Trainings: the title or the topics.
    assert sorted(found("/physicians/trainings/", "zetavir")) == ["Renal dosing", "Zetavir launch"]
    assert found("/physicians/trainings/", "mechanism") == ["Zetavir launch"]
    # Products: the name or the generic name, anywhere in either.
    assert found("/physicians/products/", "tavi") == ["Zetavir"]
    assert found("/physicians/products/", "psimab") == ["Ypsilon"]
    assert len(found("/physicians/products/", "  ")) == len(found("/physicians/products/", ""))  # blank: no filter
