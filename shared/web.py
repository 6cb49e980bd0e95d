"""The scaffold every service is built on: one app factory shape for all three.

`create_service_app` gives a Flask app with settings, JSON logs with a request id, problem+json
errors, a body-size limit, OpenAPI (flask-smorest) with a self-hosted docs page, and the
/healthz and /readyz probes. A service adds its own blueprints to the returned `Api`.
"""

from __future__ import annotations

import http
import json
import logging
import re
import time

import orjson

from flask import Flask, Response, current_app, g, render_template_string, request, \
    send_from_directory
from flask.sessions import SecureCookieSessionInterface
from flask.views import MethodView
import flask_smorest
from flask_smorest import Api
from flask_smorest import abort
from flask_smorest.utils import prepare_response, resolve_schema_instance
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.middleware.proxy_fix import ProxyFix

from . import ids
from .auth import SECURITY_SCHEME
from .errors import DomainError
from .logs import configure_logging
from .ratelimit import EXEMPT_PREFIXES, RateLimits
from .problems import PROBLEM_JSON, ProblemErrorSchema, from_http_exception, problem_response
from .settings import Settings, finalize, load_settings
from .extensions import get_store, init_store  # noqa: F401
from .storage import is_unavailable
from .text import MAX_JSON_DEPTH, data_problems, text_problem

log = logging.getLogger("shared.web")

# What a client is told to wait after a store timeout: about one replica-set election.
STORE_RETRY_AFTER_SECONDS = 5
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Paths whose last part is a secret (respondent links, shared briefs): never logged as they are.
_SECRET_PATH = re.compile(r"^/(s|staff|shared)/[^/]+")


# The JSON API, the probes, the docs and static files: nothing there keeps a session.
_SESSIONLESS = ("/v1/", *EXEMPT_PREFIXES)


def loggable_path(path: str) -> str:
    return _SECRET_PATH.sub(lambda m: f"/{m.group(1)}/[token]", path)


class ServiceFlask(Flask):
    """Flask, asking once per function whether a view or hook is a coroutine function.

    Flask asks on every request for each hook and the view (inspect.iscoroutinefunction, about
    a dozen times per request here); the answer never changes for a function, and asking was a
    tenth of a trivial request's time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._made_sync: dict = {}

    def ensure_sync(self, func):
        try:
            return self._made_sync[func]
        except KeyError:
            made = self._made_sync[func] = super().ensure_sync(func)
            return made
        except TypeError:  # an unhashable callable: ask every time, as Flask does
            return super().ensure_sync(func)


class PageSessions(SecureCookieSessionInterface):
    """Cookie sessions are for the respondents' web pages (their CSRF tokens and progress).
    The JSON API authenticates every request with a key and never keeps a session; opening one
    anyway built a cookie signer on every API call."""

    def open_session(self, app, request):
        if request.path.startswith(_SESSIONLESS):
            return self.null_session_class()
        return super().open_session(app, request)


class BoundaryParser(FlaskParser):
    """webargs' parser, reading the JSON body the boundary check already parsed and checked
    (see _install_input_checks) instead of parsing it a second time."""

    def _raw_load_json(self, req):
        if hasattr(req, "checked_json"):
            return req.checked_json
        return super()._raw_load_json(req)


def items_checked_one_by_one(*lists: str):
    """For a view whose body holds lists of independent items (a batch): text problems inside
    an item do not refuse the request; the view reads them with item_problems() and rejects
    just those items."""

    def mark(func):
        func.items_checked_one_by_one = lists
        return func

    return mark


def item_problems(list_name: str) -> dict[int, list[dict]]:
    """{position: [{"field", "reason"}]} found by the boundary check in list_name's items."""
    return getattr(request, "item_problems", {}).get(list_name, {})


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint; every service's routes use this one.

    Given a schema class, @arguments would make webargs build a new schema instance on every
    request (marshmallow deep-copies each field), about a tenth of a single response POST's
    time. So the instance is made once here; marshmallow schemas keep no state while loading.
    """

    ARGUMENTS_PARSER = BoundaryParser()

    def arguments(self, schema, *args, **kwargs):
        return super().arguments(resolve_schema_instance(schema), *args, **kwargs)


class ServiceApi(Api):
    """flask-smorest's Api with errors as problem+json, documented as such."""

    ERROR_SCHEMA = ProblemErrorSchema

    def handle_http_exception(self, error):
        return from_http_exception(error)

    def _register_responses(self):
        """As flask-smorest's, but error responses are documented as problem+json, the
        content type they really have."""
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            kind = PROBLEM_JSON if status >= 400 else self.DEFAULT_RESPONSE_CONTENT_TYPE
            prepare_response(response, self.spec, kind)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def json_bytes(payload) -> bytes:
    """JSON as every answer writes it: keys sorted and a final newline, as Flask's own answers
    (shell scripts read one answer per line)."""
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS) + b"\n"


