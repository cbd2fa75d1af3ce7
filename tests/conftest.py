"""Shared fixtures for every suite."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared` beside the project (peer cases, corpus, contracts); skip when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (it is not part of the project; CI always has it)")
    return SHARED
