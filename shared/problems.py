"""Errors as RFC 9457 problem documents (`application/problem+json`).

Validation errors name every field and the reason: webargs/marshmallow's nested messages are
flattened into `errors: [{"field": "segments.size", "location": "json", "reason": "..."}]`.
"""

from __future__ import annotations

import marshmallow as ma
from flask import Response, g, json, request
from werkzeug.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"


class ProblemErrorSchema(ma.Schema):
    """Documents the error body in OpenAPI; errors are built by `problem_response`."""

    type = ma.fields.String(metadata={"description": "A URI naming the kind of problem"})
    title = ma.fields.String(metadata={"description": "Short summary of the kind of problem"})
    status = ma.fields.Integer(metadata={"description": "The HTTP status code"})
    detail = ma.fields.String(metadata={"description": "What went wrong with this request"})
    instance = ma.fields.String(metadata={"description": "The path that was requested"})
    request_id = ma.fields.String(metadata={"description": "Quote this when reporting a problem"})
    errors = ma.fields.List(
        ma.fields.Dict(),
        metadata={"description": "Field-level errors: field, location, reason"},
    )


def flatten_messages(messages, location: str | None = None, prefix: str = "") -> list[dict]:
    """{"json": {"a": {"0": ["bad"]}}} -> [{"field": "a.0", "location": "json", "reason": "bad"}]."""
    out: list[dict] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            key = str(key)
            if location is None and prefix == "" and key in ("json", "query", "path", "form",
                                                               "headers", "files", "body"):
                out += flatten_messages(value, key, "")
            elif key == "_schema":
                out += flatten_messages(value, location, prefix)
            else:
                out += flatten_messages(value, location, f"{prefix}.{key}" if prefix else key)
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            for m in messages:
                out.append({"field": prefix or None, "location": location, "reason": m})
        else:
            for m in messages:
                out += flatten_messages(m, location, prefix)
    else:
        out.append({"field": prefix or None, "location": location, "reason": str(messages)})
    return out


def problem_response(status: int, title: str, detail: str | None = None,
                     errors: list[dict] | None = None, type_: str = "about:blank",
                     headers: dict | None = None, **extra) -> Response:
    body = {"type": type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    try:
        body["instance"] = request.path
        body["request_id"] = g.get("request_id")
    except RuntimeError:  # outside a request
        pass
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _detail_for(errors: list[dict]) -> str:
    named = [e["field"] for e in errors if e.get("field")]
    if not named:
        return errors[0]["reason"] if errors else "The request is not valid."
    return "Invalid fields: " + ", ".join(dict.fromkeys(named))


def from_http_exception(error: HTTPException) -> Response:
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    errors = flatten_messages(messages) if messages else None
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        errors = messages  # already in our shape (raised by our own code)
    detail = data.get("message")
    if detail is None:
        detail = _detail_for(errors) if errors else error.description
    headers = dict(data.get("headers") or {})
    if error.code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    extra = {k: v for k, v in data.items()
             if k not in ("errors", "messages", "message", "headers", "schema", "type", "exc")
             and isinstance(v, (str, int, float, bool, list, dict, type(None)))}
    return problem_response(error.code or 500, error.name, detail, errors,
                            type_=data.get("type", "about:blank"), headers=headers, **extra)
