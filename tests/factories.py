"""factory_boy factories for the core models. App-specific extras live in tests/<app>/factories.py."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from accounts.models import Team, User
from outreach.models import FollowUp
from patients.choices import Sex
from patients.models import Case, ConsentForm, Patient
from physicians.models import Institution, MedicalInquiry, Physician, PhysicianTeamContact, Product
from physicians.npi import make_npi


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Team {n}")
    kind = Team.Kind.MEDICAL_AFFAIRS


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.test")
    role = User.Role.MSL
    password = factory.PostGenerationMethodCall("set_password", "demo-password-1")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    name = factory.Sequence(lambda n: f"St. Example Medical Center {n}")
    city = "Boston"
    state = "MA"


class PhysicianFactory(factory.django.DjangoModelFactory):
    """`last_interaction_at=...` is a contact by the owner's team (or by `contact_team=`), as in the
    demo data: the team's last contact row is written too, which is what the lists show a viewer."""

    class Meta:
        model = Physician
        skip_postgeneration_save = True

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    credentials = "MD"
    npi = factory.Sequence(lambda n: make_npi(100000000 + n))
    specialty = "Cardiology"
    institution = factory.SubFactory(InstitutionFactory)
    kol_tier = 1

    @factory.post_generation
    def contact_team(obj, create, extracted, **kwargs):
        team_id = extracted.pk if extracted is not None else (obj.owner.team_id if obj.owner_id else None)
        if create and obj.last_interaction_at and team_id:
            PhysicianTeamContact.objects.update_or_create(
                physician=obj, team_id=team_id, defaults={"last_interaction_at": obj.last_interaction_at}
            )


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Cardiolex {n}")
    generic_name = "examplemab"


class MedicalInquiryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MedicalInquiry

    physician = factory.SubFactory(PhysicianFactory)
    question = "What is the dosing in renal impairment?"
    received_at = factory.LazyFunction(timezone.now)
    due_at = factory.LazyAttribute(lambda o: o.received_at + dt.timedelta(days=10))
    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.owner.team)


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    mrn = factory.Sequence(lambda n: f"MRN{n:07d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = dt.date(1950, 5, 17)
    sex = Sex.FEMALE


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    patient = factory.SubFactory(PatientFactory)
    program = "Cardiac rehabilitation"
    assigned_liaison = factory.SubFactory(UserFactory, role=User.Role.CLINICAL_LIAISON)
    team = factory.LazyAttribute(lambda o: o.assigned_liaison.team)
    reason = "Post-CABG rehabilitation"


class ConsentFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentForm
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Admission consent {n}")
    current_version = "1.0"


class FollowUpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowUp

    owner = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.owner.team)
    title = "Send the trial data"
    due_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=1))
