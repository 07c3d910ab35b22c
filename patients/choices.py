from django.db import models


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Priority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    STANDARD = "standard", "Standard"


class Stage(models.TextChoices):
    REFERRED = "referred", "Referred"
    EVALUATING = "evaluating", "Evaluating"
    ACCEPTED = "accepted", "Accepted"
    ADMITTED = "admitted", "Admitted"
    DISCHARGED = "discharged", "Discharged"
    DECLINED = "declined", "Declined"
    CANCELLED = "cancelled", "Cancelled"


# The main path, in order; declined and cancelled are exits from any stage before admission.
STAGE_PATH = (Stage.REFERRED, Stage.EVALUATING, Stage.ACCEPTED, Stage.ADMITTED, Stage.DISCHARGED)
PRE_ADMISSION_STAGES = (Stage.REFERRED, Stage.EVALUATING, Stage.ACCEPTED)
OPEN_STAGES = (Stage.REFERRED, Stage.EVALUATING, Stage.ACCEPTED, Stage.ADMITTED)


class DeclineReason(models.TextChoices):
    NOT_ELIGIBLE = "not_eligible", "Clinically not eligible"
    INSURANCE_DENIED = "insurance_denied", "Insurance denied"
    PATIENT_CHOICE = "patient_choice", "Patient choice"
    NO_BED = "no_bed", "No bed"
    LOST_TO_COMPETITOR = "lost_to_competitor", "Lost to competitor"
    OTHER = "other", "Other"


class DischargeDisposition(models.TextChoices):
    HOME = "home", "Home"
    HOME_HEALTH = "home_health", "Home with home health"
    SKILLED_NURSING = "skilled_nursing", "Skilled nursing"
    READMISSION = "readmission", "Acute hospital readmission"
    HOSPICE = "hospice", "Hospice"
    DECEASED = "deceased", "Deceased"
    OTHER = "other", "Other"


class Eligibility(models.TextChoices):
    PENDING = "pending", "Pending"
    ELIGIBLE = "eligible", "Eligible"
    NOT_ELIGIBLE = "not_eligible", "Not eligible"


class AuthorizationStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", "Not required"
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"


class SignedBy(models.TextChoices):
    PATIENT = "patient", "Patient"
    REPRESENTATIVE = "representative", "Legal representative"


class ConsentKind(models.TextChoices):
    CARE = "care", "Care"
    # Consent to take part in a clinical trial, on the trial's IRB-approved version.
    RESEARCH = "research", "Research"


class ConsentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SIGNED = "signed", "Signed"
    REFUSED = "refused", "Refused"
    WITHDRAWN = "withdrawn", "Withdrawn"
    # Replaced by a newer consent of the same form (a re-consent): kept as a record, read-only.
    SUPERSEDED = "superseded", "Superseded"


# A consent in these states is a signed record: the services change it only by withdrawal or
# by superseding it with a re-consent; the admin shows it read-only.
RECORDED_CONSENT_STATUSES = (ConsentStatus.SIGNED, ConsentStatus.WITHDRAWN, ConsentStatus.SUPERSEDED)


class CommChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    IN_PERSON = "in_person", "In person"
    VIDEO = "video", "Video"
    PORTAL = "portal", "Portal"
    EMAIL = "email", "Email"
    INTERPRETER = "interpreter", "Interpreter"


class CommParties(models.TextChoices):
    LIAISON_PATIENT = "liaison_patient", "Liaison – patient"
    LIAISON_FAMILY = "liaison_family", "Liaison – family"
    LIAISON_PROVIDER = "liaison_provider", "Liaison – provider"
    PROVIDER_PATIENT = "provider_patient", "Provider – patient"


class AccessKind(models.TextChoices):
    """What kind of page, fragment or file showed patient data: an ACCESS entry's `kind`
    (patients/audit.py), and the audit page's filter."""

    CASE = "case", "Case page"
    FRAGMENT = "fragment", "Part of a case page"
    PATIENT = "patient", "Patient page"
    REFERRAL = "referral", "Referral form for a known patient"
    WORKLIST = "worklist", "Worklist"
    PRINT = "print", "Hand-over print"
    EXPORT = "export", "CSV export"
    ADMIN = "admin", "Django admin"
    DOCUMENT = "document", "Document (download, preview or thumbnail)"
    RESEARCH = "research", "Trial participation"
    API = "api", "API"
