"""Sending e-mail through SMTP_URL (smtp://user:password@host:port, or smtps://)."""

from __future__ import annotations

import smtplib
from contextlib import contextmanager
from urllib.parse import unquote, urlparse


@contextmanager
def smtp_connection(smtp_url: str, timeout: float = 15):
    """A logged-in SMTP connection: STARTTLS before logging in on smtp://, TLS from the start
    on smtps://."""
    url = urlparse(smtp_url)
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with smtp_class(url.hostname, url.port or (465 if url.scheme == "smtps" else 25),
                    timeout=timeout) as smtp:
        if url.username:
            if url.scheme == "smtp":
                smtp.starttls()
            smtp.login(unquote(url.username), unquote(url.password or ""))
        yield smtp
