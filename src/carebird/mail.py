"""Sending e-mail through the desk's SMTP server (forwarding a case to an outside owner).

Plain `smtplib`, one connection per message: the desk sends a handful of e-mails a day. Header
values go through `email.message.EmailMessage`, which refuses line breaks, so a name or subject
can never inject headers.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from carebird.config import Settings
from carebird.errors import ConnectorError, InvalidInput

log = logging.getLogger(__name__)


class MailError(ConnectorError):
    """The SMTP server refused the message or could not be reached."""


def address(email: str, name: str = "") -> Address:
    """A checked address: refuses anything that is not one plain `local@domain`."""
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() or c in "<>,;" for c in email):
        raise InvalidInput(f"not an e-mail address: {email[:80]!r}")
    try:
        return Address(display_name=" ".join(name.split()), addr_spec=email)
    except (ValueError, IndexError) as exc:
        raise InvalidInput(f"not an e-mail address: {email[:80]!r}") from exc


@dataclass(frozen=True, slots=True)
class Mailer:
    host: str
    port: int
    sender: str
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout: float = 15.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.mail_from,
            user=settings.smtp_user,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )

    def compose(self, *, to: Address, subject: str, text: str) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(text)
        return msg

    def send(self, *, to: Address, subject: str, text: str) -> str:
        """Send one plain-text message; return its Message-ID. Raises MailError on failure."""
        msg = self.compose(to=to, subject=subject, text=text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            log.warning("e-mail to %s not sent: %s", to.addr_spec, exc)
            raise MailError(f"the e-mail could not be sent: {exc}") from exc
        return str(msg["Message-ID"])
