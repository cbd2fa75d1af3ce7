"""Alembic's environment: migrate over the connection `state.postgres.migrate` hands over.

The upgrade runs in one transaction that first takes an advisory lock, so replicas starting
together migrate one after the other (the later ones find nothing left to do).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

_LOCK = "SELECT pg_advisory_xact_lock(hashtext('image-bot state migrations'))"


def _run() -> None:
    connection = context.config.attributes.get("connection")
    if not isinstance(connection, Connection):
        raise TypeError("run the migrations through image_bot.state.postgres.migrate")
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        connection.exec_driver_sql(_LOCK)
        context.run_migrations()


_run()
