"""HTTP routes of pdf_service (HTTP only: the work is in domain.py and brief/)."""

from __future__ import annotations

import logging

from flask import Response, current_app, g, render_template_string
from flask.views import MethodView
from flask_smorest import abort

from shared.auth import require_scope
from shared.cells import segment_names_of
from shared.extensions import get_store
from shared.web import Blueprint

from . import domain
from .brief.render import render_brief
from .schemas import (
    BriefRequestSchema, BriefSchema, CreatedBriefSchema, EmailRequestSchema, RenderQuerySchema,
    ReportInputSchema, ShareRequestSchema, ShareSchema,
)
from .scoring_client import ScoringUnavailable, fetch_report

log = logging.getLogger(__name__)
blp = Blueprint("briefs", __name__, url_prefix="/v1",
                description="Executive briefs: rendered, stored, shared by link, e-mailed")
shared_blp = Blueprint("shared", __name__, description="Brief links that need no API key")


def _settings():
    return current_app.config["SETTINGS"]


def _pdf_url(brief) -> str:
    return f"{_settings().pdf_url.rstrip('/')}/v1/briefs/{brief.id}.pdf"


def _share_url(brief, hours: int | None = None) -> str:
    token = domain.share_token(_settings().secret_key, brief,
                               hours or _settings().brief_link_hours)
    return f"{_settings().pdf_url.rstrip('/')}/shared/{token}"


def _links(brief) -> dict:
    return {"pdf_url": _pdf_url(brief), "share_url": _share_url(brief)}


def _present(brief) -> dict:
    return {**BriefSchema().dump(brief), "pdf_url": _pdf_url(brief)}


def _get(brief_id):
    brief = get_store().briefs.get(g.org_id, brief_id)
    if brief is None:
        abort(404, message=f"No brief {brief_id}.")
    return brief


def _email(brief, recipients) -> dict:
    settings = _settings()
    if not settings.smtp_url:
        return {"sent": False, "error": "E-mail is not configured (SMTP_URL is empty)."}
    try:
        domain.send_email(settings.smtp_url, settings.mail_from, recipients, brief,
                          get_store().briefs.get_pdf(brief.org_id, brief.id), _share_url(brief))
    except Exception as exc:  # SMTP refusals and network errors alike: report, don't crash
        # The server's own words go to the log only: they describe the mail system, not the
        # request.
        log.warning("brief e-mail failed", extra={"brief": brief.id, "error": str(exc)})
        return {"sent": False, "error": "The mail server did not take the message."}
    return {"sent": True, "to": recipients}


@blp.route("/briefs")
class Briefs(MethodView):
    @require_scope("briefs", service_calls=True)  # the console (survey_api) calls it for a signed-in person
    @blp.arguments(BriefRequestSchema)
    @blp.response(201, CreatedBriefSchema)
    @blp.alt_response(502, description="The scoring service cannot be reached")
    @blp.alt_response(504, description="The scoring service did not answer in time")
    def post(self, body):
        """Render a brief of a survey's current report, store it, optionally e-mail it."""
        crosses = sorted({",".join(segment_names_of(key)) for key in body["segments"]
                          if "|" in key})
        settings = _settings()
        try:
            report = fetch_report(settings.scoring_url, settings.service_token, g.org_id,
                                  body["survey_id"], crosses, settings.scoring_timeout_seconds,
                                  g.get("request_id"))
        except ScoringUnavailable as exc:
            abort(exc.status, message=exc.message)
        known = {s["key"] for s in report["segments"]}
        unknown = [k for k in body["segments"] if k not in known]
        if unknown:
            abort(422, message="Unknown segments.", errors=[
                {"field": f"segments.{body['segments'].index(k)}", "location": "json",
                 "reason": f"No segment {k!r} in this survey."} for k in unknown])
        brief = domain.create_brief(get_store(), g.org_id, report, body["audience"],
                                    body["segments"] or None)
        out = {**BriefSchema().dump(brief), **_links(brief)}
        if body["email_to"]:
            out["email"] = _email(brief, body["email_to"])
        return out


@blp.route("/surveys/<survey_id>/briefs")
class SurveyBriefs(MethodView):
    @require_scope("read", service_calls=True)  # the console (survey_api) calls it for a signed-in person
    @blp.response(200, BriefSchema(many=True))
    def get(self, survey_id):
        """The briefs rendered for a survey, oldest first."""
        if get_store().surveys.get(g.org_id, survey_id) is None:
            abort(404, message=f"No survey {survey_id}.")
        return [_present(b) for b in get_store().briefs.list(g.org_id, survey_id)]


@blp.route("/briefs/<brief_id>")
class BriefById(MethodView):
    @require_scope("read", service_calls=True)  # the console (survey_api) calls it for a signed-in person
    @blp.response(200, BriefSchema)
    def get(self, brief_id):
        """A brief's metadata: survey, model version, response counts, checksum."""
        return _present(_get(brief_id))

    @require_scope("briefs")
    @blp.response(204)
    def delete(self, brief_id):
        """Delete a brief and its PDF; its shared links stop working."""
        if not get_store().briefs.delete(g.org_id, brief_id):
            abort(404, message=f"No brief {brief_id}.")


