"""Every list, detail and form page issues the same number of queries at 2 rows and at 20 rows.

Every count below starts with the same five queries of the request cycle, named BASE:
session, user, and the session save of the idle-timeout middleware (savepoint, update,
release). The MSL pages add one for the navbar's `user.team`.
"""

from __future__ import annotations

import pytest

from physicians.models import Physician
from tests.factories import InstitutionFactory, MedicalInquiryFactory, PhysicianFactory, ProductFactory
from tests.physicians.factories import (
    ClinicalTrialFactory,
    InsightFactory,
    InteractionFactory,
    TrainingAttendeeFactory,
    TrainingSessionFactory,
    TrialSiteFactory,
)
from tests.research.factories import ParticipationFactory

pytestmark = pytest.mark.django_db

BASE = 5  # session, user (with the team the navbar shows), savepoint, session update, release savepoint


def _physicians(msl, n):
    institution = InstitutionFactory()
    PhysicianFactory.create_batch(n, owner=msl, institution=institution)
    return "/physicians/"


def _interactions(msl, n):
    physician = PhysicianFactory(owner=msl)
    for _ in range(n):
        i = InteractionFactory(physician=physician, msl=msl)
        i.products.add(ProductFactory(name="Cardiolex"))
    return "/physicians/interactions/"


def _insights(msl, n):
    physician = PhysicianFactory(owner=msl)
    InsightFactory.create_batch(n, physician=physician, captured_by=msl, product=ProductFactory(name="Cardiolex"))
    return "/physicians/insights/"


def _inquiries(msl, n):
    physician = PhysicianFactory(owner=msl)
    MedicalInquiryFactory.create_batch(n, physician=physician, owner=msl, product=ProductFactory(name="Cardiolex"))
    return "/physicians/inquiries/"


def _trainings(msl, n):
    TrainingSessionFactory.create_batch(n, trainer=msl)
    return "/physicians/trainings/"


def _trials(msl, n):
    ClinicalTrialFactory.create_batch(n)
    return "/physicians/trials/"


def _sites(msl, n):
    trial = ClinicalTrialFactory()
    for _ in range(n):
        site = TrialSiteFactory(trial=trial, principal_investigator=PhysicianFactory())
        ParticipationFactory(site=site, enrolled=True)
    return "/physicians/sites/"


def _institutions(msl, n):
    InstitutionFactory.create_batch(n)
    return "/physicians/institutions/"


def _products(msl, n):
    ProductFactory.create_batch(n)
    return "/physicians/products/"


LISTS = [
    # builder, queries for an MSL and why
    # (people and product pickers read nothing until one is chosen)
    (_physicians, BASE + 2),  # page of physicians (+institution, owner); area select
    (_interactions, BASE + 2),  # page (+physician, msl, team); team select
    (_insights, BASE + 2),  # page (+physician, product, captor); team select
    (_inquiries, BASE + 2),  # page (+physician, product, owner); team select
    (_trainings, BASE + 2),  # page (+trainer, team); team select
    (_trials, BASE + 1),  # page (+product)
    (_sites, BASE + 3),  # page (+trial, institution, PI); trial select; the page's enrolment figures
    (_institutions, BASE + 1),  # page
    (_products, BASE + 2),  # page (+area); area select
]


@pytest.mark.parametrize(("builder", "expected"), LISTS, ids=[b.__name__.strip("_") for b, _ in LISTS])
@pytest.mark.parametrize("size", [2, 20])
def test_list_query_count_does_not_grow_with_rows(builder, expected, size, msl, client_for, django_assert_num_queries):
    url = builder(msl, size)
    client = client_for(msl)
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_physician_list_sorted_by_last_contact_for_the_team(size, msl, client_for, django_assert_num_queries):
    _physicians(msl, size)
    client = client_for(msl)
    # BASE; page; area select (scope=team reads the MSL's own team id: no query)
    with django_assert_num_queries(BASE + 2):
        response = client.get("/physicians/?scope=team&sort=-last_interaction_at&tier=1")
    assert response.status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_review_queue_query_count(size, msl, manager, client_for, django_assert_num_queries):
    InsightFactory.create_batch(size, captured_by=msl)
    client = client_for(manager)
    # BASE; managed teams (scope); page; team select
    with django_assert_num_queries(BASE + 3):
        response = client.get("/physicians/insights/review/")
    assert response.status_code == 200
    assert response.content.count(b"Start review") == size


