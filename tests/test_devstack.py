"""devstack.py, what `make run` runs: the dev server's command line, the supervisor that restarts
crashed processes (with tiny Python children), and the whole stack started, crashed and stopped as a
developer would (with a stub web app, so only the launcher is under test)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from devstack import DevStack
from settings import ROOT, Settings, venv_binary
from supervisor import Child, KeepsCrashing, RestartPolicy, Supervisor, rotate
from web.temporal import SEARCH_ATTRIBUTES

TEMPORAL = venv_binary("temporal")
needs_temporal = pytest.mark.skipif(TEMPORAL is None, reason="the temporal CLI is not installed")

STUB_APP = """
import os
from pathlib import Path

from fastapi import FastAPI


def create_app() -> FastAPI:
    if Path(os.environ["STUB_APP_CRASH_FLAG"]).exists():
        raise SystemExit("the stub app was told to crash")
    return FastAPI()
"""


def option_values(args: list[str], option: str) -> list[str]:
    return [args[i + 1] for i, arg in enumerate(args) if arg == option]


def test_dev_server_keeps_its_data_in_wal_mode_with_every_search_attribute(tmp_path: Path) -> None:
    settings = Settings(temporal_address="localhost:7300", temporal_ui_url="http://localhost:8300")
    args = DevStack(settings, data_dir=tmp_path).temporal_command()

    assert args[1:3] == ["server", "start-dev"]
    assert option_values(args, "--db-filename") == [str(tmp_path / "temporal.db")]
    assert option_values(args, "--sqlite-pragma") == ["journal_mode=wal", "synchronous=normal"]
    assert option_values(args, "--port") == ["7300"]
    assert option_values(args, "--ui-port") == ["8300"]
    assert option_values(args, "--search-attribute") == [
        f"{name}={kind}" for name, kind in SEARCH_ATTRIBUTES.items()
    ]


def test_only_a_temporal_address_on_this_machine_gets_a_dev_server() -> None:
    assert DevStack(Settings(temporal_address="127.0.0.1:7301")).local_temporal
    assert not DevStack(Settings(temporal_address="temporal.internal:7233")).local_temporal


def supervised(tmp_path: Path, **policy: float) -> Supervisor:
    return Supervisor(tmp_path / "logs", cwd=tmp_path, policy=RestartPolicy(**policy))


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def check_until(supervisor: Supervisor, done: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the supervisor did not get there in time"
        supervisor.check()
        time.sleep(0.02)


def restarts(supervisor: Supervisor, child: Child, count: int) -> list[int]:
    """The child's pids over its first start and `count` restarts."""
    pids = [child.process.pid]
    try:
        while len(pids) <= count:
            check_until(supervisor, lambda: child.process.pid != pids[-1])
            pids.append(child.process.pid)
    finally:
        supervisor.stop()
    return pids


def pauses(name: str, out: str) -> list[str]:
    return re.findall(rf"{name} \(pid \d+\) exited \(\d+\) at .*; restarting it in (\S+) s", out)


def test_a_crashed_process_is_started_again_after_a_pause_that_doubles_up_to_a_cap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor = supervised(tmp_path, first_delay=0.1, max_delay=0.4, max_crashes=10)
    child = supervisor.start("crasher", python("import sys; sys.exit(3)"), signal.SIGTERM)

    pids = restarts(supervisor, child, 4)

    out = capsys.readouterr().out
    assert pauses("crasher", out) == ["0.1", "0.2", "0.4", "0.4"]
    first = f"crasher (pid {pids[0]}) exited (3) at "
    assert re.search(
        rf"^{re.escape(first)}\d\d:\d\d:\d\d; restarting it in 0.1 s; its log: "
        rf"{re.escape(str(tmp_path / 'logs' / 'crasher.log'))}$",
        out,
        re.MULTILINE,
    )
    assert re.findall(r"Restarted crasher \(pid (\d+)\)", out) == [str(pid) for pid in pids[1:]]


def test_crashes_further_apart_than_the_window_are_forgotten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    supervisor = supervised(tmp_path, first_delay=0.05, max_crashes=2, window=0.2)
    flaky = python("import time; time.sleep(0.3); raise SystemExit(1)")
    child = supervisor.start("flaky", flaky, signal.SIGTERM)

    restarts(supervisor, child, 3)  # two crashes would stop it, were they within 0.2 s

    assert pauses("flaky", capsys.readouterr().out) == ["0.05"] * 3


def test_a_process_that_keeps_crashing_gives_up_naming_it_with_the_end_of_its_log(
    tmp_path: Path,
) -> None:
    supervisor = supervised(tmp_path, first_delay=0.05, max_crashes=3, window=60)
    crash = "import sys; print('no database configured'); sys.exit(2)"
    supervisor.start("crasher", python(crash), signal.SIGTERM)
    try:
        with pytest.raises(KeepsCrashing) as gave_up:
            check_until(supervisor, lambda: False)
    finally:
        supervisor.stop()

    message = str(gave_up.value)
    assert message.startswith("crasher crashed 3 times within 60 s (the last time it exited (2))")
    assert f"the end of {tmp_path / 'logs' / 'crasher.log'}:" in message
    assert "    no database configured" in message


