# gunicorn -c survey_api/gunicorn.conf.py "survey_api:create_app()"
from shared.gunicorn_conf import *  # noqa: F401,F403  (workers, threads, logging, timeouts)
from shared.gunicorn_conf import bind_for, settings

bind = bind_for(settings.survey_api_port)
