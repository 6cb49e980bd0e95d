# gunicorn -c scoring_service/gunicorn.conf.py "scoring_service:create_app()"
from shared.gunicorn_conf import *  # noqa: F401,F403  (workers, threads, logging, timeouts)
from shared.gunicorn_conf import bind_for, settings

bind = bind_for(settings.scoring_port)