def test_each_start_appends_to_the_log_after_a_line_with_the_time_and_pid(tmp_path: Path) -> None:
    first = supervised(tmp_path)
    child = first.start("app", python("print('first run', flush=True)"), signal.SIGTERM)
    child.process.wait()
    first_pid = child.process.pid
    half_line = "import sys; sys.stdout.write('killed mid-line'); sys.exit(1)"
    child = supervised(tmp_path).start("app", python(half_line), signal.SIGTERM)
    child.process.wait()
    second_pid = child.process.pid
    child = supervised(tmp_path).start("app", python("print('third run')"), signal.SIGTERM)
    child.process.wait()

    lines = (tmp_path / "logs" / "app.log").read_text().splitlines()
    stamp = r"===== \d{4}-\d\d-\d\d \d\d:\d\d:\d\d app"
    assert re.fullmatch(rf"{stamp} \(pid {first_pid}\) started =====", lines[0])
    assert lines[1] == "first run"
    assert re.fullmatch(rf"{stamp} \(pid {second_pid}\) started =====", lines[2])
    assert lines[3] == "killed mid-line"
    assert re.fullmatch(rf"{stamp} \(pid {child.process.pid}\) started =====", lines[4])
    assert lines[5:] == ["third run"]


def test_a_log_past_its_size_is_rotated_before_the_next_start_keeping_a_few(
    tmp_path: Path,
) -> None:
    log = tmp_path / "worker.log"
    (tmp_path / "worker.log.2").write_text("oldest")
    (tmp_path / "worker.log.1").write_text("older")
    log.write_text("old")

    rotate(log, max_bytes=3, keep=2)
    assert not log.exists()
    assert (tmp_path / "worker.log.1").read_text() == "old"
    assert (tmp_path / "worker.log.2").read_text() == "older"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["worker.log.1", "worker.log.2"]

    log.write_text("small")
    rotate(log, max_bytes=100, keep=2)
    assert log.read_text() == "small"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Launch:
    """`python devstack.py` on free ports with its data in a temporary directory; the stub web
    app crashes at start while `crash_flag` exists."""

    def __init__(self, tmp_path: Path, web_app: str, output: str = "devstack.out") -> None:
        (tmp_path / "stub_app.py").write_text(STUB_APP)
        self.data = tmp_path / "data"
        self.crash_flag = tmp_path / "crash-the-web-app"
        self.temporal_port, self.ui_port, self.web_port = free_port(), free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("O2C_")}
        env |= {
            "O2C_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'o2c.db'}",
            "O2C_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "O2C_TEMPORAL_UI_URL": f"http://127.0.0.1:{self.ui_port}",
            "O2C_BASE_URL": f"http://127.0.0.1:{self.web_port}",
            "O2C_DEMO_PASSWORD": "demo-pass-123",
            "O2C_SECRET_KEY": "test-secret",
            "PYTHONPATH": str(tmp_path),
            "STUB_APP_CRASH_FLAG": str(self.crash_flag),
        }
        self.output = tmp_path / output
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "devstack.py", "--data-dir", str(self.data),
                 "--web-app", web_app, "--first-restart-delay", "0.2"],
                cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def text(self) -> str:
        return self.output.read_text()

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.text():
            assert self.process.poll() is None, self.text()
            assert time.monotonic() < deadline, self.text()
            time.sleep(0.2)

    def started(self) -> list[tuple[str, int]]:
        """Every start and restart, in order."""
        started = re.findall(r"(?:Started|Restarted) (\w+) \(pid (\d+)\)", self.text())
        return [(name, int(pid)) for name, pid in started]

    def children(self) -> dict[str, int]:
        """The latest pid of each process."""
        return dict(self.started())

    def log(self, name: str) -> str:
        return (self.data / "logs" / f"{name}.log").read_text()

    def web_answers(self) -> bool:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/docs", timeout=5) as web:
            return web.status == 200

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        assert self.process.wait(timeout=40) == 0, self.text()
        assert all(is_gone(pid) for _, pid in self.started())

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


def is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_until(done: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.2)


