"""One small world with a record of every kind, owned by the first teams, and every role's user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from allauth.mfa.models import Authenticator
from django.utils import timezone

from accounts.models import Team, User
from accounts.services import create_api_token
from documents import services as document_services
from outreach.models import CalendarFeed, Notification, OutreachEvent
from patients.models import Consent, InsuranceCoverage, Medication
from physicians.models import (
    ClinicalTrial,
    ImportStatus,
    Insight,
    Interaction,
    PhysicianImport,
    TrainingSession,
    TrialCriterion,
    TrialSite,
)
from research.models import Participation
from tests.factories import (
    CaseFactory,
    ConsentFormFactory,
    FollowUpFactory,
    InstitutionFactory,
    MedicalInquiryFactory,
    PatientFactory,
    PhysicianFactory,
    ProductFactory,
    TeamFactory,
    UserFactory,
)


@dataclass
class World:
    users: dict[str, User]
    objects: dict[str, object] = field(default_factory=dict)

    def __getattr__(self, name: str):
        try:
            return self.objects[name]
        except KeyError:
            raise AttributeError(name) from None


def build_world() -> World:
    ma, ma_other = (TeamFactory(name=n, kind=Team.Kind.MEDICAL_AFFAIRS) for n in ("MA East", "MA West"))
    cl, cl_other = (TeamFactory(name=n, kind=Team.Kind.CLINICAL_LIAISON) for n in ("CL North", "CL South"))
    users = {
        "msl": UserFactory(username="w_msl", role=User.Role.MSL, team=ma),
        "msl_other": UserFactory(username="w_msl_other", role=User.Role.MSL, team=ma_other),
        "nurse": UserFactory(username="w_nurse", role=User.Role.CLINICAL_LIAISON, team=cl),
        "nurse_other": UserFactory(username="w_nurse_other", role=User.Role.CLINICAL_LIAISON, team=cl_other),
        "manager": UserFactory(username="w_manager", role=User.Role.MANAGER),
        "manager_other": UserFactory(username="w_manager_other", role=User.Role.MANAGER),
        "admin": UserFactory(username="w_admin", role=User.Role.ADMIN, is_staff=True, is_superuser=True),
    }
    users["manager"].managed_teams.add(ma, cl)
    users["manager_other"].managed_teams.add(ma_other, cl_other)

    world = World(users=users)
    institution = InstitutionFactory()
    physician = PhysicianFactory(institution=institution, owner=users["msl"])
    patient = PatientFactory()
    case = CaseFactory(patient=patient, assigned_liaison=users["nurse"])
    consent_form = ConsentFormFactory()
    world.objects.update(
        # A user that the user-administration pages act on: an MSL of msl's team.
        colleague=UserFactory(username="w_colleague", role=User.Role.MSL, team=ma),
        institution=institution,
        physician=physician,
        product=ProductFactory(),
        inquiry=MedicalInquiryFactory(physician=physician, owner=users["msl"]),
        patient=patient,
        case=case,
        medication=Medication.objects.create(case=case, name="Metoprolol", dose="25 mg"),
        coverage=InsuranceCoverage.objects.create(case=case, payer="Medicare", member_id="1EG4-TE5-MK72"),
        consent=Consent.objects.create(case=case, procedure="Admission", form=consent_form, form_version="1.0"),
        msl_follow_up=FollowUpFactory(owner=users["msl"]),
        nurse_follow_up=FollowUpFactory(owner=users["nurse"], case=case, title="Call the daughter"),
    )
    product = world.product
    interaction = Interaction.objects.create(
        physician=physician, msl=users["msl"], team=ma, summary="Discussed the renal data", topics="renal"
    )
    interaction.products.add(product)
    trial = ClinicalTrial.objects.create(
        protocol_number="CX-301", title="Cardiolex in HFpEF", phase="3", product=product
    )
    world.objects.update(
        interaction=interaction,
        insight=Insight.objects.create(
            interaction=interaction,
            physician=physician,
            product=product,
            theme="efficacy",
            text="Wants longer follow-up data",
            captured_by=users["msl"],
            team=ma,
        ),
        training=TrainingSession.objects.create(
            title="Cardiolex launch", trainer=users["msl"], team=ma, held_on=timezone.localdate()
        ),
        trial=trial,
        site=TrialSite.objects.create(trial=trial, institution=institution, principal_investigator=physician),
        notification=Notification.objects.create(user=users["msl"], title="Reminder: send the trial data"),
        event=OutreachEvent.objects.create(
            title="Health fair", date=timezone.localdate() + dt.timedelta(days=3), organiser=users["nurse"], team=cl
        ),
        calendar=CalendarFeed.objects.create(user=users["msl"], token="w-msl-secret-calendar-token"),
        physician_import=PhysicianImport.objects.create(
            uploaded_by=users["msl"],
            filename="npi.csv",
            content="NPI,First name,Last name\n",
            status=ImportStatus.VALIDATED,
            total_rows=1,
            valid_rows=0,
        ),
    )
    world.event.referrals.add(case)
    # Trial participation (issue 17): the case screened at the world's site, on one criterion.
    TrialCriterion.objects.create(trial=trial, kind="inclusion", position=1, text="Adult")
    world.objects["participation"] = Participation.objects.create(
        case=case, site=world.site, trial=trial, screened_by=users["nurse"]
    )
    # Documents (issue 16): an insurance card on the case's coverage, a response letter on the inquiry.
    from tests.documents import samples

    (world.objects["document"],) = document_services.upload_documents(
        by=users["nurse"],
        uploads=[samples.upload("card.png", samples.png())],
        kind="insurance_card",
        case=case,
        coverage=world.coverage,
    )
    (world.objects["inquiry_document"],) = document_services.upload_documents(
        by=users["msl"],
        uploads=[samples.upload("response.pdf", samples.pdf())],
        kind="inquiry_response",
        inquiry=world.inquiry,
    )
    # The colleague's API token: only its owner may revoke it.
    world.objects["colleague_token"] = create_api_token(
        request=None, user=world.colleague, name="Colleague's script", scope="read",
        expires_on=timezone.localdate() + dt.timedelta(days=30),
    )[0]  # fmt: skip
    # The colleague's security key: nobody else's page may show, rename or remove it.
    world.objects["colleague_key"] = Authenticator.objects.create(
        user=world.colleague, type=Authenticator.Type.WEBAUTHN, data={"name": "Colleague's key", "credential": {}}
    )
    return world
