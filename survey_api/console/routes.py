"""The console's pages (HTTP only: the rules are in users.py, campaign.py and the survey and
invitation domains; scores and briefs come from the other services over HTTP)."""

from __future__ import annotations

import csv
import io
import re
from functools import wraps

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFError, validate_csrf
from marshmallow import ValidationError as SchemaError
from wtforms import ValidationError

from shared import ids
from shared.storage import AlreadyExists, OutboxMail
from shared.cells import segment_names_of
from shared.extensions import get_store
from shared.problems import flatten_messages

from ..accounts.domain import create_key, revoke_key
from ..audit import record
from shared.errors import DomainError
from ..forms.domain import links as web_links
from ..surveys import domain as surveys
from ..surveys.schemas import BrandingSchema
from . import campaign, users
from .forms import (BRANDING_FIELDS, ActionForm, BriefForm, EmailBriefForm, ImportForm,
                    NewPasswordForm, ReminderForm, ResetRequestForm, SignInForm,
                    SurveyDetailsForm, UploadForm, UserForm, KeyForm, survey_form, title_field)
from .mail_texts import mail_language, password_reset_mail
from .services import Briefs, BriefsUnavailable, ScoringUnavailable, fetch_report

SHOWN = 500  # people listed on the invitations page; the CSV download has everyone

bp = Blueprint("console", __name__, template_folder="../templates", static_folder="../static",
               static_url_path="/static/console")


class Person(UserMixin):
    """Flask-Login's view of a console user."""

    def __init__(self, record):
        self.record = record

    def get_id(self):
        return users.session_id(self.record)

    def can(self, scope: str) -> bool:
        return users.can(self.record, scope)


def _settings():
    return current_app.config["SETTINGS"]


def _actor() -> str:
    return f"user:{current_user.record.id}"


