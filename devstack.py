"""`make run`: migrate and seed the database, then run Temporal, the worker and the web app."""

from __future__ import annotations

import argparse
import asyncio
import compileall
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from models.seed import seed
from settings import ROOT, Settings, get_settings, venv_binary
from supervisor import (
    STOP_SIGNALS,
    Child,
    KeepsCrashing,
    RestartPolicy,
    Stop,
    Supervisor,
    relative,
    say,
    stop_on_signal,
)
from web.temporal import SEARCH_ATTRIBUTES

WEB_APP = "web.app:create_app"
RETENTION = "2160h"  # 90 days; the dev server's default namespace forgets closed workflows in 24 h
LOCAL_HOSTS = {"localhost", "127.0.0.1"}
START_TIMEOUT = 30.0  # seconds for the Temporal frontend and the web app to answer


class StartupError(Exception):
    """Something the stack needs is missing or did not come up in time."""


def host_and_port(address: str, default_port: int) -> tuple[str, int]:
    """`localhost:7233` or `http://localhost:8000` → ("localhost", port)."""
    parts = urlsplit(address if "//" in address else f"//{address}")
    return parts.hostname or "localhost", parts.port or default_port


def is_listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class DevStack:
    """The processes of `make run`, started in order and stopped in reverse."""

    def __init__(
        self,
        settings: Settings,
        *,
        data_dir: Path | None = None,
        web_app: str = WEB_APP,
        restarts: RestartPolicy = RestartPolicy(),
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir or settings.data_dir
        self.logs = self.data_dir / "logs"
        self.web_app = web_app
        self.supervisor = Supervisor(self.logs, policy=restarts)
        temporal_host, self.temporal_port = host_and_port(settings.temporal_address, 7233)
        # Only a Temporal address on this machine gets a dev server; any other is used as it is.
        self.local_temporal = temporal_host in LOCAL_HOSTS
        self.ui_port = host_and_port(settings.temporal_ui_url, 8233)[1]
        self.web_port = host_and_port(settings.base_url, 8000)[1]
        self.temporal = venv_binary("temporal")

    # -- the database -------------------------------------------------------------------------

    def prepare_database(self) -> str:
        """Migrate to head and seed the demo company once; returns the logins to print."""
        url = make_url(self.settings.database_url)
        if url.get_backend_name() == "sqlite" and url.database:
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        config = Config(str(ROOT / "alembic.ini"))
        config.cmd_opts = argparse.Namespace(x=[f"url={self.settings.database_url}"])
        command.upgrade(config, "head")  # env.py runs its own event loop, so not inside ours
        say(f"Database at head: {url.render_as_string(hide_password=True)}")
        return asyncio.run(seed(self.settings))

    # -- Temporal ------------------------------------------------------------------------------

    def temporal_command(self) -> list[str]:
        """The dev server: SQLite in WAL mode (nearly twice the throughput), every search
        attribute registered at creation of the db file."""
        args = [
            self.temporal or "temporal", "server", "start-dev",
            "--db-filename", str(self.data_dir / "temporal.db"),
            "--sqlite-pragma", "journal_mode=wal",
            "--sqlite-pragma", "synchronous=normal",
            "--ip", "127.0.0.1",
            "--port", str(self.temporal_port),
            "--ui-port", str(self.ui_port),
        ]  # fmt: skip
        if self.settings.temporal_namespace != "default":
            args += ["--namespace", self.settings.temporal_namespace]
        for name, kind in SEARCH_ATTRIBUTES.items():
            args += ["--search-attribute", f"{name}={kind}"]
        return args

    def temporal_cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        if self.temporal is None:
            raise StartupError("the `temporal` CLI is not installed (`make install` brings it)")
        result = subprocess.run(
            [self.temporal, *args, "--address", self.settings.temporal_address,
             "--namespace", self.settings.temporal_namespace],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=15,
        )  # fmt: skip
        if check and result.returncode != 0:
            problem = (result.stderr or result.stdout).strip()
            raise StartupError(f"temporal {' '.join(args)} failed: {problem}")
        return result

    def start_temporal(self) -> None:
        if self.temporal is None:
            raise StartupError("the `temporal` CLI is not installed (`make install` brings it)")
        ports = {self.temporal_port: "Temporal frontend", self.ui_port: "Temporal UI"}
        for port, what in ports.items():
            if is_listening(port):
                raise StartupError(
                    f"port {port} ({what}) is already in use: is another `make run` running? "
                    "Stop it, or choose other ports with O2C_TEMPORAL_ADDRESS and "
                    "O2C_TEMPORAL_UI_URL."
                )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.supervisor.start("temporal", self.temporal_command(), signal.SIGTERM, stops_last=True)

    def wait_for_temporal(self, timeout: float = START_TIMEOUT) -> None:
        """Until the frontend answers for our namespace."""
        deadline = time.monotonic() + timeout
        while self.temporal_cli("operator", "namespace", "describe", check=False).returncode:
            self.check_children()
            if time.monotonic() > deadline:
                log = f"; see {relative(self.logs / 'temporal.log')}" if self.children else ""
                raise StartupError(
                    f"Temporal at {self.settings.temporal_address} did not answer within "
                    f"{timeout:.0f} s{log}"
                )
            time.sleep(0.3)

    def configure_temporal(self) -> None:
        """Register missing search attributes (the dev server only registers --search-attribute
        when it creates its db file) and keep closed workflows for 90 days. Both idempotent."""
        listed = json.loads(
            self.temporal_cli("operator", "search-attribute", "list", "--output", "json").stdout
        )
        existing = {
            name: kind.removeprefix("INDEXED_VALUE_TYPE_").replace("_", "").lower()
            for name, kind in listed.get("customAttributes", {}).items()
        }
        for name, kind in SEARCH_ATTRIBUTES.items():
            if name not in existing:
                self.temporal_cli("operator", "search-attribute", "create", "--name", name,
                                  "--type", kind)  # fmt: skip
            elif existing[name] != kind.lower():
                raise StartupError(
                    f"search attribute {name} is {existing[name]} on the Temporal server, the app "
                    f"needs {kind}; recreate it there (for the dev server: delete "
                    f"{self.data_dir / 'temporal.db'}, which forgets every workflow)"
                )
        self.temporal_cli("operator", "namespace", "update", "--retention", RETENTION)

    # -- the application -----------------------------------------------------------------------

    def start_app(self) -> None:
        if is_listening(self.web_port):
            raise StartupError(
                f"port {self.web_port} (web app) is already in use; stop what uses it or set "
                "O2C_BASE_URL to another port (e.g. http://localhost:8001)"
            )
        python = sys.executable
        # The workflow sandbox re-imports these modules for every workflow run; Python reads
        # their .pyc files even where PYTHONDONTWRITEBYTECODE stops it writing them, and
        # compiling the source on each run costs the worker about a tenth of its CPU.
        for package in ("workflows", "models", "activities"):
            compileall.compile_dir(str(ROOT / package), quiet=2)
        self.supervisor.start("worker", [python, "-u", "worker.py"], signal.SIGINT)
        web = [python, "-u", "-m", "uvicorn", "--factory", self.web_app,
               "--host", "127.0.0.1", "--port", str(self.web_port)]  # fmt: skip
        self.supervisor.start("web", web, signal.SIGINT)

    def wait_for_web(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            self.check_children()
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.web_port}/", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # it answered, which is all we wait for
            except OSError:
                if time.monotonic() > deadline:
                    raise StartupError(
                        f"the web app did not answer on port {self.web_port} within "
                        f"{START_TIMEOUT:.0f} s; see {self.logs / 'web.log'}"
                    ) from None
                time.sleep(0.3)

    # -- processes -----------------------------------------------------------------------------

    @property
    def children(self) -> list[Child]:
        return self.supervisor.children

    def check_children(self) -> None:
        """While the stack starts: any process that exits stops it."""
        exited = self.supervisor.first_exit()
        if exited is not None:
            raise StartupError(exited)

    def watch(self) -> None:
        """Restart what crashes; return only by exception: Stop on a signal, KeepsCrashing."""
        while True:
            self.supervisor.check()
            time.sleep(0.5)

    # -- the whole -----------------------------------------------------------------------------

    def banner(self, logins: str) -> str:
        base = self.settings.base_url.rstrip("/")
        logs = ", ".join(f"{child.name}.log" for child in self.children)
        temporal = f"{self.settings.temporal_address}, namespace {self.settings.temporal_namespace}"
        if self.local_temporal:
            where = f"dev server, data in {relative(self.data_dir / 'temporal.db')}"
        else:
            where = "not started here: O2C_TEMPORAL_ADDRESS points elsewhere"
        return "\n".join(
            [
                "",
                "Order-to-cash is running.",
                f"  App          {base}",
                f"  API docs     {base}/docs",
                f"  Temporal UI  {self.settings.temporal_ui_url}",
                f"  Temporal     {temporal} ({where})",
                f"  Logs         {relative(self.logs)}/ ({logs})",
                *("  " + line for line in logins.splitlines()),
                "Ctrl-C stops everything; the data stays for the next `make run`.",
                "",
            ]
        )

    def run(self) -> int:
        for sig in STOP_SIGNALS:
            signal.signal(sig, stop_on_signal)
        try:
            logins = self.prepare_database()
            if self.local_temporal:
                self.start_temporal()
                self.wait_for_temporal()
                self.configure_temporal()
            else:
                say(f"Using the Temporal server at {self.settings.temporal_address} as it is.")
            self.start_app()
            self.wait_for_web()
            say(self.banner(logins))
            self.watch()
        except Stop as stop:
            names = ", ".join(child.name for child in reversed(self.children))
            say(f"{stop} received" + (f"; stopping {names}." if names else "."))
            return 0
        except (StartupError, KeepsCrashing) as error:
            say(f"Error: {error}")
            if self.children:
                say("Stopping the other processes.")
            return 1
        finally:
            for sig in STOP_SIGNALS:
                signal.signal(sig, signal.SIG_IGN)
            self.supervisor.stop()
        return 1  # not reached: watch() only leaves by exception

    def setup_only(self) -> int:
        """For a real cluster (docker-compose.yml): migrate, seed, register search attributes."""
        try:
            say(self.prepare_database())
            self.wait_for_temporal(timeout=120)
            self.configure_temporal()
        except StartupError as error:
            say(f"Error: {error}")
            return 1
        say(f"Temporal at {self.settings.temporal_address}: search attributes and retention set.")
        return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--setup-only", action="store_true",
        help="migrate, seed and configure the Temporal server at O2C_TEMPORAL_ADDRESS, then exit",
    )  # fmt: skip
    parser.add_argument(
        "--data-dir", type=Path, help="where temporal.db and logs/ go (default: .data)"
    )
    parser.add_argument("--web-app", default=WEB_APP, help=f"uvicorn factory (default: {WEB_APP})")
    parser.add_argument(
        "--first-restart-delay", type=float, default=RestartPolicy.first_delay,
        help="seconds before a crashed process is started again the first time (then doubling)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    stack = DevStack(
        get_settings(),
        data_dir=args.data_dir,
        web_app=args.web_app,
        restarts=RestartPolicy(first_delay=args.first_restart_delay),
    )
    return stack.setup_only() if args.setup_only else stack.run()


if __name__ == "__main__":
    sys.exit(main())
