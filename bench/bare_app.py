"""Baselines for the HTTP benchmarks, under the same gunicorn settings as survey_api.

create_app: bare Flask endpoints that parse the same JSON bodies and answer (the framework's
floor). create_durable_app: the least a durable, authenticated insert can do (the disk's floor):
one API-key lookup by hash and one INSERT committed with synchronous=FULL per request, each
request its own transaction (no group commit), straight on sqlite3 against the same store."""

import hashlib
import os
import sqlite3
import threading

from flask import Flask, request

DURABLE_TABLE = "bench_durable"


def create_app():
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/bare")
    def bare():
        body = request.get_json()
        return {"submission_id": body["submission_id"]}, 201

    @app.post("/bare-batch")
    def bare_batch():
        body = request.get_json()
        return {"created": len(body["responses"])}

    return app


def create_durable_app():
    path = os.environ["STORE_URL"].removeprefix("sqlite:///")
    local = threading.local()

    def conn() -> sqlite3.Connection:
        if getattr(local, "pid", None) != os.getpid():  # never a connection across a fork
            local.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                         timeout=30)
            local.conn.execute("PRAGMA journal_mode=WAL")
            local.conn.execute("PRAGMA synchronous=FULL")
            local.pid = os.getpid()
        return local.conn

    conn().execute(f"CREATE TABLE IF NOT EXISTS {DURABLE_TABLE} "
                   "(submission_id TEXT PRIMARY KEY, key_id TEXT, doc TEXT)")
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.post("/durable")
    def durable():
        scheme, _, key = request.headers.get("Authorization", "").partition(" ")
        found = conn().execute("SELECT id FROM api_keys WHERE key_hash = ?",
                               (hashlib.sha256(key.encode()).hexdigest(),)).fetchone()
        if scheme != "Bearer" or found is None:
            return {"title": "Unauthorized"}, 401
        raw = request.get_data()
        body = request.get_json()
        conn().execute(f"INSERT INTO {DURABLE_TABLE} VALUES (?, ?, ?)",  # autocommit: one fsync
                       (body["submission_id"], found[0], raw.decode()))
        return {"submission_id": body["submission_id"]}, 201

    return app
