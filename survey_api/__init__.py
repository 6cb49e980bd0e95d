"""survey_api: organizations and keys, instruments, surveys, invitations, responses, web forms."""

from __future__ import annotations

from shared.settings import Settings
from shared.web import create_service_app


def create_app(settings: Settings | None = None):
    from .instruments import install_builtin

    app, api = create_service_app(
        __name__, "survey_api", "Survey API", settings,
        description="Collects buying-preference surveys: instruments, surveys, invitations and "
                    "responses, for integrations (JSON) and respondents (web forms).",
        store_setup=[install_builtin],
    )
    from . import cli

    from .accounts.routes import blp as accounts_blp
    from .instruments.routes import blp as instruments_blp
    from .invitations.routes import blp as invitations_blp
    from .responses.routes import blp as responses_blp
    from .surveys.routes import blp as surveys_blp
    from .webhooks.routes import blp as webhooks_blp

    for blueprint in (accounts_blp, instruments_blp, surveys_blp, invitations_blp,
                      responses_blp, webhooks_blp):
        api.register_blueprint(blueprint)

    from shared.ratelimit import rate_limits_of

    from .forms.routes import bp as forms_bp

    settings = app.config["SETTINGS"]
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.is_production,
                      WTF_CSRF_TIME_LIMIT=None)  # the form may stay open for hours
    app.register_blueprint(forms_bp)  # HTML pages: not part of the JSON API document
    from flask_babel import Babel

    from .forms.routes import page_language

    # The respondents' pages speak the form's language (gettext catalogues in translations/).
    Babel(app, locale_selector=page_language)
    # The anonymous link adds its own, tighter limit to the default one.
    rate_limits_of(app).limit("forms.anonymous_link", settings.anonymous_rate_limit)
    _start_webhook_dispatcher_after_fork(app)
    _start_counter_folder_after_fork(app)
    cli.register(app)
    from .console import register as register_console

    register_console(app)  # the survey owner's pages, at / and /console/
    from .responses.fast_post import SinglePostFastPath

    app.wsgi_app = SinglePostFastPath(app, app.wsgi_app)  # outermost: see fast_post.py
    return app


def _start_webhook_dispatcher_after_fork(app) -> None:
    from functools import partial

    from .webhooks.dispatch import start_dispatcher

    settings = app.config["SETTINGS"]
    _start_after_fork(app, "webhook_dispatcher", settings.webhook_poll_seconds,
                      partial(start_dispatcher, settings=settings))


def _start_counter_folder_after_fork(app) -> None:
    """MongoDB stores responses as pending and counts them in a separate step (see
    shared/storage/mongo/responses.py): each worker folds every COUNTER_FOLD_SECONDS."""
    from shared.storage.folding import start_folder

    if app.config["SETTINGS"].store_url.startswith(("mongodb://", "mongodb+srv://")):
        _start_after_fork(app, "counter_folder", app.config["SETTINGS"].counter_fold_seconds,
                          start_folder)


BACKGROUND_STARTERS = "survey_api.background_starters"


def _start_after_fork(app, name: str, every: float, start) -> None:
    """Start a background thread with the first request, i.e. inside the serving process
    (after gunicorn forks), once per process. start(get_store, every, stop) -> thread."""
    import threading

    from shared.extensions import get_store

    if every <= 0:
        return
    lock = threading.Lock()

    @app.before_request
    def ensure_started():
        if name in app.extensions:
            return
        with lock:
            if name not in app.extensions:
                stop = threading.Event()

                def store():
                    with app.app_context():
                        return get_store()

                app.extensions[name] = (start(store, every, stop), stop)

    # Requests that the single-post fast path answers never reach the hook above.
    app.extensions.setdefault(BACKGROUND_STARTERS, []).append(ensure_started)