def _profile(msl, n):
    physician = PhysicianFactory(owner=msl)
    product = ProductFactory(name="Cardiolex")
    for _ in range(n):
        i = InteractionFactory(physician=physician, msl=msl)
        i.products.add(product)
        InsightFactory(physician=physician, captured_by=msl, interaction=i, product=product)
        MedicalInquiryFactory(physician=physician, owner=msl, product=product)
        TrialSiteFactory(principal_investigator=physician)
    return f"/physicians/{physician.pk}/"


def _interaction(msl, n):
    i = InteractionFactory(msl=msl)
    for k in range(n):
        i.products.add(ProductFactory(name=f"P{k}"))
        InsightFactory(physician=i.physician, captured_by=msl, interaction=i)
    return f"/physicians/interactions/{i.pk}/"


def _insight(msl, n):
    InsightFactory.create_batch(n, captured_by=msl)
    i = InsightFactory(captured_by=msl, interaction=InteractionFactory(msl=msl))
    return f"/physicians/insights/{i.pk}/"


def _inquiry(msl, n):
    from tests.factories import FollowUpFactory

    q = MedicalInquiryFactory(owner=msl)
    FollowUpFactory.create_batch(n, owner=msl, inquiry=q)
    return f"/physicians/inquiries/{q.pk}/"


def _training(msl, n):
    t = TrainingSessionFactory(trainer=msl)
    TrainingAttendeeFactory.create_batch(n, session=t)
    for k in range(n):
        t.products.add(ProductFactory(name=f"P{k}"))
    return f"/physicians/trainings/{t.pk}/"


def _trial(msl, n):
    trial = ClinicalTrialFactory()
    for _ in range(n):
        site = TrialSiteFactory(trial=trial, principal_investigator=PhysicianFactory())
        ParticipationFactory(site=site, enrolled=True)  # counted in the sites' own query
    return f"/physicians/trials/{trial.pk}/"


def _site(msl, n):
    site = TrialSiteFactory(principal_investigator=PhysicianFactory())
    TrialSiteFactory.create_batch(n)
    ParticipationFactory.create_batch(n, site=site, enrolled=True)
    ParticipationFactory.create_batch(n, site=site, failed=True)
    return f"/physicians/sites/{site.pk}/"


def _institution(msl, n):
    inst = InstitutionFactory()
    PhysicianFactory.create_batch(n, institution=inst)
    for _ in range(n):
        TrialSiteFactory(institution=inst)
    return f"/physicians/institutions/{inst.pk}/"


def _product(msl, n):
    product = ProductFactory()
    ClinicalTrialFactory.create_batch(n, product=product)
    return f"/physicians/products/{product.pk}/"


DETAILS = [
    # physician (+counts as subqueries); consents; areas; interactions; their products; insights;
    # inquiries; trial roles; next follow-up
    (_profile, BASE + 9),
    (_interaction, BASE + 3),  # interaction (+physician, msl, team, site); products; insights
    (_insight, BASE + 1),  # insight (+physician, product, captor, reviewer, interaction, team)
    (_inquiry, BASE + 3),  # inquiry (+physician, product, owner, team); follow-ups; documents
    (_training, BASE + 3),  # session (+trainer, team); attendees; products
    # trial (+product); sites (+institution, PI; their enrolment counted); criteria; IRB approvals
    (_trial, BASE + 4),
    (_site, BASE + 2),  # site (+trial, product, institution, PI); its enrolment per period (one aggregate)
    (_institution, BASE + 3),  # institution; physicians (first 50); trial sites
    (_product, BASE + 2),  # product (+area); trials
]


# --- form pages: a picker reads nothing until it has a value, then one query labels it ----------


def _log_form(msl, n):
    institution = InstitutionFactory()
    physician = PhysicianFactory(owner=msl, institution=institution)
    TrialSiteFactory.create_batch(n, institution=institution)  # sites the visit may be about: not read
    ProductFactory.create_batch(n)
    return f"/physicians/{physician.pk}/log/"


def _interaction_form(msl, n):
    institution = InstitutionFactory()
    physician = PhysicianFactory(owner=msl, institution=institution)
    i = InteractionFactory(msl=msl, physician=physician, trial_site=TrialSiteFactory(institution=institution))
    i.products.add(*(ProductFactory(name=f"P{k}") for k in range(n)))
    return f"/physicians/interactions/{i.pk}/edit/"


def _site_form(msl, n):
    institution = InstitutionFactory()
    PhysicianFactory.create_batch(n, institution=institution)
    ClinicalTrialFactory.create_batch(n)
    site = TrialSiteFactory(institution=institution, principal_investigator=PhysicianFactory(institution=institution))
    return f"/physicians/sites/{site.pk}/edit/"


