"""Index definitions that PostgreSQL and SQLite both accept."""

from __future__ import annotations

import copy

from django.db import models
from django.db.models.expressions import OrderBy


class NullsFirstIndex(models.Index):
    """An index whose `F(...).asc(nulls_first=True)` parts put NULL first.

    PostgreSQL needs NULLS FIRST spelt out (its default for ascending is NULLS LAST); SQLite cannot
    declare it in an index and needs no such clause, since it sorts NULL first in ascending order.
    """

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        plain = copy.copy(self)
        plain.expressions = tuple(
            OrderBy(e.expression, descending=e.descending) if isinstance(e, OrderBy) and e.nulls_first else e
            for e in self.expressions
        )
        return models.Index.create_sql(plain, model, schema_editor, using=using, **kwargs)