def json_response(payload, status: int = 200) -> Response:
    """A JSON answer written by orjson, for a large payload that a view has built in its
    documented schema's shape already (the @blp.response schema still documents it): the
    marshmallow dump and the json module are skipped."""
    return Response(json_bytes(payload), status=status, mimetype="application/json")


def record_response(schema: type, record, status: int = 200) -> Response:
    """json_response of a record (a dataclass whose values are JSON already) in schema's
    shape: the schema's declared fields read off the record, as its dump would (for schemas
    of plain fields: no data_key, attribute or method fields), without marshmallow."""
    return json_response(record_payload(schema, record), status)


def record_payload(schema: type, record) -> dict:
    return {name: getattr(record, name) for name in schema._declared_fields}


def create_service_app(import_name: str, service: str, title: str,
                       settings: Settings | None = None, description: str = "",
                       store_setup=()) -> tuple[Flask, Api]:
    """store_setup: functions run once on the store when a process first opens it (idempotent
    data the service needs, such as the built-in instruments). The app's RateLimits (see
    shared.ratelimit.rate_limits_of) adds tighter limits to routes that need them."""
    settings = finalize(settings) if settings else load_settings()
    configure_logging(settings.log_level)
    app = ServiceFlask(import_name)
    app.session_interface = PageSessions()
    app.config.update(
        SETTINGS=settings,
        SERVICE_NAME=service,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        TESTING=settings.app_env == "test",
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # The docs page loads Swagger UI from this service, never from a CDN.
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        API_SPEC_OPTIONS={"info": {"description": description}},
    )
    if settings.trusted_proxy_hops:
        # The client address (rate limits, the anonymous link's fingerprint) is the one the
        # trusted proxies name; X-Forwarded-For from anyone else is ignored.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxy_hops,
                                x_proto=settings.trusted_proxy_hops)
    init_store(app, store_setup)
    api = ServiceApi(app)
    api.spec.components.security_scheme("ApiKey", SECURITY_SCHEME)
    _install_request_hooks(app)
    # After the request hooks, so that a 429 carries its request id and is logged.
    RateLimits(app, settings.api_rate_limit, settings.ratelimit_storage_uri)
    _install_input_checks(app)  # after the rate limit: an abusive client is not parsed
    _install_error_handlers(app)
    _install_docs_assets(app)
    api.register_blueprint(_health_blueprint())
    return app, api


# The three services, in the order a reader meets them: (name, title, what it does, the
# setting holding its base URL).
SERVICES = (
    ("survey_api", "Survey API", "organizations and keys, instruments, surveys, invitations, "
                                 "responses, web forms", "survey_api_url"),
    ("scoring_service", "Scoring service", "score reports per segment, from the per-cell "
                                           "counters", "scoring_url"),
    ("pdf_service", "Brief service", "executive briefs (PDF) from score reports", "pdf_url"),
)

