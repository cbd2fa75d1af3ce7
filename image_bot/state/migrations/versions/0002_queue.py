"""The work queue of replicated services: procrastinate's schema.

Revision ID: 0002
Revises: 0001

This applies the schema of the procrastinate version installed when the database is first
migrated (3.10 when this was written). Moving to a newer procrastinate adds a revision that
runs the migration files it ships (`procrastinate.schema.SchemaManager.get_migrations_path()`)
between the two versions, as its documentation asks of applications.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply procrastinate's schema (tables, types, functions, triggers)."""
    from procrastinate.schema import SchemaManager  # noqa: PLC0415

    op.get_bind().exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))


def downgrade() -> None:
    """Drop procrastinate's objects (its tables and types start with `procrastinate_`)."""
    op.get_bind().exec_driver_sql(
        """
        DO $$ DECLARE name text; BEGIN
          FOR name IN SELECT tablename FROM pg_tables WHERE tablename LIKE 'procrastinate%%'
          LOOP EXECUTE 'DROP TABLE IF EXISTS ' || quote_ident(name) || ' CASCADE'; END LOOP;
          FOR name IN SELECT typname FROM pg_type WHERE typname LIKE 'procrastinate%%'
            AND typtype = 'e'
          LOOP EXECUTE 'DROP TYPE IF EXISTS ' || quote_ident(name) || ' CASCADE'; END LOOP;
        END $$;
        """
    )
