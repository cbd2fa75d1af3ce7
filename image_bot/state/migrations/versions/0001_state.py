"""The state tables: first-seen digests, tag cache and facts, webhook deliveries, leases.

Revision ID: 0001
Revises: -
"""

from __future__ import annotations

from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels = None
depends_on = None

_TABLES = """
CREATE TABLE first_seen (
    image TEXT NOT NULL, digest TEXT NOT NULL, seen_at TEXT NOT NULL,
    PRIMARY KEY (image, digest)
);
CREATE TABLE tag_cache (image TEXT PRIMARY KEY, tags TEXT NOT NULL, fetched_at TEXT NOT NULL);
CREATE TABLE tag_listing (image TEXT PRIMARY KEY, listing TEXT NOT NULL);
CREATE TABLE tag_digest (
    image TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, listing TEXT NOT NULL,
    checked_at TEXT NOT NULL, PRIMARY KEY (image, tag)
);
CREATE TABLE digest_facts (
    image TEXT NOT NULL, digest TEXT NOT NULL, facts TEXT NOT NULL,
    PRIMARY KEY (image, digest)
);
CREATE TABLE deliveries (id TEXT PRIMARY KEY, received_at DOUBLE PRECISION NOT NULL);
CREATE INDEX deliveries_received_at ON deliveries (received_at);
CREATE TABLE leases (
    name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL
);
"""


def upgrade() -> None:
    """Make the tables."""
    op.get_bind().exec_driver_sql(_TABLES)


def downgrade() -> None:
    """Drop them."""
    op.get_bind().exec_driver_sql(
        "DROP TABLE leases, deliveries, digest_facts, tag_digest, tag_listing, tag_cache,"
        " first_seen"
    )
