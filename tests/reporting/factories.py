"""What the reporting tests need beyond the shared factories.

Interactions, insights, training sessions and attendees come unchanged from tests/physicians/factories.py
(the reporting tests pass every field whose value they count). Only what differs is here.
"""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from patients.models import Consent
from tests.factories import ConsentFormFactory
from tests.physicians import factories as physician_factories


class TrialSiteFactory(physician_factories.TrialSiteFactory):
    # The known-answer world (conftest.py) has a site with no enrolment target: the model's default, 0.
    enrolment_target = 0


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    procedure = "Admission"
    form = factory.SubFactory(ConsentFormFactory)
    form_version = "1.0"
    status = "pending"


def ago(days: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days)
