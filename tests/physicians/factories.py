"""Factories for the physicians app's records beyond the shared core ones (tests/factories.py)."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from physicians.choices import Channel, Theme
from physicians.models import (
    ClinicalTrial,
    Insight,
    Interaction,
    TrainingAttendee,
    TrainingSession,
    TrialSite,
)
from tests.factories import InstitutionFactory, PhysicianFactory, ProductFactory, UserFactory


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    physician = factory.SubFactory(PhysicianFactory)
    msl = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.msl.team)
    occurred_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    channel = Channel.IN_PERSON
    topics = "Phase III data"
    summary = "Discussed the new data."


class InsightFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Insight

    physician = factory.SubFactory(PhysicianFactory)
    captured_by = factory.SubFactory(UserFactory)
    team = factory.LazyAttribute(lambda o: o.captured_by.team)
    theme = Theme.EFFICACY
    text = "Sees faster responses in elderly patients."


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
    score_before = 50
    score_after = 70


class ClinicalTrialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicalTrial

    protocol_number = factory.Sequence(lambda n: f"LCX-{n:03d}")
    title = "A randomised trial"
    phase = "3"
    product = factory.SubFactory(ProductFactory)


class TrialSiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrialSite

    trial = factory.SubFactory(ClinicalTrialFactory)
    institution = factory.SubFactory(InstitutionFactory)
    enrolment_target = 20
