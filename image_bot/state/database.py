"""The two databases state can live in, behind one small interface the store writes SQL to.

The store's SQL is written once, in the dialect SQLite and PostgreSQL share (`INSERT ... ON
CONFLICT`, `RETURNING`, `?` placeholders that the PostgreSQL side turns into `%s`). Each
backend commits every statement at once, except inside `transaction()`, and raises only
`StateError`.

- `SQLiteDatabase`: the embedded default, one file (WAL); its tables are made on open.
- `image_bot.state.postgres.PostgresDatabase`: shared by replicas and shards; its tables come
  from migrations (`image_bot/state/migrations`, alembic).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from image_bot.errors import ImageBotError

__all__ = ["SCHEMA", "Database", "Row", "SQLiteDatabase", "StateError"]

Row = tuple[object, ...]
Parameters = Sequence[object]

# The tables, as SQLite makes them on open; migrations/versions/ make the same on PostgreSQL
# (plus what only processes sharing a PostgreSQL state need: `write_slots`).
SCHEMA = """
CREATE TABLE IF NOT EXISTS first_seen (
    image TEXT NOT NULL, digest TEXT NOT NULL, seen_at TEXT NOT NULL,
    PRIMARY KEY (image, digest)
);
CREATE TABLE IF NOT EXISTS tag_cache (
    image TEXT PRIMARY KEY, tags TEXT NOT NULL, fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tag_listing (
    image TEXT PRIMARY KEY, listing TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tag_digest (
    image TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, listing TEXT NOT NULL,
    checked_at TEXT NOT NULL, PRIMARY KEY (image, tag)
);
CREATE TABLE IF NOT EXISTS digest_facts (
    image TEXT NOT NULL, digest TEXT NOT NULL, facts TEXT NOT NULL,
    PRIMARY KEY (image, digest)
);
CREATE TABLE IF NOT EXISTS release_cache (
    source TEXT PRIMARY KEY, releases TEXT NOT NULL, fetched_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY, received_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS pass_status (
    repository TEXT PRIMARY KEY, finished_at REAL NOT NULL, status TEXT NOT NULL
);
"""


class StateError(ImageBotError):
    """The state cannot be opened or written (a second bot on the file, a full disk, the
    database gone)."""


class Database(Protocol):
    """An open database: statements commit at once unless inside `transaction()`."""

    where: str  # for messages: the file, or the database URL without credentials

    def execute(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Run one statement; the rows it returned (none for most writes)."""
        ...

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> None:
        """Run one statement once per row of parameters."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Everything inside commits together, or not at all."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


class SQLiteDatabase:
    """One SQLite file in WAL mode (or, read-only, the file as it is; an empty memory
    database when there is no file yet)."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.where = str(path)
        self._lock = threading.RLock()  # one statement (or transaction) at a time
        try:
            if read_only:
                source = f"{path.resolve().as_uri()}?mode=ro" if path.exists() else ":memory:"
                self._db = sqlite3.connect(
                    source, uri=True, timeout=10.0, isolation_level=None, check_same_thread=False
                )
                if source == ":memory:":
                    self._db.executescript(SCHEMA)
                else:
                    self._db.executescript(_in_memory_only(SCHEMA, self._db))
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, timeout=10.0, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit is not synced to disk at once. A power loss may lose the
            # last commits: first-seen times then start later (min_age waits longer), and
            # registry facts are asked again. Nothing is ever wrong, only later or repeated.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise StateError(f"cannot open state file {path}: {error}") from None

    def execute(self, sql: str, parameters: Parameters = ()) -> list[Row]:
        """Run one statement; the rows it returned."""
        try:
            with self._lock:
                return self._db.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            raise StateError(f"state file {self.where}: {error}") from None

    def executemany(self, sql: str, rows: Iterable[Parameters]) -> None:
        """Run one statement per row."""
        try:
            with self._lock:
                self._db.executemany(sql, rows)
        except sqlite3.Error as error:
            raise StateError(f"state file {self.where}: {error}") from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT (ROLLBACK on any error)."""
        try:
            with self._lock, self._db:
                self._db.execute("BEGIN")
                yield
        except sqlite3.Error as error:
            raise StateError(f"state file {self.where}: {error}") from None

    def close(self) -> None:
        """Close the file."""
        self._db.close()


def _in_memory_only(schema: str, db: sqlite3.Connection) -> str:
    """A read-only file made by an older version lacks newer tables: make them as temporary
    (empty) tables, so reads of them find nothing instead of failing."""
    have = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    statements = []
    for statement in schema.split(";"):
        words = statement.split()
        if len(words) > 5 and words[5] not in have:
            statements.append(statement.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
    return ";".join(statements)
