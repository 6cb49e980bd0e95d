"""Admin commands: `flask --app survey_api <command>` (see `--help`)."""

from __future__ import annotations

import time
from pathlib import Path

import click
from flask import Flask, current_app
from tqdm import tqdm

from shared.keys import SCOPES
from shared.storage import AlreadyExists, open_store, shown_store_url
from shared.extensions import get_store

from . import rebuild
from .accounts import domain as accounts
from .demo import DEMO_CONSOLE_EMAIL, seed_console_user, seed_demo
from shared.errors import DomainError
from .instruments import install_builtin
from .responses.importer import import_csv


def _store():
    """The store the services use (STORE_URL; by default var/survey.db in the project, as for
    `make run`), named on stderr so that what a command prints stays usable in scripts."""
    click.echo(f"store: {shown_store_url(current_app.config['SETTINGS'].store_url)}", err=True)
    return get_store()


def register(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db():
        """Create the schema, collections, indexes and (on a mongos) shard keys, and install
        the built-in instruments. The services only check that this was done."""
        settings = app.config["SETTINGS"]
        click.echo(f"store: {shown_store_url(settings.store_url)}", err=True)
        # Its own store: the services' get_store() refuses a store that is not initialised.
        store = open_store(settings.store_url, timeout_ms=settings.mongodb_timeout_ms,
                           production=settings.is_production)
        try:
            for step in store.initialize():
                click.echo(step)
            added = install_builtin(store)
        finally:
            store.close()
        click.echo(f"store ready ({shown_store_url(settings.store_url)}); "
                   f"{len(added)} built-in instrument version(s) added")

    @app.cli.command("fold-counters")
    @click.option("--every", type=float, default=0, show_default=True,
                  help="Keep folding every this many seconds (a dedicated folder process).")
    def fold_counters(every):
        """Fold responses still pending into the counters (MongoDB; the survey_api workers
        also do it every COUNTER_FOLD_SECONDS, which a large deployment sets to 0 in favour of
        one process running this with --every)."""
        store = get_store()
        while True:
            click.echo(f"{store.aggregates.fold_pending()} response(s) folded")
            if every <= 0:
                return
            time.sleep(every)

    @app.cli.command("create-org")
    @click.argument("name")
    def create_org(name):
        """Create an organization and print its id."""
        try:
            org = accounts.create_organization(_store(), name)
        except (AlreadyExists, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(org.id)

    @app.cli.command("issue-key")
    @click.argument("org_id")
    @click.option("--name", default="api key", show_default=True)
    @click.option("--scope", "scopes", multiple=True, type=click.Choice(SCOPES), required=True,
                  help="Repeat for several scopes.")
    def issue_key(org_id, name, scopes):
        """Issue an API key. It is printed once and never stored in the clear."""
        try:
            key, plaintext = accounts.create_key(_store(), org_id, name, list(scopes))
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"key id: {key.id}")
        click.echo(f"key:    {plaintext}   (shown once: store it now)")

    @app.cli.command("revoke-key")
    @click.argument("org_id")
    @click.argument("key_id")
    def revoke_key(org_id, key_id):
        """Revoke an API key at once."""
        key = accounts.revoke_key(_store(), org_id, key_id)
        if key is None:
            raise click.ClickException(f"no key {key_id} in organization {org_id}")
        click.echo(f"revoked {key.id} at {key.revoked_at}")

    @app.cli.command("import-responses")
    @click.argument("survey_id")
    @click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--instrument", type=click.Choice(["customer", "vendor"]), default="customer",
                  show_default=True)
    @click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path),
                  help="Where rejected rows and their reasons go [CSV_FILE.rejects.csv]")
    @click.option("--batch-size", default=500, show_default=True)
    @click.option("--restart", is_flag=True, help="Ignore the checkpoint of an earlier run.")
    def import_responses(survey_id, csv_file, instrument, rejects, batch_size, restart):
        """Import historical responses from CSV (the export's format). Re-running resumes
        where the last run stopped; rows already stored are recognised by submission id."""
        store = _store()
        survey = store.surveys.get_any(survey_id)
        if survey is None:
            raise click.ClickException(f"no survey {survey_id}")
        rejects = rejects or csv_file.with_name(csv_file.name + ".rejects.csv")
        checkpoint = csv_file.with_name(csv_file.name + ".checkpoint")
        if restart:
            checkpoint.unlink(missing_ok=True)
        with csv_file.open("rb") as counting:
            total = max(0, sum(1 for _ in counting) - 1)
        try:
            with tqdm(total=total, unit="row", desc="importing") as bar:
                if checkpoint.exists():
                    bar.update(int(checkpoint.read_text()))
                summary = import_csv(store, survey, csv_file, kind=instrument,
                                     rejects_path=rejects, checkpoint_path=checkpoint,
                                     batch_size=batch_size, progress=bar.update)
        except DomainError as exc:
            raise click.ClickException(exc.message) from None
        checkpoint.unlink(missing_ok=True)
        click.echo(f"{summary.created} created, {summary.duplicate} already stored, "
                   f"{summary.conflict} conflicting, {summary.rejected} rejected"
                   + (f", {summary.skipped} done by an earlier run" if summary.skipped else ""))
        if summary.rejected or summary.conflict:
            click.echo(f"reasons for rejected rows: {rejects}")

    @app.cli.command("rebuild")
    @click.argument("survey_id")
    @click.option("--check", is_flag=True, help="Compare only; write nothing.")
    def rebuild_command(survey_id, check):
        """Recompute a survey's per-cell counters from its stored responses (and its invitation
        tally from its invitations) and compare them with the live ones; replace the live ones
        if they differ (unless --check)."""
        store = _store()
        survey = store.surveys.get_any(survey_id)
        if survey is None:
            raise click.ClickException(f"no survey {survey_id}")
        with tqdm(total=store.responses.count(survey.id), unit="response",
                  desc="recounting") as bar:
            result = (rebuild.recompute if check else rebuild.rebuild)(store, survey, bar.update)
        if result.matches:
            click.echo(f"{result.responses} responses: the live counters match a recount.")
            return
        click.echo(f"{result.responses} responses: {len(result.differences)} counter(s) "
                   "differed from a recount:")
        for cell, counter, live, recount in result.differences[:20]:
            click.echo(f"  {cell}  {counter}: live {live}, recount {recount}")
        if result.tally_differences:
            click.echo(f"{len(result.tally_differences)} invitation tally row(s) differed "
                       "from a recount:")
            for attributes, status, live, recount in result.tally_differences[:20]:
                click.echo(f"  {attributes} {status}: live {live}, recount {recount}")
        if check:
            raise click.ClickException("counters differ (run without --check to repair)")
        click.echo("The live counters were replaced by the recount.")

    @app.cli.command("seed-demo")
    @click.option("--key-file", default="var/demo-api-key", show_default=True)
    @click.option("--login-file", default="var/demo-console-login", show_default=True)
    def seed_demo_command(key_file, login_file):
        """Load the demo organization, key, console admin and survey (idempotent) and print
        them."""
        if app.config["SETTINGS"].is_production:
            # An admin key written to a file is a development convenience, never a deployment's.
            raise click.ClickException("seed-demo is for development: production gets no demo "
                                       "organization or key (use create-org and issue-key).")
        store = _store()
        demo = seed_demo(store, Path(key_file))
        password = seed_console_user(store, demo.org_id, Path(login_file))
        settings = app.config["SETTINGS"]
        click.echo(("created" if demo.created else "found") + " the demo organization")
        click.echo(f"  organization: {demo.org_id}")
        click.echo(f"  survey:       {demo.survey_id}")
        click.echo(f"  API key:      {demo.api_key}")
        click.echo(f"  console:      {settings.survey_api_url}/  (sign in as {DEMO_CONSOLE_EMAIL}, "
                   f"password {password})")
        click.echo(f"  survey API:   {settings.survey_api_url}/docs")
        click.echo(f"  scoring:      {settings.scoring_url}/docs")
        click.echo(f"  briefs:       {settings.pdf_url}/docs")