def needs(scope: str):
    """Signed in, with a role that grants scope (the same rule as API keys)."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapper(*args, **kwargs):
            if not users.can(current_user.record, scope):
                return render_template("console/message.html", title="Not allowed",
                                       text="Your role does not allow this. Ask an admin of "
                                            "your organization."), 403
            return view(*args, **kwargs)
        return wrapper
    return decorator


def _survey(survey_id):
    survey = get_store().surveys.get(current_user.record.org_id, survey_id)
    if survey is None:
        abort(404)
    return survey


@bp.before_request
def check_csrf():
    """Every change is a POST carrying the form's CSRF token; a missing or stale one gets
    a page saying so, before any view runs."""
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError as exc:
            raise CSRFError(str(exc)) from None


@bp.errorhandler(CSRFError)
def csrf_error(error):
    return render_template("console/message.html", title="This page had expired",
                           text="For your security the form was not sent. Go back, reload the "
                                "page and try again."), 400


@bp.errorhandler(404)
def not_found(error):
    return render_template("console/message.html", title="Not found",
                           text="There is nothing here, or it belongs to another "
                                "organization."), 404


# -- signing in and out -----------------------------------------------------------------------

@bp.route("/")
def root():
    return redirect(url_for("console.surveys_list" if current_user.is_authenticated
                            else "console.sign_in"))


@bp.route("/console/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if form.validate_on_submit():
        outcome = users.sign_in(get_store(), form.email.data, form.password.data)
        if outcome.user is not None:
            login_user(Person(outcome.user))
            target = request.args.get("next", "")
            # Only a path on this site: never a redirect elsewhere.
            if not re.match(r"^/console/[A-Za-z0-9/_.\-]*$", target):
                target = url_for("console.surveys_list")
            return redirect(target, code=303)
        if outcome.locked_until:
            form.password.errors.append(
                "This account is locked after repeated failed attempts. Try again in 15 "
                "minutes, or reset the password.")
        else:
            form.password.errors.append("The e-mail or the password is not right.")
        return render_template("console/sign_in.html", form=form), 401
    return render_template("console/sign_in.html", form=form)


@bp.route("/console/sign-out", methods=["POST"])
def sign_out():
    if ActionForm().validate_on_submit():
        logout_user()
        flash("You have signed out.", "ok")
    return redirect(url_for("console.sign_in"), code=303)


@bp.route("/console/reset", methods=["GET", "POST"])
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        store = get_store()
        user = store.console_users.find_by_email(users.normal_email(form.email.data))
        if user is not None and user.active:
            link = url_for("console.reset_password",
                           token=users.reset_token(_settings().secret_key, user), _external=True)
            subject, body = password_reset_mail(
                mail_language(None, None, request.headers.get("Accept-Language")),
                name=user.name, link=link, hours=users.RESET_HOURS)
            store.outbox.add_many([OutboxMail(
                id=ids.new_id(), org_id=user.org_id, to=user.email, kind="password_reset",
                subject=subject, body=body)])
        # The same answer either way: the page does not tell which addresses have accounts.
        return render_template("console/message.html", title="Check your e-mail",
                               text="If an account uses this address, a link to choose a new "
                                    f"password is on its way. It works for {users.RESET_HOURS} "
                                    "hours, once.", public=True)
    return render_template("console/reset_request.html", form=form)


@bp.route("/console/reset/<token>", methods=["GET", "POST"])
def reset_password(token):
    store = get_store()
    user = users.user_for_reset(store, _settings().secret_key, token)
    if user is None:
        return render_template("console/message.html", title="This link does not work",
                               text="It has expired or has been used already. Ask for a new "
                                    "one.", public=True,
                               link=(url_for("console.reset_request"), "Ask for a new link")), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        users.set_password(store, user, form.password.data)
        logout_user()
        flash("Your password is changed. Sign in with the new one.", "ok")
        return redirect(url_for("console.sign_in"), code=303)
    return render_template("console/reset_password.html", form=form, email=user.email)


# -- surveys ------------------------------------------------------------------------------

@bp.route("/console/")
@needs("read")
def surveys_list():
    store = get_store()
    org_id = current_user.record.org_id
    rows, after = [], None
    while True:
        page = store.surveys.list(org_id, after=after, limit=200)
        rows += page.items
        if page.next_cursor is None:
            break
        after = page.next_cursor
    rows.reverse()  # newest first
    summary = {s.id: campaign.progress(store, s)["overall"] for s in rows}
    return render_template("console/surveys.html", surveys=rows, summary=summary,
                           responses={s.id: store.responses.count(s.id) for s in rows})


def _parse_segments(text: str) -> tuple[dict, list[str]]:
    segments, problems = {}, []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, values = line.partition(":")
        name = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
        values = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not re.match(r"^[a-z][a-z0-9_]{0,31}$", name) or not values:
            problems.append(f"Line {number}: write a name, a colon, then values separated by "
                            "commas.")
        elif any(not re.match(r"^[A-Za-z0-9_+\-]{1,64}$", v) for v in values):
            problems.append(f"Line {number}: values may use letters, digits, _, + and - only.")
        else:
            segments[name] = values
    return segments, problems


def _title_translations(form, languages: list[str]) -> dict[str, str]:
    """The titles filled in per language, checked by the API's own branding schema; a
    problem goes beside the language's field."""
    translations = {language: form[title_field(language)].data.strip() for language in languages
                    if (form[title_field(language)].data or "").strip()}
    try:
        BrandingSchema().load({"public_title_translations": translations})
    except SchemaError as exc:
        _title_errors(form, languages, [
            (problem["field"], problem["reason"]) for problem in flatten_messages(exc.messages)])
    return translations


def _title_errors(form, languages: list[str], problems: list[tuple[str, str]]) -> list[str]:
    """Puts each problem naming a title language beside that language's field; returns the
    reasons of the others."""
    rest = []
    for field, reason in problems:
        # public_title_translations.de.value (the schema's), or
        # branding.public_title_translations.de (the domain's)
        parts = (field or "").removeprefix("branding.").split(".")
        if parts[0] == "public_title_translations" and len(parts) > 1 and parts[1] in languages:
            title = form[title_field(parts[1])]
            title.errors = list(title.errors) + [reason]
        else:
            rest.append(reason)
    return rest


def _branding(form, translations: dict[str, str]) -> dict:
    """The branding the form's fields give (those left empty are left out)."""
    branding = {k: getattr(form, k).data.strip() for k in BRANDING_FIELDS
                if (getattr(form, k).data or "").strip()}
    if translations:
        branding["public_title_translations"] = translations
    return branding


