"""What replicas and shards share beyond the state: GitHub write slots and the last passes.

Revision ID: 0004
Revises: 0003

- `write_slots`: per GitHub API, the next moment a write may start (`state.write_slots`);
  processes book a turn in one statement and wait for it outside any lock.
- `pass_status`: each repository's status after its newest pass, whichever replica ran it
  (the status page of every replica shows it).
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Make the tables."""
    op.get_bind().exec_driver_sql(
        """
        CREATE TABLE write_slots (api TEXT PRIMARY KEY, next_at TIMESTAMPTZ NOT NULL);
        CREATE TABLE pass_status (
            repository TEXT PRIMARY KEY, finished_at DOUBLE PRECISION NOT NULL,
            status TEXT NOT NULL
        );
        """
    )


def downgrade() -> None:
    """Drop them."""
    op.get_bind().exec_driver_sql("DROP TABLE pass_status, write_slots")
