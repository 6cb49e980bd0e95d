"""Baselines for the HTTP benchmarks: bare Flask endpoints that parse the same JSON bodies and
answer, under the same gunicorn settings as survey_api."""

from flask import Flask, request


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