_INDEX_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ this.title }} · Buyer alignment</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:8vh auto;padding:0 1.2rem;
color:#1c2430;line-height:1.5}h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;
margin-top:2rem}p.lead{color:#5b6675;margin-top:0}a{color:#1f5fbf}li{margin:.5rem 0}
.what{display:block;color:#5b6675;font-size:.95rem}code{white-space:nowrap}</style></head>
<body><main><h1>{{ this.title }}</h1><p class="lead">{{ this.what | capitalize }}.</p>
<ul><li><a href="/docs">API reference</a><span class="what">every route, with examples;
an API key goes in <code>Authorization: Bearer bk_...</code></span></li>
<li><a href="/openapi.json">OpenAPI document</a></li>
<li><a href="/readyz">Readiness</a></li></ul>
<h2>The other services</h2><ul>
{% for other in others %}<li><a href="{{ other.url }}/docs">{{ other.title }}</a>
<span class="what">{{ other.what }}</span></li>{% endfor %}</ul></main></body></html>"""


def service_pages(settings: Settings) -> list[dict]:
    """The three services: name, title, what each does and its public base URL (no final /)."""
    return [{"name": name, "title": title, "what": what,
             "url": getattr(settings, setting).rstrip("/")}
            for name, title, what, setting in SERVICES]


def install_index_page(app: Flask) -> None:
    """/ : what the service is, its docs, and the other services' docs. Each service installs
    it itself (not the scaffold), so a service that wants another page at / just does not
    (survey_api's / is the console's sign-in, whose footer links the same docs)."""
    pages = service_pages(app.config["SETTINGS"])

    @app.get("/")
    def index():
        this = next(p for p in pages if p["name"] == app.config["SERVICE_NAME"])
        others = [p for p in pages if p is not this]
        return Response(render_template_string(_INDEX_PAGE, this=this, others=others),
                        mimetype="text/html", headers={
                            "Content-Security-Policy": "default-src 'none'; "
                                                       "style-src 'unsafe-inline'",
                            "X-Frame-Options": "DENY"})


# Where a WSGI layer in front of Flask (survey_api's single-post fast path) leaves, when it
# hands a request on, the moment it started it, so the access line times the whole request.
STARTED_AT = "shared.web.started_at"


def request_id_for(incoming: str) -> str:
    """The client's X-Request-ID if it is a plain token, else a new id."""
    return incoming if _REQUEST_ID.match(incoming) else ids.new_id()


def access_logger(app: Flask) -> logging.Logger:
    return logging.getLogger(f"{app.config['SERVICE_NAME']}.access")


def log_access(access: logging.Logger, method: str, path: str, status: int,
               started: float) -> None:
    """The request's JSON access line (none when LOG_LEVEL is above INFO)."""
    if access.isEnabledFor(logging.INFO):
        access.info("request", extra={"method": method, "path": loggable_path(path),
                                      "status": status,
                                      "ms": round((time.perf_counter() - started) * 1000, 2)})


def _install_request_hooks(app: Flask) -> None:
    access = access_logger(app)

    @app.before_request
    def start_request():
        g.started = request.environ.get(STARTED_AT) or time.perf_counter()
        g.request_id = request_id_for(request.headers.get("X-Request-ID", ""))
        # Refuse an oversized body before anything reads it.
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge(f"The request body is over the limit of {limit} bytes.")

    @app.after_request
    def finish_request(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        log_access(access, request.method, request.path, response.status_code,
                   g.get("started", time.perf_counter()))
        return response


# Bytes that only a body holding a control character or an escaped surrogate (a pair or a
# lone one) can contain: without any of them, orjson's strict parse has already proved every
# string clean, and the walk over a large batch (longer than the parse itself) is skipped.
_C1_CONTROL = re.compile(rb"\xc2[\x80-\x9f]")


def _may_hold_bad_text(raw: bytes) -> bool:
    # One-byte searches first (memchr): on a 1 MB batch each two-byte search or the pattern
    # takes over a millisecond, and most bodies hold neither a backslash nor a C2 byte.
    return ((b"\\" in raw and (b"\\u" in raw or b"\\b" in raw or b"\\f" in raw))
            or b"\x7f" in raw or (b"\xc2" in raw and _C1_CONTROL.search(raw) is not None))


def parse_json_body(raw: bytes):
    """The body as JSON, and the problems found in its text, numbers and depth."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        # orjson refuses lone surrogates, integers beyond 64 bits and nesting over 1,024;
        # the json module reads those, so the problem can be named, and refuses the rest.
        try:
            body = json.loads(raw)
        except RecursionError:
            abort(400, message=f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.")
        except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, int digits limit
            reason = "a number has too many digits" if "digits" in str(exc) else \
                "it is not valid JSON (UTF-8)"
            abort(400, message=f"The request body cannot be read: {reason}.")
        return body, data_problems(body)
    if _may_hold_bad_text(raw):
        return body, data_problems(body)
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH:
        try:
            orjson.dumps(body)  # orjson refuses to write deeper than MAX_JSON_DEPTH
        except TypeError:
            return body, data_problems(body)
    return body, []


def _view_method():
    view = current_app.view_functions.get(request.endpoint)
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, request.method.lower(), None) if view_class else view


def _install_input_checks(app: Flask) -> None:
    """Refuse bad text at the boundary, for every route of every service: query parameters
    and JSON bodies (keys and values) must be valid Unicode without control characters
    (shared/text.py); a problem answers 422 naming the field."""

    @app.before_request
    def check_input():
        errors = []
        for name, values in request.args.lists():
            for value in (name, *values):
                reason = text_problem(value, single_line=True)
                if reason:
                    errors.append({"field": name if value is not name else None,
                                   "location": "query", "reason": reason})
        if errors:
            abort(422, errors=errors)
        if request.method in ("GET", "HEAD", "OPTIONS") or not is_json_request(request):
            return
        raw = request.get_data(cache=True)
        if not raw.strip():
            return
        # On the request, not on g: g outlives a request when an app context is already
        # pushed (as in tests).
        request.checked_json, problems = parse_json_body(raw)
        if not problems:
            return
        lists = getattr(_view_method(), "items_checked_one_by_one", ())
        by_item: dict[str, dict[int, list[dict]]] = {}
        for problem in problems:
            parts = (problem["field"] or "").split(".", 2)
            if len(parts) >= 2 and parts[0] in lists and parts[1].isdigit():
                by_item.setdefault(parts[0], {}).setdefault(int(parts[1]), []).append(
                    {"field": parts[2] if len(parts) == 3 else None,
                     "reason": problem["reason"]})
            else:
                errors.append({**problem, "location": "json"})
        if errors:
            abort(422, errors=errors)
        request.item_problems = by_item


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        errors = [{"location": error.location, **e} if error.location else e
                  for e in error.errors] or None
        return problem_response(error.status, HTTP_STATUS_CODES[error.status], error.message,
                                errors)

    @app.errorhandler(HTTPException)
    def http_error(error):
        return from_http_exception(error)

    @app.errorhandler(Exception)
    def unexpected_error(error):
        if is_unavailable(error):  # a store timeout or election: nothing is wrong with the call
            log.warning("store unavailable", extra={"error": str(error)})
            return problem_response(503, "Service Unavailable",
                                    "The store did not answer in time; retry shortly.",
                                    headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)})
        # The trace goes to the log, with the request id; the client gets only the id.
        log.exception("unhandled error")
        return problem_response(500, "Internal Server Error",
                                "Something went wrong on our side; quote the request id if you "
                                "report it.")


def _install_docs_assets(app: Flask) -> None:
    import swagger_ui_bundle

    @app.get("/docs/assets/<path:filename>")
    def docs_assets(filename):
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)


def _health_blueprint() -> Blueprint:
    blp = Blueprint("health", __name__, description="Liveness and readiness probes")

    @blp.route("/healthz")
    class Health(MethodView):
        @blp.response(200)
        def get(self):
            """The process is up and answering."""
            return {"status": "ok", "service": current_app.config["SERVICE_NAME"]}

    @blp.route("/readyz")
    class Ready(MethodView):
        @blp.response(200)
        @blp.alt_response(503, schema=ProblemErrorSchema, description="The store is unreachable")
        def get(self):
            """The service can reach its store and take traffic."""
            try:
                get_store().ping()
            except Exception as exc:  # any failure to reach the store means not ready
                log.warning("readiness check failed", extra={"error": str(exc)})
                return problem_response(503, "Service Unavailable",
                                        "The store cannot be reached.",
                                        headers={"Retry-After": str(STORE_RETRY_AFTER_SECONDS)})
            return {"status": "ready", "service": current_app.config["SERVICE_NAME"]}

    return blp
