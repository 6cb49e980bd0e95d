"""HTTP routes for invitations."""

from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import abort

from shared.auth import require_scope
from shared.extensions import get_store
from shared.web import Blueprint

from ..surveys.domain import get_survey
from . import domain
from .schemas import (
    CreatedInvitationsSchema, InvitationBatchSchema, InvitationPageSchema,
    InvitationQuerySchema, InvitationSchema,
)

blp = Blueprint("invitations", __name__, url_prefix="/v1/surveys/<survey_id>/invitations",
                description="Single-use respondent links carrying known segment attributes")


def _base_url() -> str:
    return current_app.config["SETTINGS"].survey_api_url


@blp.route("")
class Invitations(MethodView):
    @require_scope("read")
    @blp.arguments(InvitationQuerySchema, location="query")
    @blp.response(200, InvitationPageSchema)
    def get(self, query, survey_id):
        """A survey's invitations, oldest first, optionally by status."""
        survey = get_survey(get_store(), g.org_id, survey_id)
        page = get_store().invitations.list(g.org_id, survey.id, after=query.get("cursor"),
                                            limit=query["limit"], status=query.get("status"))
        return {"items": [domain.present(i) for i in page.items],
                "next_cursor": page.next_cursor}

    @require_scope("ingest")
    @blp.arguments(InvitationBatchSchema)
    @blp.response(201, CreatedInvitationsSchema)
    def post(self, body, survey_id):
        """Create up to 10,000 invitations in one request, all or nothing. Each link's token
        is returned once."""
        survey = get_survey(get_store(), g.org_id, survey_id)
        created = domain.create_invitations(get_store(), survey, body["invitations"],
                                            _base_url())
        return {"created": len(created), "invitations": created}


@blp.route("/import")
class InvitationCsv(MethodView):
    @require_scope("ingest")
    @blp.doc(requestBody={"required": True, "content": {"text/csv": {"schema": {
        "type": "string",
        "example": "email,tenure,size,region\nana@example.com,new,large,emea\n"}}}})
    @blp.response(201, CreatedInvitationsSchema)
    def post(self, survey_id):
        """Create invitations from a CSV body: a header row naming email, expires_at, sent and
        segment attributes, then one row per invitation (up to 10,000)."""
        survey = get_survey(get_store(), g.org_id, survey_id)
        if request.mimetype != "text/csv":
            abort(415, message="Send the CSV with Content-Type: text/csv.")
        try:
            text = request.get_data().decode("utf-8-sig")
        except UnicodeDecodeError:
            abort(400, message="The CSV is not UTF-8 text.")
        items = domain.parse_csv(text, survey)
        created = domain.create_invitations(get_store(), survey, items, _base_url())
        return {"created": len(created), "invitations": created}


@blp.route("/<invitation_id>")
class InvitationById(MethodView):
    @require_scope("read")
    @blp.response(200, InvitationSchema)
    def get(self, survey_id, invitation_id):
        """One invitation and its status."""
        survey = get_survey(get_store(), g.org_id, survey_id)
        return domain.present(domain.get_invitation(get_store(), survey, invitation_id))


@blp.route("/<invitation_id>/revoke")
class RevokeInvitation(MethodView):
    @require_scope("ingest")
    @blp.response(200, InvitationSchema)
    def post(self, survey_id, invitation_id):
        """Revoke a link: it stops working at once."""
        survey = get_survey(get_store(), g.org_id, survey_id)
        return domain.present(domain.revoke(get_store(), survey, invitation_id))


@blp.route("/<invitation_id>/sent")
class MarkInvitationSent(MethodView):
    @require_scope("ingest")
    @blp.response(200, InvitationSchema)
    def post(self, survey_id, invitation_id):
        """Record that you have sent the link to the respondent."""
        survey = get_survey(get_store(), g.org_id, survey_id)
        return domain.present(domain.mark_sent(get_store(), survey, invitation_id))
