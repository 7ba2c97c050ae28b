"""devstack.py, what `make run` runs: the dev server's command line, and the whole stack started
and stopped as a developer would (with a stub web app, so only the launcher is under test)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from devstack import DevStack
from settings import ROOT, Settings, venv_binary
from web.temporal import SEARCH_ATTRIBUTES

TEMPORAL = venv_binary("temporal")
needs_temporal = pytest.mark.skipif(TEMPORAL is None, reason="the temporal CLI is not installed")

STUB_APP = """
from fastapi import FastAPI


def create_app() -> FastAPI:
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Launch:
    """`python devstack.py` on free ports with its data in a temporary directory."""

    def __init__(self, tmp_path: Path, web_app: str) -> None:
        (tmp_path / "stub_app.py").write_text(STUB_APP)
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
        }
        self.output = tmp_path / "devstack.out"
        with self.output.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "devstack.py", "--data-dir", str(tmp_path / "data"),
                 "--web-app", web_app],
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

    def children(self) -> dict[str, int]:
        started = re.findall(r"Started (\w+) \(pid (\d+)\)", self.text())
        return {name: int(pid) for name, pid in started}

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
def test_when_one_process_dies_the_others_are_stopped_and_the_exit_says_which(
    tmp_path: Path,
) -> None:
    launch = Launch(tmp_path, "no_such_module:create_app")
    try:
        assert launch.process.wait(timeout=60) == 1
        assert "Error: web exited" in launch.text()
        assert all(is_gone(pid) for pid in launch.children().values())
    finally:
        launch.close()
