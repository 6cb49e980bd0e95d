"""The storage interface: one narrow repository per domain, one implementation per backend.

Services talk to a `Store`, never to sqlite3 or pymongo. Every read that a tenant can reach takes
the organization id, so "another tenant's id" and "no such id" look the same (None) to callers.
The contract tests in tests/shared/test_storage_contract.py run the same assertions on every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Iterable, Iterator

from .models import (
    ApiKey,
    AuditEvent,
    ConsoleUser,
    OutboxMail,
    Brief,
    Delivery,
    Instrument,
    Invitation,
    NewResponse,
    Organization,
    Page,
    Response,
    Survey,
    Webhook,
)


class StorageError(RuntimeError):
    pass


# Called inside the response's transaction with the responses written complete; returns the
# webhook deliveries to queue with them.
Outbox = Callable[[list[Response]], list[Delivery]]


class AlreadyExists(StorageError):
    """An add() met an existing record with the same key."""

class OrganizationRepository(ABC):
    @abstractmethod
    def add(self, org: Organization) -> Organization: ...

    @abstractmethod
    def get(self, org_id: str) -> Organization | None: ...

    @abstractmethod
    def find_by_name(self, name: str) -> Organization | None: ...


class ApiKeyRepository(ABC):
    @abstractmethod
    def add(self, key: ApiKey) -> ApiKey: ...

    @abstractmethod
    def find_by_hash(self, key_hash: str) -> ApiKey | None:
        """The key with this hash, revoked or not (the caller decides what revoked means)."""

    @abstractmethod
    def list(self, org_id: str) -> list[ApiKey]: ...

    @abstractmethod
    def revoke(self, org_id: str, key_id: str, when: str) -> ApiKey | None:
        """Mark revoked (idempotent: a second call keeps the first time). None if not found."""


class InstrumentRepository(ABC):
    """Instruments are immutable: a change is a new version, so there is no update."""

    @abstractmethod
    def add(self, instrument: Instrument) -> Instrument:
        """Raises AlreadyExists if this (org, id, version) is stored."""

    @abstractmethod
    def get(self, org_id: str | None, instrument_id: str, version: int | None = None) -> Instrument | None:
        """The organization's own instrument or a built-in one; the latest version if none given."""

    @abstractmethod
    def list(self, org_id: str | None) -> list[Instrument]:
        """Built-in instruments and the organization's own, every version."""

    @abstractmethod
    def replace_builtin_definition(self, instrument_id: str, version: int,
                                   definition: dict) -> bool:
        """The one exception to immutability: a stored built-in version (never an
        organization's own) gets the shipped definition that adds its translations. The caller
        (shared.instruments.install_builtin) checks that nothing else differs, so no score
        changes. False if no such built-in version is stored."""


class SurveyRepository(ABC):
    @abstractmethod
    def add(self, survey: Survey) -> Survey: ...

    @abstractmethod
    def get(self, org_id: str, survey_id: str) -> Survey | None: ...

    @abstractmethod
    def get_any(self, survey_id: str) -> Survey | None:
        """By id alone, for the web forms, whose links carry no API key."""

    @abstractmethod
    def list(self, org_id: str, after: str | None = None, limit: int = 50) -> Page: ...

    @abstractmethod
    def update(self, org_id: str, survey_id: str, changes: dict) -> Survey | None: ...


class InvitationRepository(ABC):
    @abstractmethod
    def add_many(self, invitations: list[Invitation]) -> None:
        """All or nothing."""

    @abstractmethod
    def get(self, org_id: str, invitation_id: str) -> Invitation | None: ...

    @abstractmethod
    def find_by_token_hash(self, token_hash: str) -> Invitation | None: ...

    @abstractmethod
    def list(
        self, org_id: str, survey_id: str, after: str | None = None, limit: int = 50,
        status: str | None = None,
    ) -> Page: ...

    @abstractmethod
    def update(self, org_id: str, invitation_id: str, changes: dict) -> Invitation | None:
        """Merge changes; the tally follows a change of status or attributes in the same
        transaction."""

    @abstractmethod
    def tally(self, survey_id: str) -> list[tuple[dict, str, int]]:
        """(attributes, status, how many) per distinct pair among the survey's invitations,
        kept by every write above: a report reads one row per segment and status, never every
        invitation."""

    @abstractmethod
    def replace_tally(self, survey_id: str, tally: list[tuple[dict, str, int]]) -> None:
        """Swap the survey's tally for this one (after a rebuild), atomically."""