@bp.route("/console/surveys/new", methods=["GET", "POST"])
@needs("admin")
def survey_new():
    languages = surveys.title_languages(get_store(), current_user.record.org_id)
    form = survey_form(languages)
    valid = form.validate_on_submit()
    # Checked with the other fields, so that every problem shows at once.
    translations = _title_translations(form, languages) if form.is_submitted() else {}
    if valid:
        segments, problems = _parse_segments(form.segments.data)
        form.segments.errors = list(form.segments.errors) + problems
        if not form.errors:
            try:
                survey = surveys.create_survey(get_store(), current_user.record.org_id, {
                    "name": form.name.data.strip(), "segments": segments,
                    "branding": _branding(form, translations),
                    "settings": {"anonymous_link": bool(form.anonymous_link.data),
                                 "invitation_ttl_days": 30}})
            except DomainError as exc:
                rest = _title_errors(form, languages, [(e.get("field"), e["reason"])
                                                       for e in exc.errors])
                if rest or not exc.errors:
                    form.segments.errors.append(exc.message + " " + " ".join(rest))
            else:
                record(get_store(), survey.org_id, "survey.created", _actor(),
                       survey_id=survey.id)
                flash("The survey is created as a draft. Upload invitations, then open it.",
                      "ok")
                return redirect(url_for("console.survey_page", survey_id=survey.id), code=303)
    return render_template("console/survey_new.html", form=form,
                           title_fields=[form[title_field(language)] for language in languages]), \
        422 if form.errors else 200


@bp.route("/console/surveys/<survey_id>/edit", methods=["GET", "POST"])
@needs("admin")
def survey_edit(survey_id):
    """The survey's details (names, title, branding): correctable at any time, by the same
    rule as the API's PATCH (surveys.update_survey), which also records the change."""
    survey = _survey(survey_id)
    languages = surveys.title_languages(get_store(), survey.org_id, survey.customer_instrument)
    current = survey.branding.get("public_title_translations") or {}
    form = survey_form(languages, SurveyDetailsForm, data={
        "name": survey.name, **{k: survey.branding[k] for k in BRANDING_FIELDS
                                if survey.branding.get(k)},
        **{title_field(language): current.get(language, "") for language in languages}})
    valid = form.validate_on_submit()
    translations = _title_translations(form, languages) if form.is_submitted() else {}
    page_error = None
    if valid and not form.errors:
        # Branding the form does not ask (website_url, set through the API) stays as it is.
        kept = {k: v for k, v in survey.branding.items()
                if k not in BRANDING_FIELDS + ("public_title_translations",)}
        try:
            updated = surveys.update_survey(get_store(), survey.org_id, survey.id, {
                "name": form.name.data.strip(),
                "branding": {**kept, **_branding(form, translations)}}, _actor())
        except DomainError as exc:
            rest = _title_errors(form, languages, [(e.get("field"), e["reason"])
                                                   for e in exc.errors])
            if rest or not exc.errors:
                page_error = " ".join([exc.message, *rest])
        else:
            flash("The changes are saved: the survey's pages show them now, and mails queued "
                  "from now on use them." if (updated.name, updated.branding) != (
                      survey.name, survey.branding) else "Nothing was changed.", "ok")
            return redirect(url_for("console.survey_page", survey_id=survey.id), code=303)
    return render_template("console/survey_edit.html", survey=survey, form=form,
                           page_error=page_error,
                           title_fields=[form[title_field(language)] for language in languages]), \
        422 if form.errors or page_error else 200


@bp.route("/console/surveys/<survey_id>")
@needs("read")
def survey_page(survey_id):
    store = get_store()
    survey = _survey(survey_id)
    settings = _settings()
    policy = campaign.reminder_policy(survey)
    invitations = campaign.all_invitations(store, survey)
    return render_template(
        "console/survey.html", survey=survey, progress=campaign.progress(store, survey),
        links=web_links(settings.survey_api_url, settings.secret_key, survey),
        web_counts=campaign.web_link_counts(store, survey), action=ActionForm(),
        reminders=ReminderForm(data=policy), policy=policy,
        unmailed=sum(1 for i in invitations if i.email and i.mails == 0 and
                     not i.opted_out_at and i.status in ("created", "sent")),
        due=len(campaign.due_reminders(store, survey)), mail_configured=bool(settings.smtp_url),
        outbox=[m for m in store.outbox.list(survey.org_id, survey.id, limit=1000)
                if m.kind != campaign.REMINDER_JOB],
        total=len(invitations))


