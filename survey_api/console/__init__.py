"""The vendor's console: server-rendered pages for the survey owner (sign-in, surveys,
invitations and their mails, progress, results and briefs, keys, users, the audit log)."""

from __future__ import annotations

import threading

import click
from flask import Flask, current_app, request
from flask_login import LoginManager
from flask_wtf.csrf import generate_csrf

from shared.storage import AlreadyExists
from shared.extensions import get_store
from shared.web import service_pages

from . import campaign, users
from .mailer import send_due, start_sender


def register(app: Flask) -> None:
    from .routes import Person, bp

    login = LoginManager(app)
    login.login_view = "console.sign_in"
    login.login_message = "Sign in to see that page."
    login.login_message_category = "info"
    login.session_protection = "basic"

    @login.user_loader
    def load_user(value):
        record = users.user_for_session(get_store(), value)
        return Person(record) if record else None

    app.register_blueprint(bp)

    @app.context_processor
    def console_context():
        return {"csrf_token": generate_csrf,
                "docs_links": [(f"{page['title']} docs", f"{page['url']}/docs")
                               for page in service_pages(current_app.config["SETTINGS"])]}

    @app.after_request
    def note_opened_invitation(response):
        # The respondent form lives in forms/; the console only notes the first open of an
        # invitation link (a page shown, not an error) for its progress counts.
        if request.endpoint == "forms.invitation_link" and request.method == "GET" and \
                response.status_code == 200:
            from shared import ids
            invitation = get_store().invitations.find_by_token_hash(
                ids.hash_secret(request.view_args["token"]))
            if invitation is not None:
                campaign.mark_opened(get_store(), invitation)
        return response

    _start_mail_sender_after_fork(app)
    _register_cli(app)


def _start_mail_sender_after_fork(app: Flask) -> None:
    """As the webhook dispatcher: started with the first request inside the serving process."""
    settings = app.config["SETTINGS"]
    if settings.mail_poll_seconds <= 0 or not settings.smtp_url:
        return
    lock = threading.Lock()

    @app.before_request
    def ensure_mail_sender():
        if "mail_sender" in app.extensions:
            return
        with lock:
            if "mail_sender" not in app.extensions:
                stop = threading.Event()

                def store():
                    with app.app_context():
                        return get_store()

                app.extensions["mail_sender"] = (start_sender(
                    store, settings.smtp_url, settings.mail_from, settings.mail_poll_seconds,
                    stop, run_job=reminder_runner(settings)), stop)


def reminder_runner(settings):
    """The outbox's scheduled reminder jobs, run with this install's links."""
    def run(store, job, now):
        campaign.run_reminder_job(store, job, settings.survey_api_url, settings.secret_key, now)
    return run


def _register_cli(app: Flask) -> None:
    @app.cli.command("create-user")
    @click.argument("org_id")
    @click.argument("email")
    @click.option("--name", default="", help="The person's name [the e-mail address]")
    @click.option("--role", type=click.Choice(list(users.ROLES)), default="admin",
                  show_default=True)
    @click.option("--password", default=None,
                  help="Omit to have one generated and printed once.")
    def create_user(org_id, email, name, role, password):
        """Create a console user (the first admin of an organization, say)."""
        generated = password is None
        password = password or users.generate_password()
        try:
            user = users.create_user(get_store(), org_id, email, name, role, password)
        except (AlreadyExists, LookupError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"user id:  {user.id}")
        click.echo(f"sign in:  {app.config['SETTINGS'].survey_api_url}/console/sign-in")
        if generated:
            click.echo(f"password: {password}   (shown once)")

    @app.cli.command("send-mail")
    def send_mail():
        """Send the outbox's due mails now (the server also sends them every few seconds)."""
        settings = app.config["SETTINGS"]
        if not settings.smtp_url:
            raise click.ClickException("SMTP_URL is not set: there is no mail server to use.")
        total = 0
        while True:
            attempted = send_due(get_store(), settings.smtp_url, settings.mail_from,
                                 run_job=reminder_runner(settings))
            if not attempted:
                break
            total += attempted
        click.echo(f"{total} mail(s) attempted")

    @app.cli.command("send-reminders")
    @click.argument("survey_id")
    def send_reminders(survey_id):
        """Queue reminders for a survey by its rules (run it from cron for a schedule)."""
        store = get_store()
        survey = store.surveys.get_any(survey_id)
        if survey is None:
            raise click.ClickException(f"no survey {survey_id}")
        settings = app.config["SETTINGS"]
        try:
            count = campaign.queue_reminders(store, survey, settings.survey_api_url,
                                             settings.secret_key)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"{count} reminder(s) queued")
