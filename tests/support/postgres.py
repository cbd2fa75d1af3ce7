"""A real, throwaway PostgreSQL cluster (Debian's `postgresql` package) on a Unix socket.

`start_postgres(root)` runs `initdb` and `pg_ctl start` with the socket in a fresh temporary
directory and no TCP listener, and stops and removes the cluster when the block ends. The
server refuses to run as root, so as root the cluster belongs to `nobody` and its programs
run through `setpriv` (util-linux); as anyone else they run as that user. Clients connect
over the socket with trust authentication as `postgres`.

Fixtures (registered by `tests/conftest.py`):

- `postgres` (session): the running cluster (`RunningPostgres`); skips when PostgreSQL is not
  installed (`./scripts/setup` installs it).
- `postgres_url`: a fresh, empty database on it per test, as a `postgresql://` URL.

    with start_postgres() as pg:
        url = pg.create_database("demo")   # postgresql://postgres@/demo?host=/tmp/...&port=...
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import subprocess  # noqa: TID251 (tests start a real PostgreSQL server)
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["RunningPostgres", "postgres_bin", "start_postgres"]

_NOT_INSTALLED = "PostgreSQL is not installed (./scripts/setup installs Debian's postgresql)"
_PORT = 5432  # only names the socket file: the cluster listens on no TCP port
_names = itertools.count(1)


def postgres_bin() -> Path | None:
    """The directory of the newest installed server's programs (`initdb`, `pg_ctl`)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    return Path(pg_ctl).parent if pg_ctl else None


@dataclass
class RunningPostgres:
    """A running cluster: its socket directory, and how to reach a database on it."""

    socket_dir: Path
    data_dir: Path
    bin_dir: Path
    as_user: tuple[str, ...]

    def url(self, database: str) -> str:
        """The `postgresql://` URL of `database` (over the Unix socket)."""
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={_PORT}"

    def psql(self, database: str, sql: str) -> str:
        """Run `sql` with psql; its output (tuples only, unaligned)."""
        done = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-q",
                "-t",
                "-A",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(self.socket_dir),
                "-p",
                str(_PORT),
                "-U",
                "postgres",
                "-d",
                database,
                "-c",
                sql,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql: {done.stderr.strip()}")
        return done.stdout.strip()

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its URL."""
        name = name or f"test_{os.getpid()}_{next(_names)}"
        self.psql("postgres", f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server at once (`-m immediate`)."""
        subprocess.run(
            [
                *self.as_user,
                str(self.bin_dir / "pg_ctl"),
                "stop",
                "-D",
                str(self.data_dir),
                "-m",
                "immediate",
                "-w",
            ],
            capture_output=True,
            check=False,
        )


def _owner() -> tuple[tuple[str, ...], int | None]:
    """The command prefix that runs the server's programs, and the uid owning its files."""
    if os.geteuid() != 0:
        return (), None
    # postgres refuses root: run it as nobody, with no supplementary groups
    prefix = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--")
    return prefix, 65534


@contextlib.contextmanager
def start_postgres() -> Iterator[RunningPostgres]:
    """Run a throwaway cluster until the block ends (then stop it and delete its files)."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise FileNotFoundError(_NOT_INSTALLED)
    as_user, uid = _owner()
    root = Path(tempfile.mkdtemp(prefix="image-bot-pg-"))
    try:
        data, sockets = root / "data", root / "socket"
        sockets.mkdir()
        if uid is not None:
            root.chmod(0o755)
            os.chown(sockets, uid, 65534)
            os.chown(root, uid, 65534)
        subprocess.run(
            [
                *as_user,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
            capture_output=True,
            check=True,
        )
        options = (
            f"-c listen_addresses='' -c unix_socket_directories={sockets} -p {_PORT}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        started = subprocess.run(
            [
                *as_user,
                str(bin_dir / "pg_ctl"),
                "start",
                "-D",
                str(data),
                "-w",
                "-t",
                "30",
                "-l",
                str(root / "server.log"),
                "-o",
                options,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if started.returncode != 0:
            log = (root / "server.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pg_ctl start failed: {started.stderr}\n{log}")
        running = RunningPostgres(sockets, data, bin_dir, as_user)
        try:
            yield running
        finally:
            running.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[RunningPostgres]:
    """A PostgreSQL cluster for the test session (per xdist worker)."""
    if postgres_bin() is None:
        pytest.skip(_NOT_INSTALLED)
    with start_postgres() as running:
        yield running


@pytest.fixture
def postgres_url(postgres: RunningPostgres) -> str:
    """A fresh, empty database for this test."""
    return postgres.create_database()
