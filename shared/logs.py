"""JSON logs, one object a line, each carrying the id of the request it belongs to."""

from __future__ import annotations

import json
import logging
import sys

# Attributes every LogRecord has; anything else passed in `extra=` is logged as a field.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class RequestIdFilter(logging.Filter):
    """Adds request_id (or None outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            try:
                from flask import g, has_request_context

                record.request_id = g.get("request_id") if has_request_context() else None
            except Exception:  # logging must never fail
                record.request_id = None
        return True


JsonFormatter.converter = __import__("time").gmtime


def configure_logging(level: str = "INFO") -> None:
    """Route the root logger to stderr as JSON. Idempotent: safe in every app factory call."""
    root = logging.getLogger()
    for handler in root.handlers:
        if getattr(handler, "_json_logs", False):
            root.setLevel(level)
            return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler._json_logs = True  # type: ignore[attr-defined]
    root.handlers = [handler]
    root.setLevel(level)
    # Werkzeug's own request lines would duplicate our access log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
