"""Factories for the records the reporting tests aggregate (core models not in tests/factories.py)."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from patients.models import Consent
from physicians.models import ClinicalTrial, Insight, Interaction, TrainingAttendee, TrainingSession, TrialSite
from tests.factories import (
    ConsentFormFactory,
    InstitutionFactory,
    PhysicianFactory,
    ProductFactory,
    UserFactory,
)


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    physician = factory.SubFactory(PhysicianFactory)
    msl = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.msl.team)
    occurred_at = factory.LazyFunction(timezone.now)
    channel = "in_person"


class InsightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Insight

    physician = factory.SubFactory(PhysicianFactory)
    theme = "efficacy"
    text = "Would like longer follow-up data."
    captured_by = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.captured_by.team)
    captured_at = factory.LazyFunction(timezone.now)


class TrainingSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingSession

    title = factory.Sequence(lambda n: f"Product training {n}")
    trainer = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.trainer.team)
    held_on = factory.LazyFunction(timezone.localdate)


class TrainingAttendeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainingAttendee

    session = factory.SubFactory(TrainingSessionFactory)
    name = factory.Faker("name")


class ClinicalTrialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicalTrial

    protocol_number = factory.Sequence(lambda n: f"CX-{n:04d}")
    title = "A randomised study"
    phase = "3"
    product = factory.SubFactory(ProductFactory)


class TrialSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrialSite

    trial = factory.SubFactory(ClinicalTrialFactory)
    institution = factory.SubFactory(InstitutionFactory)


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    procedure = "Admission"
    form = factory.SubFactory(ConsentFormFactory)
    form_version = "1.0"
    status = "pending"


def ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
