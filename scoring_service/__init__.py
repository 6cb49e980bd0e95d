"""scoring_service: alignment and readiness score reports per segment, from the aggregate counters."""

from __future__ import annotations

from shared.instruments import install_builtin
from shared.settings import Settings
from shared.web import create_service_app, install_index_page


def create_app(settings: Settings | None = None):
    app, api = create_service_app(
        __name__, "scoring_service", "Scoring service", settings,
        description="Scores how well a vendor's selling matches its customers' buying, and its "
                    "demand-generation readiness, per customer segment.",
        # Stateless scoring needs the shipped instruments even before survey_api has run.
        store_setup=[install_builtin],
    )
    from .routes import blp
    from .scoring.model import load_model

    load_model()  # a broken model file stops the service here, not on the first report
    api.register_blueprint(blp)
    install_index_page(app)
    return app
