"""The processes of `make run`: each logs to a file, restarts after a crash and stops in order."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from settings import ROOT

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STOP_TIMEOUT = 10.0  # seconds each process gets to stop before it is killed
PR_SET_PDEATHSIG = 1
LIBC = ctypes.CDLL(None) if sys.platform == "linux" else None
LOG_MAX_BYTES = 10 * 1024 * 1024  # past this, a log is rotated before its process next starts
LOG_KEEP = 3  # rotated logs kept: worker.log.1 (the newest) to worker.log.3


class Stop(Exception):
    """Raised in the main thread when SIGINT, SIGTERM or SIGHUP arrives."""


class KeepsCrashing(Exception):
    """A process crashed so often in a short time that restarting it again will not help."""


def say(text: str) -> None:
    print(text, flush=True)  # noqa: T201 - this is a command's output


def tail(path: Path, lines: int = 15) -> str:
    if not path.exists():
        return ""
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return "\n".join("    " + line for line in text)


def stop_on_signal(signum: int, _frame: object) -> None:
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)  # the first signal starts an orderly stop; let it finish
    raise Stop(signal.Signals(signum).name)


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def describe_exit(code: int) -> str:
    return f"exited ({code})" if code >= 0 else f"got {signal.Signals(-code).name}"


def rotate(log: Path, *, max_bytes: int = LOG_MAX_BYTES, keep: int = LOG_KEEP) -> None:
    """A log of max_bytes or more becomes log.1 (log.1 becomes log.2, ..., the oldest goes), so
    logs are kept across crashes and runs without filling the disk."""
    if not log.exists() or log.stat().st_size < max_bytes:
        return
    for number in range(keep - 1, 0, -1):
        older = log.with_name(f"{log.name}.{number}")
        if older.exists():
            older.replace(log.with_name(f"{log.name}.{number + 1}"))
    log.replace(log.with_name(f"{log.name}.1"))


def ends_midline(log: Path) -> bool:
    if not log.exists() or log.stat().st_size == 0:
        return False
    with log.open("rb") as text:
        text.seek(-1, os.SEEK_END)
        return text.read(1) != b"\n"


def prepare_child(separator: str) -> Callable[[], None]:
    """What each child runs between fork and exec, its output already going to its log."""

    def prepare() -> None:
        # If devstack is killed outright (kill -9), the kernel sends the child SIGTERM, so no
        # Temporal server is left holding the port and the db.
        if LIBC is not None:
            LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        # Written here, not by devstack after the start, so it is the child's own pid and it
        # comes before the child's first line.
        os.write(1, separator.replace("{pid}", str(os.getpid())).encode())

    return prepare


@dataclass(frozen=True)
class RestartPolicy:
    """A crashed process is started again after first_delay seconds, twice as long after each
    further crash (up to max_delay); max_crashes within window seconds stop the stack."""

    first_delay: float = 1.0
    max_delay: float = 30.0
    max_crashes: int = 5
    window: float = 60.0


@dataclass
class Child:
    name: str
    args: list[str]
    log: Path
    stop_signal: signal.Signals
    stops_last: bool  # a server the others talk to
    process: subprocess.Popen[bytes]
    crashes: deque[float] = field(default_factory=deque)  # monotonic times, within the window
    restart_at: float | None = None  # set while a crashed child waits to be started again

    def stopped(self, deadline: float) -> bool:
        try:
            self.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            return False
        return True


class Supervisor:
    """Child processes, each with its output appended to `<logs>/<name>.log`: a crashed one is
    started again after a pause that doubles with each crash, one that keeps crashing raises
    KeepsCrashing."""

    def __init__(
        self, logs: Path, *, cwd: Path = ROOT, policy: RestartPolicy = RestartPolicy()
    ) -> None:
        self.logs = logs
        self.cwd = cwd
        self.policy = policy
        self.children: list[Child] = []

    def start(
        self, name: str, args: list[str], stop_signal: signal.Signals, *, stops_last: bool = False
    ) -> Child:
        log = self.logs / f"{name}.log"
        process = self.launch(name, args, log, "started")
        child = Child(name, args, log, stop_signal, stops_last, process)
        self.children.append(child)
        say(f"Started {name} (pid {child.process.pid}), output in {relative(log)}")
        return child

    def launch(self, name: str, args: list[str], log: Path, why: str) -> subprocess.Popen[bytes]:
        self.logs.mkdir(parents=True, exist_ok=True)
        rotate(log)
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        # A crashed process may have left half a line; the separator starts on a line of its own.
        separator = "\n" if ends_midline(log) else ""
        separator += f"===== {now} {name} (pid {{pid}}) {why} =====\n"
        with log.open("ab") as out:
            return subprocess.Popen(
                args, cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                # Its own session: Ctrl-C reaches only devstack, which then stops the children
                # in order (web and worker before the server they talk to).
                start_new_session=True, preexec_fn=prepare_child(separator),
            )  # fmt: skip

    def first_exit(self) -> str | None:
        """While the stack starts, a process that exits is a setup problem a restart won't fix
        (a bad module, a port taken): what exited, with the end of its log."""
        for child in self.children:
            code = child.process.poll()
            if code is not None:
                return f"{child.name} {describe_exit(code)}; {self.log_end(child)}"
        return None

    def check(self) -> None:
        """Schedule a restart for each newly crashed child and start those whose pause is over;
        KeepsCrashing when one crashed policy.max_crashes times within policy.window seconds."""
        now = time.monotonic()
        for child in self.children:
            code = child.process.poll()
            if code is None:
                continue
            if child.restart_at is None:
                self.crashed(child, code, now)
            elif now >= child.restart_at:
                why = f"restarted after it {describe_exit(code)}"
                child.process = self.launch(child.name, child.args, child.log, why)
                child.restart_at = None
                say(f"Restarted {child.name} (pid {child.process.pid}), output in "
                    f"{relative(child.log)}")  # fmt: skip

    def crashed(self, child: Child, code: int, now: float) -> None:
        policy = self.policy
        while child.crashes and child.crashes[0] <= now - policy.window:
            child.crashes.popleft()
        child.crashes.append(now)
        if len(child.crashes) >= policy.max_crashes:
            raise KeepsCrashing(
                f"{child.name} crashed {len(child.crashes)} times within {policy.window:.0f} s "
                f"(the last time it {describe_exit(code)}); {self.log_end(child)}"
            )
        delay = min(policy.first_delay * 2 ** (len(child.crashes) - 1), policy.max_delay)
        child.restart_at = now + delay
        say(f"{child.name} (pid {child.process.pid}) {describe_exit(code)} at "
            f"{time.strftime('%H:%M:%S')}; restarting it in {delay:g} s; its log: "
            f"{relative(child.log)}")  # fmt: skip

    def log_end(self, child: Child) -> str:
        return f"the end of {relative(child.log)}:\n{tail(child.log)}"

    def stop(self) -> None:
        """The others first (together), then those that stop last (Temporal); kill what does not
        stop in time."""
        apps = [c for c in self.children if not c.stops_last]
        servers = [c for c in self.children if c.stops_last]
        for group in (apps, servers):
            running = [c for c in group if c.process.poll() is None]
            for child in running:
                child.process.send_signal(child.stop_signal)
            deadline = time.monotonic() + STOP_TIMEOUT
            for child in running:
                if not child.stopped(deadline):
                    say(f"{child.name} did not stop within {STOP_TIMEOUT:.0f} s; killing it")
                    child.process.kill()
                    child.process.wait()
        self.children.clear()
