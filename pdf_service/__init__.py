"""pdf_service: executive briefs rendered from score reports with reportlab."""

from __future__ import annotations

from shared.settings import Settings
from shared.web import create_service_app, install_index_page


def create_app(settings: Settings | None = None):
    app, api = create_service_app(
        __name__, "pdf_service", "Brief service", settings,
        description="Renders executive briefs (PDF) from score reports, stores them and shares "
                    "them by signed link or email.",
    )
    from .routes import blp, shared_blp

    api.register_blueprint(blp)
    api.register_blueprint(shared_blp)
    install_index_page(app)
    return app
