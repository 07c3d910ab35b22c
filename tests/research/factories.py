"""Participation rows made directly (for the figures other apps count from them); the research
tests themselves walk the services."""

from __future__ import annotations

import factory
from django.utils import timezone

from accounts.models import Team, User
from research.choices import ParticipationStatus
from research.models import Participation
from tests.factories import CaseFactory, TeamFactory, UserFactory
from tests.physicians.factories import TrialSiteFactory


class ParticipationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participation

    case = factory.SubFactory(
        CaseFactory,
        assigned_liaison=factory.SubFactory(
            UserFactory,
            role=User.Role.CLINICAL_LIAISON,
            team=factory.SubFactory(TeamFactory, kind=Team.Kind.CLINICAL_LIAISON),
        ),
    )
    site = factory.SubFactory(TrialSiteFactory)
    trial = factory.LazyAttribute(lambda o: o.site.trial)
    screened_by = factory.SubFactory(UserFactory, role=User.Role.CLINICAL_LIAISON)

    class Params:
        enrolled = factory.Trait(
            status=ParticipationStatus.ENROLLED,
            participant_id=factory.Sequence(lambda n: f"S-{n:04d}"),
            enrolled_on=factory.LazyFunction(timezone.localdate),
            concluded_at=factory.LazyFunction(timezone.now),
        )
        failed = factory.Trait(
            status=ParticipationStatus.SCREEN_FAILURE,
            failure_reason="inclusion_not_met",
            concluded_at=factory.LazyFunction(timezone.now),
        )
