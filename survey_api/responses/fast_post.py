"""The single-response POST that succeeds, answered without Flask's per-request machinery.

`POST /v1/surveys/<id>/responses` is what integrations send most, one response at a time. Its
own work (key lookup, survey, checks, validation, the durable write) was under half of its CPU
under gunicorn: the rest was Flask's request context, URL matching, the before/after hooks,
flask-smorest and webargs around the view, and the response object (bench/bench_http.py).

This WSGI layer in front of the app answers only a post that succeeds (201 stored, or 200 for a
repeat or an updated draft), calling the same functions as the Flask route and its hooks, in
the same order: the key as `shared.auth` reads it, the boundary text check and the envelope
schema of `shared.web`, the survey's validator and the write of `responses.domain`, the
service-wide rate limit, the request id, the rate-limit headers and the access line. Anything
else goes on to Flask untouched (the body it read is put back): every error answer (401, 403,
404, 409, 413, 422, 429, 503) comes from the Flask route and its error handlers alone, so each
rule and each problem's wording lives in one place. A request it has counted against the rate
limit carries the count on (shared.ratelimit.COUNTED), so every request is counted once.
"""

from __future__ import annotations

import io
import re
import time

from webargs.core import is_json
from werkzeug.datastructures import EnvironHeaders
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wsgi import get_content_length

from shared.auth import find_key, key_in
from shared.extensions import store_of
from shared.keys import grants
from shared.ratelimit import COUNTED, key_subject, limit_headers, rate_limits_of
from shared.storage import CONFLICT
from shared.web import (
    STARTED_AT, access_logger, json_bytes, log_access, parse_json_body, record_payload,
    request_id_for,
)

from .. import BACKGROUND_STARTERS
from ..surveys.domain import get_survey
from . import domain
from .routes import Responses, blp, load_envelope
from .schemas import ResponseSchema

_PATH = re.compile(r"^/v1/surveys/([^/]+)/responses$")
_ENDPOINT = f"{blp.name}.{Responses.__name__}"
_STATUS_LINE = {code: f"{code} {HTTP_STATUS_CODES[code].upper()}" for code in (200, 201)}


class SinglePostFastPath:
    """WSGI middleware: serve_post() or the wrapped app (Flask's wsgi_app)."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self.access = access_logger(app)
        self.limits = rate_limits_of(app)
        self.max_body = app.config["MAX_CONTENT_LENGTH"]

    def __call__(self, environ, start_response):
        match = _PATH.match(environ.get("PATH_INFO", ""))
        if match is None or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        environ[STARTED_AT] = time.perf_counter()
        try:
            answer = self.serve_post(environ, match.group(1))
        except Exception:  # noqa: BLE001  Flask answers it as it always has (a 503, a 500)
            answer = None
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    def serve_post(self, environ, survey_id: str):
        """(status, headers, body) of a post that succeeds, or None to let Flask answer."""
        for start in self.app.extensions.get(BACKGROUND_STARTERS, ()):
            start()  # the worker's background threads, as Flask's first request starts them
        headers = EnvironHeaders(environ)
        length = get_content_length(environ)  # None for a chunked body
        if (environ.get("QUERY_STRING") or "X-Service-Token" in headers or length is None
                or not 0 < length <= self.max_body or not is_json(environ.get("CONTENT_TYPE"))):
            return None
        plaintext = key_in(headers)
        if plaintext is None:
            return None
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # Flask reads it again if it answers
        store = store_of(self.app)
        key = find_key(store, plaintext)
        if key is None or not key.active or not grants(key, "ingest") or \
                self.limits.has_own_limit(_ENDPOINT):
            return None
        body, problems = parse_json_body(raw)
        if problems:
            return None
        item = load_envelope(body)  # raises ValidationError: Flask answers the 422
        survey = get_survey(store, key.org_id, survey_id)  # raises NotFound: Flask answers the 404
        context = domain.context_for(store, survey)
        new = domain.prepare(context, item, "api")  # raises Invalid: Flask answers the 422
        limit, count = self.limits.count_default(key_subject(key))
        environ[COUNTED] = count
        if count > limit.amount:
            return None
        response, outcome = domain.ingest_prepared(context, [new])[0]
        if outcome == CONFLICT:
            return None
        status = domain.OUTCOME_STATUS[outcome]
        payload = json_bytes(record_payload(ResponseSchema, response))
        log_access(self.access, "POST", environ["PATH_INFO"], status, environ[STARTED_AT])
        return _STATUS_LINE[status], [
            ("Content-Type", "application/json"), ("Content-Length", str(len(payload))),
            ("X-Request-ID", request_id_for(headers.get("X-Request-ID", ""))),
            *limit_headers(limit, count)], payload

