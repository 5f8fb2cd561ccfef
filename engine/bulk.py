"""Hand-written executemany for the write path's hot statements, prepared ahead.

SQLAlchemy Core spends ~3 µs per row per statement building and converting parameters;
a report writes four rows (task, step, history, event), so on the hot path we hand the
driver plain tuples instead. The SQL is generated from the same `Table` objects, quoted,
in the driver's parameter style, and cached per column set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Connection, DateTime, Table

from engine.models import UTCDateTime


class BulkWrite:
    """Statements with their rows, prepared in Python now and executed later in one go.

    Preparing (building and converting rows) runs on the event loop; `execute` runs on the
    writer's thread, where the time goes to SQLite's C code with the GIL released.
    """

    def __init__(self, sqlite: bool) -> None:
        self._sqlite = sqlite
        self._operations: list[Callable[[Connection], object]] = []

    def insert(
        self, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        if not rows:
            return
        converted = self._convert(table, columns, rows)
        if self._sqlite:
            for count, values in _chunks(converted):
                self._sqlite_statement(_sqlite_insert_sql(table.name, columns, count), values)
        else:
            self._driver(_insert_sql(table.name, columns, self._sqlite), converted)

    def update(
        self,
        table: Table,
        columns: tuple[str, ...],
        keys: tuple[str, ...],
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        """UPDATE table SET columns WHERE keys; each row holds column values, then keys."""
        if not rows:
            return
        converted = self._convert(table, columns, rows)
        if self._sqlite:
            for count, values in _chunks(converted):
                sql = _sqlite_update_sql(table.name, columns, keys, count)
                self._sqlite_statement(sql, values)
        else:
            self._driver(_update_sql(table.name, columns, keys, self._sqlite), converted)

    def then(self, operation: Callable[[Connection], object]) -> None:
        """Any other step, in order with the rest (e.g. a Core statement or a lookup)."""
        self._operations.append(operation)

    def execute(self, conn: Connection) -> None:
        for operation in self._operations:
            operation(conn)

    def _driver(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        self._operations.append(lambda conn: conn.exec_driver_sql(sql, rows))

    def _sqlite_statement(self, sql: str, values: list[Any]) -> None:
        """One statement on the driver's own connection: sqlite3 releases and retakes the
        GIL around every step, so one step for many rows instead of one per row."""

        def run(conn: Connection) -> None:
            conn.connection.driver_connection.execute(sql, values)  # type: ignore[union-attr]

        self._operations.append(run)

    def _convert(
        self, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
    ) -> list[tuple[Any, ...]]:
        """SQLite keeps times as UTC text; convert just the time columns."""
        positions = _time_positions(table, columns) if self._sqlite else ()
        if not positions:
            return [tuple(row) for row in rows]
        converted = []
        for row in rows:
            values = list(row)
            for i in positions:
                if values[i] is not None:
                    values[i] = sqlite_time(values[i])
            converted.append(tuple(values))
        return converted


#: Rows per multi-row statement on SQLite: powers of two up to this, so a handful of
#: statement texts per table and column set stay in the driver's statement cache.
SQLITE_ROWS_PER_STATEMENT = 64


def _chunks(rows: list[tuple[Any, ...]]) -> list[tuple[int, list[Any]]]:
    """Rows as (row count, flat parameters) chunks of power-of-two sizes, in order."""
    chunks = []
    start = 0
    while start < len(rows):
        size = SQLITE_ROWS_PER_STATEMENT
        while size > len(rows) - start:
            size //= 2
        chunks.append((size, [v for row in rows[start : start + size] for v in row]))
        start += size
    return chunks


@lru_cache(maxsize=4096)  # a batch stamps many rows with the same moment
def sqlite_time(value: datetime) -> str:
    """The text SQLAlchemy's SQLite DateTime writes and reads back: naive UTC, microseconds."""
    if value.tzinfo is not None:
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        value = value.replace(tzinfo=None)
    return value.isoformat(" ", "microseconds")


@cache
def _time_positions(table: Table, columns: tuple[str, ...]) -> tuple[int, ...]:
    time_types = (DateTime, UTCDateTime)
    return tuple(i for i, name in enumerate(columns) if isinstance(table.c[name].type, time_types))


def _marks(count: int, start: int, sqlite: bool) -> list[str]:
    return ["?"] * count if sqlite else [f"${i}" for i in range(start, start + count)]


@cache
def _insert_sql(table: str, columns: tuple[str, ...], sqlite: bool) -> str:
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join(_marks(len(columns), 1, sqlite))
    return f'INSERT INTO "{table}" ({names}) VALUES ({marks})'


@cache
def _update_sql(table: str, columns: tuple[str, ...], keys: tuple[str, ...], sqlite: bool) -> str:
    sets = _marks(len(columns), 1, sqlite)
    wheres = _marks(len(keys), len(columns) + 1, sqlite)
    assignments = ", ".join(f'"{c}" = {m}' for c, m in zip(columns, sets, strict=True))
    conditions = " AND ".join(f'"{k}" = {m}' for k, m in zip(keys, wheres, strict=True))
    return f'UPDATE "{table}" SET {assignments} WHERE {conditions}'


@cache
def _sqlite_insert_sql(table: str, columns: tuple[str, ...], count: int) -> str:
    """INSERT of `count` rows in one statement (rows keep their order, and their ids)."""
    names = ", ".join(f'"{c}"' for c in columns)
    row = "(" + ", ".join("?" * len(columns)) + ")"
    return f'INSERT INTO "{table}" ({names}) VALUES ' + ", ".join([row] * count)


@cache
def _sqlite_update_sql(
    table: str, columns: tuple[str, ...], keys: tuple[str, ...], count: int
) -> str:
    """UPDATE of `count` rows in one statement: the rows as a VALUES table joined on the
    keys (UPDATE ... FROM, SQLite 3.33+); keys are unique per batch, so one row each."""
    values = [f"c{i}" for i in range(len(columns))] + [f"k{i}" for i in range(len(keys))]
    names = ", ".join(f'"{v}"' for v in values)
    row = "(" + ", ".join("?" * len(values)) + ")"
    assignments = ", ".join(f'"{c}" = "v"."c{i}"' for i, c in enumerate(columns))
    conditions = " AND ".join(f'"{table}"."{k}" = "v"."k{i}"' for i, k in enumerate(keys))
    return (
        f'WITH "v" ({names}) AS (VALUES {", ".join([row] * count)}) '
        f'UPDATE "{table}" SET {assignments} FROM "v" WHERE {conditions}'
    )
