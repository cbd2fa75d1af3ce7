"""Start-up of the `image-bot` command: wall, CPU and peak RSS of fresh processes.

    .venv/bin/python -m benchmarks.startup [--runs 10] [--config FILE] [--bytecode none]

The image_bot timed is the one importable from the current directory (to time another
checkout, run this from there). The package's bytecode is compiled first, as pip does
(`--bytecode none`: no process has any, see benchmarks/bytecode.py).

Times `image-bot --version`, `--help`, `run --help` and what a `run --once` pass loads before
its first request (`run --once` with a config file that does not exist, which stops it just
after it has loaded the pass's modules as a pass does; then parsing `--config` when given),
each through the command's entry point in a new process, RUNS times: ranges and
medians, the load average beside them. Then lists which heavy libraries each loaded (the
forge, service and terminal stacks must not load for these). Target: --version and --help
<= 0.3 s on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess  # noqa: TID251  (times the real command in fresh processes)
import sys
import time
from pathlib import Path

from benchmarks.bytecode import BYTECODE_MODES, bytecode_env

HEAVY = (
    "github", "gitlab", "apscheduler", "starlette", "uvicorn", "prometheus_client", "rich",
    "requests", "cryptography", "jwt", "pygments", "pydantic", "httpx", "ruamel",
)  # fmt: skip

# The child reports its own peak RSS (VmHWM): wait4's ru_maxrss would carry this process's
# (grown by compiling bytecode) over fork and exec (tests/support/peak.py).
_LOADED = (
    "import sys\n"
    "heavy = {heavy!r}\n"
    "{body}\n"
    "peak = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
    "print(' '.join(sorted({{m for m in sys.modules if m in heavy}})) or '-', file=sys.stderr)\n"
    "print(peak[0] if peak else 0, file=sys.stderr)\n"
)


def _command_body(args: list[str]) -> str:
    return f"from image_bot.cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass"


def cases(config: Path | None) -> dict[str, str]:
    """Label -> Python source run in a fresh interpreter."""
    load = ""
    if config is not None:
        load = "from pathlib import Path\nfrom image_bot.config.load import load_config\n"
        load += f"load_config(Path({str(config)!r}))"
    missing = "/nonexistent/image-bot.yaml"  # exit 2 once the pass's modules are loaded
    return {
        "image-bot --version": _command_body(["--version"]),
        "image-bot --help": _command_body(["--help"]),
        "image-bot run --help": _command_body(["run", "--help"]),
        "run --once imports": _command_body(["run", "--once", "--config", missing]) + "\n" + load,
    }


def time_one(source: str, env: dict[str, str]) -> tuple[float, float, float, str]:
    """(wall s, CPU s, peak RSS MiB, the heavy modules it loaded) of one fresh interpreter."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", _LOADED.format(heavy=HEAVY, body=source)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    loaded = process.stderr.read().decode().strip().splitlines() if process.stderr else []
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("\n".join(loaded))
    return wall, usage.ru_utime + usage.ru_stime, int(loaded[-1]) / 1024, loaded[-2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--config", type=Path, help="a config file to parse in the run case")
    parser.add_argument("--bytecode", choices=BYTECODE_MODES, default="installed")
    args = parser.parse_args()
    env = bytecode_env(args.bytecode)  # installed: no process compiles from source
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, bytecode: {args.bytecode}")
    for label, source in cases(args.config).items():
        loads, walls, cpus, rss = [], [], [], []
        loaded = ""
        for _ in range(args.runs):
            loads.append(os.getloadavg()[0])
            wall, cpu, peak, loaded = time_one(source, env)
            walls.append(wall)
            cpus.append(cpu)
            rss.append(peak)
        walls.sort()
        cpus.sort()
        median = statistics.median(walls)
        print(
            f"{label:22s} wall {walls[0]:.3f}-{walls[-1]:.3f}s (median {median:.3f})"
            f"  cpu {cpus[0]:.3f}-{cpus[-1]:.3f}s (median {statistics.median(cpus):.3f})"
            f"  rss {max(rss):.0f} MiB  load {min(loads):.2f}-{max(loads):.2f}"
            f"\n{'':22s} loaded: {loaded}"
        )


if __name__ == "__main__":
    main()
