"""Peak memory of an `image-bot` child process, measured from inside it.

`ru_maxrss` from `wait4` is not the child's own figure: Linux carries the parent's high-water
mark over fork and exec (`signal->maxrss`), so a pytest worker that has grown to 250 MiB makes
every child it starts look that big. The child's address space starts afresh at exec, so its
`VmHWM` (in /proc/self/status) is what it used itself: the launcher below writes it at exit.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["image_bot_command", "peak_mib"]

_LAUNCHER = """
import atexit, runpy, sys
peak_file = sys.argv[1]
def _write_peak():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                with open(peak_file, "w") as out:
                    out.write(line.split()[1])
atexit.register(_write_peak)
sys.argv = ["image-bot", *sys.argv[2:]]
runpy.run_module("image_bot", run_name="__main__", alter_sys=True)
"""


def image_bot_command(args: list[str], peak_file: Path) -> list[str]:
    """`python -m image_bot ARGS` that writes its own peak RSS (KiB) to `peak_file` at exit."""
    return [sys.executable, "-c", _LAUNCHER, str(peak_file), *args]


def peak_mib(peak_file: Path) -> float:
    """The peak RSS the process wrote (MiB); 0 when it died before it could write it."""
    try:
        return int(peak_file.read_text()) / 1024
    except (OSError, ValueError):
        return 0.0
