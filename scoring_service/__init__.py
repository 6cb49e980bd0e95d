"""scoring_service: alignment and readiness score reports per segment, from the aggregate counters."""

from __future__ import annotations

from shared.settings import Settings
from shared.web import create_service_app


def create_app(settings: Settings | None = None):
    app, api = create_service_app(
        __name__, "scoring_service", "Scoring service", settings,
        description="Scores how well a vendor's selling matches its customers' buying, and its "
                    "demand-generation readiness, per customer segment.",
    )
    return app
