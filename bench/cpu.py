"""CPU time per process of the stack, so a bench can say where an order's CPU goes.

Linux only (it reads /proc); elsewhere, or for a process not on this machine (a Temporal server
in a container, say), that process is left out and the report says so. The bench process itself
is read with resource.getrusage, so it includes every thread (the floor's worker runs there)."""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _is_temporal(args: list[str]) -> bool:
    return bool(args) and Path(args[0]).name == "temporal" and "server" in args


def _is_worker(args: list[str]) -> bool:
    return any(Path(arg).name == "worker.py" for arg in args[1:3])


def _is_web(args: list[str]) -> bool:
    return "uvicorn" in args[1:4]


# The stack's processes as `make run` (devstack.py) starts them.
STACK: dict[str, Callable[[list[str]], bool]] = {
    "temporal": _is_temporal,
    "worker": _is_worker,
    "web": _is_web,
}


def _cmdline(pid_dir: Path) -> list[str]:
    try:
        raw = (pid_dir / "cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # utime and stime are fields 14 and 15 of stat; after the ")" they are the 12th and 13th.
    return (int(fields[11]) + int(fields[12])) / TICKS


def find_stack() -> dict[str, int]:
    """name -> pid of the stack's processes on this machine (the first match of each)."""
    found: dict[str, int] = {}
    if not PROC.is_dir():
        return found
    for pid_dir in PROC.iterdir():
        if not pid_dir.name.isdigit() or int(pid_dir.name) == os.getpid():
            continue
        args = _cmdline(pid_dir)
        for name, matches in STACK.items():
            if name not in found and matches(args):
                found[name] = int(pid_dir.name)
    return found


def _own_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class CpuMeter:
    """Snapshots of each process's CPU seconds; `since(snapshot)` gives what each spent."""

    def __init__(self) -> None:
        self.pids = find_stack()

    def missing(self) -> list[str]:
        return [name for name in STACK if name not in self.pids]

    def snapshot(self) -> dict[str, float]:
        taken = {"bench": _own_seconds()}
        for name, pid in self.pids.items():
            seconds = _cpu_seconds(pid)
            if seconds is not None:
                taken[name] = seconds
        return taken

    def since(self, before: dict[str, float]) -> dict[str, float]:
        now = self.snapshot()
        return {name: now[name] - before[name] for name in before if name in now}