class ResponseRepository(ABC):
    @abstractmethod
    def add(self, new: NewResponse, outbox: "Outbox | None" = None) -> tuple[Response, str]:
        """Store one response and count it (see add_many for outbox).

        Returns (stored response, CREATED | UPDATED | DUPLICATE | CONFLICT), as `batch.outcome_of_adding` says.
        On DUPLICATE and CONFLICT the returned response is the one already stored and nothing is
        written; on UPDATED a stored partial response was replaced, keeping its id. Counters
        are applied for responses written complete (and a partial one is never counted).
        SQLite counts in the response's transaction; MongoDB marks the response pending and
        folds it into the counters later (AggregateRepository.fold_pending), and for_survey
        counts pending ones meanwhile.
        """

    @abstractmethod
    def add_many(self, batch: list[NewResponse], outbox: "Outbox | None" = None
                 ) -> list[tuple[Response, str]]:
        """Like add() for each item, in one transaction; counters summed in memory first.

        A submission id repeated inside the batch behaves as if the items came one by one.
        outbox(responses written complete) -> deliveries to queue in the same transaction, so
        that an acknowledged response never loses its webhook events to a crash.
        """

    @abstractmethod
    def get(self, org_id: str, response_id: str, survey_id: str | None = None
            ) -> Response | None:
        """survey_id, when the caller knows it, lets a sharded store ask one shard."""

    @abstractmethod
    def find_by_submission(self, survey_id: str, submission_id: str) -> Response | None: ...

    @abstractmethod
    def list(
        self, org_id: str, survey_id: str, *, after: str | None = None, limit: int = 100,
        filters: dict | None = None,
    ) -> Page:
        """filters: source, complete, instrument, created_from, created_to (timestamps in the
        canonical utc_now() form, so they compare as text;
        inclusive from, exclusive to), fingerprint and attributes ({name: value})."""

    @abstractmethod
    def iter_survey(self, survey_id: str, *, instrument: str | None = None,
                    batch_size: int = 1000) -> Iterator[Response]:
        """Every response of a survey in id order, fetched in batches: memory stays flat."""

    @abstractmethod
    def first_answers(self, survey_id: str, instrument: str, questions: list[str], limit: int
                      ) -> list[tuple[str, bool, dict, int, int]]:
        """The survey's first `limit` responses of `instrument` in iter_survey's order, grouped
        by equal (cell_key, complete, {question: answer} for those of `questions` answered):
        each group with how many responses it holds and the position (from 0) of its first,
        ordered by that position. What the report's quotes read, without building every
        response."""

    @abstractmethod
    def count(self, survey_id: str) -> int: ...

    @abstractmethod
    def erase(self, survey_id: str, submission_id: str,
              counters_of: Callable[[Response], Iterable[str]]) -> Response | None:
        """Delete a response and, if it was counted, take its counters back out, in one
        transaction. counters_of names the counters the stored response added one to."""


class AggregateRepository(ABC):
    """Per (survey, cell) counters: the sufficient statistics a score report is computed from."""

    @abstractmethod
    def for_survey(self, survey_id: str) -> dict[str, dict[str, int]]:
        """{cell_key: {counter: count}} for every cell with data."""

    @abstractmethod
    def replace_survey(self, survey_id: str, cells: dict[str, dict[str, int]]) -> None:
        """Swap all of a survey's counters for these (after a rebuild), atomically."""

    def fold_pending(self, survey_id: str | None = None) -> int:
        """Fold responses stored as pending into the counters; how many were folded. Only
        MongoDB defers counting; elsewhere there is never anything pending."""
        return 0


class BriefRepository(ABC):
    @abstractmethod
    def add(self, brief: Brief, pdf: bytes) -> Brief: ...

    @abstractmethod
    def get(self, org_id: str, brief_id: str) -> Brief | None: ...

    @abstractmethod
    def get_pdf(self, org_id: str, brief_id: str) -> bytes | None: ...

    @abstractmethod
    def list(self, org_id: str, survey_id: str) -> list[Brief]: ...

    @abstractmethod
    def revoke_links(self, org_id: str, brief_id: str) -> Brief | None:
        """Raise the brief's share_generation by one, atomically (every link made so far stops
        working); the updated brief, or None if there is no such brief."""

    @abstractmethod
    def delete(self, org_id: str, brief_id: str) -> bool:
        """Remove the brief and its PDF; False if there was no such brief."""


