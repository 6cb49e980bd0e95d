"""The SQLite schema: its migrations, and how a stored row becomes a record again.

Each table keeps the columns it is queried by, plus `doc`: the whole record as JSON.
"""

from __future__ import annotations

import logging

from ..codec import from_doc, loads
from . import console

log = logging.getLogger(__name__)


def readable_records(cls, rows):
    """Records from (doc,) rows; a row whose document cannot be read at all (corrupted
    outside this code) is logged and left out, so it cannot stop a listing or an export."""
    for row in rows:
        try:
            yield from_doc(cls, loads(row[-1]))
        except (ValueError, TypeError) as exc:
            log.error("unreadable stored record skipped",
                      extra={"kind": cls.__name__, "error": type(exc).__name__})


def _invitation_tally(conn) -> None:
    """The per-survey tally of invitations by (attributes, status), counted from the stored
    invitations once; written in Python because its key is the attributes with sorted keys."""
    from collections import Counter

    from ..codec import attributes_key

    conn.execute("""
        CREATE TABLE invitation_tally (
            survey_id TEXT NOT NULL,
            attributes TEXT NOT NULL,     -- the attributes as JSON with sorted keys
            status TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (survey_id, attributes, status)
        ) WITHOUT ROWID""")
    counts = Counter(
        (survey_id, attributes_key(loads(doc).get("attributes")), status)
        for survey_id, status, doc in conn.execute(
            "SELECT survey_id, status, doc FROM invitations"))
    conn.executemany("INSERT INTO invitation_tally VALUES (?, ?, ?, ?)",
                     [(*key, n) for key, n in counts.items()])


# Schema migrations, applied in order; PRAGMA user_version holds how many have run: SQL
# scripts, or a function of the connection. Append new ones; never edit one that has shipped.
MIGRATIONS: list = [
    """
    CREATE TABLE organizations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL
    );
    CREATE TABLE api_keys (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        key_hash TEXT NOT NULL UNIQUE,
        doc TEXT NOT NULL
    );
    CREATE INDEX api_keys_org ON api_keys(org_id, id);
    CREATE TABLE instruments (
        org_id TEXT NOT NULL,            -- '' for the built-in instruments
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (org_id, id, version)
    );
    CREATE TABLE surveys (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        doc TEXT NOT NULL
    );
    CREATE INDEX surveys_org ON surveys(org_id, id);
    CREATE TABLE invitations (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        survey_id TEXT NOT NULL REFERENCES surveys(id),
        token_hash TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX invitations_survey ON invitations(survey_id, id);
    CREATE TABLE responses (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        survey_id TEXT NOT NULL REFERENCES surveys(id),
        submission_id TEXT NOT NULL,
        instrument TEXT NOT NULL,
        source TEXT NOT NULL,
        complete INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        doc TEXT NOT NULL,
        UNIQUE (survey_id, submission_id)
    );
    CREATE INDEX responses_survey ON responses(survey_id, id);
    CREATE TABLE aggregates (
        survey_id TEXT NOT NULL,
        cell_key TEXT NOT NULL,
        counter TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (survey_id, cell_key, counter)
    ) WITHOUT ROWID;
    CREATE TABLE briefs (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        survey_id TEXT NOT NULL,
        doc TEXT NOT NULL,
        pdf BLOB NOT NULL
    );
    CREATE INDEX briefs_survey ON briefs(org_id, survey_id, id);
    """,
    """
    CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        doc TEXT NOT NULL
    );
    CREATE INDEX webhooks_org ON webhooks(org_id, id);
    CREATE TABLE deliveries (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        webhook_id TEXT NOT NULL,
        status TEXT NOT NULL,
        next_attempt_at TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX deliveries_due ON deliveries(status, next_attempt_at);
    CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);
    """,
    """
    CREATE TABLE audit (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE INDEX audit_org ON audit(org_id, id);
    """,
    # One row per cell holding all its counters as a JSON object, not one row per counter: a
    # batch of 1,000 responses touches ~2,500 counters but falls in ~10 cells, so it reads and
    # rewrites ~10 rows, and a report reads 10 rows.
    """
    CREATE TABLE cell_counts (
        survey_id TEXT NOT NULL,
        cell_key TEXT NOT NULL,
        counts TEXT NOT NULL,
        PRIMARY KEY (survey_id, cell_key)
    );
    INSERT INTO cell_counts (survey_id, cell_key, counts)
        SELECT survey_id, cell_key, json_group_object(counter, count)
        FROM aggregates GROUP BY survey_id, cell_key;
    DROP TABLE aggregates;
    """,
    console.MIGRATION,
    _invitation_tally,
]
