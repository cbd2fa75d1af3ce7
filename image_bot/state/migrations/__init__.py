"""Alembic migrations of the PostgreSQL state database (`state.postgres.migrate` runs them)."""
