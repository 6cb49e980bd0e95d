"""Admin commands: `flask --app survey_api <command>` (see `--help`)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask

from shared.auth import SCOPES
from shared.storage import AlreadyExists
from shared.web import get_store

from .accounts import domain as accounts
from .demo import seed_demo
from .instruments import install_builtin


def register(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db():
        """Create the schema (or indexes) and install the built-in instruments."""
        store = get_store()
        added = install_builtin(store)
        click.echo(f"store ready ({app.config['SETTINGS'].store_url}); "
                   f"{len(added)} built-in instrument version(s) added")

    @app.cli.command("create-org")
    @click.argument("name")
    def create_org(name):
        """Create an organization and print its id."""
        try:
            org = accounts.create_organization(get_store(), name)
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
            key, plaintext = accounts.create_key(get_store(), org_id, name, list(scopes))
        except LookupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"key id: {key.id}")
        click.echo(f"key:    {plaintext}   (shown once: store it now)")

    @app.cli.command("revoke-key")
    @click.argument("org_id")
    @click.argument("key_id")
    def revoke_key(org_id, key_id):
        """Revoke an API key at once."""
        key = accounts.revoke_key(get_store(), org_id, key_id)
        if key is None:
            raise click.ClickException(f"no key {key_id} in organization {org_id}")
        click.echo(f"revoked {key.id} at {key.revoked_at}")

    @app.cli.command("seed-demo")
    @click.option("--key-file", default="var/demo-api-key", show_default=True)
    def seed_demo_command(key_file):
        """Load the demo organization, key and survey (idempotent) and print them."""
        demo = seed_demo(get_store(), Path(key_file))
        settings = app.config["SETTINGS"]
        click.echo(("created" if demo.created else "found") + " the demo organization")
        click.echo(f"  organization: {demo.org_id}")
        click.echo(f"  survey:       {demo.survey_id}")
        click.echo(f"  API key:      {demo.api_key}")
        click.echo(f"  survey API:   {settings.survey_api_url}/docs")
        click.echo(f"  scoring:      {settings.scoring_url}/docs")
        click.echo(f"  briefs:       {settings.pdf_url}/docs")
