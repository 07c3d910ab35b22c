from django.db import models


class DocumentKind(models.TextChoices):
    MEDICAL_RECORD = "medical_record", "Medical record"
    SIGNED_CONSENT = "signed_consent", "Signed consent"
    INSURANCE_CARD = "insurance_card", "Insurance card"
    AUTHORIZATION_LETTER = "authorization_letter", "Authorization letter"
    REFERRAL_PACKET = "referral_packet", "Referral packet"
    DISCHARGE_SUMMARY = "discharge_summary", "Discharge summary"
    INQUIRY_RESPONSE = "inquiry_response", "Inquiry response"
    OTHER = "other", "Other"


# What may be filed where: a case's documents are PHI; an inquiry's are the answer sent to a physician.
CASE_KINDS = [k for k in DocumentKind if k != DocumentKind.INQUIRY_RESPONSE]
INQUIRY_KINDS = [DocumentKind.INQUIRY_RESPONSE, DocumentKind.OTHER]
CONSENT_KINDS = [DocumentKind.SIGNED_CONSENT, DocumentKind.OTHER]
COVERAGE_KINDS = [DocumentKind.INSURANCE_CARD, DocumentKind.AUTHORIZATION_LETTER, DocumentKind.OTHER]