@needs_temporal
def test_make_run_serves_temporal_and_the_app_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    launch = Launch(tmp_path, "stub_app:create_app")
    try:
        launch.wait_for("Ctrl-C stops everything")
        assert "Password for every demo login: demo-pass-123" in launch.text()
        with urllib.request.urlopen(f"http://127.0.0.1:{launch.ui_port}/", timeout=5) as ui:
            assert ui.status == 200
        address = ["--address", f"127.0.0.1:{launch.temporal_port}"]
        listed = subprocess.run(
            [TEMPORAL, "operator", "search-attribute", "list", *address],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert all(name in listed for name in SEARCH_ATTRIBUTES)
        subprocess.run(
            [TEMPORAL, "workflow", "list", "--query", 'Stage="approval"', *address], check=True
        )
        children = launch.children()
        assert set(children) == {"temporal", "worker", "web"}

        launch.process.send_signal(signal.SIGINT)

        assert launch.process.wait(timeout=40) == 0
        assert all(is_gone(pid) for pid in children.values())
    finally:
        launch.close()


@needs_temporal
def test_a_process_that_dies_while_the_stack_starts_stops_it_and_the_exit_says_which(
    tmp_path: Path,
) -> None:
    launch = Launch(tmp_path, "no_such_module:create_app")
    try:
        assert launch.process.wait(timeout=60) == 1
        assert "Error: web exited" in launch.text()
        assert all(is_gone(pid) for pid in launch.children().values())
    finally:
        launch.close()


@needs_temporal
def test_a_killed_worker_is_restarted_while_temporal_and_the_web_app_keep_running(
    tmp_path: Path,
) -> None:
    launch = Launch(tmp_path, "stub_app:create_app")
    try:
        launch.wait_for("Ctrl-C stops everything")
        before = launch.children()
        wait_until(lambda: "polling task queue" in launch.log("worker"), "the worker polls")
        log_before = launch.log("worker")

        os.kill(before["worker"], signal.SIGKILL)

        launch.wait_for("Restarted worker")
        assert f"worker (pid {before['worker']}) got SIGKILL at " in launch.text()
        assert "restarting it in 0.2 s; its log: " in launch.text()
        after = launch.children()
        assert after["worker"] != before["worker"]
        assert not is_gone(after["worker"])
        assert {after["temporal"], after["web"]} == {before["temporal"], before["web"]}
        assert not is_gone(before["temporal"]) and launch.web_answers()
        assert launch.log("worker").startswith(log_before)
        wait_until(
            lambda: launch.log("worker").count("polling task queue") == 2, "the new worker polls"
        )
        restart = launch.log("worker").removeprefix(log_before).splitlines()[0]
        assert f"worker (pid {after['worker']}) restarted after it got SIGKILL" in restart
        launch.stop()
    finally:
        launch.close()


def pollers(temporal_port: int) -> set[str]:
    described = subprocess.run(
        [TEMPORAL, "task-queue", "describe", "--task-queue", "orders", "--output", "json",
         "--address", f"127.0.0.1:{temporal_port}"],
        capture_output=True, text=True,
    )  # fmt: skip
    if described.returncode:
        return set()
    return {poller["identity"] for poller in json.loads(described.stdout)["pollers"] or []}


@needs_temporal
def test_after_a_crash_of_temporal_the_worker_polls_the_restarted_server_by_itself(
    tmp_path: Path,
) -> None:
    launch = Launch(tmp_path, "stub_app:create_app")
    try:
        launch.wait_for("Ctrl-C stops everything")
        before = launch.children()
        worker = f"{before['worker']}@{socket.gethostname()}"
        wait_until(lambda: worker in pollers(launch.temporal_port), "the worker polls")

        os.kill(before["temporal"], signal.SIGKILL)

        launch.wait_for("Restarted temporal")
        assert f"temporal (pid {before['temporal']}) got SIGKILL" in launch.text()
        # The dev server keeps pollers in memory: a poller listed now polls the new server.
        wait_until(lambda: worker in pollers(launch.temporal_port), "the worker polls again")
        assert launch.children()["worker"] == before["worker"]
        assert launch.web_answers()
        launch.stop()
    finally:
        launch.close()


@needs_temporal
def test_a_second_make_run_appends_to_the_logs_of_the_first(tmp_path: Path) -> None:
    first = Launch(tmp_path, "stub_app:create_app")
    try:
        first.wait_for("Ctrl-C stops everything")
        first.stop()
    finally:
        first.close()
    logs = {name: first.log(name) for name in ("temporal", "worker", "web")}

    second = Launch(tmp_path, "stub_app:create_app", output="devstack-again.out")
    try:
        second.wait_for("Ctrl-C stops everything")
        for name, log in logs.items():
            assert second.log(name).startswith(log)
            assert f"{name} (pid {second.children()[name]}) started =====" in second.log(name)
        second.stop()
    finally:
        second.close()


@needs_temporal
def test_a_process_that_keeps_crashing_stops_the_stack_and_the_exit_says_which(
    tmp_path: Path,
) -> None:
    launch = Launch(tmp_path, "stub_app:create_app")
    try:
        launch.wait_for("Ctrl-C stops everything")
        launch.crash_flag.touch()

        os.kill(launch.children()["web"], signal.SIGKILL)

        assert launch.process.wait(timeout=90) == 1
        out = launch.text()
        assert "restarting it in 1.6 s" in out
        assert "Error: web crashed 5 times within 60 s (the last time it exited (1))" in out
        assert "the stub app was told to crash" in out
        assert all(is_gone(pid) for _, pid in launch.started())
    finally:
        launch.close()
