"""The real `image-bot serve` command in its own process, for the service's end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import subprocess  # noqa: TID251 (the tests run the real service process)
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll `check` until it is true; fail the test naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


@dataclass
class ServeProcess:
    """The running service: its URL, process, log, config and state directory."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    config: Path
    state_dir: Path

    def get(self, path: str) -> httpx.Response | None:
        """GET `path` on the service, or None while it does not answer."""
        try:
            return httpx.get(f"{self.url}{path}", timeout=5)
        except httpx.TransportError:
            return None

    def text(self, path: str) -> str:
        """The body of `path`, or "" while the service does not answer."""
        response = self.get(path)
        return response.text if response is not None else ""

    def logs(self) -> str:
        """Everything the process wrote so far."""
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def serve_process(config: Path, port: int, *args: str) -> Iterator[ServeProcess]:
    """Run `image-bot serve --config config [args]` (listening on `port`); kill it if still
    running. The config's directory is the process's HOME and holds its log and state.
    """
    home = config.parent
    log = home / "serve.log"
    state_dir = home / "state"
    env = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache")}
    command = [sys.executable, "-m", "image_bot", "serve", "--config", str(config)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*command, "--state-dir", str(state_dir), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        yield ServeProcess(f"http://127.0.0.1:{port}", process, log, config, state_dir)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
