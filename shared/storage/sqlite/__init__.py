"""The embedded backend: SQLite from the standard library, one file, no server.

WAL journal (readers never block the writer), foreign keys on, synchronous=FULL so that a
response acknowledged to a client survives a crash of the process or the machine. Each thread has
its own connection; every write is one `BEGIN IMMEDIATE` transaction, which serializes writers
across gunicorn workers and makes "look up the submission id, then insert" race-free. Responses
posted at the same moment by one worker's threads share a transaction (group_commit.py).

Each table keeps the columns it is queried by, plus `doc`: the whole record as JSON.
"""

from .schema import MIGRATIONS
from .store import SqliteStore

__all__ = ["MIGRATIONS", "SqliteStore"]
