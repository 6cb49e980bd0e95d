"""Configuration, read from the environment only.

Every setting has one place here, with its environment variable and default; the README's
configuration table mirrors this file. In production (APP_ENV=production) secrets have no
defaults: a missing one stops the service at start-up with a message naming the variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Mapping


class ConfigError(RuntimeError):
    """The environment does not describe a runnable service."""


# Used only outside production, so a developer can start everything with no set-up.
_DEV_SECRET = "dev-only-secret-not-for-production"


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    store_url: str = "sqlite:///var/survey.db"
    secret_key: str = ""
    service_token: str = ""
    max_body_bytes: int = 8 * 1024 * 1024
    log_level: str = "INFO"
    bind_host: str = "127.0.0.1"
    survey_api_port: int = 8001
    scoring_port: int = 8002
    pdf_port: int = 8003
    survey_api_url: str = "http://127.0.0.1:8001"
    scoring_url: str = "http://127.0.0.1:8002"
    pdf_url: str = "http://127.0.0.1:8003"
    smtp_url: str = ""  # smtp://user:password@host:port; empty: e-mail delivery is off
    mail_from: str = "briefs@localhost"
    brief_link_hours: int = 168  # how long a shared brief link works (7 days)
    scoring_timeout_seconds: int = 15
    ratelimit_storage_uri: str = "memory://"
    api_rate_limit: str = "3000 per minute"
    anonymous_rate_limit: str = "30 per minute"
    webhook_poll_seconds: int = 2  # 0 turns the in-process webhook dispatcher off
    mail_poll_seconds: int = 5  # how often the console's outbox is sent; 0: only by the CLI
    web_concurrency: int = 2
    gunicorn_threads: int = 4

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    def with_overrides(self, **overrides) -> "Settings":
        return replace(self, **overrides)


# Environment variable for each field; the name is the field's upper-cased name.
_SECRETS = ("secret_key", "service_token")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from the environment, validating types and production secrets."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for field in fields(Settings):
        raw = environ.get(field.name.upper())
        if raw is None or raw == "":
            continue
        if field.type == "int":
            try:
                values[field.name] = int(raw)
            except ValueError:
                raise ConfigError(f"{field.name.upper()} must be a whole number, got {raw!r}") from None
        else:
            values[field.name] = raw
    return finalize(Settings(**values))


def finalize(settings: Settings) -> Settings:
    """Validate, and outside production fill missing secrets with the development value."""
    validate(settings)
    if not settings.is_production:
        settings = replace(
            settings,
            **{name: _DEV_SECRET for name in _SECRETS if not getattr(settings, name)},
        )
    return settings


def validate(settings: Settings) -> None:
    if settings.app_env not in ("development", "test", "production"):
        raise ConfigError(
            f"APP_ENV must be development, test or production, got {settings.app_env!r}"
        )
    if settings.is_production:
        missing = [name.upper() for name in _SECRETS if not getattr(settings, name)]
        if missing:
            raise ConfigError(
                "production mode needs these secrets set in the environment: " + ", ".join(missing)
            )
        weak = [name.upper() for name in _SECRETS if len(getattr(settings, name)) < 16]
        if weak:
            raise ConfigError("these secrets are shorter than 16 characters: " + ", ".join(weak))
    if settings.max_body_bytes < 1024:
        raise ConfigError("MAX_BODY_BYTES must be at least 1024")
    if not settings.store_url.startswith(("sqlite:///", "mongodb://", "mongodb+srv://", "mongomock://")):
        raise ConfigError(
            "STORE_URL must start with sqlite:///, mongodb:// or mongodb+srv:// "
            f"(got {settings.store_url!r})"
        )
