"""Every setting of the application, read once from O2C_* environment variables."""

from __future__ import annotations

import shutil
import sys
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="O2C_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite+aiosqlite:///{ROOT / '.data' / 'o2c.db'}"
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://localhost:8233"
    task_queue: str = "orders"
    base_url: str = "http://localhost:8000"
    secret_key: str = ""
    token_lifetime_minutes: int = 12 * 60
    decision_link_days: int = 7  # how long the approve/reject link in an e-mail works
    # Sign-in throttling (the `limits` library; its notation): failed sign-ins counted per
    # username and per client address; past either, even the right password waits (HTTP 429).
    # The store is in memory per process; several web processes share one such as
    # "redis://host:6379" (which needs the `redis` or `coredis` package).
    rate_limit_storage: str = "memory://"
    sign_in_failures_per_user: str = "5 per 15 minutes"
    sign_in_failures_per_address: str = "50 per 15 minutes"
    # Behind a reverse proxy: the addresses (or "*") whose X-Forwarded-Proto and -For are
    # believed, comma-separated. Empty: no proxy is trusted.
    trusted_proxies: str = ""
    # Mark the session cookie Secure on every response, not only on requests that came by HTTPS.
    secure_cookies: bool = False
    # Fulfilment policy: dispatch waits until the installments due on confirmation are paid
    # (also in the collection policy, which admins change).
    hold_dispatch_for_deposit: bool = False
    # Workflows the worker keeps in memory between their tasks. Every running order has up to
    # three (order, shipment, collection); one that is not cached replays its history first.
    worker_cached_workflows: int = 3000
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_use_tls: bool = False
    mail_from: str = "o2c@example.com"
    demo_password: str | None = None
    default_locale: str = "en"
    currency: str = "CNY"
    # The company's time zone (an IANA name) until an administrator saves one (Admin ->
    # Company settings): times are shown in it, and its calendar says which day it is.
    time_zone: str = "Asia/Shanghai"
    # An order's lines travel whole in its workflow's payloads, which Temporal caps at 2 MB.
    max_order_lines: int = 500
    # Any request body, refused with 413 before it is read (500 long lines are about 60 KB).
    max_request_bytes: int = 1024 * 1024

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)  # an unknown name fails at start, not on the first page
        except (ValueError, KeyError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value

    @property
    def data_dir(self) -> Path:
        return ROOT / ".data"

    def resolved_secret_key(self) -> str:
        """The configured key, else one generated once and kept in .data (never committed)."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            import secrets

            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()


def venv_binary(name: str) -> str | None:
    """A command installed beside this Python (temporal, temporal-test-server), else on PATH."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