@bp.route("/console/surveys/<survey_id>/<any(open, close):change>", methods=["POST"])
@needs("admin")
def survey_transition(survey_id, change):
    survey = _survey(survey_id)
    if ActionForm().validate_on_submit():
        try:
            surveys.transition(get_store(), survey.org_id, survey.id,
                               "open" if change == "open" else "closed", _actor())
            flash("The survey is open: its links work." if change == "open" else
                  "The survey is closed: it takes no more answers.", "ok")
        except DomainError as exc:
            flash(exc.message, "error")
    return redirect(url_for("console.survey_page", survey_id=survey.id), code=303)


# -- invitations ----------------------------------------------------------------------------

@bp.route("/console/surveys/<survey_id>/invitations", methods=["GET"])
@needs("read")
def invitations_page(survey_id):
    survey = _survey(survey_id)
    invitations = campaign.all_invitations(get_store(), survey)
    used = sorted({name for i in invitations for name in i.attributes})
    return render_template("console/invitations.html", survey=survey, upload=UploadForm(),
                           invitations=invitations, shown=invitations[:SHOWN],
                           state_of=campaign.state_of, segment_names=sorted(survey.segments),
                           used_names=used)


@bp.route("/console/surveys/<survey_id>/invitations/preview", methods=["POST"])
@needs("ingest")
def invitations_preview(survey_id):
    survey = _survey(survey_id)
    upload, confirm = UploadForm(), ImportForm()
    if request.files.get("file"):
        if not upload.validate_on_submit():
            abort(400)
        raw = upload.file.data.read()
        mapping = None
    elif confirm.validate_on_submit():
        raw = confirm.csv_text.data.encode()
        mapping = {c: request.form.get(f"map-{i}", "") for i, c in
                   enumerate(_header_of(confirm.csv_text.data))}
    else:
        flash("Choose a CSV file to upload.", "error")
        return redirect(url_for("console.invitations_page", survey_id=survey.id), code=303)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text, preview = "", campaign.Preview([], {}, problem="The file is not UTF-8 text. Save "
                                             "it from the spreadsheet as 'CSV UTF-8'.")
    else:
        preview = campaign.preview_csv(get_store(), survey, text, mapping)
    if preview.ok and request.form.get("action") == "import":
        if survey.status == "closed":
            flash("The survey is closed; it takes no more invitations.", "error")
        else:
            created = campaign.create_from_preview(get_store(), survey, preview,
                                                   _settings().survey_api_url,
                                                   _settings().secret_key)
            record(get_store(), survey.org_id, "invitations.imported", _actor(),
                   survey_id=survey.id, count=created)
            flash(f"{created} invitations are ready. Send them from the survey page, or "
                  "download their links.", "ok")
            return redirect(url_for("console.survey_page", survey_id=survey.id), code=303)
    form = ImportForm(formdata=None, csv_text=text)
    return render_template("console/preview.html", survey=survey, preview=preview, form=form,
                           targets=campaign.targets(survey),
                           errors_by_row=_errors_by_row(preview)), 200 if preview.ok else 422


def _header_of(text: str) -> list[str]:
    first = next(csv.reader(io.StringIO(text, newline="")), [])
    return [c.strip() for c in first]


def _errors_by_row(preview) -> dict[int, list[dict]]:
    out: dict[int, list[dict]] = {}
    for error in preview.errors:
        out.setdefault(error["row"], []).append(error)
    return out


@bp.route("/console/surveys/<survey_id>/invitations.csv")
@needs("ingest")
def invitations_csv(survey_id):
    survey = _survey(survey_id)
    text = campaign.links_csv(get_store(), survey, _settings().survey_api_url,
                              _settings().secret_key)
    record(get_store(), survey.org_id, "invitations.links_downloaded", _actor(),
           survey_id=survey.id)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="invitation-links-{survey.id}.csv"',
        "Cache-Control": "no-store"})


