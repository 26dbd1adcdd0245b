"""Fast bulk loading of generated rows: ``executemany`` on SQLite, ``COPY`` on PostgreSQL
(foreign keys checked once per table after the load, see :func:`foreign_keys_checked_once`).

Both run on the DBAPI connection underneath the seeding transaction, so the whole seed commits
or rolls back as one. Rows arrive with money in integer cents (SQLite's native storage for
:class:`~bot.billing.money.Money`); for PostgreSQL they are written as exact decimal strings.
"""
from __future__ import annotations

import csv
import io
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Dict, FrozenSet, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import AddConstraint, DropConstraint

from bot.billing.models import metadata
from bot.billing.money import Money


def money_columns(table: str) -> FrozenSet[str]:
    """Names of the Money columns of ``table``."""
    return frozenset(c.name for c in metadata.tables[table].columns if isinstance(c.type, Money))


_CENTS_TEXT: Dict[int, str] = {}


def _cents_text(cents: int) -> str:
    """``4900`` -> ``"49.00"`` (memoised: generated amounts repeat a lot)."""
    text = _CENTS_TEXT.get(cents)
    if text is None:
        sign, value = ("-" if cents < 0 else ""), abs(cents)
        text = _CENTS_TEXT[cents] = f"{sign}{value // 100}.{value % 100:02d}"
    return text


class BulkWriter:
    """Writes row tuples into a table through the connection's DBAPI cursor."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        self.dbapi = connection.connection  # the pooled DBAPI connection inside the transaction

    def write(self, table: str, columns: Sequence[str], rows: List[Tuple[Any, ...]]) -> None:
        """Insert ``rows`` now."""
        self.send(table, columns, self.prepare(table, columns, rows))

    def prepare(self, table: str, columns: Sequence[str], rows: List[Tuple[Any, ...]]) -> Any:
        """CPU-bound part (CSV for PostgreSQL); the result goes to :meth:`send`."""
        return self._csv(table, columns, rows) if self.dialect == "postgresql" and rows else rows

    def send(self, table: str, columns: Sequence[str], payload: Any) -> None:
        """Database-bound part (the driver releases the GIL while the server works)."""
        if not payload:
            return
        if self.dialect == "postgresql":
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        else:
            statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        cursor = self.dbapi.cursor()
        try:
            if self.dialect == "postgresql":
                cursor.copy_expert(statement, payload, size=1 << 20)
            else:
                cursor.executemany(statement, payload)
        except self.connection.dialect.dbapi.Error as exc:  # same exception types as the ORM raises
            raise DBAPIError.instance(statement, None, exc, self.connection.dialect.dbapi.Error) from exc
        finally:
            cursor.close()

    @staticmethod
    def _csv(table: str, columns: Sequence[str], rows: List[Tuple[Any, ...]]) -> io.StringIO:
        money = money_columns(table)
        positions = [i for i, name in enumerate(columns) if name in money]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if positions:
            for row in rows:
                values = list(row)
                for i in positions:
                    if values[i] is not None:
                        values[i] = _cents_text(values[i])
                writer.writerow(values)
        else:
            writer.writerows(rows)
        buffer.seek(0)
        return buffer

    def reset_sequences(self, tables: Sequence[str]) -> None:
        """After explicit ids, move PostgreSQL's id sequences past the largest id."""
        if self.dialect != "postgresql":
            return
        for table in tables:
            self.connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)")


def load_pipelined(writer: BulkWriter, batches: Iterable[Mapping[str, List[tuple]]],
                   columns: Mapping[str, Sequence[str]]) -> None:
    """Prepare batch N+1 in this thread while a worker thread sends batch N to the database."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="billing-seed") as pool:
        pending: Optional[Future] = None
        for rows in batches:
            payloads = [(table, columns[table], writer.prepare(table, columns[table], rows[table]))
                        for table in columns]
            if pending is not None:
                pending.result()
            pending = pool.submit(lambda items=payloads: [writer.send(*item) for item in items])
        if pending is not None:
            pending.result()


@contextmanager
def foreign_keys_checked_once(connection: Connection, tables: Sequence[str]) -> Iterator[None]:
    """On PostgreSQL, drop the bulk tables' foreign keys for the load and add them back after it.

    Row-by-row foreign-key triggers cost more than the COPY itself; re-adding a constraint checks
    every row in one join. Runs inside the seeding transaction, so a failed check rolls everything
    back, and the constraints come back with the migration's names and definitions (both come from
    the models' metadata and its naming convention).
    """
    if connection.dialect.name != "postgresql":
        yield
        return
    constraints = [fk for table in tables for fk in metadata.tables[table].foreign_key_constraints]
    for fk in constraints:
        connection.execute(DropConstraint(fk))
    yield
    for fk in constraints:
        connection.execute(AddConstraint(fk))


def table_counts(connection: Connection, tables: Sequence[str]) -> Dict[str, int]:
    """Row count per table."""
    return {t: connection.exec_driver_sql(f"SELECT COUNT(*) FROM {t}").scalar_one() for t in tables}