class WebhookRepository(ABC):
    @abstractmethod
    def add(self, webhook: Webhook) -> Webhook: ...

    @abstractmethod
    def get(self, org_id: str, webhook_id: str) -> Webhook | None: ...

    @abstractmethod
    def list(self, org_id: str) -> list[Webhook]: ...

    @abstractmethod
    def update(self, org_id: str, webhook_id: str, changes: dict) -> Webhook | None: ...

    @abstractmethod
    def delete(self, org_id: str, webhook_id: str) -> bool: ...


class DeliveryRepository(ABC):
    @abstractmethod
    def add_many(self, deliveries: list[Delivery]) -> None: ...

    @abstractmethod
    def claim_due(self, now: str, lease_until: str, limit: int = 50, *,
                  per_webhook: int | None = None, skip_webhooks: Iterable[str] = ()
                  ) -> list[Delivery]:
        """Pending deliveries due by now, oldest first, at most per_webhook of each webhook
        and none of skip_webhooks; each is leased (a fresh `lease` token, next_attempt_at
        pushed to lease_until) in the same atomic step, so that another poller does not take
        it too. A stored delivery that cannot be read is marked failed instead."""

    @abstractmethod
    def begin_attempt(self, delivery_id: str, lease: str, held_until: str) -> Delivery | None:
        """Count one more attempt, if the lease is still this one and lasts until held_until
        (so the send can finish inside it); None otherwise, and the caller must not send."""

    @abstractmethod
    def update(self, delivery_id: str, changes: dict, lease: str | None = None
               ) -> Delivery | None:
        """Apply changes; with lease, only while the delivery still holds that lease (and the
        lease ends). None if nothing matched."""

    @abstractmethod
    def list(self, org_id: str, webhook_id: str, limit: int = 50) -> list[Delivery]:
        """Newest first."""

    @abstractmethod
    def prune_finished(self, before: str, limit: int = 1000) -> int:
        """Delete at most limit delivered or failed deliveries whose last claim ended before
        `before` (next_attempt_at: a finished delivery keeps its last lease's end); pending
        ones never. Returns how many were deleted."""


class AuditRepository(ABC):
    @abstractmethod
    def add(self, event: AuditEvent) -> AuditEvent: ...

    @abstractmethod
    def list(self, org_id: str, limit: int = 100) -> list[AuditEvent]:
        """Newest first."""


class ConsoleUserRepository(ABC):
    @abstractmethod
    def add(self, user: ConsoleUser) -> ConsoleUser:
        """Raises AlreadyExists if a user has this e-mail address (in any organization)."""

    @abstractmethod
    def get(self, user_id: str) -> ConsoleUser | None:
        """By id alone: the session names only the user."""

    @abstractmethod
    def find_by_email(self, email: str) -> ConsoleUser | None: ...

    @abstractmethod
    def list(self, org_id: str) -> list[ConsoleUser]: ...

    @abstractmethod
    def update(self, user_id: str, changes: dict) -> ConsoleUser | None: ...


class OutboxRepository(ABC):
    """E-mails to send: claimed by one sender at a time, retried until sent or failed."""

    @abstractmethod
    def add_many(self, mails: list[OutboxMail]) -> None: ...

    @abstractmethod
    def claim_due(self, now: str, lease_until: str, limit: int = 50) -> list[OutboxMail]:
        """Pending mails due by now, each pushed to lease_until in the same atomic step."""

    @abstractmethod
    def update(self, mail_id: str, changes: dict) -> OutboxMail | None: ...

    @abstractmethod
    def list(self, org_id: str, survey_id: str | None = None, limit: int = 100
             ) -> list[OutboxMail]:
        """Newest first."""


class Store(ABC):
    """One backend: its repositories plus what the services need to run it."""

    organizations: OrganizationRepository
    api_keys: ApiKeyRepository
    instruments: InstrumentRepository
    surveys: SurveyRepository
    invitations: InvitationRepository
    responses: ResponseRepository
    aggregates: AggregateRepository
    briefs: BriefRepository
    webhooks: WebhookRepository
    deliveries: DeliveryRepository
    audit: AuditRepository
    console_users: ConsoleUserRepository
    outbox: OutboxRepository

    @abstractmethod
    def ping(self) -> None:
        """Raise if the store cannot be reached (used by /readyz)."""

    @abstractmethod
    def close(self) -> None: ...

    def check(self) -> None:
        """Raise if a service should not start on this store (not initialised, or missing
        what the environment requires). Reads only."""

    def initialize(self) -> list[str]:
        """Create what the store needs (`init-db`); idempotent. Returns what it did."""
        return []
