"""The records the store keeps. Plain frozen dataclasses: no backend types leak out.

Timestamps are ISO-8601 UTC strings ("2026-11-22T18:20:00.123456Z"): they sort as text and mean
the same in SQLite and MongoDB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone


def to_timestamp(moment: datetime) -> str:
    """A datetime in the store's canonical text form (so it compares with stored ones)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    # isoformat (C) rather than strftime: the same text, a third of the time, on every write.
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")[:-6] + "Z"


def utc_now() -> str:
    return to_timestamp(datetime.now(timezone.utc))


@dataclass(frozen=True)
class Organization:
    id: str
    name: str
    created_at: str


@dataclass(frozen=True)
class ApiKey:
    id: str
    org_id: str
    name: str
    scopes: tuple[str, ...]
    key_hash: str
    prefix: str  # the first characters of the key, so a person can tell keys apart
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class Instrument:
    """A versioned questionnaire. org_id is None for the instruments that ship by default."""

    id: str
    version: int
    kind: str  # "customer" or "vendor"
    title: str
    definition: dict
    org_id: str | None = None
    created_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class Survey:
    id: str
    org_id: str
    name: str
    status: str  # draft, open, closed
    customer_instrument: dict  # {"id": ..., "version": ...}
    vendor_instrument: dict
    segments: dict = field(default_factory=dict)
    branding: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    # The current staff link: {"id": random, "expires_at": timestamp}; rotating it replaces
    # the id, so every link signed with the old one stops working.
    staff_link: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Invitation:
    id: str
    org_id: str
    survey_id: str
    token_hash: str
    attributes: dict
    expires_at: str
    status: str = "created"  # created, sent, started, completed, revoked
    email: str | None = None
    response_id: str | None = None
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    # What the console's mailing needs (None/0 for invitations made through the API).
    name: str | None = None
    language: str | None = None
    opened_at: str | None = None  # first time the link was opened
    mails: int = 0  # invitation and reminder mails queued so far
    last_mailed_at: str | None = None
    opted_out_at: str | None = None  # the respondent asked for no more mail about this survey


@dataclass(frozen=True)
class Response:
    id: str
    org_id: str
    survey_id: str
    instrument: str  # "customer" or "vendor": which of the survey's instruments it answers
    submission_id: str  # the client's idempotency key
    answers: dict
    attributes: dict  # segment attributes (tenure, size, custom)
    cell_key: str  # the finest segment cross this response belongs to
    content_hash: str  # hash of what makes two submissions "the same content"
    source: str = "api"  # web, api, import
    complete: bool = True
    invitation_id: str | None = None
    # Anonymous web responses: a keyed hash of the respondent's network and browser, to spot a
    # second response from the same person (see survey_api/forms/routes.py for its limits).
    fingerprint: str | None = None
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    # The language the respondent answered in (the web form's, or what an API client says);
    # answers are codes, so it changes no score.
    language: str | None = None


@dataclass(frozen=True)
class NewResponse:
    """A response to store together with the counters of its cell it adds one to.

    The caller (survey_api's ingestion) works them out from the instrument; the store only
    applies them in the same transaction as the insert, and only when the insert happens.
    Each name appears at most once: an answer adds one to a counter or leaves it alone.
    """

    response: Response
    counters: tuple[str, ...]


@dataclass(frozen=True)
class Brief:
    id: str
    org_id: str
    survey_id: str
    metadata: dict
    checksum: str
    size: int
    created_at: str = field(default_factory=utc_now)
    # Share links carry the generation they were made in; revoking the links raises it, so
    # every link made before stops working at once (without a list of the links given out).
    share_generation: int = 0


@dataclass(frozen=True)
class Webhook:
    """An organization's endpoint for event notifications. The secret signs each delivery, so
    it is kept in the clear (unlike API keys) and shown to the organization once."""

    id: str
    org_id: str
    url: str
    secret: str
    events: tuple[str, ...]
    active: bool = True
    last_status: int | None = None  # HTTP status of the latest attempt (None: no answer)
    last_error: str | None = None
    last_attempt_at: str | None = None
    created_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class Delivery:
    """One event to send to one webhook: an outbox row, retried with backoff until it lands."""

    id: str
    org_id: str
    webhook_id: str
    event: str
    payload: dict
    status: str = "pending"  # pending, delivered, failed
    attempts: int = 0
    next_attempt_at: str = field(default_factory=utc_now)
    last_status: int | None = None
    last_error: str | None = None
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
    # The claim that holds it (a random token) until next_attempt_at; None when not claimed.
    lease: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    """Who did what to which record: never the content (no answers, no secrets)."""

    id: str
    org_id: str
    action: str  # key.created, key.revoked, survey.opened, responses.exported, ...
    actor: str  # the API key id, or "cli"
    target: dict
    created_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class Page:
    """One page of a cursor-paginated listing; next_cursor is None on the last page."""

    items: list
    next_cursor: str | None


@dataclass(frozen=True)
class ConsoleUser:
    """A person of an organization who signs in to the console with e-mail and password.
    The role maps onto the API scopes (shared.auth.ROLE_SCOPES)."""

    id: str
    org_id: str
    email: str  # lower-cased; unique over all organizations (sign-in names no organization)
    name: str
    role: str  # admin, analyst, viewer
    password_hash: str  # werkzeug.security (scrypt), never the password
    failed_logins: tuple[str, ...] = ()  # times of recent failed sign-ins (lock-out)
    locked_until: str | None = None
    active: bool = True
    last_login_at: str | None = None
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class OutboxMail:
    """One e-mail waiting to be sent (invitation, reminder, password reset, brief): kept in the
    store so that it survives a restart, retried with backoff until the server takes it."""

    id: str
    org_id: str
    to: str
    subject: str
    body: str
    kind: str  # invitation, reminder, password_reset; reminder_run: a scheduled job, no mail
    headers: dict = field(default_factory=dict)
    survey_id: str | None = None
    invitation_id: str | None = None
    status: str = "pending"  # pending, sent, failed, cancelled
    attempts: int = 0
    next_attempt_at: str = field(default_factory=utc_now)
    last_error: str | None = None
    sent_at: str | None = None
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)
