"""What `image-bot serve` replicas did, from their JSON logs, and a `git` that counts itself.

The benchmarks read the service's own signals: each queued pass logs "queued pass starting"
and "queued pass done" with its repository and the time; a git command run by a replica is
counted by the `git` put first on its PATH (one byte per command), which then runs the real
one.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

__all__ = ["counting_git", "logged", "logged_entries"]


def counting_git(home: Path) -> Path:
    """A `git` in `home/bin` that adds a byte to the file returned and runs the real git."""
    counter, shim = home / "git-commands", home / "bin" / "git"
    shim.parent.mkdir(parents=True)
    counter.touch()
    shim.write_text(f'#!/bin/sh\nprintf x >> "{counter}"\nexec {shutil.which("git")} "$@"\n')
    shim.chmod(0o755)
    return counter


def logged_entries(logs: list[Path]) -> list[dict[str, object]]:
    """Every JSON log line of `logs`."""
    lines = [line for log in logs for line in log.read_text(errors="replace").splitlines()]
    return [json.loads(line) for line in lines if line.startswith("{")]


def logged(logs: list[Path], message: str) -> dict[str, datetime]:
    """When each repository's last queued pass logged `message`."""
    return {
        str(entry["repository"]): datetime.fromisoformat(str(entry["time"]))
        for entry in logged_entries(logs)
        if entry["message"] == message
    }
