"""Indexes for the audit page's filters on access entries that cover several patients (a worklist
page, an export, an admin changelist): patients/audit.py lists their patients and teams as the
keys of additional_data's "patients" and "teams", found with the ? and ?| operators that a GIN
index answers (PostgreSQL only, like 0003)."""

from django.db import migrations

INDEXES = {
    "patients_audit_teams_gin_idx": "(additional_data -> 'teams')",
    "patients_audit_patients_gin_idx": "(additional_data -> 'patients')",
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, expression in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON auditlog_logentry USING gin ({expression})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0006_consent_superseded_by_reconsent"),
    ]

    operations = [migrations.RunPython(create, drop)]
