"""Configuration, read from the environment only.

Every setting has one place here, with its environment variable and default; the README's
configuration table mirrors this file. In production (APP_ENV=production) secrets have no
defaults: a missing one stops the service at start-up with a message naming the variable.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Mapping


class ConfigError(RuntimeError):
    """The environment does not describe a runnable service."""




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
    # Delivered and finally failed webhook deliveries are deleted after this many days.
    webhook_retention_days: int = 30
    # MongoDB only: every operation's deadline (then 503 with Retry-After), and how often each
    # survey_api worker folds pending responses into the counters (0: never, e.g. a CLI host).
    mongodb_timeout_ms: int = 5000
    counter_fold_seconds: int = 1
    # Webhooks may target loopback, private and link-local addresses: development and tests
    # only (a production receiver is on the internet; anything else is a port scanner).
    webhook_allow_private: bool = False
    # Reverse proxies in front of the services whose X-Forwarded-For is trusted (ProxyFix);
    # 0: the client address is the peer's, and X-Forwarded-For is ignored.
    trusted_proxy_hops: int = 0
    # Outside production, secrets not given in the environment are generated once per install
    # into this file (mode 0600) and read from it by all three services.
    secrets_file: str = "var/secrets.env"
    mail_poll_seconds: int = 5  # how often the console's outbox is sent; 0: only by the CLI
    web_concurrency: int = 2
    gunicorn_threads: int = 4
    # Each gunicorn worker (and its threads) on a core of its own, round robin over the cores
    # the service may use: for a host or cpuset given to one service (see shared/cpu_pinning.py).
    gunicorn_pin_workers: bool = False

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
        elif field.type == "bool":
            if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ConfigError(f"{field.name.upper()} must be true or false, got {raw!r}")
            values[field.name] = raw.lower() in ("true", "1", "yes")
        else:
            values[field.name] = raw
    return finalize(Settings(**values))


def finalize(settings: Settings) -> Settings:
    """Validate, and outside production fill missing secrets from this install's own secrets
    file (made on first use): never a value anyone else knows."""
    validate(settings)
    missing = [name for name in _SECRETS if not getattr(settings, name)]
    if missing and not settings.is_production:
        local = install_secrets(Path(settings.secrets_file))
        settings = replace(settings, **{name: local[name.upper()] for name in missing})
    return settings


def install_secrets(path: Path) -> dict[str, str]:
    """This install's generated secrets, creating the file (0600) if it does not exist yet.
    Published with an exclusive link, so services starting together all read the same one."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write("# Generated on first start; outside production only. Keep it private.\n")
            for name in _SECRETS:
                out.write(f"{name.upper()}={secrets.token_urlsafe(32)}\n")
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another service made it first: use that one
        finally:
            os.unlink(draft)
    values = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not name.startswith("#"):
            values[name.strip()] = value.strip()
    if any(not values.get(name.upper()) for name in _SECRETS):
        raise ConfigError(f"{path} lacks {', '.join(n.upper() for n in _SECRETS)}; delete it "
                          "to have it made again")
    return values


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
    if settings.trusted_proxy_hops < 0:
        raise ConfigError("TRUSTED_PROXY_HOPS must be 0 or more")
    if settings.max_body_bytes < 1024:
        raise ConfigError("MAX_BODY_BYTES must be at least 1024")
    if not 1 <= settings.brief_link_hours <= 720:  # the bounds a share request may ask for
        raise ConfigError("BRIEF_LINK_HOURS must be from 1 to 720")
    if not settings.store_url.startswith(("sqlite:///", "mongodb://", "mongodb+srv://", "mongomock://")):
        raise ConfigError(
            "STORE_URL must start with sqlite:///, mongodb:// or mongodb+srv:// "
            f"(got {settings.store_url!r})"
        )
