"""The background step that folds responses stored as pending into the per-cell counters
(MongoDB; see mongo/responses.py for why counting is not in the response's transaction)."""

from __future__ import annotations

import logging
import threading
from typing import Callable

from .interface import Store

log = logging.getLogger(__name__)


def start_folder(get_store: Callable[[], Store], every_seconds: float,
                 stop: threading.Event) -> threading.Thread:
    """A daemon thread folding every survey's pending responses until stop is set. Any number
    of workers may run one: a fold is idempotent and claims its responses first."""

    def loop():
        while not stop.is_set():
            try:
                get_store().aggregates.fold_pending()
            except Exception:  # keep the loop alive; reports count pending responses meanwhile
                log.exception("folding pending responses into counters failed; retrying")
            stop.wait(every_seconds)

    thread = threading.Thread(target=loop, name="counter-folder", daemon=True)
    thread.start()
    return thread
