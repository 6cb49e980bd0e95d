"""The console's forms (flask-wtf: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, HiddenField, IntegerField, PasswordField, SelectField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, Regexp

from shared.instrument_languages import language_name

from ..surveys.schemas import TITLE_LENGTH

from .users import EMAIL, MIN_PASSWORD, ROLE_TEXT

EMAIL_CHECK = Regexp(EMAIL, message="Enter an e-mail address such as ana@example.com.")


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class SignInForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class ResetRequestForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254), EMAIL_CHECK])


class NewPasswordForm(FlaskForm):
    password = PasswordField(f"New password (at least {MIN_PASSWORD} characters)",
                             validators=[DataRequired(), Length(min=MIN_PASSWORD, max=200)])


class SurveyDetailsForm(FlaskForm):
    """What people read: asked when a survey is created and correctable at any time after."""

    name = StringField("Internal name", validators=[DataRequired(), Length(max=200)],
                       description="Only your team sees this.")
    public_title = StringField("Title respondents see", validators=[
        Optional(), Length(max=120, message=TITLE_LENGTH.format(max=120))])
    vendor_name = StringField("Your company's name", validators=[DataRequired(), Length(max=100)],
                              description="Shown on every page of the survey and in the mails.")
    accent_color = StringField("Brand colour", default="#1f5fbf", validators=[
        DataRequired(), Regexp(r"^#[0-9a-fA-F]{6}$", message="Use a #rrggbb colour.")])
    logo_url = StringField("Logo URL (https)", validators=[
        Optional(), Length(max=500), URL(require_tld=False, message="Enter a full https:// URL."),
        Regexp(r"^https://", message="The logo must be served over https.")])
    contact_email = StringField("Contact e-mail for respondents",
                                validators=[Optional(), Length(max=254), EMAIL_CHECK])
    privacy_url = StringField("Privacy notice URL", validators=[
        Optional(), Length(max=500), URL(require_tld=False, message="Enter a full URL.")])


# The branding fields of SurveyDetailsForm (besides the titles in further languages).
BRANDING_FIELDS = ("vendor_name", "accent_color", "public_title", "logo_url", "contact_email",
                   "privacy_url")


class SurveyForm(SurveyDetailsForm):
    """A new survey: its details, and what its scores depend on (fixed once it is open)."""

    segments = TextAreaField(
        "Your own segments (optional)", validators=[Optional(), Length(max=2000)],
        description="One per line as name: value, value. For example region: emea, americas, "
                    "apac. Tenure, company size and role are built in.")
    anonymous_link = BooleanField("Also allow an anonymous link (anyone with it can answer)")


def title_field(language: str) -> str:
    return "public_title_" + language.replace("-", "_")


def survey_form(title_languages: list[str], form_class: type[SurveyDetailsForm] = SurveyForm,
                data: dict | None = None) -> SurveyDetailsForm:
    """The survey form (or only its details) with a field for the public title in each further
    language the customer instrument offers (checked like the API's
    branding.public_title_translations); data: the values shown before anything is sent."""
    form_class = type("Translated" + form_class.__name__, (form_class,), {})
    for language in title_languages:
        setattr(form_class, title_field(language), StringField(
            f"Title respondents see in {language_name(language)} ({language})",
            validators=[Optional()]))
    return form_class(data=data)


class UploadForm(FlaskForm):
    file = FileField("The CRM's export (CSV, UTF-8)", validators=[FileRequired()])


class ImportForm(FlaskForm):
    """The checked CSV travels back with the chosen column mapping: nothing is stored
    before the person confirms."""

    csv_text = HiddenField()


class ReminderForm(FlaskForm):
    max_reminders = IntegerField("Reminders at most", validators=[NumberRange(0, 5)])
    min_days_apart = IntegerField("Days between mails, at least", validators=[NumberRange(0, 60)])
    auto = BooleanField("Send them automatically when due (checked daily)")


class UserForm(FlaskForm):
    email = StringField("E-mail", validators=[DataRequired(), Length(max=254), EMAIL_CHECK])
    name = StringField("Name", validators=[Optional(), Length(max=200)])
    role = SelectField("Role", choices=[SelectChoice(role, text)
                                        for role, text in ROLE_TEXT.items()])


class KeyForm(FlaskForm):
    name = StringField("What the key is for", validators=[DataRequired(), Length(max=100)])
    scope = SelectField("Scope", choices=[
        SelectChoice("read", "read: reports, briefs, data"),
        SelectChoice("ingest", "ingest: post responses and invitations"),
        SelectChoice("admin", "admin: everything")])


class BriefForm(FlaskForm):
    audience = SelectField("Written for", choices=[
        SelectChoice("board", "the board"), SelectChoice("leadership", "the leadership team"),
        SelectChoice("sales", "sales leadership"),
        SelectChoice("marketing", "marketing leadership")])


class EmailBriefForm(FlaskForm):
    to = StringField("Send to", validators=[DataRequired(), Length(max=254), EMAIL_CHECK])