@bp.route("/console/surveys/<survey_id>/<any(send, remind):what>", methods=["POST"])
@needs("ingest")
def mail_out(survey_id, what):
    survey = _survey(survey_id)
    if ActionForm().validate_on_submit():
        queue = campaign.queue_invitations if what == "send" else campaign.queue_reminders
        try:
            count = queue(get_store(), survey, _settings().survey_api_url,
                          _settings().secret_key)
        except ValueError as exc:
            flash(str(exc), "error")
        else:
            action = "invitations.mailed" if what == "send" else "invitations.reminded"
            record(get_store(), survey.org_id, action, _actor(), survey_id=survey.id,
                   count=count)
            kind = "invitation" if what == "send" else "reminder"
            when = "they go out within a minute." if _settings().smtp_url else \
                "they wait in the outbox until a mail server is set (SMTP_URL)."
            flash(f"{count} {kind} mail{'s' if count != 1 else ''} queued: {when}" if count
                  else f"Nobody is due a{'n' if what == 'send' else ''} {kind} now.", "ok")
    return redirect(url_for("console.survey_page", survey_id=survey.id), code=303)


@bp.route("/console/surveys/<survey_id>/reminders", methods=["POST"])
@needs("ingest")
def reminder_settings(survey_id):
    survey = _survey(survey_id)
    form = ReminderForm()
    if form.validate_on_submit():
        updated = get_store().surveys.update(survey.org_id, survey.id, {"settings": {
            **survey.settings, "reminders": {"max_reminders": form.max_reminders.data,
                                             "min_days_apart": form.min_days_apart.data,
                                             "auto": bool(form.auto.data)}}})
        campaign.schedule_reminders(get_store(), updated)
        flash("Reminder rules saved." + (" Reminders now go out by themselves when due."
                                         if form.auto.data else ""), "ok")
    else:
        flash("Reminders: " + " ".join(e for errs in form.errors.values() for e in errs),
              "error")
    return redirect(url_for("console.survey_page", survey_id=survey.id) + "#mail", code=303)


@bp.route("/s/<token>/opt-out", methods=["GET", "POST"])
def opt_out(token):
    """The link in every invitation mail: a page with one button (a GET alone changes
    nothing, so mail scanners that follow links do not opt people out)."""
    store = get_store()
    invitation = store.invitations.find_by_token_hash(ids.hash_secret(token))
    if invitation is None:
        return render_template("console/message.html", title="This link is not valid",
                               text="Check that the whole link was copied.", public=True), 404
    survey = store.surveys.get_any(invitation.survey_id)
    vendor = (survey.branding or {}).get("vendor_name") or "the sender"
    form = ActionForm()
    if form.validate_on_submit() or invitation.opted_out_at:
        campaign.opt_out(store, invitation)
        return render_template("console/message.html", title="You will get no more e-mails",
                               text=f"about this survey from {vendor}.", public=True)
    return render_template("console/opt_out.html", form=form, vendor=vendor, public=True)


# -- results --------------------------------------------------------------------------------

def _briefs() -> Briefs:
    settings = _settings()
    return Briefs(settings.pdf_url, settings.service_token, current_user.record.org_id)


@bp.route("/console/surveys/<survey_id>/results")
@needs("read")
def results(survey_id):
    survey = _survey(survey_id)
    settings = _settings()
    by = [name for name in request.args.getlist("by") if name in survey.segments
          or name in ("tenure", "size", "role")]
    report = error = None
    try:
        report = fetch_report(settings.scoring_url, settings.service_token, survey.org_id,
                              survey.id, [",".join(by)] if len(by) >= 2 else [],
                              settings.scoring_timeout_seconds)
    except ScoringUnavailable as exc:
        error = exc.message
    chosen, offered = None, []
    if report:
        # The segments the report can cross: those of its own segment keys.
        offered = sorted({name for s in report["segments"] if "=" in s["key"]
                          for name in segment_names_of(s["key"])})
        segments = {s["key"]: s for s in report["segments"]}
        chosen = segments.get(request.args.get("segment", ""), report["overall"])
    try:
        briefs, briefs_error = _briefs().list(survey.id), None
    except BriefsUnavailable as exc:
        briefs, briefs_error = [], exc.message
    briefs.reverse()
    return render_template("console/results.html", survey=survey, report=report, error=error,
                           briefs=briefs, briefs_error=briefs_error, brief_form=BriefForm(),
                           email_form=EmailBriefForm(), action=ActionForm(), by=by,
                           chosen=chosen,
                           segment_names=sorted(survey.segments),
                           share=request.args.get("share"), share_hours=request.args.get(
                               "hours", type=int), offered=offered)


