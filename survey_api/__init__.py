"""survey_api: organizations and keys, instruments, surveys, invitations, responses, web forms."""

from __future__ import annotations

from shared.settings import Settings
from shared.web import create_service_app


def create_app(settings: Settings | None = None):
    app, api = create_service_app(
        __name__, "survey_api", "Survey API", settings,
        description="Collects buying-preference surveys: instruments, surveys, invitations and "
                    "responses, for integrations (JSON) and respondents (web forms).",
    )
    from . import cli, routes

    api.register_blueprint(routes.blp)
    cli.register(app)
    return app
