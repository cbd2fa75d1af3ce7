"""Shared fixtures for every suite; the fixtures of each real peer live in their own plugin."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = [
    "tests.support.registry",  # real docker-registry processes (anonymous, basic, token)
    "tests.support.gitrepo",  # real git repositories and remotes
    "tests.fakeforge.plugin",  # the fake GitHub/GitLab server backed by bare git repos
    "tests.support.postgres",  # a throwaway PostgreSQL cluster (shared state, work queue)
]

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` beside the project (peer cases, corpus, contracts); skip when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (it is not part of the project; CI always has it)")
    return SHARED
