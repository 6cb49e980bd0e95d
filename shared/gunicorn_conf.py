"""Gunicorn settings shared by the three services; each service's gunicorn.conf.py adds its bind.

Workers and threads come from the environment (WEB_CONCURRENCY, GUNICORN_THREADS). preload_app
stays off: each worker imports and builds the app itself, so the store (and any MongoClient) is
created after the fork, never inherited from the master.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from shared.settings import load_settings

settings = load_settings()  # a ConfigError here stops gunicorn with a message naming the variable

workers = settings.web_concurrency
threads = settings.gunicorn_threads
worker_class = "gthread"
preload_app = False
timeout = 60
graceful_timeout = 10
keepalive = 5
accesslog = None  # the app writes one JSON line per request, with its request id


class AppWritesAccessLines(Logger):
    """gunicorn's logger without its access line: the app writes its own (shared/web.py).
    With logconfig_dict set, gunicorn would otherwise build the line's atoms on every request
    for a logger that drops them (a few percent of a single post's CPU)."""

    def access(self, resp, req, environ, request_time):
        return


logger_class = AppWritesAccessLines
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "shared.logs.JsonFormatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["stderr"], "level": settings.log_level},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def bind_for(port: int) -> list[str]:
    return [f"{settings.bind_host}:{port}"]

# Three gunicorns run side by side; gunicorn's control socket would be one shared path for all.
control_socket_disable = True


def pre_fork(server, worker) -> None:
    if settings.gunicorn_pin_workers:
        from shared.cpu_pinning import choose_slot
        choose_slot(worker, server.WORKERS.values())


def post_fork(server, worker) -> None:
    if settings.gunicorn_pin_workers:
        from shared.cpu_pinning import SLOT, pin_this_process
        core = pin_this_process(getattr(worker, SLOT))
        server.log.info("worker %s runs on CPU core %s", worker.pid, core)


def post_worker_init(worker) -> None:
    """The app is loaded: take its heap out of the garbage collector's way (see gc_tuning)."""
    from shared.gc_tuning import settle_heap

    settle_heap()
