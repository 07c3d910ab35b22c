"""COPY rows into a model's table, with table and column names taken from the model's _meta.

A schema that gains a column with a default keeps loading: every concrete column the loader does
not supply gets the model field's default (callables called once per table), a column with a
database default is left to the database, a nullable one is left NULL. A NOT NULL column with no
default of any kind stops the load with its name, rather than a cryptic COPY error.
"""

from __future__ import annotations

import csv
import io
import queue
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from django.db import models
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

NULL = "\\N"
CHUNK_ROWS = 50_000


def _db_value(value):
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def ts(epoch: float | None) -> str:
    """An aware UTC timestamp literal from seconds since the epoch (fast path for generators)."""
    if epoch is None:
        return NULL
    return datetime.fromtimestamp(epoch, UTC).isoformat()


class Table:
    """The COPY target for `model`, given the attnames the generator supplies, in order."""

    def __init__(self, model: type[models.Model], supplied: Sequence[str]):
        self.model = model
        self.db_table = model._meta.db_table
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [a for a in supplied if a not in by_attname]
        if unknown:
            raise ValueError(f"{model.__name__} has no column(s) {unknown}")
        self.supplied = list(supplied)
        self.extra: list[tuple[str, object]] = []
        now = timezone.now()
        for attname, field in by_attname.items():
            if attname in supplied:
                continue
            if getattr(field, "db_default", NOT_PROVIDED) is not NOT_PROVIDED:
                continue  # the database fills it
            if field.primary_key:
                continue  # identity column
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                self.extra.append((field.column, _db_value(now)))
                continue
            default = field.get_default()
            if default is None and not field.null:
                raise ValueError(
                    f"{self.db_table}.{field.column} is NOT NULL and has no default: the bench loader must supply it"
                )
            if default is None:
                continue
            self.extra.append((field.column, _db_value(default)))
        self.columns = [by_attname[a].column for a in self.supplied] + [c for c, _ in self.extra]
        self.suffix = tuple(v for _, v in self.extra)

    def copy_sql(self) -> str:
        cols = ", ".join(f'"{c}"' for c in self.columns)
        return f"COPY \"{self.db_table}\" ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"


class Copier:
    """Streams chunks of CSV to PostgreSQL on a background thread while the caller generates more.

    psycopg2 releases the GIL while the server ingests a chunk, so generation (Python) and
    ingestion (the PostgreSQL backend) overlap on two cores.
    """

    def __init__(self, raw_connection):
        self.conn = raw_connection
        self.queue: queue.Queue = queue.Queue(maxsize=3)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._work, daemon=True)
        self.thread.start()

    def _work(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            sql, buf = item
            if self.error is not None:
                continue
            try:
                with self.conn.cursor() as cur:
                    cur.copy_expert(sql, buf)
            except BaseException as exc:  # reported by the caller thread
                self.error = exc

    def put(self, table: Table, rows: Iterable[tuple]) -> int:
        """Queue rows (tuples in `table.supplied` order, values already CSV-ready or Python)."""
        if self.error is not None:
            raise self.error
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        suffix = table.suffix
        n = 0
        if suffix:
            for row in rows:
                writer.writerow(tuple(NULL if v is None else v for v in row) + suffix)
                n += 1
        else:
            for row in rows:
                writer.writerow(tuple(NULL if v is None else v for v in row))
                n += 1
        buf.seek(0)
        self.queue.put((table.copy_sql(), buf))
        return n

    def finish(self) -> None:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def chunked(iterable: Iterable, size: int = CHUNK_ROWS):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
