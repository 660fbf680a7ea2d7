"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives.

with SmtpCatcher() as smtp:
    settings = settings.model_copy(update={"smtp_port": smtp.port})
    ...                      # the desk sends through smtplib as in production
    mail = smtp.wait_for(1)[0]
    mail.link                # the first carebird /outside/ link in the body
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+/outside/[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]

    @property
    def link(self) -> str:
        found = LINK.search(self.body)
        assert found is not None, self.body
        return found.group()


class _Handler:
    def __init__(self, catcher: SmtpCatcher) -> None:
        self.catcher = catcher

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.catcher.arrived:
            self.catcher.messages.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message)
            )
            self.catcher.arrived.notify_all()
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpCatcher:
    """Starts on a free loopback port; `messages` fills as mail arrives."""

    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.arrived = threading.Condition()
        self.port = 0
        self._controller: Controller | None = None

    def __enter__(self) -> SmtpCatcher:
        for _ in range(5):  # another process may take the port between probe and bind
            self.port = free_port()
            controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)
            try:
                controller.start()
            except (OSError, RuntimeError):
                continue
            self._controller = controller
            return self
        raise RuntimeError("no free loopback port for the SMTP server")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._controller is not None:
            self._controller.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The first `count` messages, waiting for them to arrive (the browser tests' sends
        happen in the server's thread)."""
        with self.arrived:
            ok = self.arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        assert ok, f"{len(self.messages)} message(s) arrived, {count} expected"
        return self.messages[:count]
