"""The respondents' web pages: server-rendered, one section per page, working without
JavaScript (which only adds a character counter and a slider).

Three kinds of link lead here:
  /s/<token>      an invitation: single-use, carries segment attributes (not asked again;
                  the survey's custom segments it does not carry are asked on the first page)
  /a/<survey_id>  the anonymous link, when the survey allows it (rate-limited)
  /staff/<token>  the vendor-staff self-assessment link (a signed token per survey)

Every page saves: answers are stored as a partial response (not scored) on each Next or Back,
so reopening the link resumes; the response counts once the last page is submitted. Which pages
and questions show depends on the answers so far (display conditions, see shared/instruments.py):
pages are recomputed from the saved answers on every request and named by a stable key, and an
answer that a changed earlier answer now hides is dropped.

Duplicate protection on anonymous links: a signed cookie remembers the draft and the
completion, and a fingerprint (keyed hash of survey, client address, user agent and language)
marks a completed response. Its limits: someone who clears cookies and changes network can
answer twice; two people behind one address with identical browsers look like one (the second
sees "already answered"). Invitations are the way to exactly-once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as pysecrets

from flask import (Blueprint, abort, current_app, redirect, render_template, request, session,
                   url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import refresh as refresh_language
from flask_wtf.csrf import CSRFError, generate_csrf, validate_csrf

from shared import ids
from shared.instrument_languages import (choose_language, localized_instrument,
                                         offered_languages, text_direction)
from shared.instruments import validator_for
from shared.extensions import get_store

from shared.errors import Invalid
from ..invitations.domain import is_expired
from ..responses.domain import context_for, ingest_prepared, prepare
from . import domain

bp = Blueprint("forms", __name__, template_folder="../templates",
               static_folder="../static", static_url_path="/static/forms")

# The pages load only their own stylesheet and script; the inline styles are the accent colour
# (validated #rrggbb) and the progress bar's width. No page may be framed (clickjacking).
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self' "
                           "'unsafe-inline'; img-src 'self'; form-action 'self'; "
                           "base-uri 'none'; frame-ancestors 'none'")


@bp.after_request
def page_security_headers(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response

# The languages the pages' own words (buttons, errors, status pages) are translated into;
# an instrument may offer more, whose questions then show with these words in English.
PAGE_LANGUAGES = ("en", "de", "fr")
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español",
                  "it": "Italiano", "nl": "Nederlands", "pt": "Português", "ar": "العربية"}


def page_language() -> str:
    """Flask-Babel's locale: the language chosen for this page, else the browser's."""
    chosen = getattr(request, "form_language", None)  # per request (g may outlive one in tests)
    if chosen:
        return chosen if chosen in PAGE_LANGUAGES else "en"
    return choose_language(list(PAGE_LANGUAGES), None, request.headers.get("Accept-Language"))


@bp.before_request
def forget_earlier_language():
    refresh_language()  # Flask-Babel keeps the locale on the app context, which may be shared


@bp.context_processor
def page_context():
    return {"current_language": str(get_locale() or "en")}


def _use_language(language: str) -> None:
    request.form_language = language
    refresh_language()  # flask-babel remembers the locale per request once asked


def _status_page(status: int, title: str, text: str, survey=None, language: str | None = None):
    if language:
        _use_language(choose_language(list(PAGE_LANGUAGES), language,
                                      request.headers.get("Accept-Language")))
    return render_template("forms/status.html", title=title, text=text,
                           brand=_brand(survey)), status


def _brand(survey, kind: str = "customer") -> dict:
    """Who is asking, as respondents see it: the vendor's name (the organization's when the
    survey sets none), the public title (never the internal survey name) and how to reach them."""
    branding = (survey.branding if survey else {}) or {}
    accent = branding.get("accent_color") or "#1f5fbf"
    vendor = branding.get("vendor_name") or (_organization_name(survey) if survey else "")
    return {"vendor": vendor, "accent": accent, "on_accent": domain.readable_text_color(accent),
            "title": domain.public_title(branding, kind, vendor, _,
                                         getattr(request, "form_language", None))
            if survey else "",
            "kind": kind, **{k: branding.get(k) for k in domain.CONTACT_FIELDS}}


def _organization_name(survey) -> str:
    organization = get_store().organizations.get(survey.org_id)
    return organization.name if organization else ""


def _survey_state_page(survey):
    if survey.status == "closed":
        return _status_page(410, _("This survey has closed"),
                            _("Thank you for your interest. It no longer takes answers."), survey)
    if survey.status != "open":
        return _status_page(404, _("This survey is not open yet"),
                            _("Please try the link again later."), survey)
    return None


# -- the three kinds of link --------------------------------------------------------------

@bp.route("/s/<token>", methods=["GET", "POST"])
def invitation_link(token):
    store = get_store()
    invitation = store.invitations.find_by_token_hash(ids.hash_secret(token))
    if invitation is None:
        return _status_page(404, _("This link is not valid"),
                            _("Check that the whole link was copied, or ask the sender for a new "
                              "one."))
    survey = store.surveys.get_any(invitation.survey_id)
    if invitation.language:  # the status pages too speak the invitation's language
        _use_language(choose_language(list(PAGE_LANGUAGES), invitation.language, None))
    if invitation.status == "revoked":
        return _status_page(410, _("This link has been withdrawn"),
                            _("The sender has cancelled it. Nothing more is needed from you."),
                            survey)
    if invitation.status == "completed":
        return _status_page(200, _("You have already answered"),
                            _("Your answers are in. Thank you for your time."), survey)
    if is_expired(invitation):
        return _status_page(410, _("This link has expired"),
                            _("Invitations work for a limited time. Ask the sender for a new one "
                              "if you would still like to answer."), survey)
    problem = _survey_state_page(survey)
    if problem:
        return problem
    return _form(survey, "customer", f"web-{invitation.id}", invitation=invitation,
                 self_url=url_for("forms.invitation_link", token=token))


@bp.route("/a/<survey_id>", methods=["GET", "POST"])
def anonymous_link(survey_id):
    survey = get_store().surveys.get_any(survey_id)
    if survey is None or not (survey.settings.get("anonymous_link")
                              or survey.settings.get("anonymous_link_closed_at")):
        return _status_page(404, _("This link is not valid"),
                            _("The survey may not take anonymous answers. Ask the sender."))
    if not survey.settings.get("anonymous_link"):
        return _status_page(410, _("This open link is closed"),
                            _("The survey no longer takes answers through this link. If you were "
                              "asked to answer, ask the sender for a personal link."), survey)
    problem = _survey_state_page(survey)
    if problem:
        return problem
    fingerprint = _fingerprint(survey.id)
    if session.get(f"done:{survey.id}") or _completed_before(survey, fingerprint):
        return _status_page(200, _("You have already answered"),
                            _("Answers from this browser are in. Thank you for your time."),
                            survey)
    key = f"draft:{survey.id}"
    session.setdefault(key, "anon-" + pysecrets.token_urlsafe(16))
    session.permanent = True
    return _form(survey, "customer", session[key], fingerprint=fingerprint,
                 self_url=url_for("forms.anonymous_link", survey_id=survey.id))


@bp.route("/staff/<token>", methods=["GET", "POST"])
def staff_link(token):
    found = domain.read_staff_token(current_app.config["SECRET_KEY"], token)
    if found is None:  # forged, cut short, or a signed payload of another shape
        return _status_page(404, _("This link is not valid"),
                            _("Check that the whole link was copied."))
    survey_id, link_id = found
    survey = get_store().surveys.get_any(survey_id)
    if survey is None:
        return _status_page(404, _("This link is not valid"), _("The survey no longer exists."))
    state = domain.staff_link_state(survey, link_id)
    if state != "valid":
        return _status_page(410, _("This link is no longer valid"),
                            _("It has been replaced by a newer link. Ask the survey's owner for "
                              "the current one.") if state == "replaced" else
                            _("Staff links work for a limited time. Ask the survey's owner for "
                              "the current one."), survey)
    problem = _survey_state_page(survey)
    if problem:
        return problem
    if session.get(f"done:staff:{survey.id}"):  # one self-assessment per browser
        return _status_page(200, _("You have already answered"),
                            _("Your self-assessment is in. Thank you."), survey)
    cap = survey.settings.get("staff_response_cap", domain.STAFF_RESPONSE_CAP)
    staff_answers = get_store().responses.list(survey.org_id, survey.id, limit=cap, filters={
        "instrument": "vendor", "source": "web", "complete": True})
    if len(staff_answers.items) >= cap:
        return _status_page(410, _("This self-assessment is complete"),
                            _("It has the %(cap)s staff answers it was set up for. Thank you.",
                              cap=cap),
                            survey)
    key = f"draft:staff:{survey.id}"
    session.setdefault(key, "staff-" + pysecrets.token_urlsafe(16))
    session.permanent = True
    return _form(survey, "vendor", session[key],
                 self_url=url_for("forms.staff_link", token=token))


@bp.route("/thanks")
def thanks():
    _use_language(session.get("thanks_language") or page_language())
    brand = session.get("thanks_brand") or _brand(None)
    return render_template("forms/thanks.html", title=_("Thank you"), brand=brand,
                           next_steps=domain.next_steps(brand, _))


@bp.errorhandler(CSRFError)
def csrf_error(error):
    return _status_page(400, _("This page had expired"),
                        _("For your security the form could not be sent. Go back, reload the "
                          "page and try again: your earlier answers are saved."))


# -- the form itself ----------------------------------------------------------------------

def _fingerprint(survey_id: str) -> str:
    raw = "|".join([survey_id, request.remote_addr or "", request.headers.get("User-Agent", ""),
                    request.headers.get("Accept-Language", "")])
    return hmac.new(current_app.config["SECRET_KEY"].encode(), raw.encode(),
                    hashlib.sha256).hexdigest()[:32]


def _completed_before(survey, fingerprint: str) -> bool:
    page = get_store().responses.list(survey.org_id, survey.id, limit=1, filters={
        "fingerprint": fingerprint, "complete": True})
    return bool(page.items)


def _form(survey, kind: str, submission_id: str, *, self_url: str, invitation=None,
          fingerprint=None):
    store = get_store()
    ctx = context_for(store, survey)
    instrument = ctx.instruments[kind]
    validator = validator_for(instrument)
    offered = offered_languages(instrument.definition)
    language = _form_language(offered, submission_id, invitation)
    _use_language(language)
    definition = localized_instrument(instrument, language)
    known = dict(invitation.attributes) if invitation else {}
    segments = domain.custom_segments(survey.segments, ctx.segment_names[kind], ctx.asked[kind],
                                      known)
    draft = store.responses.find_by_submission(survey.id, submission_id)
    answers = dict(draft.answers) if draft else {}
    chosen = {s["name"]: draft.attributes[s["name"]] for s in segments
              if draft and s["name"] in draft.attributes}
    brand = _brand(survey, kind)
    vendor = brand["vendor"]

    def pages_now():
        return domain.pages_for(definition, known, validator.hidden(answers), segments)

    def save(complete: bool):
        item = {"submission_id": submission_id, "instrument": kind, "answers": answers,
                "complete": complete, "attributes": dict(chosen), "language": language}
        if invitation:
            item["invitation_id"] = invitation.id
        ingest_prepared(ctx, [prepare(ctx, item, "web", fingerprint=fingerprint)])

    def number_of(key: str, pages, fallback: int) -> int:
        return next((p.number for p in pages if p.key == key), fallback)

    errors: list[dict] = []
    welcome_back = False
    pages = pages_now()
    shown_answers = answers
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except Exception:  # a missing, stale or forged token
            raise CSRFError()
        number = _page_number(request.form.get("page"), len(pages))
        page = pages[number - 1]
        typed, read_errors = domain.read_page(page.questions, request.form, page.segments, _)
        going_back = request.form.get("action") == "back"
        others = {k: v for k, v in answers.items()
                  if k not in {q["id"] for q in page.questions}}
        clean, check_errors = domain.check_page(instrument, page.questions, typed,
                                                enforce_required=not going_back,
                                                context=others, segments=page.segments, _=_)
        errors = read_errors + [e for e in check_errors
                                if e["field"] not in {r["field"] for r in read_errors}]
        answers = domain.visible_answers(instrument, {**others, **clean})
        for segment in page.segments:
            value = typed.get(f"segment:{segment['name']}")
            if value:
                chosen[segment["name"]] = value
            else:
                chosen.pop(segment["name"], None)
        after = pages_now()
        position = number_of(page.key, after, number)
        if going_back:
            save(False)
            return redirect(f"{self_url}?page={max(1, position - 1)}", code=303)
        if not errors:
            last = position >= len(after)
            try:
                save(complete=last)
            except Invalid as exc:  # e.g. a required question on an earlier page
                first = exc.errors[0]["field"].split(".", 1)[-1]
                target = next((p.number for p in after
                               if any(q["id"] == first for q in p.questions)), 1)
                return redirect(f"{self_url}?page={target}&incomplete=1", code=303)
            if last:
                session[f"done:{'staff:' if kind == 'vendor' else ''}{survey.id}"] = True
                session["thanks_brand"] = brand
                session["thanks_language"] = language
                return redirect(url_for("forms.thanks"), code=303)
            return redirect(f"{self_url}?page={position + 1}", code=303)
        shown_answers = {**answers, **{k: v for k, v in typed.items() if v is not None}}
        pages = after
        shown = next((p for p in after if p.key == page.key), page)
    else:
        requested = request.args.get("page")
        if requested:
            number = _page_number(requested, len(pages))
        else:
            number = domain.resume_page(pages, answers, {**known, **chosen})
            welcome_back = bool(draft and (draft.answers or chosen))
        shown = pages[number - 1]
        if request.args.get("incomplete"):
            errors = domain.check_page(instrument, shown.questions, answers,
                                       enforce_required=True, context=answers,
                                       segments=shown.segments, _=_)[1]
    status = 422 if errors else 200
    text = lambda t: domain.with_vendor(t, vendor)  # noqa: E731
    question_text = {q["id"]: text(q["text"]) for q in shown.questions}
    question_text.update({f"segment__{s['name']}": domain.segment_question(s, _)
                          for s in shown.segments})
    return render_template(
        "forms/page.html", brand=brand, page=shown, pages=pages, answers=shown_answers,
        chosen_segments=chosen, errors=errors, kind=kind,
        error_for={e["field"]: e["reason"] for e in errors}, vendor=vendor,
        question_text=question_text, text=text, csrf_token=generate_csrf(),
        action_url=self_url, intro=text(definition.get("intro", "")),
        blocks=domain.layout(shown.questions), welcome_back=welcome_back,
        rank_from=domain.rank_sources(shown.questions),
        minutes_left=domain.minutes_left(instrument, pages, shown.number, answers),
        page_count=domain.expected_page_count(definition, pages, answers, known),
        who_sees=domain.who_sees(kind, vendor, _), options_for=lambda q: domain.options_for(
            q, shown_answers), segment_question=lambda s: domain.segment_question(s, _),
        language=language, direction=text_direction(language),
        switch_url=lambda code: f"{self_url}?page={shown.number}&lang={code}",
        languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in offered]
        if len(offered) > 1 else [],
        segment_label=domain.segment_label, ranks=domain._ranks), status


def _form_language(offered: list[str], submission_id: str, invitation) -> str:
    """The respondent's switch (?lang=, remembered for this response), else the invitation's
    language, else the browser's preference among those the instrument offers, else its
    default. Saved answers are codes, so switching never loses any."""
    key = f"lang:{submission_id}"
    switched = request.args.get("lang")
    if switched in offered:
        session[key] = switched
    wanted = session.get(key) or (invitation.language if invitation else None)
    return choose_language(offered, wanted, request.headers.get("Accept-Language"))


def _page_number(raw, count: int) -> int:
    try:
        number = int(raw)
    except (TypeError, ValueError):
        abort(400)
    return min(max(1, number), count)

