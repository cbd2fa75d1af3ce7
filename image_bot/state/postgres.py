"""State in PostgreSQL (psycopg 3): shared by every replica and shard of one deployment.

`PostgresDatabase(url)` connects (autocommit: each statement commits at once, as with
SQLite) and, unless read-only, first brings the schema up to date with the migrations in
`image_bot/state/migrations` (alembic; concurrent starts wait on an advisory lock, so one
replica migrates and the others find the work done). The same database holds the work queue
of replicated services (`image_bot.wiring.queue`, procrastinate's tables, made by a
migration too).

psycopg, alembic and SQLAlchemy are the `postgres` extra, imported only here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from image_bot.state.database import Parameters, Row, StateError

if TYPE_CHECKING:
    import psycopg

__all__ = ["LATEST_REVISION", "PostgresDatabase", "is_postgres_url", "migrate", "safe_url"]

LATEST_REVISION = "0004"  # the head of migrations/versions (a test keeps them equal)
_MIGRATIONS = "image_bot.state:migrations"
# alembic keeps the running migration in module globals: one migration per process at a
# time (processes wait on the advisory lock in migrations/env.py)
_MIGRATING = threading.Lock()
_MISSING = "a postgresql:// state needs the postgres extra: pip install 'image-bot[postgres]'"


def is_postgres_url(url: str) -> bool:
    """Whether `url` names a PostgreSQL database."""
    return urlsplit(url).scheme in ("postgresql", "postgres")


def safe_url(url: str) -> str:
    """`url` without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def migrate(url: str) -> None:
    """Bring the database at `url` to the latest revision (alembic `upgrade head`)."""
    try:
        from alembic import command  # noqa: PLC0415  (the extra, only where used)
        from alembic.config import Config  # noqa: PLC0415
        from sqlalchemy import create_engine, pool  # noqa: PLC0415
    except ImportError:
        raise StateError(_MISSING) from None
    parts = urlsplit(url)
    engine = create_engine(
        urlunsplit(parts._replace(scheme="postgresql+psycopg")), poolclass=pool.NullPool
    )
    try:
        with _MIGRATING, engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", _MIGRATIONS)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


class PostgresDatabase:
    """One psycopg connection in autocommit mode (thread-safe: psycopg serialises its use)."""

    def __init__(self, url: str, *, read_only: bool = False) -> None:
        self.where = safe_url(url)
        try:
            import psycopg  # noqa: PLC0415  (the extra, only where used)
        except ImportError:
            raise StateError(_MISSING) from None
        self._errors: tuple[type[Exception], ...] = (psycopg.Error,)
        try:
            self._db: psycopg.Connection[Row] = psycopg.connect(
                url, autocommit=True, connect_timeout=10, application_name="image-bot"
            )
            if read_only:
                self._db.execute("SET default_transaction_read_only = on")
            elif self._revision() != LATEST_REVISION:
                migrate(url)
        except psycopg.Error as error:
            raise StateError(f"cannot open state database {self.where}: {error}") from None

    def _revision(self) -> str | None:
        exists = self._db.execute("SELECT to_regclass('alembic_version')").fetchone()
        if exists is None or exists[0] is None:
            return None
        row = self._db.execute("SELECT version_num FROM alembic_version").fetchone()
        return None if row is None else str(row[0])

    def execute(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Run one statement; the rows it returned."""
        try:
            cursor = self._db.execute(_placeholders(sql), tuple(parameters))
            return cursor.fetchall() if cursor.description is not None else []
        except self._errors as error:
            raise StateError(f"state database {self.where}: {error}") from None

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> None:
        """Run one statement per row (pipelined by psycopg)."""
        try:
            with self._db.cursor() as cursor:
                cursor.executemany(_placeholders(sql), [tuple(row) for row in rows])
        except self._errors as error:
            raise StateError(f"state database {self.where}: {error}") from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT (ROLLBACK on any error)."""
        try:
            with self._db.transaction():
                yield
        except self._errors as error:
            raise StateError(f"state database {self.where}: {error}") from None

    def close(self) -> None:
        """Close the connection."""
        self._db.close()


def _placeholders(sql: str) -> str:
    """The store's `?` placeholders as psycopg's `%s` (its SQL has no other `?` or `%`)."""
    return sql.replace("?", "%s")
