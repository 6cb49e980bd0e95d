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
    from werkzeug.http import HTTP_STATUS_CODES

    from shared.problems import problem_response

    from . import cli
    from .errors import DomainError

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        errors = [{"location": "json", **e} for e in error.errors] or None
        return problem_response(error.status, HTTP_STATUS_CODES[error.status], error.message,
                                errors)
    from .accounts.routes import blp as accounts_blp
    from .instruments.routes import blp as instruments_blp
    from .invitations.routes import blp as invitations_blp
    from .responses.routes import blp as responses_blp
    from .surveys.routes import blp as surveys_blp

    for blueprint in (accounts_blp, instruments_blp, surveys_blp, invitations_blp,
                      responses_blp):
        api.register_blueprint(blueprint)
    cli.register(app)
    return app
