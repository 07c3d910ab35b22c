"""Each team's last contact with each physician, from the interactions logged so far.

From here on physicians.services keeps the rows (log, edit and delete of an interaction). The
historical models, not the app's service: this migration must run as it does today whatever
the app's code later becomes.
"""

import itertools

from django.db import migrations
from django.db.models import Max

CHUNK = 5000


def backfill(apps, schema_editor):
    Interaction = apps.get_model("physicians", "Interaction")
    PhysicianTeamContact = apps.get_model("physicians", "PhysicianTeamContact")
    latest = (
        Interaction.objects.order_by()
        .values_list("physician_id", "team_id")
        .annotate(at=Max("occurred_at"))
        .iterator(chunk_size=CHUNK)
    )
    while chunk := list(itertools.islice(latest, CHUNK)):
        PhysicianTeamContact.objects.bulk_create(
            PhysicianTeamContact(physician_id=physician, team_id=team, last_interaction_at=at)
            for physician, team, at in chunk
        )


def forget(apps, schema_editor):
    apps.get_model("physicians", "PhysicianTeamContact").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("physicians", "0011_physician_team_contact"),
    ]

    operations = [migrations.RunPython(backfill, forget)]
