"""E-mail: messages rendered per recipient's language, kept in the outbox, sent with aiosmtplib."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from functools import lru_cache
from pathlib import Path

import aiosmtplib
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from i18n import translations

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache
def _environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    return env


@dataclass(frozen=True)
class Message:
    to_address: str
    subject: str
    body: str


def render(template: str, *, locale: str, **values: object) -> tuple[str, str]:
    """(subject, body) of a mail template in the given locale: the subject is the first line."""
    text = _environment(locale).get_template(f"{template}.txt").render(**values)
    subject, _, body = text.partition("\n")
    return subject.strip(), body.lstrip("\n")


class Mailer:
    """Sends mail through an SMTP server; the outbox decides what and when."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.username, self.password, self.use_tls = username, password, use_tls

    async def send(self, message: Message) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to_address
        email["Subject"] = message.subject
        email.set_content(message.body)
        await aiosmtplib.send(
            email,
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.use_tls,
            timeout=30,
        )