def _training_form(msl, n):
    t = TrainingSessionFactory(trainer=msl)
    TrainingAttendeeFactory.create_batch(n, session=t)
    t.products.add(*(ProductFactory(name=f"P{k}") for k in range(n)))
    return f"/physicians/trainings/{t.pk}/edit/"


def _insight_form(msl, n):
    ProductFactory.create_batch(n)
    return f"/physicians/insights/{InsightFactory(captured_by=msl, product=ProductFactory()).pk}/edit/"


def _inquiry_form(msl, n):
    ProductFactory.create_batch(n)
    return f"/physicians/inquiries/{MedicalInquiryFactory(owner=msl, product=ProductFactory()).pk}/edit/"


def _trial_form(msl, n):
    ProductFactory.create_batch(n)
    return f"/physicians/trials/{ClinicalTrialFactory().pk}/edit/"


def _owner_filter(msl, n):
    PhysicianFactory.create_batch(n, owner=msl)
    return f"/physicians/?scope=all&owner={msl.pk}"


FORMS = [
    (_log_form, BASE + 1),  # physician (+institution); the product and site pickers are empty
    # interaction (+physician, site); its products (the form's initial); their labels; the site's label
    (_interaction_form, BASE + 4),
    (_site_form, BASE + 4),  # site (+trial, institution, PI); trial select; institution label; PI label
    (_training_form, BASE + 4),  # session; its products (initial); their labels; attendees
    (_insight_form, BASE + 2),  # insight; product label
    # inquiry; product label; the service-level rules, whose days the priority's help text names
    # (one query, to fill their cache: cold in a test; from the cache afterwards)
    (_inquiry_form, BASE + 3),
    (_trial_form, BASE + 2),  # trial; product label
    (_owner_filter, BASE + 4),  # the owner (the filter checks it); page; area select; the owner's label
]


@pytest.mark.parametrize(
    ("builder", "expected"), DETAILS + FORMS, ids=[b.__name__.strip("_") for b, _ in DETAILS + FORMS]
)
@pytest.mark.parametrize("size", [2, 20])
def test_page_query_count_does_not_grow_with_rows(builder, expected, size, msl, client_for, django_assert_num_queries):
    url = builder(msl, size)
    client = client_for(msl)
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("size", [2, 20])
def test_profile_for_a_liaison_reads_no_medical_records(size, msl, nurse, client_for, django_assert_num_queries):
    url = _profile(msl, size)
    client = client_for(nurse)
    # BASE; physician (no counts); consents; areas; next follow-up
    with django_assert_num_queries(BASE + 4):
        response = client.get(url)
    assert response.status_code == 200
    assert Physician.objects.count() > 0


@pytest.mark.parametrize("size", [2, 20])
def test_csv_export_query_count(size, msl, client_for, django_assert_num_queries):
    _physicians(msl, size)
    client = client_for(msl)
    # BASE (no navbar: not a page); area and owner filter validation do not query without
    # parameters; the physicians (+institution, owner), streamed in one chunked query
    with django_assert_num_queries(BASE + 1):
        response = client.get("/physicians/export.csv")
        body = b"".join(response.streaming_content)
    assert body.count(b"\n") == size + 1


@pytest.mark.parametrize("size", [2, 20])
def test_import_report_query_count(size, msl, client_for, django_assert_num_queries):
    from physicians.models import ImportStatus, PhysicianImport

    errors = [{"row": k + 2, "column": "NPI", "problem": "Required."} for k in range(size)]
    job = PhysicianImport.objects.create(
        uploaded_by=msl, content="", status=ImportStatus.VALIDATED, total_rows=size, error_count=size, errors=errors
    )
    client = client_for(msl)
    with django_assert_num_queries(BASE + 1):  # the import row (its report is a JSON column)
        response = client.get(f"/physicians/import/{job.pk}/")
    assert response.content.count(b"Required.") == size


@pytest.mark.parametrize(
    "model",
    [
        "therapeuticarea",
        "institution",
        "physician",
        "contactconsent",
        "product",
        "interaction",
        "insight",
        "medicalinquiry",
        "trainingsession",
        "trainingattendee",
        "clinicaltrial",
        "trialsite",
        "physicianimport",
    ],
)
def test_every_model_has_an_admin_changelist(model, admin_user, msl, client_for):
    _profile(msl, 2)
    response = client_for(admin_user).get(f"/admin/physicians/{model}/")
    assert response.status_code == 200
