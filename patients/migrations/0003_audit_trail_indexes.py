"""Indexes for the managers' audit page, which filters django-auditlog's entries by the team
and the patient this app records in each entry's additional_data (PostgreSQL only: SQLite's
JSON expressions differ, and its data sets are small)."""

from django.db import migrations

INDEXES = {
    "patients_audit_team_ts_idx": "(additional_data -> 'team_id'), \"timestamp\" DESC",
    "patients_audit_patient_ts_idx": "(additional_data -> 'patient_id'), \"timestamp\" DESC",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON auditlog_logentry ({columns})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_worklist_indexes"),
        ("auditlog", "0017_add_actor_email"),
    ]

    operations = [migrations.RunPython(create, drop)]
