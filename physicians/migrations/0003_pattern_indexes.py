"""PostgreSQL only: prefix search (`UPPER(col) LIKE 'Q%'`) uses a btree index only with the
pattern operator class under a non-C collation. SQLite uses the plain expression indexes."""

from django.db import migrations

INDEXES = [
    ("physician_upper_last_pat_idx", "physicians_physician", "last_name"),
    ("physician_upper_first_pat_idx", "physicians_physician", "first_name"),
    ("institution_upper_name_pat_idx", "physicians_institution", "name"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, column in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} (UPPER({column}) varchar_pattern_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("physicians", "0002_import_and_indexes")]

    operations = [migrations.RunPython(create, drop)]
