"""HTTP routes for surveys."""

from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView

from shared.auth import require_scope
from shared.extensions import get_store
from shared.web import Blueprint

from ..forms.domain import links as form_links
from ..schemas_common import PageQuerySchema
from . import domain
from .schemas import (
    SurveyInputSchema, SurveyLinksSchema, SurveyPageSchema, SurveyPatchSchema, SurveySchema,
)

blp = Blueprint("surveys", __name__, url_prefix="/v1/surveys",
                description="Survey campaigns: instruments, segments, branding, status")


@blp.route("")
class Surveys(MethodView):
    @require_scope("read")
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, SurveyPageSchema)
    def get(self, query):
        """The organization's surveys, oldest first, a page at a time."""
        return get_store().surveys.list(g.org_id, after=query.get("cursor"),
                                        limit=query["limit"])

    @require_scope("admin")
    @blp.arguments(SurveyInputSchema)
    @blp.response(201, SurveySchema)
    def post(self, data):
        """Create a draft survey. Instruments default to the latest built-in versions and are
        pinned to a version from then on."""
        return domain.create_survey(get_store(), g.org_id, data)


@blp.route("/<survey_id>")
class SurveyById(MethodView):
    @require_scope("read")
    @blp.response(200, SurveySchema)
    def get(self, survey_id):
        """One survey."""
        return domain.get_survey(get_store(), g.org_id, survey_id)

    @require_scope("admin")
    @blp.arguments(SurveyPatchSchema(partial=True))
    @blp.response(200, SurveySchema)
    def patch(self, changes, survey_id):
        """Change a survey; only the fields sent change (settings merge key by key).

        What people read may change at any time, draft, open or closed: `name` and `branding`
        (the public title and its translations, vendor name, colour, logo, contact and privacy
        links), as may `settings`. What the scores depend on (`customer_instrument`,
        `vendor_instrument`, `segments`) changes only while the survey is a draft: once it is
        open or closed, changing one is a 409 problem naming each such field (sending one
        unchanged is no change). Every change is recorded in the audit log as
        `survey.changed`, naming the fields changed."""
        return domain.update_survey(get_store(), g.org_id, survey_id, changes, g.api_key.id)


@blp.route("/<survey_id>/links")
class SurveyLinks(MethodView):
    @require_scope("read")
    @blp.response(200, SurveyLinksSchema)
    def get(self, survey_id):
        """The web links: the staff self-assessment link, and the anonymous link if the survey
        allows one. Customers with an invitation use its own link."""
        survey = domain.current_staff_link(get_store(), domain.get_survey(get_store(), g.org_id,
                                                                          survey_id))
        settings = current_app.config["SETTINGS"]
        return form_links(settings.survey_api_url, settings.secret_key, survey)


@blp.route("/<survey_id>/staff-link/rotate")
class RotateStaffLink(MethodView):
    @require_scope("admin")
    @blp.response(200, SurveyLinksSchema)
    def post(self, survey_id):
        """Replace the staff link (with a new expiry): the old one stops working at once and
        shows a clear page. The new links are in the answer."""
        survey = domain.rotate_staff_link(get_store(), g.org_id, survey_id, g.api_key.id)
        settings = current_app.config["SETTINGS"]
        return form_links(settings.survey_api_url, settings.secret_key, survey)


@blp.route("/<survey_id>/open")
class OpenSurvey(MethodView):
    @require_scope("admin")
    @blp.response(200, SurveySchema)
    def post(self, survey_id):
        """Open a draft survey for responses."""
        return domain.transition(get_store(), g.org_id, survey_id, "open", g.api_key.id)


@blp.route("/<survey_id>/close")
class CloseSurvey(MethodView):
    @require_scope("admin")
    @blp.response(200, SurveySchema)
    def post(self, survey_id):
        """Close an open survey: no more responses are accepted."""
        return domain.transition(get_store(), g.org_id, survey_id, "closed", g.api_key.id)
