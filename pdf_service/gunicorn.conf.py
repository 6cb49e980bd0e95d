# gunicorn -c pdf_service/gunicorn.conf.py "pdf_service:create_app()"
from shared.gunicorn_conf import *  # noqa: F401,F403  (workers, threads, logging, timeouts)
from shared.gunicorn_conf import bind_for, settings

bind = bind_for(settings.pdf_port)
