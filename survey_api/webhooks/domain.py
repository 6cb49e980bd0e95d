"""Registering webhooks and queueing events for them (the outbox)."""

from __future__ import annotations

from typing import Callable, Iterable

from shared import ids
from shared.storage import Delivery, Response, Store, Webhook

from shared.errors import Invalid, NotFound
from .targets import url_problem

EVENTS = ("response.created",)


def register(store: Store, org_id: str, url: str, events: list[str], *,
             allow_private: bool = False) -> Webhook:
    problem = url_problem(url, allow_private)
    if problem:
        raise Invalid("Webhooks can only reach public addresses.",
                      [{"field": "url", "reason": problem}])
    return store.webhooks.add(Webhook(id=ids.new_id(), org_id=org_id, url=url,
                                      secret="whsec_" + ids.new_token(24),
                                      events=tuple(sorted(set(events)))))


def get_webhook(store: Store, org_id: str, webhook_id: str) -> Webhook:
    webhook = store.webhooks.get(org_id, webhook_id)
    if webhook is None:
        raise NotFound(f"No webhook {webhook_id}.")
    return webhook


def response_event(response: Response) -> dict:
    return {"survey_id": response.survey_id, "response_id": response.id,
            "submission_id": response.submission_id, "instrument": response.instrument,
            "source": response.source, "complete": response.complete,
            "attributes": response.attributes, "answers": response.answers,
            "created_at": response.created_at}


def deliveries_for(store: Store, org_id: str, event: str, items: Iterable[dict]
                   ) -> list[Delivery]:
    """One delivery per (subscribed active webhook, item). items may be a generator: it is
    not run at all when nobody subscribes (the usual case)."""
    hooks = [h for h in store.webhooks.list(org_id) if h.active and event in h.events]
    if not hooks:
        return []
    items = list(items)
    return [Delivery(id=ids.new_id(), org_id=org_id, webhook_id=h.id, event=event,
                     payload=item) for h in hooks for item in items]


def enqueue(store: Store, org_id: str, event: str, items: Iterable[dict]) -> int:
    """Queue deliveries on their own. Returns how many were queued."""
    deliveries = deliveries_for(store, org_id, event, items)
    if deliveries:
        store.deliveries.add_many(deliveries)
    return len(deliveries)


def outbox(store: Store, org_id: str, event: str, payload: Callable[[Response], dict]):
    """For ResponseRepository.add_many: the deliveries of the responses it wrote, queued in
    their transaction (a crash after the commit loses no event). Nothing written complete
    (repeats, drafts): no subscriber lookup at all."""
    def deliveries(written: list[Response]) -> list[Delivery]:
        if not written:
            return []
        return deliveries_for(store, org_id, event, (payload(r) for r in written))
    return deliveries