@bp.route("/console/surveys/<survey_id>/briefs", methods=["POST"])
@needs("read")
def brief_new(survey_id):
    survey = _survey(survey_id)
    form = BriefForm()
    if form.validate_on_submit():
        try:
            brief = _briefs().create(survey.id, form.audience.data)
            flash("The brief is ready.", "ok")
            record(get_store(), survey.org_id, "brief.created", _actor(), survey_id=survey.id,
                   brief_id=brief["id"])
        except BriefsUnavailable as exc:
            flash(exc.message, "error")
    return redirect(url_for("console.results", survey_id=survey.id) + "#briefs", code=303)


@bp.route("/console/briefs/<brief_id>.pdf")
@needs("read")
def brief_pdf(brief_id):
    try:
        pdf = _briefs().pdf(brief_id)
    except BriefsUnavailable:
        abort(404)
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="brief-{brief_id}.pdf"'})


@bp.route("/console/surveys/<survey_id>/briefs/<brief_id>/<any(share, email):what>",
          methods=["POST"])
@needs("read")
def brief_action(survey_id, brief_id, what):
    survey = _survey(survey_id)
    target = url_for("console.results", survey_id=survey.id)
    form = EmailBriefForm() if what == "email" else ActionForm()
    if not form.validate_on_submit():
        flash("Enter one e-mail address to send the brief to.", "error")
        return redirect(target + "#briefs", code=303)
    try:
        if what == "share":
            link = _briefs().share(brief_id)
            return redirect(url_for("console.results", survey_id=survey.id,
                                    share=link["url"], hours=link["expires_in_hours"])
                            + "#briefs", code=303)
        _briefs().email(brief_id, form.to.data.strip())
        record(get_store(), survey.org_id, "brief.emailed", _actor(), brief_id=brief_id)
        flash(f"The brief is on its way to {form.to.data.strip()}.", "ok")
    except BriefsUnavailable as exc:
        flash(exc.message, "error")
    return redirect(target + "#briefs", code=303)


# -- the organization -------------------------------------------------------------------------

@bp.route("/console/audit")
@needs("admin")
def audit_log():
    return render_template("console/audit.html",
                           events=get_store().audit.list(current_user.record.org_id, limit=200))


@bp.route("/console/keys", methods=["GET", "POST"])
@needs("admin")
def keys():
    org_id = current_user.record.org_id
    form, plaintext = KeyForm(), None
    if form.validate_on_submit():
        _, plaintext = create_key(get_store(), org_id, form.name.data.strip(),
                                  [form.scope.data], actor=_actor())
        form = KeyForm(formdata=None)  # an empty form for the next key
    return render_template("console/keys.html", form=form, plaintext=plaintext,
                           keys=get_store().api_keys.list(org_id), action=ActionForm())


@bp.route("/console/keys/<key_id>/revoke", methods=["POST"])
@needs("admin")
def key_revoke(key_id):
    if ActionForm().validate_on_submit():
        key = revoke_key(get_store(), current_user.record.org_id, key_id, actor=_actor())
        if key is None:
            abort(404)
        flash(f"The key {key.prefix}… is revoked: it stops working at once.", "ok")
    return redirect(url_for("console.keys"), code=303)


@bp.route("/console/users", methods=["GET", "POST"])
@needs("admin")
def people():
    org_id = current_user.record.org_id
    form, password = UserForm(), None
    if form.validate_on_submit():
        password = users.generate_password()
        try:
            users.create_user(get_store(), org_id, form.email.data, form.name.data or "",
                              form.role.data, password, actor=_actor())
        except (AlreadyExists, ValueError) as exc:
            form.email.errors.append(str(exc))
            password = None
    email = form.email.data if password else None
    if password:
        form = UserForm(formdata=None)
    return render_template("console/users.html", form=form, password=password,
                           people=get_store().console_users.list(org_id),
                           roles=users.ROLE_TEXT, email=email)
