"""The MongoDB backend, through pymongo.

Writes use write concern "majority" so an acknowledged response is on most replica-set members,
and every operation is bounded by the client's `timeoutMS` (a lost majority or a primary
election surfaces as a timeout, which the services answer with 503 and Retry-After).

Sharding: responses and counters carry `sk`, two hex bytes of a hash of the survey id, first in
their shard keys (survey ids start with a timestamp, so a ranged key on them alone would send
every new survey to the last chunk). Upserts and single-document reads name the full shard key.
See SHARD_KEYS and the README's scaling section.

Indexes, collections and shard keys are made by `initialize()` (`flask --app survey_api
init-db`), never at process start: a service only checks that they are there.

The client is made lazily in the process that uses it (never before gunicorn forks).
"""

from .responses import FOLD_LEASE
from .schema import RESPONSES_UNIQUE, SHARD_KEYS, shard_prefix
from .store import DEFAULT_TIMEOUT_MS, MongoStore, is_unavailable, names_replica_set

__all__ = ["DEFAULT_TIMEOUT_MS", "FOLD_LEASE", "MongoStore", "RESPONSES_UNIQUE", "SHARD_KEYS",
           "is_unavailable", "names_replica_set", "shard_prefix"]
