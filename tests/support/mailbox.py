"""A real local SMTP server (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

from contextlib import contextmanager
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller

from tests.support.helpers import free_port


class Inbox:
    def __init__(self):
        self.messages = []  # (recipients, email.message.EmailMessage)
        self.url = ""

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos,
                              message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for rcpt, m in self.messages if address in rcpt]


@contextmanager
def smtp_server(handler):
    """An aiosmtpd server with this handler on a free port: yields its smtp:// URL."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{controller.port}"
    finally:
        controller.stop()


@contextmanager
def running_inbox():
    inbox = Inbox()
    with smtp_server(inbox) as inbox.url:
        yield inbox
