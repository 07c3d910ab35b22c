"""The duplicate check of a new referral (services.find_duplicates): pg_trgm for comparing names
on PostgreSQL (a no-op elsewhere), and an index for each branch of the match: the MRN as
`mrn__iexact` compares it, the birth date, and the phone number's digits.

No trigram index on the names: the check compares names only among the patients born on one of
a few dozen near dates, which the birth-date index finds; a GIN index would serve a name-only
search, which this is not."""

import django.db.models.functions.text
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

import patients.matching


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0003_audit_trail_indexes"),
    ]

    operations = [
        TrigramExtension(),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(django.db.models.functions.text.Upper("mrn"), name="patient_upper_mrn_idx"),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(fields=["date_of_birth"], name="patient_dob_idx"),
        ),
        migrations.AddIndex(
            model_name="patient",
            index=models.Index(patients.matching.PhoneDigits("phone"), name="patient_phone_digits_idx"),
        ),
    ]
