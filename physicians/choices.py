from django.db import models


class InstitutionKind(models.TextChoices):
    ACADEMIC = "academic", "Academic medical centre"
    COMMUNITY_CLINIC = "community_clinic", "Community clinic"
    HOSPITAL = "hospital", "Hospital"
    PRIVATE_PRACTICE = "private_practice", "Private practice"
    OTHER = "other", "Other"


class KolTier(models.IntegerChoices):
    TIER_1 = 1, "Tier 1"
    TIER_2 = 2, "Tier 2"
    TIER_3 = 3, "Tier 3"
    UNRANKED = 0, "Unranked"


class ConsentChannel(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    VIRTUAL = "virtual", "Virtual"


class ConsentStatus(models.TextChoices):
    GRANTED = "granted", "Granted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Channel(models.TextChoices):
    IN_PERSON = "in_person", "In person"
    VIRTUAL = "virtual", "Virtual"
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    CONGRESS = "congress", "Congress"
    ADVISORY_BOARD = "advisory_board", "Advisory board"


# Which consent governs each interaction channel. Congresses and advisory boards are in person.
CHANNEL_CONSENT = {
    Channel.IN_PERSON: ConsentChannel.IN_PERSON,
    Channel.VIRTUAL: ConsentChannel.VIRTUAL,
    Channel.PHONE: ConsentChannel.PHONE,
    Channel.EMAIL: ConsentChannel.EMAIL,
    Channel.CONGRESS: ConsentChannel.IN_PERSON,
    Channel.ADVISORY_BOARD: ConsentChannel.IN_PERSON,
}


class ProductStatus(models.TextChoices):
    INVESTIGATIONAL = "investigational", "Investigational"
    MARKETED = "marketed", "Marketed"


class Theme(models.TextChoices):
    EFFICACY = "efficacy", "Efficacy"
    SAFETY = "safety", "Safety"
    DOSING = "dosing", "Dosing and administration"
    UNMET_NEED = "unmet_need", "Unmet need"
    COMPETITIVE = "competitive", "Competitive landscape"
    ACCESS = "access", "Access and reimbursement"
    TRIAL_DESIGN = "trial_design", "Trial design"
    OTHER = "other", "Other"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"
    MIXED = "mixed", "Mixed"


class InsightStatus(models.TextChoices):
    NEW = "new", "New"
    UNDER_REVIEW = "under_review", "Under review"
    ACTIONED = "actioned", "Actioned"
    CLOSED = "closed", "Closed"


class InquiryPriority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    STANDARD = "standard", "Standard"


class InquiryStatus(models.TextChoices):
    OPEN = "open", "Open"
    ANSWERED = "answered", "Answered"
    CLOSED = "closed", "Closed"


class DeliveryMethod(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    IN_PERSON = "in_person", "In person"
    LETTER = "letter", "Letter"


class TrialPhase(models.TextChoices):
    PHASE_1 = "1", "Phase I"
    PHASE_2 = "2", "Phase II"
    PHASE_3 = "3", "Phase III"
    PHASE_4 = "4", "Phase IV"


class SponsorType(models.TextChoices):
    COMPANY = "company", "Company-sponsored"
    INVESTIGATOR = "investigator", "Investigator-initiated"


class TrialStatus(models.TextChoices):
    """A trial's overall recruitment status, as ClinicalTrials.gov words it."""

    NOT_YET_RECRUITING = "not_yet_recruiting", "Not yet recruiting"
    RECRUITING = "recruiting", "Recruiting"
    ACTIVE_NOT_RECRUITING = "active_not_recruiting", "Active, not recruiting"
    SUSPENDED = "suspended", "Suspended"
    COMPLETED = "completed", "Completed"
    TERMINATED = "terminated", "Terminated"
    WITHDRAWN = "withdrawn", "Withdrawn"


class CriterionKind(models.TextChoices):
    INCLUSION = "inclusion", "Inclusion"
    EXCLUSION = "exclusion", "Exclusion"


class SiteStatus(models.TextChoices):
    IDENTIFIED = "identified", "Identified"
    SELECTED = "selected", "Selected"
    ACTIVATED = "activated", "Activated"
    ENROLLING = "enrolling", "Enrolling"
    CLOSED = "closed", "Closed"
