"""Database expressions the reporting selectors need on PostgreSQL and on SQLite (tests, dev).

- `DaysBetween(start, end)`: fractional days between two datetimes.
- `Median(expr)`: PERCENTILE_CONT(0.5) on PostgreSQL; on SQLite a Python aggregate registered on
  each new connection (`register_sqlite_functions`), so a median stays inside the one query.
"""

from __future__ import annotations

import statistics

from django.db.models import Aggregate, FloatField, Func


class DaysBetween(Func):
    output_field = FloatField()
    arity = 2

    def as_sql(self, compiler, connection, **extra_context):
        # PostgreSQL (and the generic form): (end - start) is an interval; its epoch is seconds.
        start, end = self.source_expressions
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        return f"(EXTRACT(EPOCH FROM ({end_sql} - {start_sql})) / 86400.0)", (*end_params, *start_params)

    def as_sqlite(self, compiler, connection, **extra_context):
        start, end = self.source_expressions
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        return f"(julianday({end_sql}) - julianday({start_sql}))", (*end_params, *start_params)


class Median(Aggregate):
    name = "Median"
    output_field = FloatField()
    allow_distinct = False
    function = "PERCENTILE_CONT"
    template = "PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"

    def as_sqlite(self, compiler, connection, **extra_context):
        # Swap the template on a copy: Aggregate.as_sql passes `template` itself when filtering.
        clone = self.copy()
        clone.template = "lc_median(%(expressions)s)"
        return super(Median, clone).as_sql(compiler, connection, **extra_context)


class _SqliteMedian:
    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value) -> None:
        if value is not None:
            self.values.append(float(value))

    def finalize(self):
        return statistics.median(self.values) if self.values else None


def register_sqlite_functions(sender, connection, **kwargs) -> None:
    """`connection_created` receiver: teach each SQLite connection the median aggregate."""
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("lc_median", 1, _SqliteMedian)
