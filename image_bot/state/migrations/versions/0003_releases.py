"""The release notes cache: the releases of source repositories, fetched per source.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Make the table."""
    op.get_bind().exec_driver_sql(
        "CREATE TABLE release_cache ("
        " source TEXT PRIMARY KEY, releases TEXT NOT NULL, fetched_at TEXT NOT NULL)"
    )


def downgrade() -> None:
    """Drop it."""
    op.get_bind().exec_driver_sql("DROP TABLE release_cache")
