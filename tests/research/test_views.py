"""The participation pages: a nurse takes a case from screening to enrolment through them; bad
input re-renders with the reason and writes nothing; outsiders get 404 or 403; every page that
shows a participation is a PHI access; the query counts stay the same as the records grow."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from patients.choices import AccessKind
from physicians.choices import CriterionKind, SiteStatus
from physicians.models import TrialCriterion
from research import services
from research.choices import ParticipationStatus
from research.models import Participation
from tests.physicians.factories import TrialSiteFactory

from .conftest import consented, eligible_answers, screen_eligible, sign_research_consent

pytestmark = pytest.mark.django_db
S = ParticipationStatus


def _access_entries(case) -> int:
    return LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, additional_data__case_id=case.pk, additional_data__kind=AccessKind.RESEARCH
    ).count()


def test_a_nurse_screens_consents_and_enrols_through_the_pages(case, site, nurse, client_for):
    client = client_for(nurse)
    url = reverse("research:start_screening", args=[case.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Start screening" in page.content.decode()
    response = client.post(url, {"site": site.pk})
    participation = Participation.objects.get(case=case)
    assert response.status_code == 302 and response["Location"] == reverse(
        "research:participation", args=[participation.pk]
    )

    answers = {f"c{pk}": value for pk, value in eligible_answers(participation).items()}
    assert client.post(reverse("research:answers", args=[participation.pk]), answers).status_code == 302
    conclude = reverse("research:conclude", args=[participation.pk])
    assert client.post(conclude, {"outcome": "eligible"}).status_code == 302
    participation.refresh_from_db()
    assert participation.status == S.ELIGIBLE

    response = client.post(reverse("research:add_consent", args=[participation.pk]))
    consent = case.consents.get(form__trial=site.trial)
    assert response["Location"].endswith(f"#consent-{consent.pk}")
    consent.delete()  # signed below through the service, as the case page's consent form does
    sign_research_consent(participation, nurse)
    assert client.post(reverse("research:consented", args=[participation.pk])).status_code == 302

    enrol = reverse("research:enrol", args=[participation.pk])
    bad = client.post(enrol, {"participant_id": case.patient.mrn, "enrolled_on": timezone.localdate().isoformat()})
    assert bad.status_code == 422
    assert "never the medical record number" in bad.content.decode()
    participation.refresh_from_db()
    assert participation.status == S.CONSENTED and participation.participant_id == ""
    ok = client.post(enrol, {"participant_id": "LCX-0099", "enrolled_on": timezone.localdate().isoformat()})
    assert ok.status_code == 302
    body = client.get(reverse("research:participation", args=[participation.pk])).content.decode()
    assert "LCX-0099" in body and "Enrolled" in body
    # The case page lists it, and its history holds every step.
    case_page = client.get(reverse("patients:case_detail", args=[case.pk])).content.decode()
    assert "LCX-301" in case_page and "Consented → Enrolled" in case_page


def test_a_closed_site_is_refused_on_the_form_by_name(case, site, nurse, client_for):
    site.status = SiteStatus.CLOSED
    site.save()
    response = client_for(nurse).post(reverse("research:start_screening", args=[case.pk]), {"site": site.pk})
    assert response.status_code == 422
    assert "is closed: no one can be screened there" in response.content.decode()
    assert not Participation.objects.exists()


def test_a_screen_failure_without_its_reason_is_refused_and_writes_nothing(case, site, nurse, client_for):
    participation = services.start_screening(case=case, site=site, by=nurse)
    response = client_for(nurse).post(
        reverse("research:conclude", args=[participation.pk]), {"outcome": "screen_failure"}
    )
    assert response.status_code == 422 and "Choose the reason of the screen failure." in response.content.decode()
    participation.refresh_from_db()
    assert participation.status == S.SCREENING


def test_outsiders_get_404_and_msls_403(case, site, nurse, other_nurse, msl, client_for):
    participation = screen_eligible(case, site, nurse)
    page = reverse("research:participation", args=[participation.pk])
    assert client_for(other_nurse).get(page).status_code == 404
    assert client_for(msl).get(page).status_code == 403
    assert (
        client_for(other_nurse).post(reverse("research:withdraw", args=[participation.pk]), {"reason": "x"}).status_code
        == 404
    )
    assert (
        client_for(msl).post(reverse("research:withdraw", args=[participation.pk]), {"reason": "x"}).status_code == 403
    )
    assert client_for(other_nurse).get(reverse("research:start_screening", args=[case.pk])).status_code == 404
    participation.refresh_from_db()
    assert participation.status == S.ELIGIBLE


def test_the_participation_page_is_a_phi_access(case, site, nurse, client_for):
    participation = services.start_screening(case=case, site=site, by=nurse)
    before = _access_entries(case)
    client_for(nurse).get(reverse("research:participation", args=[participation.pk]))
    assert _access_entries(case) == before + 1


@pytest.mark.parametrize("extra", [0, 8])
def test_the_participation_page_query_count_does_not_grow(
    extra, case, site, nurse, client_for, django_assert_num_queries
):
    TrialCriterion.objects.bulk_create(
        [
            TrialCriterion(trial=site.trial, kind=CriterionKind.INCLUSION, position=10 + i, text=f"Extra {i}")
            for i in range(extra)
        ]
    )
    participation = consented(case, site, nurse)
    for i in range(extra):
        other = TrialSiteFactory(
            trial__protocol_number=f"X-{i}", trial__status="recruiting", status=SiteStatus.ENROLLING
        )
        TrialCriterion.objects.create(trial=other.trial, kind=CriterionKind.INCLUSION, position=1, text="Adult")
        services.start_screening(case=case, site=other, by=nurse)
    client = client_for(nurse)
    url = reverse("research:participation", args=[participation.pk])
    client.get(url)
    # session, user; the participation (case, patient, team, site, trial, people joined); the
    # answers; the criteria; the consents; their signed copies (read once, for the list and the
    # consent's blockers); the consent form; the transitions; the ACCESS entry.
    with django_assert_num_queries(10):
        assert client.get(url).status_code == 200


def _queries_of(client, url):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return ctx.captured_queries


def test_the_case_page_reads_its_trials_in_one_query_at_any_number(case, site, nurse, client_for):
    client = client_for(nurse)
    url = reverse("patients:case_detail", args=[case.pk])
    client.get(url)
    none = len(_queries_of(client, url))
    for i in range(4):
        other = TrialSiteFactory(
            trial__protocol_number=f"Y-{i}", trial__status="recruiting", status=SiteStatus.ENROLLING
        )
        TrialCriterion.objects.create(trial=other.trial, kind=CriterionKind.INCLUSION, position=1, text="Adult")
        services.start_screening(case=case, site=other, by=nurse)
    assert len(_queries_of(client, url)) == none


def test_the_criteria_and_irb_pages_are_the_medical_affairs_sides(site, msl, nurse, client_for):
    trial = site.trial
    client = client_for(msl)
    response = client.post(
        reverse("research:criteria", args=[trial.pk]),
        {"inclusion": "Adult\n\nRelapsed DLBCL\n", "exclusion": "Pregnant"},
    )
    assert response.status_code == 302
    assert list(trial.criteria.values_list("kind", "position", "text")) == [
        ("exclusion", 1, "Pregnant"),
        ("inclusion", 1, "Adult"),
        ("inclusion", 2, "Relapsed DLBCL"),
    ]
    bad = client.post(
        reverse("research:irb_approval", args=[trial.pk]),
        {"version": "1.0", "approved_on": timezone.localdate().isoformat()},
    )
    assert bad.status_code == 422 and "already recorded" in bad.content.decode()
    assert client_for(nurse).get(reverse("research:criteria", args=[trial.pk])).status_code == 403
    page = client.get(reverse("physicians:trial_detail", args=[trial.pk])).content.decode()
    assert "Relapsed DLBCL" in page and "v1.0, IRB approved" in page