@blp.route("/briefs/<brief_id>.pdf")
class BriefPdf(MethodView):
    @require_scope("read", service_calls=True)  # the console (survey_api) calls it for a signed-in person
    @blp.response(200, description="The PDF")
    def get(self, brief_id):
        """The brief itself."""
        brief = _get(brief_id)
        pdf = get_store().briefs.get_pdf(g.org_id, brief.id)
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="brief-{brief.id}.pdf"',
            "ETag": brief.checksum})


@blp.route("/briefs/<brief_id>/share")
class ShareBrief(MethodView):
    @require_scope("briefs", service_calls=True)  # the console (survey_api) calls it for a signed-in person
    @blp.arguments(ShareRequestSchema)
    @blp.response(200, ShareSchema)
    def post(self, body, brief_id):
        """A signed link an executive can open without a key. It stops working after `hours`
        (default BRIEF_LINK_HOURS), when the links are revoked, or when the brief is deleted."""
        brief = _get(brief_id)
        hours = body.get("hours") or _settings().brief_link_hours
        return {"url": _share_url(brief, hours), "expires_in_hours": hours,
                "expires_at": domain.link_expiry(hours)}

    @require_scope("briefs")
    @blp.response(204)
    def delete(self, brief_id):
        """Revoke every shared link of this brief made so far (new ones can be made)."""
        if get_store().briefs.revoke_links(g.org_id, brief_id) is None:
            abort(404, message=f"No brief {brief_id}.")


@blp.route("/briefs/<brief_id>/email")
class EmailBrief(MethodView):
    @require_scope("briefs", service_calls=True)  # the console (survey_api) calls it for a signed-in person
    @blp.arguments(EmailRequestSchema)
    @blp.response(200)
    def post(self, body, brief_id):
        """E-mail the brief (PDF attached, a short summary in the body)."""
        result = _email(_get(brief_id), body["to"])
        if not result["sent"]:
            abort(502 if _settings().smtp_url else 503, message=result["error"])
        return result


@blp.route("/render")
class Render(MethodView):
    @require_scope("read")
    @blp.arguments(ReportInputSchema)
    @blp.arguments(RenderQuerySchema, location="query")
    @blp.response(200, description="The PDF; nothing is stored")
    def post(self, report, query):
        """Render a report posted as JSON (the shape GET /v1/surveys/{id}/report returns)."""
        try:
            pdf = render_brief(report, audience=query["audience"])
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            abort(422, message="The report is not in the shape the scoring service returns.",
                  errors=[{"field": "body", "location": "json",
                           "reason": f"Missing or malformed: {exc}"}])
        return Response(pdf, mimetype="application/pdf")


_LINK_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ title }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:34rem;margin:15vh auto;padding:0 1.2rem;
color:#1c2430;line-height:1.5}h1{font-size:1.4rem}</style></head>
<body><h1>{{ title }}</h1><p>{{ text }}</p></body></html>"""


@shared_blp.route("/shared/<token>")
class SharedBrief(MethodView):
    @shared_blp.response(200, description="The PDF", content_type="application/pdf")
    @shared_blp.alt_response(404, schema={"type": "string"}, content_type="text/html",
                             description="A page saying the link is not valid")
    @shared_blp.alt_response(410, schema={"type": "string"}, content_type="text/html",
                             description="A page saying the link has expired")
    def get(self, token):
        """Open a shared brief (no API key: the signed link is the permission)."""
        settings = _settings()
        try:
            link = domain.read_share_token(settings.secret_key, token, settings.brief_link_hours)
        except domain.ExpiredLink:
            return _page(410, "This link has expired",
                         "Links to briefs work for a limited time. Ask the person who sent it "
                         "for a new one.")
        except domain.InvalidLink:
            return _page(404, "This link is not valid",
                         "The link may have been cut short or changed. Check that you copied "
                         "all of it, or ask for a new one.")
        brief = get_store().briefs.get(link.org_id, link.brief_id)
        pdf = get_store().briefs.get_pdf(link.org_id, link.brief_id) if brief else None
        if pdf is None:
            return _page(404, "This brief is no longer available",
                         "It may have been deleted. Ask the person who sent it.")
        if brief.share_generation != link.generation:
            return _page(410, "This link has been withdrawn",
                         "The person who shared this brief has withdrawn its links. Ask them "
                         "for a new one.")
        return Response(pdf, mimetype="application/pdf", headers={
            "Content-Disposition": f'inline; filename="brief-{brief.id}.pdf"',
            "Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"})


def _page(status: int, title: str, text: str) -> Response:
    return Response(render_template_string(_LINK_PAGE, title=title, text=text), status=status,
                    mimetype="text/html")

