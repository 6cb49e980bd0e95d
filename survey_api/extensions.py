"""Flask extensions of survey_api, created here and bound to the app in create_app."""

from __future__ import annotations

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

# Storage comes from RATELIMIT_STORAGE_URI (memory:// for the embedded default; a shared store
# such as redis:// or mongodb:// when several processes must share the counts).
limiter = Limiter(key_func=get_remote_address)
