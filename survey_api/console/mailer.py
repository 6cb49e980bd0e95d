"""The outbox's sender: mails queued in the store go out through SMTP_URL, retried with
backoff; a background thread per worker (like the webhook dispatcher) and the `send-mail`
command both call send_due."""

from __future__ import annotations

import logging
import smtplib
import threading
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Callable

from shared.mail import smtp_connection
from shared.storage import OutboxMail, Store, to_timestamp

log = logging.getLogger(__name__)

BACKOFF = (60, 300, 1800, 7200, 6 * 3600)  # seconds after the 1st, 2nd, ... failure
LEASE = timedelta(minutes=5)
# An outbox row that is a scheduled task rather than a mail: the automatic reminder run of a
# survey. Kept in the outbox so that the schedule survives restarts and runs in one worker.
JOB = "reminder_run"


def message_of(mail: OutboxMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    name = mail.headers.get("X-Sender-Name")
    message["From"] = formataddr((name, sender)) if name else sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(idstring=mail.id)
    for header, value in mail.headers.items():
        if header != "X-Sender-Name" and value:
            message[header] = value
    message.set_content(mail.body)
    return message


def send_due(store: Store, smtp_url: str, sender: str, now: datetime | None = None,
             run_job: Callable[[Store, OutboxMail, datetime], None] | None = None) -> int:
    """Send every mail that is due, and run the scheduled jobs that are (rows of kind JOB,
    given to run_job); returns how many rows were attempted."""
    if not smtp_url:
        return 0
    now = now or datetime.now(timezone.utc)
    due = store.outbox.claim_due(to_timestamp(now), to_timestamp(now + LEASE))
    if not due:
        return 0
    for job in [m for m in due if m.kind == JOB]:
        try:
            if run_job is not None:
                run_job(store, job, now)
        except Exception as exc:  # retried with the same backoff as a mail
            _failed(store, job, exc, now)
        else:
            store.outbox.update(job.id, {"status": "sent", "attempts": job.attempts + 1,
                                         "sent_at": to_timestamp(now)})
    waiting = [m for m in due if m.kind != JOB]
    if not waiting:
        return len(due)
    try:
        with smtp_connection(smtp_url) as smtp:
            while waiting:
                mail = waiting[0]
                try:
                    smtp.send_message(message_of(mail, sender))
                except smtplib.SMTPRecipientsRefused as exc:  # this address only
                    _failed(store, mail, exc, now)
                else:
                    _sent(store, mail, now)
                waiting.pop(0)
    except Exception as exc:  # the server is unreachable or broke off: retry the rest later
        for mail in waiting:
            _failed(store, mail, exc, now)
    return len(due)


def _sent(store: Store, mail: OutboxMail, now: datetime) -> None:
    store.outbox.update(mail.id, {"status": "sent", "attempts": mail.attempts + 1,
                                  "sent_at": to_timestamp(now), "last_error": None})
    if mail.invitation_id:
        invitation = store.invitations.get(mail.org_id, mail.invitation_id)
        if invitation is not None and invitation.status == "created":
            store.invitations.update(mail.org_id, invitation.id, {"status": "sent"})


def _failed(store: Store, mail: OutboxMail, error: Exception, now: datetime) -> None:
    attempts = mail.attempts + 1
    changes: dict = {"attempts": attempts, "last_error": f"{type(error).__name__}: {error}"[:500]}
    if attempts > len(BACKOFF):
        changes["status"] = "failed"
    else:
        changes["next_attempt_at"] = to_timestamp(now + timedelta(seconds=BACKOFF[attempts - 1]))
    store.outbox.update(mail.id, changes)
    log.warning("mail not sent", extra={"mail": mail.id, "attempt": attempts,
                                        "error": changes["last_error"]})


def start_sender(get_store: Callable[[], Store], smtp_url: str, sender: str,
                 every_seconds: float, stop: threading.Event,
                 run_job: Callable | None = None) -> threading.Thread:
    """A daemon thread in this worker that sends due mails until stop is set. Several workers
    may run one each: claim_due hands every mail to one of them."""

    def loop():
        while not stop.is_set():
            try:
                while send_due(get_store(), smtp_url, sender, run_job=run_job):
                    pass
            except Exception:
                log.exception("mail sender failed; retrying")
            stop.wait(every_seconds)

    thread = threading.Thread(target=loop, name="mail-sender", daemon=True)
    thread.start()
    return thread
